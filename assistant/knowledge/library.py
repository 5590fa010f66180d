"""The document library: named collections of folders, kept indexed, searched with citations.

The facade the CLI, the chat session and the GUI use. Chroma and the embedder are opened on first
use (chromadb and torch are slow imports), never while a window is being shown.

Removing and re-indexing are done in steps (REMOVE_STEPS, REINDEX_STEPS), each recorded in the
catalogue before the next, so one that is interrupted is finished the next time the vector store
is opened. On a shared Chroma server this machine deletes only the vectors it wrote: a collection
another machine also writes to loses only this machine's passages when removed here.

Nothing is deleted on doubt: a request to the vector store that fails is a ``VectorStoreError``,
never "nothing there"; a removal whose vectors could not be deleted stays 'removing' (hidden) and
says so, and is finished when the store is next opened or a collection synced. The vectors are
checked against the catalogue when the store is opened (vector_repair.py): a collection found short
is rebuilt from its stored passages at its next sync or search, and the user is told.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from assistant.config import KnowledgeSettings, read_section
from assistant.core.cancel import CancelToken
from assistant.core.errors import HearthError
from assistant.knowledge.embedder import Embedder, SentenceTransformerEmbedder
from assistant.knowledge.file_status import FileStatus, file_statuses, needs_sync
from assistant.knowledge.indexer import Checkpoint, Indexer, IndexReport, Progress
from assistant.knowledge.library_index import REINDEX, REMOVING, CollectionInfo, LibraryIndex, vector_name
from assistant.knowledge.onnx_embedder import OnnxEmbedder, onnx_embedder_path
from assistant.knowledge.retriever import HybridRetriever, Passage, Retrieved
from assistant.knowledge.vector_repair import REBUILD_IN_TURN, Shortfall, expected_count, rebuild_missing, shortfall
from assistant.knowledge.vectors import EmbedderMismatchError, SharedCollection, VectorStore, VectorStoreError

log = logging.getLogger(__name__)

REINDEX_STEPS = ("reindex.marked", "reindex.vectors_dropped", "reindex.cleared")
REMOVE_STEPS = ("remove.marked", "remove.vectors_dropped", "remove.forgotten")


def _no_checkpoint(step: str) -> None:
    pass


class RemovalPendingError(HearthError):
    """A collection was removed here, but the vector store did not take its vectors away yet."""


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
        self.catalog = LibraryIndex(home / "library.db")
        self.checkpoint = checkpoint
        self._embedder = embedder
        self._vectors: VectorStore | None = None
        self._opening = threading.RLock()  # the chat and library workers may both open the store first
        self.short: dict[str, Shortfall] = {}  # by collection uid: found short when the store was opened
        self.unfinished_problem = ""  # why a removal or re-index left unfinished could not be finished

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
                store = VectorStore(self.home / "vectors", url=self.settings.chroma_url)
                self._vectors = store
                try:
                    self._finish_unfinished()
                    self._check_vectors()
                except BaseException:
                    self._vectors = None  # tried again at the next use
                    store.close()
                    raise
            return self._vectors

    def _check_vectors(self) -> None:
        """Cheap (a count per collection): which collections have fewer vectors than passages."""
        assert self._vectors is not None
        for collection in self.catalog.collections():
            found = shortfall(self.catalog, self._vectors, collection)
            if found is not None:
                log.warning("library: %s", found.notice())
                self.short[collection.uid] = found

    def _finish_unfinished(self) -> None:
        """Finish what a run that was stopped left half done, and give collections from before
        stable ids their new Chroma name (tagging their vectors as this machine's). A failed
        request leaves that collection as it is (finished at the next try), not the others."""
        assert self._vectors is not None
        self.unfinished_problem = ""
        for collection in self.catalog.unfinished():
            try:
                self._finish(collection)
            except VectorStoreError as exc:
                log.warning("library: could not finish %s of %s: %s", collection.state, collection.uid, exc.message)
                self.unfinished_problem = exc.message

    def pending_removals(self) -> int:
        """Collections removed here whose vectors could not be deleted yet (hidden meanwhile)."""
        return sum(1 for c in self.catalog.unfinished() if c.state == REMOVING)

    def _finish(self, collection: CollectionInfo) -> None:
        assert self._vectors is not None
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
        with self._opening:
            vectors, self._vectors = self._vectors, None
        if vectors is not None:
            vectors.close()
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
        try:
            self._finish_removal(collection)
        except VectorStoreError as exc:
            self.unfinished_problem = exc.message  # tried again at the next sync
            raise RemovalPendingError(
                f"Collection '{collection.name}' is hidden and being removed, but its passages on "
                f"{self.vectors.location} could not be deleted yet. {exc.message}",
                "It stays 'removing' and is finished the next time the library is opened or synced "
                "('hearth collections list' says while it waits). Your files are untouched.",
            ) from exc
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
        if self.unfinished_problem:
            self._finish_unfinished()  # one that failed when the store was opened: once more
        collection = self.catalog.collection(name)
        if reindex:
            self._reindex(collection)
            collection = self.catalog.collection(name)
        self._check_embedder(collection)
        rebuilt = 0
        if not reindex:
            rebuilt = self._repair(collection, cancel, recheck=True)
        indexer = Indexer(
            self.catalog,
            self.vectors,
            self.embedder,
            self._max_bytes,
            checkpoint=self.checkpoint,
        )
        report = indexer.sync(collection, progress, cancel)
        report.rebuilt = rebuilt
        return report

    def _repair(self, collection: CollectionInfo, cancel: CancelToken | None = None, recheck: bool = False) -> int:
        """Rebuild the collection's lost vectors from its stored passages, if it is short; returns
        how many. ``recheck``: count again now rather than trust the check made at opening."""
        if recheck:
            expected = expected_count(self.catalog, collection)
            size = self.vectors.size(collection.vector_name) if expected else 0
            self.short.pop(collection.uid, None)
            if size < expected:
                self.short[collection.uid] = Shortfall(collection.uid, collection.name, expected, size)
            elif size > expected:
                # Other machines' vectors (a shared collection) can hide the loss of this one's in a
                # count: compare this machine's own vector ids with its passages.
                return rebuild_missing(self.catalog, self.vectors, self.embedder, collection, cancel)
        if collection.uid not in self.short:
            return 0
        rebuilt = rebuild_missing(self.catalog, self.vectors, self.embedder, collection, cancel)
        if not (cancel and cancel.cancelled):
            self.short.pop(collection.uid, None)
        log.warning("library: rebuilt %d lost vectors of '%s'", rebuilt, collection.name)
        return rebuilt

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
        return self._search(query, collections, k, self.vectors)

    def retrieve(self, query: str, refs: list[str], k: int | None = None) -> Retrieved:
        """For a chat turn: collections that no longer exist are left out and reported, not an error;
        a vector store that fails leaves keyword search, and the turn is told so."""
        found = self._lookup(refs)
        collections, missing = self.resolve(refs)
        ids = {ref: c.uid for ref, c in found.items() if c is not None}
        notices: list[str] = []
        vectors: VectorStore | None = None
        try:
            vectors = self.vectors
            for collection in collections:
                short = self.short.get(collection.uid)
                if short is not None:
                    notices.append(short.notice(later=short.missing > REBUILD_IN_TURN))
                    if short.missing <= REBUILD_IN_TURN:
                        self._repair(collection)
        except VectorStoreError as exc:
            vectors = None
            notices.append(f"{exc.message} This answer used keyword search only.")

        def failed(exc: VectorStoreError) -> None:
            notices.append(f"{exc.message} This answer used keyword search only.")

        passages = self._search(query, collections, k, vectors, failed)
        return Retrieved(passages, missing, ids, notices)

    def _search(
        self,
        query: str,
        collections: list[CollectionInfo],
        k: int | None,
        vectors: VectorStore | None,
        on_failure: Callable[[VectorStoreError], None] | None = None,
    ) -> list[Passage]:
        """``vectors``: None to search by keywords only."""
        for collection in collections:
            self._check_embedder(collection)
        retriever = HybridRetriever(
            self.catalog, vectors, self.embedder, self.settings.top_k, self.settings.min_similarity
        )
        return retriever.search(query, collections, k, on_failure)
