"""Chunk vectors in Chroma: on disk in the data directory, or on a Chroma server the user runs.

Telemetry is off and Chroma's own embedding function is never used (it would download a model):
Hearth always passes the vectors. Each Chroma collection records the embedder that made its
vectors; asking it with another embedder raises instead of mixing incompatible vectors.

Each vector carries its passage's text and metadata (file path, page, heading, offsets, and the id
of the data directory that wrote it), so another machine using the same server can search and cite
it without the file, and each machine deletes only what it wrote.

Never delete on doubt: only Chroma's own "not found" means a collection is not there. Any other
failure (a dropped request, a server error, a stopped server) is a ``VectorStoreError`` with a
plain message, so no caller mistakes a failed request for an empty or missing collection.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from assistant.core.errors import HearthError, StorageFullError, StorageReadOnlyError
from assistant.core.storage_errors import storage_error

T = TypeVar("T")


class EmbedderMismatchError(HearthError):
    hint = "Re-index the collection (Re-index in the Library window, or 'hearth collections sync NAME --reindex')."


class VectorStoreError(HearthError):
    """A request to the vector store failed: nothing is assumed about what is (or is not) there."""

    hint = (
        "Check that the Chroma server is running and reachable (or that the data directory is writable), "
        "then try again. Nothing was deleted because of this."
    )


def _is_not_found(exc: BaseException) -> bool:
    """Chroma's own answer that a collection does not exist (and nothing else)."""
    from chromadb import errors

    kinds = tuple(
        kind
        for kind in (getattr(errors, "NotFoundError", None), getattr(errors, "InvalidCollectionException", None))
        if isinstance(kind, type)
    )
    return bool(kinds) and isinstance(exc, kinds)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
        self._path = None if url else path  # a store on this machine's disk (not a server)
        self._client: Any = None
        try:
            if url:
                parsed = urllib.parse.urlsplit(url)
                self._client = chromadb.HttpClient(
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
            self._max_batch = max(1, int(self._client.get_max_batch_size()))
        except Exception as exc:
            self.close()  # a client made before the failure: its connections go with it
            if isinstance(exc, HearthError):
                raise
            raise self._failure(
                f"The vector store at {self.location} cannot be opened: {_reason(exc)}",
                exc,
                "Check the Chroma server address in the settings, or that the data directory is writable.",
            ) from exc

    def _failure(self, sentence: str, exc: BaseException, hint: str | None = None) -> HearthError:
        """The error to raise for ``exc``: a full or read-only disk under a local store is told as
        such (with what to do about it), anything else as a ``VectorStoreError``."""
        if self._path is not None:
            told = storage_error(exc, self._path / "chroma.sqlite3", "The vector store")
            if isinstance(told, StorageFullError | StorageReadOnlyError):
                return told
        return VectorStoreError(sentence, hint) if hint else VectorStoreError(sentence)

    def _call(self, what: str, action: Callable[[], T]) -> T:
        """``action()``, with any failure of the store told as a ``VectorStoreError``."""
        try:
            return action()
        except HearthError:
            raise
        except Exception as exc:
            raise self._failure(
                f"The vector store at {self.location} failed while {what}: {_reason(exc)}", exc
            ) from exc

    def _get(self, name: str) -> Any:
        """The Chroma collection, or None only when Chroma says there is none."""
        try:
            return self._client.get_collection(name, embedding_function=None)
        except Exception as exc:
            if _is_not_found(exc):
                return None
            raise self._failure(
                f"The vector store at {self.location} failed while opening collection {name}: {_reason(exc)}", exc
            ) from exc

    def close(self) -> None:
        """Let go of the client's connections, files and threads (the store cannot be used after)."""
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):  # best effort: the process may be on its way out
            _close_client(client)

    def _collection(self, name: str, embedder: str, dimension: int, label: str = "", create: bool = False) -> Any:
        """The Chroma collection, checked to hold this embedder's vectors; None when there is none
        and ``create`` is false (only writing creates one, so it gets its label)."""
        # get first: get_or_create would overwrite an existing collection's metadata.
        collection = self._get(name)
        if collection is None:
            if not create:
                return None
            metadata = {"hnsw:space": "cosine", "hearth_embedder": embedder, "hearth_dimension": dimension}
            if label:
                metadata["hearth_name"] = label  # what another machine lists it as ('hearth collections shared')
            collection = self._call(
                f"creating collection {name}",
                lambda: self._client.create_collection(name, embedding_function=None, metadata=metadata),
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
            self._call(
                "writing vectors",
                lambda part=part: collection.upsert(  # type: ignore[misc]
                    ids=ids[part], embeddings=vectors[part], documents=texts[part], metadatas=metadatas[part]
                ),
            )

    def delete(self, name: str, embedder: str, dimension: int, ids: list[str]) -> None:
        collection = self._collection(name, embedder, dimension)
        if not ids or collection is None:
            return
        for part in _batches(len(ids), self._max_batch):
            self._call("deleting vectors", lambda part=part: collection.delete(ids=ids[part]))  # type: ignore[misc]

    def ids(self, name: str, embedder: str, dimension: int, writer: str | None = None) -> set[str]:
        """The collection's vector ids; with ``writer``, only those that writer wrote."""
        collection = self._collection(name, embedder, dimension)
        if collection is None:
            return set()
        where = {"writer": writer} if writer is not None else None
        return set(self._call("listing vectors", lambda: collection.get(include=[], where=where))["ids"])

    def count(self, name: str, embedder: str, dimension: int) -> int:
        collection = self._collection(name, embedder, dimension)
        return 0 if collection is None else int(self._call("counting vectors", collection.count))

    def size(self, name: str) -> int:
        """How many vectors the collection holds, whoever wrote them (0 when there is none)."""
        collection = self._get(name)
        return 0 if collection is None else int(self._call("counting vectors", collection.count))

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
        result = self._call(
            "searching",
            lambda: collection.query(
                query_embeddings=[vector], n_results=k, include=["distances", "documents", "metadatas"], where=where
            ),
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
        return self._get(name) is not None

    def others_wrote(self, name: str, writer: str) -> bool:
        """Whether any vector in the collection is not ``writer``'s (another machine's, or untagged).
        A failed request raises: only an answer counts as evidence that nobody else wrote to it."""
        collection = self._get(name)
        if collection is None:
            return False
        found = self._call(
            "looking for other machines' vectors",
            lambda: collection.get(where={"writer": {"$ne": writer}}, limit=1, include=[]),
        )
        return bool(found["ids"])

    def delete_written_by(self, name: str, writer: str) -> None:
        collection = self._get(name)
        if collection is not None:  # no such collection: nothing of ours in it
            self._call("deleting this machine's vectors", lambda: collection.delete(where={"writer": writer}))

    def drop(self, name: str) -> None:
        try:
            self._client.delete_collection(name)
        except Exception as exc:
            if not _is_not_found(exc):  # already gone is fine; a failed request is not
                raise VectorStoreError(
                    f"The vector store at {self.location} failed while deleting collection {name}: {_reason(exc)}"
                ) from exc

    def adopt(self, old: str, new: str, ids: set[str], writer: str) -> bool:
        """Give a collection from before stable ids its new name, tagging the vectors in ``ids``
        (this catalogue's chunks) as ``writer``'s, without re-embedding. False when ``old`` is not
        there (the vectors must then be made again)."""
        collection = self._get(old)
        if collection is None:
            return self.exists(new)  # renamed already by a run that was stopped before recording it
        mine = sorted(ids & set(self._call("listing vectors", lambda: collection.get(include=[]))["ids"]))
        for part in _batches(len(mine), self._max_batch):
            self._call(
                "tagging vectors",
                lambda part=part: collection.update(  # type: ignore[misc]
                    ids=mine[part], metadatas=[{"writer": writer}] * len(mine[part])
                ),
            )
        self._call("renaming a collection", lambda: collection.modify(name=new))
        return True

    def shared(self) -> list[SharedCollection]:
        """The Hearth collections on this store, as any machine using it sees them."""
        found = []
        for collection in self._call("listing collections", self._client.list_collections):
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
                    passages=int(self._call("counting vectors", collection.count)),
                )
            )
        return found


def _close_client(client: Any) -> None:
    """Chroma keeps one system (SQLite connections, HTTP pools, executor threads) per path or
    address, shared by every client made for it and counted: ``close`` stops it with the last one
    (the library's and memory's stores on one data directory share one)."""
    close = getattr(client, "close", None)
    if callable(close):
        close()
