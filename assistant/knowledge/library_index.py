"""The library's catalogue in SQLite: collections, their folders, files, chunks, and keyword search.

Files move through ``indexing`` to ``indexed`` (or ``failed``) and are committed at each step, so a
run killed in the middle leaves files marked ``indexing``; the next sync redoes exactly those,
deleting whatever part of them had been written.

A collection is known by a stable ``uid`` (a UUID): its Chroma collection is named after it, and
conversations refer to it by it, so a rename changes nothing else and two machines sharing one
Chroma server never collide. A collection being re-indexed or removed carries that ``state`` until
the work is done, so a run killed in between finishes it next time. This data directory's
``writer`` id tags every vector it writes: it deletes only vectors carrying its own tag.
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.core.database import Database
from assistant.core.errors import HearthError
from assistant.knowledge import ngrams
from assistant.knowledge.chunking import Chunk
from assistant.knowledge.library_index_schema import MIGRATIONS, unversioned
from assistant.knowledge.patterns import MAX_PATTERNS, FilePatterns, pattern_problem

# A keyword in more than this share of passages is left out of the query: its IDF is near zero, and
# scoring every passage it appears in is what makes BM25 slow on a large library.
COMMON_TERM_SHARE = 0.10
PRUNE_FROM_PASSAGES = 2000  # below this, scoring every match is cheap anyway

# Words that match nearly every passage: they add almost nothing to BM25 and cost a scan of every
# posting, so keyword queries leave them out (meaning is the vector search's job).
STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here
    hers him his how i if in into is it its just me more most my no nor not now of off on once only or other
    our out over own same she should so some such than that the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why will with would
    you your yours please tell me give show find""".split()
)


# A collection's state: '' when in use; 'reindex' from the moment a re-index is decided until its old
# vectors are gone; 'removing' from the moment it is removed until its vectors and rows are gone.
REINDEX, REMOVING = "reindex", "removing"


@dataclass(frozen=True)
class CollectionInfo:
    id: int
    name: str
    embedder: str
    dimension: int
    roots: tuple[str, ...]
    files: int = 0
    chunks: int = 0
    failed: int = 0
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    uid: str = ""
    vector_name: str = ""  # its Chroma collection: 'hearth-{uid}' (a catalogue from before: 'hearth-{id}')
    state: str = ""

    @property
    def patterns(self) -> FilePatterns:
        return FilePatterns(self.include, self.exclude)


def vector_name(uid: str) -> str:
    return f"hearth-{uid}"


@dataclass(frozen=True)
class FileRecord:
    id: int
    path: str
    hash: str
    mtime: float
    size: int
    status: str
    chunks: int
    reason: str
    chunking: str = ""


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    path: str
    text: str
    page: int | None
    heading: str
    start: int
    end: int


class LibraryIndex(Database):
    what = "The library catalogue"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._db.create_function("hearth_ngrams", 1, ngrams.index_text, deterministic=True)
        self.migrate(MIGRATIONS, unversioned)
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('writer', ?)", (uuid.uuid4().hex,))
        self.writer: str = self.rows("SELECT value FROM meta WHERE key = 'writer'")[0]["value"]

    # ----- collections --------------------------------------------------------------------------

    def create_collection(self, name: str, embedder: str, dimension: int, uid: str = "") -> CollectionInfo:
        """A new collection; ``uid`` to attach one that another machine made on a shared server."""
        name = " ".join(name.split())
        if not name:
            raise HearthError("A collection needs a name.")
        uid = uid or uuid.uuid4().hex
        if self.rows("SELECT 1 FROM collections WHERE uid = ? AND state != ?", (uid, REMOVING)):
            raise HearthError("That collection is already in this library.")
        try:
            with self.transaction() as db:
                db.execute(
                    "INSERT INTO collections (name, embedder, dimension, created_at, uid, vector_name)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (name, embedder, dimension, time.time(), uid, vector_name(uid)),
                )
        except sqlite3.IntegrityError:
            raise HearthError(f"There is already a collection called '{name}'.") from None
        return self.collection(name)

    def collection(self, name: str) -> CollectionInfo:
        rows = self.rows("SELECT * FROM collections WHERE name = ? AND state != ?", (name, REMOVING))
        if not rows:
            names = ", ".join(c.name for c in self.collections()) or "none yet"
            raise HearthError(
                f"There is no collection '{name}'.",
                f"Collections: {names}. Create one with 'hearth index PATH --collection NAME'.",
            )
        return self._info(rows[0])

    def by_uid(self, uid: str) -> CollectionInfo | None:
        rows = self.rows("SELECT * FROM collections WHERE uid = ? AND state != ?", (uid, REMOVING))
        return self._info(rows[0]) if rows else None

    def collections(self) -> list[CollectionInfo]:
        rows = self.rows("SELECT * FROM collections WHERE state != ? ORDER BY name", (REMOVING,))
        return [self._info(row) for row in rows]

    def unfinished(self) -> list[CollectionInfo]:
        """Collections whose removal or re-index was interrupted, or whose vectors still have the
        name they had before stable ids."""
        rows = self.rows("SELECT * FROM collections WHERE state != '' OR vector_name != 'hearth-' || uid")
        return [self._info(row) for row in rows]

    def _info(self, row: sqlite3.Row) -> CollectionInfo:
        roots = tuple(r["path"] for r in self.rows("SELECT path FROM roots WHERE collection_id = ?", (row["id"],)))
        counts = self.rows(
            "SELECT COUNT(*) AS files, COALESCE(SUM(chunks), 0) AS chunks,"
            " COALESCE(SUM(status = 'failed'), 0) AS failed FROM files WHERE collection_id = ?",
            (row["id"],),
        )[0]
        patterns = self.rows("SELECT kind, pattern FROM patterns WHERE collection_id = ? ORDER BY rowid", (row["id"],))
        return CollectionInfo(
            row["id"],
            row["name"],
            row["embedder"],
            row["dimension"],
            roots,
            counts["files"],
            counts["chunks"],
            counts["failed"],
            tuple(p["pattern"] for p in patterns if p["kind"] == "include"),
            tuple(p["pattern"] for p in patterns if p["kind"] == "exclude"),
            row["uid"],
            row["vector_name"],
            row["state"],
        )

    def rename_collection(self, name: str, new_name: str) -> None:
        collection = self.collection(name)
        try:
            with self.transaction() as db:
                db.execute("UPDATE collections SET name = ? WHERE id = ?", (" ".join(new_name.split()), collection.id))
        except sqlite3.IntegrityError:
            raise HearthError(f"There is already a collection called '{new_name}'.") from None

    def mark_removing(self, name: str) -> CollectionInfo:
        """The first step of removing a collection: hidden at once (its name free again), its rows
        kept until its vectors are gone (``forget_collection``)."""
        collection = self.collection(name)
        with self.transaction() as db:
            # A name no user can type (names are stripped of line breaks) keeps UNIQUE satisfied.
            db.execute(
                "UPDATE collections SET state = ?, name = ? WHERE id = ?",
                (REMOVING, f"\n{collection.uid}", collection.id),
            )
        return collection

    def forget_collection(self, collection_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM chunks WHERE collection_id = ?", (collection_id,))
            db.execute("DELETE FROM collections WHERE id = ?", (collection_id,))

    def mark_reindex(self, collection_id: int, embedder: str, dimension: int) -> None:
        """The first step of a re-index, in one transaction: every file is to be redone (kept listed,
        as 'indexing'), under the new embedder, and the collection is marked until its old vectors
        are gone (``finish_reindex``)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE collections SET embedder = ?, dimension = ?, state = ? WHERE id = ?",
                (embedder, dimension, REINDEX, collection_id),
            )
            db.execute("UPDATE files SET status = 'indexing', chunks = 0 WHERE collection_id = ?", (collection_id,))

    def finish_reindex(self, collection_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM chunks WHERE collection_id = ?", (collection_id,))
            db.execute("UPDATE collections SET state = '' WHERE id = ?", (collection_id,))

    def set_vector_name(self, collection_id: int, name: str, *, redo_files: bool) -> None:
        """Record the collection's Chroma collection; ``redo_files`` when its vectors were not found."""
        with self.transaction() as db:
            db.execute("UPDATE collections SET vector_name = ? WHERE id = ?", (name, collection_id))
            if redo_files:
                db.execute("UPDATE files SET status = 'indexing', chunks = 0 WHERE collection_id = ?", (collection_id,))

    def add_roots(self, collection_id: int, paths: Iterable[Path]) -> None:
        with self.transaction() as db:
            for path in paths:
                db.execute(
                    "INSERT OR IGNORE INTO roots (collection_id, path) VALUES (?, ?)", (collection_id, str(path))
                )

    def remove_root(self, collection_id: int, path: Path) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM roots WHERE collection_id = ? AND path = ?", (collection_id, str(path)))

    def set_patterns(self, collection_id: int, include: tuple[str, ...], exclude: tuple[str, ...]) -> None:
        """Replace the collection's include and exclude patterns; a pattern that cannot work is refused."""
        problems = [problem for p in (*include, *exclude) if (problem := pattern_problem(p))]
        if len(include) > MAX_PATTERNS or len(exclude) > MAX_PATTERNS:
            problems.append(f"at most {MAX_PATTERNS} patterns of each kind")
        if problems:
            raise HearthError(f"Those patterns cannot be used: {'; '.join(problems)}.", "Nothing was changed.")
        with self.transaction() as db:
            db.execute("DELETE FROM patterns WHERE collection_id = ?", (collection_id,))
            db.executemany(
                "INSERT OR IGNORE INTO patterns (collection_id, kind, pattern) VALUES (?, ?, ?)",
                [(collection_id, "include", p) for p in include] + [(collection_id, "exclude", p) for p in exclude],
            )

    # ----- files and chunks ---------------------------------------------------------------------

    def files(self, collection_id: int) -> dict[str, FileRecord]:
        rows = self.rows("SELECT * FROM files WHERE collection_id = ?", (collection_id,))
        return {
            row["path"]: FileRecord(
                row["id"],
                row["path"],
                row["hash"],
                row["mtime"],
                row["size"],
                row["status"],
                row["chunks"],
                row["reason"],
                row["chunking"],
            )
            for row in rows
        }

    def begin_file(self, collection_id: int, path: str) -> int:
        """Mark a file as being (re)indexed; returns its id. Its old chunks stay listed until their
        vectors are deleted (``drop_chunks``), so a run killed in between knows what to delete."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO files (collection_id, path, status, updated_at) VALUES (?, ?, 'indexing', ?)"
                " ON CONFLICT (collection_id, path)"
                " DO UPDATE SET status = 'indexing', updated_at = excluded.updated_at",
                (collection_id, path, time.time()),
            )
            file_id = int(
                db.execute(
                    "SELECT id FROM files WHERE collection_id = ? AND path = ?", (collection_id, path)
                ).fetchone()[0]
            )
        return file_id

    def drop_chunks(self, file_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))

    def mark_indexing(self, file_id: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE files SET status = 'indexing', updated_at = ? WHERE id = ?", (time.time(), file_id))

    def add_chunks(self, collection_id: int, file_id: int, ids: list[str], chunks: list[Chunk]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO chunks (chunk_id, file_id, collection_id, idx, text, page, heading, start, end)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (cid, file_id, collection_id, c.index, c.text, c.page, c.heading, c.start, c.end)
                    for cid, c in zip(ids, chunks, strict=True)
                ],
            )

    def finish_file(
        self,
        file_id: int,
        status: str,
        *,
        hash: str = "",
        mtime: float = 0,
        size: int = 0,
        pages: int = 0,
        chunks: int = 0,
        reason: str = "",
        chunking: str = "",
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE files SET status = ?, hash = ?, mtime = ?, size = ?, pages = ?, chunks = ?, reason = ?,"
                " chunking = ?, updated_at = ? WHERE id = ?",
                (status, hash, mtime, size, pages, chunks, reason, chunking, time.time(), file_id),
            )

    def remove_file(self, file_id: int) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))
            db.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def _distinctive(self, terms: list[str], vocab: str = "chunks_vocab") -> list[str]:
        """The query terms rare enough to be worth scoring; failing that, the rarest one, if it is not
        in most passages. Frequencies are of the unstemmed word, a close proxy for its stem's; a word
        that never occurs as such is kept, since its stem may still match."""
        total = self.rows("SELECT COUNT(*) AS n FROM chunks")[0]["n"]
        if total < PRUNE_FROM_PASSAGES:
            return terms
        marks = ",".join("?" * len(terms))
        frequency = {
            row["term"]: row["doc"]
            for row in self.rows(f"SELECT term, doc FROM {vocab} WHERE term IN ({marks})", tuple(terms))
        }
        rare = [t for t in terms if frequency.get(t, 0) <= COMMON_TERM_SHARE * total]
        if rare:
            return rare
        rarest = min(terms, key=lambda t: frequency.get(t, 0))
        return [rarest] if frequency.get(rarest, 0) <= total / 2 else []

    def chunk_ids(self, collection_id: int) -> set[str]:
        return {
            r["chunk_id"] for r in self.rows("SELECT chunk_id FROM chunks WHERE collection_id = ?", (collection_id,))
        }

    def file_chunk_ids(self, file_id: int) -> list[str]:
        return [r["chunk_id"] for r in self.rows("SELECT chunk_id FROM chunks WHERE file_id = ?", (file_id,))]

    def chunks_by_id(self, chunk_ids: list[str]) -> dict[str, StoredChunk]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.rows(
            f"SELECT c.*, f.path FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.chunk_id IN ({marks})",
            tuple(chunk_ids),
        )
        return {r["chunk_id"]: _stored(r) for r in rows}

    def keyword_search(self, collection_ids: list[int], query: str, limit: int) -> list[str]:
        """Chunk ids ranked by BM25 over the chunks' text: words, and the character pairs of
        unspaced scripts (ngrams.py); where a query has both, the two rankings are interleaved."""
        if not collection_ids:
            return []
        words = re.findall(r"\w+", ngrams.spaced_part(query.lower()))
        terms = [t for t in dict.fromkeys(words) if len(t) > 1 and t not in STOPWORDS]
        ranked = []
        if terms and (terms := self._distinctive(terms)):
            match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
            ranked.append(self._matches("chunks_fts", match, collection_ids, limit))
        pairs = ngrams.query_terms(query)
        if pairs:
            exact = [p for p in pairs if not p.endswith("*")]
            kept = set(self._distinctive([p.strip('"') for p in exact], "chunks_ngrams_vocab")) if exact else set()
            pairs = [p for p in pairs if p.endswith("*") or p.strip('"') in kept]
        if pairs:
            ranked.append(self._matches("chunks_ngrams", " OR ".join(pairs), collection_ids, limit))
        if len(ranked) == 1:
            return ranked[0]
        fused: dict[str, float] = {}
        for found in ranked:
            for rank, chunk_id in enumerate(found):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (60 + rank)
        return sorted(fused, key=lambda c: fused[c], reverse=True)[:limit]

    def _matches(self, table: str, match: str, collection_ids: list[int], limit: int) -> list[str]:
        marks = ",".join("?" * len(collection_ids))
        rows = self.rows(
            f"SELECT c.chunk_id FROM {table} JOIN chunks c ON c.rowid = {table}.rowid"
            f" WHERE {table} MATCH ? AND c.collection_id IN ({marks}) ORDER BY bm25({table}) LIMIT ?",
            (match, *collection_ids, limit),
        )
        return [r["chunk_id"] for r in rows]


def _stored(row: sqlite3.Row) -> StoredChunk:
    return StoredChunk(row["chunk_id"], row["path"], row["text"], row["page"], row["heading"], row["start"], row["end"])
