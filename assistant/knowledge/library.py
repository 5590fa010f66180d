"""The document library: named collections of folders, kept indexed, searched with citations.

The facade the CLI, the chat session and the GUI use. Chroma and the embedder are opened on first
use (chromadb and torch are slow imports), never while a window is being shown.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assistant.config import KnowledgeSettings
from assistant.core.cancel import CancelToken
from assistant.core.errors import HearthError
from assistant.knowledge.catalog import Catalog, CollectionInfo
from assistant.knowledge.embedder import Embedder, SentenceTransformerEmbedder
from assistant.knowledge.file_status import FileStatus, file_statuses, needs_sync
from assistant.knowledge.indexer import Indexer, IndexReport, Progress
from assistant.knowledge.onnx_embedder import OnnxEmbedder, onnx_embedder_path
from assistant.knowledge.retriever import HybridRetriever, Passage
from assistant.knowledge.vectors import EmbedderMismatchError, VectorStore


def default_embedder() -> Embedder:
    """The bundle's ONNX export when there is one (no torch there), else sentence-transformers."""
    exported = onnx_embedder_path()
    return OnnxEmbedder(exported) if exported is not None else SentenceTransformerEmbedder()


class Library:
    def __init__(self, home: Path, settings: KnowledgeSettings | None = None, embedder: Embedder | None = None) -> None:
        self.home = home
        self.settings = settings or KnowledgeSettings()
        self.catalog = Catalog(home / "library.db")
        self._embedder = embedder
        self._vectors: VectorStore | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    @property
    def vectors(self) -> VectorStore:
        if self._vectors is None:
            self._vectors = VectorStore(self.home / "vectors", url=self.settings.chroma_url)
        return self._vectors

    def close(self) -> None:
        self.catalog.close()

    # ----- collections --------------------------------------------------------------------------

    def collections(self) -> list[CollectionInfo]:
        return self.catalog.collections()

    def collection(self, name: str) -> CollectionInfo:
        return self.catalog.collection(name)

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
        collection = self.catalog.remove_collection(name)
        self.vectors.drop(collection.id)
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

    def rename(self, name: str, new_name: str) -> None:
        self.catalog.rename_collection(name, new_name)

    def sync(
        self,
        name: str,
        progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
        reindex: bool = False,
    ) -> IndexReport:
        collection = self.catalog.collection(name)
        if reindex:
            self.vectors.drop(collection.id)
            for record in self.catalog.files(collection.id).values():
                self.catalog.remove_file(record.id)
            self.catalog.set_embedder(collection.id, self.embedder.name, self.embedder.dimension)
            collection = self.catalog.collection(name)
        self._check_embedder(collection)
        indexer = Indexer(self.catalog, self.vectors, self.embedder, self._max_bytes)
        return indexer.sync(collection, progress, cancel)

    def _check_embedder(self, collection: CollectionInfo) -> None:
        if (collection.embedder, collection.dimension) != (self.embedder.name, self.embedder.dimension):
            raise EmbedderMismatchError(
                f"Collection '{collection.name}' was indexed with {collection.embedder} "
                f"({collection.dimension} dimensions); the current embedder is {self.embedder.name} "
                f"({self.embedder.dimension})."
            )

    def search(self, query: str, names: list[str], k: int | None = None) -> list[Passage]:
        collections = [self.catalog.collection(name) for name in names]
        for collection in collections:
            self._check_embedder(collection)
        retriever = HybridRetriever(
            self.catalog, self.vectors, self.embedder, self.settings.top_k, self.settings.min_similarity
        )
        return retriever.search(query, collections, k)
