"""Chunk vectors in Chroma: on disk in the data directory, or on a Chroma server the user runs.

Telemetry is off and Chroma's own embedding function is never used (it would download a model):
Hearth always passes the vectors. Each Chroma collection records the embedder that made its
vectors; asking it with another embedder raises instead of mixing incompatible vectors.

Each vector carries its passage's text and metadata (file path, page, heading, offsets, and the id
of the data directory that wrote it), so another machine using the same server can search and cite
it without the file, and each machine deletes only what it wrote.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.core.errors import HearthError


class EmbedderMismatchError(HearthError):
    hint = "Re-index the collection (Re-index in the Library window, or 'hearth collections sync NAME --reindex')."


@dataclass(frozen=True)
class VectorHit:
    """One nearest neighbour, with the passage text and metadata stored beside its vector."""

    id: str
    distance: float
    text: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class SharedCollection:
    uid: str
    name: str
    embedder: str
    dimension: int
    passages: int


def _batches(count: int, size: int) -> Iterator[slice]:
    for start in range(0, count, size):
        yield slice(start, start + size)


class VectorStore:
    def __init__(self, path: Path | None = None, url: str = "") -> None:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        self.location = url or str(path)
        try:
            if url:
                parsed = urllib.parse.urlsplit(url)
                self._client: Any = chromadb.HttpClient(
                    host=parsed.hostname or "127.0.0.1",
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )
                self._client.heartbeat()
            else:
                assert path is not None
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=settings)
        except HearthError:
            raise
        except Exception as exc:
            raise HearthError(
                f"The vector store at {self.location} cannot be opened: {exc}",
                "Check the Chroma server address in the settings, or that the data directory is writable.",
            ) from exc
        self._max_batch = max(1, int(self._client.get_max_batch_size()))

    def _collection(self, name: str, embedder: str, dimension: int, label: str = "", create: bool = False) -> Any:
        """The Chroma collection, checked to hold this embedder's vectors; None when there is none
        and ``create`` is false (only writing creates one, so it gets its label)."""
        # get first: get_or_create would overwrite an existing collection's metadata.
        try:
            collection = self._client.get_collection(name, embedding_function=None)
        except Exception:
            if not create:
                return None
            metadata = {"hnsw:space": "cosine", "hearth_embedder": embedder, "hearth_dimension": dimension}
            if label:
                metadata["hearth_name"] = label  # what another machine lists it as ('hearth collections shared')
            collection = self._client.create_collection(name, embedding_function=None, metadata=metadata)
        metadata = collection.metadata or {}
        stored = (metadata.get("hearth_embedder"), metadata.get("hearth_dimension"))
        if stored != (embedder, dimension):
            raise EmbedderMismatchError(
                f"This collection's vectors were made by {stored[0]} ({stored[1]} dimensions); "
                f"the current embedder is {embedder} ({dimension})."
            )
        return collection

    def upsert(
        self,
        name: str,
        embedder: str,
        dimension: int,
        ids: list[str],
        vectors: list[list[float]],
        texts: list[str],
        metadatas: list[dict[str, Any]],
        label: str = "",
    ) -> None:
        collection = self._collection(name, embedder, dimension, label, create=True)
        for part in _batches(len(ids), self._max_batch):
            collection.upsert(ids=ids[part], embeddings=vectors[part], documents=texts[part], metadatas=metadatas[part])

    def delete(self, name: str, embedder: str, dimension: int, ids: list[str]) -> None:
        collection = self._collection(name, embedder, dimension)
        if not ids or collection is None:
            return
        for part in _batches(len(ids), self._max_batch):
            collection.delete(ids=ids[part])

    def ids(self, name: str, embedder: str, dimension: int, writer: str | None = None) -> set[str]:
        """The collection's vector ids; with ``writer``, only those that writer wrote."""
        collection = self._collection(name, embedder, dimension)
        if collection is None:
            return set()
        where = {"writer": writer} if writer is not None else None
        return set(collection.get(include=[], where=where)["ids"])

    def count(self, name: str, embedder: str, dimension: int) -> int:
        collection = self._collection(name, embedder, dimension)
        return 0 if collection is None else int(collection.count())

    def query(
        self,
        name: str,
        embedder: str,
        dimension: int,
        vector: list[float],
        k: int,
        where: dict[str, Any] | None = None,
    ) -> list[VectorHit]:
        collection = self._collection(name, embedder, dimension)
        if collection is None:
            return []  # nothing indexed yet, or removed from the shared server by the machine that made it
        result = collection.query(
            query_embeddings=[vector], n_results=k, include=["distances", "documents", "metadatas"], where=where
        )
        if not result["ids"]:
            return []
        return [
            VectorHit(cid, float(distance), document or "", dict(metadata or {}))
            for cid, distance, document, metadata in zip(
                result["ids"][0], result["distances"][0], result["documents"][0], result["metadatas"][0], strict=True
            )
        ]

    # ----- sharing: whose vectors these are -----------------------------------------------------

    def exists(self, name: str) -> bool:
        try:
            self._client.get_collection(name, embedding_function=None)
        except Exception:
            return False
        return True

    def others_wrote(self, name: str, writer: str) -> bool:
        """Whether any vector in the collection is not ``writer``'s (another machine's, or untagged)."""
        try:
            collection = self._client.get_collection(name, embedding_function=None)
        except Exception:
            return False
        return bool(collection.get(where={"writer": {"$ne": writer}}, limit=1, include=[])["ids"])

    def delete_written_by(self, name: str, writer: str) -> None:
        with contextlib.suppress(Exception):  # no such collection: nothing of ours in it
            self._client.get_collection(name, embedding_function=None).delete(where={"writer": writer})

    def drop(self, name: str) -> None:
        with contextlib.suppress(Exception):  # already gone is fine
            self._client.delete_collection(name)

    def adopt(self, old: str, new: str, ids: set[str], writer: str) -> bool:
        """Give a collection from before stable ids its new name, tagging the vectors in ``ids``
        (this catalogue's chunks) as ``writer``'s, without re-embedding. False when ``old`` is not
        there (the vectors must then be made again)."""
        try:
            collection = self._client.get_collection(old, embedding_function=None)
        except Exception:
            return self.exists(new)  # renamed already by a run that was stopped before recording it
        mine = sorted(ids & set(collection.get(include=[])["ids"]))
        for part in _batches(len(mine), self._max_batch):
            collection.update(ids=mine[part], metadatas=[{"writer": writer}] * len(mine[part]))
        collection.modify(name=new)
        return True

    def shared(self) -> list[SharedCollection]:
        """The Hearth collections on this store, as any machine using it sees them."""
        found = []
        for collection in self._client.list_collections():
            metadata = collection.metadata or {}
            uid = collection.name.removeprefix("hearth-")
            if len(uid) != 32 or not collection.name.startswith("hearth-") or "hearth_embedder" not in metadata:
                continue  # not a library collection (memories, or one from before stable ids)
            found.append(
                SharedCollection(
                    uid=uid,
                    name=str(metadata.get("hearth_name") or collection.name),
                    embedder=str(metadata["hearth_embedder"]),
                    dimension=int(metadata.get("hearth_dimension") or 0),
                    passages=int(collection.count()),
                )
            )
        return found
