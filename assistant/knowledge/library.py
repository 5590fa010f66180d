"""The document library: named collections of folders, kept indexed, searched with citations.

The facade the CLI, the chat session and the GUI use. Chroma and the embedder are opened on first
use (chromadb and torch are slow imports), never while a window is being shown.

Removing and re-indexing are done in steps (REMOVE_STEPS, REINDEX_STEPS), each recorded in the
catalogue before the next, so one that is interrupted is finished the next time the vector store
is opened. On a shared Chroma server this machine deletes only the vectors it wrote: a collection
another machine also writes to loses only this machine's passages when removed here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from assistant.config import KnowledgeSettings, read_section
from assistant.core.cancel import CancelToken
from assistant.core.errors import HearthError
from assistant.knowledge.catalog import REINDEX, REMOVING, Catalog, CollectionInfo, vector_name
from assistant.knowledge.embedder import Embedder, SentenceTransformerEmbedder
from assistant.knowledge.file_status import FileStatus, file_statuses, needs_sync
from assistant.knowledge.indexer import Checkpoint, Indexer, IndexReport, Progress
from assistant.knowledge.onnx_embedder import OnnxEmbedder, onnx_embedder_path
from assistant.knowledge.retriever import HybridRetriever, Passage, Retrieved
from assistant.knowledge.vectors import EmbedderMismatchError, SharedCollection, VectorStore

REINDEX_STEPS = ("reindex.marked", "reindex.vectors_dropped", "reindex.cleared")
REMOVE_STEPS = ("remove.marked", "remove.vectors_dropped", "remove.forgotten")


def _no_checkpoint(step: str) -> None:
    pass


def default_embedder() -> Embedder:
    """The bundle's ONNX export when there is one (no torch there), else sentence-transformers."""
    exported = onnx_embedder_path()
    return OnnxEmbedder(exported) if exported is not None else SentenceTransformerEmbedder()


class Library:
    def __init__(
        self,
        home: Path,
        settings: KnowledgeSettings | Callable[[], KnowledgeSettings] | None = None,
        embedder: Embedder | None = None,
        checkpoint: Checkpoint = _no_checkpoint,
    ) -> None:
        """``settings``: fixed, or a getter of the live ones (the window's, which change while it runs).
        ``checkpoint``: called with each step's name as it is done (tests crash there)."""
        self.home = home
        self._settings = settings or KnowledgeSettings()
        self.catalog = Catalog(home / "library.db")
        self.checkpoint = checkpoint
        self._embedder = embedder
        self._vectors: VectorStore | None = None
        self._opening = threading.RLock()  # the chat and library workers may both open the store first

    @property
    def settings(self) -> KnowledgeSettings:
        """Read at each use: a change of top_k or the size limit applies to the next search or sync."""
        return read_section(self._settings)

    def use_settings(self, settings: KnowledgeSettings | Callable[[], KnowledgeSettings]) -> None:
        """Read these from now on (the window hands its live settings to a library built before it)."""
        self._settings = settings

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    @property
    def vectors(self) -> VectorStore:
        with self._opening:
            if self._vectors is None:
                self._vectors = VectorStore(self.home / "vectors", url=self.settings.chroma_url)
                try:
                    self._finish_unfinished()
                except BaseException:
                    self._vectors = None  # tried again at the next use
                    raise
            return self._vectors

    def _finish_unfinished(self) -> None:
        """Finish what a run that was stopped left half done, and give collections from before
        stable ids their new Chroma name (tagging their vectors as this machine's)."""
        assert self._vectors is not None
        for collection in self.catalog.unfinished():
            wanted = vector_name(collection.uid)
            if collection.vector_name != wanted:
                own = self.catalog.chunk_ids(collection.id)
                found = self._vectors.adopt(collection.vector_name, wanted, own, self.catalog.writer)
                self.catalog.set_vector_name(collection.id, wanted, redo_files=not found)
                collection = replace(collection, vector_name=wanted)
            if collection.state == REMOVING:
                self._finish_removal(collection)
            elif collection.state == REINDEX:
                self._finish_reindex(collection)

    def _drop_own_vectors(self, collection: CollectionInfo) -> None:
        """The whole Chroma collection when only this machine wrote to it, else only its vectors."""
        if self.vectors.others_wrote(collection.vector_name, self.catalog.writer):
            self.vectors.delete_written_by(collection.vector_name, self.catalog.writer)
        else:
            self.vectors.drop(collection.vector_name)

    def close(self) -> None:
        self.catalog.close()

    # ----- collections --------------------------------------------------------------------------

    def collections(self) -> list[CollectionInfo]:
        return self.catalog.collections()

    def collection(self, name: str) -> CollectionInfo:
        return self.catalog.collection(name)

    def resolve(self, refs: list[str]) -> tuple[list[CollectionInfo], list[str]]:
        """The collections that ``refs`` (ids, or names as conversations stored them before ids)
        stand for, and the refs that match none (a collection since removed)."""
        found: list[CollectionInfo] = []
        missing: list[str] = []
        for ref, collection in self._lookup(refs).items():
            if collection is None:
                missing.append(ref)
            elif collection not in found:
                found.append(collection)
        return found, missing

    def _lookup(self, refs: list[str]) -> dict[str, CollectionInfo | None]:
        by_name = {c.name: c for c in self.catalog.collections()}
        return {ref: self.catalog.by_uid(ref) or by_name.get(ref) for ref in refs}

    # ----- sharing through a Chroma server ------------------------------------------------------

    def shared_collections(self) -> list[SharedCollection]:
        """Collections on the vector store that this library has not attached (another machine's)."""
        mine = {c.uid for c in self.catalog.collections()}
        return sorted((s for s in self.vectors.shared() if s.uid not in mine), key=lambda s: s.name)

    def attach(self, ref: str, name: str | None = None) -> CollectionInfo:
        """Use a collection another machine indexed on the shared server: its passages are searched
        and cited from the server; folders added here are indexed into it too."""
        shared = self.vectors.shared()
        found = [s for s in shared if ref in (s.uid, s.name)]
        if not found:
            listed = ", ".join(f"{s.name} ({s.uid})" for s in self.shared_collections()) or "none"
            raise HearthError(
                f"There is no collection '{ref}' on {self.vectors.location}.",
                f"Collections there: {listed}. 'hearth collections shared' lists them.",
            )
        if len(found) > 1:
            raise HearthError(
                f"Several collections on {self.vectors.location} are called '{ref}'.",
                "Attach one by its id: " + ", ".join(s.uid for s in found),
            )
        chosen = found[0]
        if (chosen.embedder, chosen.dimension) != (self.embedder.name, self.embedder.dimension):
            raise EmbedderMismatchError(
                f"'{chosen.name}' was indexed with {chosen.embedder} ({chosen.dimension} dimensions); "
                f"this machine's embedder is {self.embedder.name} ({self.embedder.dimension})."
            )
        return self.catalog.create_collection(name or chosen.name, chosen.embedder, chosen.dimension, uid=chosen.uid)

    def add(self, name: str, paths: list[Path]) -> CollectionInfo:
        """Add folders or files to a collection, creating it if needed."""
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise HearthError(f"Not found: {', '.join(missing)}")
        try:
            collection = self.catalog.collection(name)
        except HearthError:
            collection = self.catalog.create_collection(name, self.embedder.name, self.embedder.dimension)
        self.catalog.add_roots(collection.id, [p.expanduser().resolve() for p in paths])
        return self.catalog.collection(collection.name)

    def remove(self, name: str) -> CollectionInfo:
        """Hidden at once; its vectors deleted, then its rows (each step finished later if stopped)."""
        _ = self.vectors  # opened first: a store that cannot be opened leaves the collection as it was
        collection = self.catalog.mark_removing(name)
        self.checkpoint("remove.marked")
        self._finish_removal(collection)
        return collection

    def remove_folder(self, name: str, path: Path) -> CollectionInfo:
        """Take one folder (or file) out of a collection; its files leave the index at the next sync."""
        collection = self.catalog.collection(name)
        if str(path) not in collection.roots:
            raise HearthError(f"'{path}' is not one of the folders of '{name}'.")
        self.catalog.remove_root(collection.id, path)
        return self.catalog.collection(name)

    def set_patterns(self, name: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> CollectionInfo:
        """Which files of the collection's folders it keeps (patterns.py); applied at the next sync."""
        collection = self.catalog.collection(name)
        self.catalog.set_patterns(collection.id, include, exclude)
        return self.catalog.collection(name)

    def file_statuses(self, name: str) -> list[FileStatus]:
        return file_statuses(self.catalog, self.catalog.collection(name), self._max_bytes)

    def needs_sync(self, name: str) -> bool:
        """Cheap (a stat per file; no embedder, no Chroma): whether ``sync`` has anything to do."""
        return needs_sync(self.catalog, self.catalog.collection(name), self._max_bytes)

    @property
    def _max_bytes(self) -> int:
        return self.settings.max_file_mb * 1024 * 1024

    def _finish_removal(self, collection: CollectionInfo) -> None:
        self._drop_own_vectors(collection)
        self.checkpoint("remove.vectors_dropped")
        self.catalog.forget_collection(collection.id)
        self.checkpoint("remove.forgotten")

    def rename(self, name: str, new_name: str) -> None:
        self.catalog.rename_collection(name, new_name)

    def sync(
        self,
        name: str,
        progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
        reindex: bool = False,
    ) -> IndexReport:
        _ = self.vectors  # finishes a re-index or removal that was stopped
        collection = self.catalog.collection(name)
        if reindex:
            self._reindex(collection)
            collection = self.catalog.collection(name)
        self._check_embedder(collection)
        indexer = Indexer(
            self.catalog,
            self.vectors,
            self.embedder,
            self._max_bytes,
            checkpoint=self.checkpoint,
        )
        return indexer.sync(collection, progress, cancel)

    def _reindex(self, collection: CollectionInfo) -> None:
        """Every file marked to be redone (and the new embedder recorded) in one transaction, then
        this machine's vectors dropped: a stop in between is finished when the store next opens,
        and the files, still 'indexing', are redone by the sync."""
        changes_embedder = (collection.embedder, collection.dimension) != (self.embedder.name, self.embedder.dimension)
        if changes_embedder and self.vectors.others_wrote(collection.vector_name, self.catalog.writer):
            raise HearthError(
                f"Collection '{collection.name}' is shared: other machines' passages in it were made with "
                f"{collection.embedder}, and a re-index here cannot change that.",
                f"Use {collection.embedder} on this machine, or index the folders into a new collection.",
            )
        self.catalog.mark_reindex(collection.id, self.embedder.name, self.embedder.dimension)
        self.checkpoint("reindex.marked")
        self._finish_reindex(collection)

    def _finish_reindex(self, collection: CollectionInfo) -> None:
        self._drop_own_vectors(collection)
        self.checkpoint("reindex.vectors_dropped")
        self.catalog.finish_reindex(collection.id)
        self.checkpoint("reindex.cleared")

    def _check_embedder(self, collection: CollectionInfo) -> None:
        if (collection.embedder, collection.dimension) != (self.embedder.name, self.embedder.dimension):
            raise EmbedderMismatchError(
                f"Collection '{collection.name}' was indexed with {collection.embedder} "
                f"({collection.dimension} dimensions); the current embedder is {self.embedder.name} "
                f"({self.embedder.dimension})."
            )

    def search(self, query: str, refs: list[str], k: int | None = None) -> list[Passage]:
        """Passages from the collections named (or identified) by ``refs``; an unknown one is an error."""
        collections, missing = self.resolve(refs)
        if missing:
            self.catalog.collection(missing[0])  # raises, listing the collections there are
        return self._search(query, collections, k)

    def retrieve(self, query: str, refs: list[str], k: int | None = None) -> Retrieved:
        """For a chat turn: collections that no longer exist are left out and reported, not an error."""
        found = self._lookup(refs)
        collections, missing = self.resolve(refs)
        ids = {ref: c.uid for ref, c in found.items() if c is not None}
        return Retrieved(self._search(query, collections, k), missing, ids)

    def _search(self, query: str, collections: list[CollectionInfo], k: int | None) -> list[Passage]:
        for collection in collections:
            self._check_embedder(collection)
        retriever = HybridRetriever(
            self.catalog, self.vectors, self.embedder, self.settings.top_k, self.settings.min_similarity
        )
        return retriever.search(query, collections, k)
