"""The vectors checked against the catalogue, and rebuilt from the stored passages.

The catalogue (SQLite) is the truth about what was indexed, and it keeps every passage's text. The
vectors can go missing without the catalogue knowing: ``vectors/chroma.sqlite3`` deleted or a disk
swapped (Chroma then starts a new, empty store), or a shared server's collection dropped by another
machine. A cheap check (one count per collection) runs when the vector store is opened; a
collection found short is rebuilt from its stored passages (embedded again, no file read again) at
its next sync or search, and the user is told.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.core.cancel import CancelToken
from assistant.knowledge.embedder import Embedder
from assistant.knowledge.library_index import CollectionInfo, LibraryIndex
from assistant.knowledge.vectors import VectorStore

REBUILD_BATCH = 64
# At most this many passages are rebuilt inside a chat turn (about ten seconds on two cores); more
# wait for the collection's next sync, and the turn says so.
REBUILD_IN_TURN = 500


@dataclass(frozen=True)
class Shortfall:
    """A collection with fewer vectors on the store than the catalogue has passages."""

    uid: str
    name: str
    expected: int
    found: int

    @property
    def missing(self) -> int:
        return self.expected - self.found

    def notice(self, later: bool = False) -> str:
        """What to tell the user; ``later``: the rebuild waits for the collection's next sync."""
        lost = "all of its" if self.found == 0 else f"{self.missing} of its {self.expected}"
        said = f"The vector store had lost {lost} passages' vectors for '{self.name}'; "
        if later:
            return said + (
                "they are rebuilt from the stored passages at its next sync (Sync in the Library window, or "
                f"'hearth collections sync {self.name}'). Until then it is searched mostly by keywords."
            )
        return said + "they are rebuilt from the stored passages (your files are not read again)."


def passage_metadata(
    path: str, page: int | None, heading: str, start: int, end: int, index: int, writer: str, embedder: str
) -> dict[str, Any]:
    """What is stored beside each vector: enough for another machine to search and cite it."""
    return {
        "path": path,
        "page": page or 0,
        "heading": heading,
        "start": start,
        "end": end,
        "index": index,
        "writer": writer,
        "embedder": embedder,
    }


def expected_count(catalog: LibraryIndex, collection: CollectionInfo) -> int:
    """Passages of this collection's indexed files: each should have a vector."""
    rows = catalog.rows(
        "SELECT COUNT(*) FROM chunks c JOIN files f ON f.id = c.file_id"
        " WHERE c.collection_id = ? AND f.status = 'indexed'",
        (collection.id,),
    )
    return int(rows[0][0])


def shortfall(catalog: LibraryIndex, vectors: VectorStore, collection: CollectionInfo) -> Shortfall | None:
    """Cheap: the collection's vector count against its passage count (None when not short)."""
    expected = expected_count(catalog, collection)
    if expected == 0:
        return None
    found = vectors.size(collection.vector_name)
    return Shortfall(collection.uid, collection.name, expected, found) if found < expected else None


def rebuild_missing(
    catalog: LibraryIndex,
    vectors: VectorStore,
    embedder: Embedder,
    collection: CollectionInfo,
    cancel: CancelToken | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Embed again the indexed passages whose vectors this machine wrote and the store no longer
    has; returns how many were rebuilt (fewer when cancelled: the rest at the next check)."""
    key = (collection.vector_name, collection.embedder, collection.dimension)
    rows = catalog.rows(
        "SELECT c.chunk_id FROM chunks c JOIN files f ON f.id = c.file_id"
        " WHERE c.collection_id = ? AND f.status = 'indexed'",
        (collection.id,),
    )
    wanted = {r["chunk_id"] for r in rows}
    missing = sorted(wanted - vectors.ids(*key, writer=catalog.writer))
    done = 0
    for start in range(0, len(missing), REBUILD_BATCH):
        if cancel is not None and cancel.cancelled:
            break
        part = missing[start : start + REBUILD_BATCH]
        marks = ",".join("?" * len(part))
        found = catalog.rows(
            "SELECT c.chunk_id, c.idx, c.text, c.page, c.heading, c.start, c.end, f.path"
            f" FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.chunk_id IN ({marks}) ORDER BY c.rowid",
            tuple(part),
        )
        texts = [r["text"] for r in found]
        metadatas = [
            passage_metadata(
                r["path"], r["page"], r["heading"], r["start"], r["end"], r["idx"], catalog.writer, collection.embedder
            )
            for r in found
        ]
        vectors.upsert(
            *key,
            [r["chunk_id"] for r in found],
            embedder.embed(texts),
            texts,
            metadatas,
            label=collection.name,
        )
        done += len(found)
        if progress is not None:
            progress(done, len(missing))
    return done
