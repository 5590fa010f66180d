"""Chunk vectors in Chroma: on disk in the data directory, or on a Chroma server the user runs.

Telemetry is off and Chroma's own embedding function is never used (it would download a model):
Hearth always passes the vectors. Each Chroma collection records the embedder that made its
vectors; asking it with another embedder raises instead of mixing incompatible vectors.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.core.errors import HearthError


class EmbedderMismatchError(HearthError):
    hint = "Re-index the collection (Re-index in the Library window, or 'hearth collections sync NAME --reindex')."


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

    @staticmethod
    def _name(collection_id: int | str) -> str:
        return f"hearth-{collection_id}"

    def _collection(self, collection_id: int | str, embedder: str, dimension: int) -> Any:
        # get first: get_or_create would overwrite an existing collection's metadata.
        try:
            collection = self._client.get_collection(self._name(collection_id), embedding_function=None)
        except Exception:
            collection = self._client.create_collection(
                self._name(collection_id),
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "hearth_embedder": embedder, "hearth_dimension": dimension},
            )
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
        collection_id: int | str,
        embedder: str,
        dimension: int,
        ids: list[str],
        vectors: list[list[float]],
        texts: list[str],
        metadatas: list[dict[str, Any]],
    ) -> None:
        collection = self._collection(collection_id, embedder, dimension)
        for part in _batches(len(ids), self._max_batch):
            collection.upsert(ids=ids[part], embeddings=vectors[part], documents=texts[part], metadatas=metadatas[part])

    def delete(self, collection_id: int | str, embedder: str, dimension: int, ids: list[str]) -> None:
        if not ids:
            return
        collection = self._collection(collection_id, embedder, dimension)
        for part in _batches(len(ids), self._max_batch):
            collection.delete(ids=ids[part])

    def ids(self, collection_id: int | str, embedder: str, dimension: int) -> set[str]:
        collection = self._collection(collection_id, embedder, dimension)
        return set(collection.get(include=[])["ids"])

    def count(self, collection_id: int | str, embedder: str, dimension: int) -> int:
        return int(self._collection(collection_id, embedder, dimension).count())

    def query(
        self,
        collection_id: int | str,
        embedder: str,
        dimension: int,
        vector: list[float],
        k: int,
        where: dict[str, Any] | None = None,
    ) -> list[tuple[str, float]]:
        collection = self._collection(collection_id, embedder, dimension)
        result = collection.query(query_embeddings=[vector], n_results=k, include=["distances"], where=where)
        if not result["ids"]:
            return []
        return list(zip(result["ids"][0], result["distances"][0], strict=True))

    def drop(self, collection_id: int | str) -> None:
        with contextlib.suppress(Exception):  # already gone is fine
            self._client.delete_collection(self._name(collection_id))
