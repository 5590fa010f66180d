"""The library's catalogue in SQLite: collections, their folders, files, chunks, and keyword search.

Files move through ``indexing`` to ``indexed`` (or ``failed``) and are committed at each step, so a
run killed in the middle leaves files marked ``indexing``; the next sync redoes exactly those,
deleting whatever part of them had been written.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.core.database import Database
from assistant.core.errors import HearthError
from assistant.knowledge import ngrams
from assistant.knowledge.chunking import Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    embedder TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS roots (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    PRIMARY KEY (collection_id, path)
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    hash TEXT NOT NULL DEFAULT '',
    mtime REAL NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    pages INTEGER NOT NULL DEFAULT 0,
    chunks INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT '',
    updated_at REAL NOT NULL,
    UNIQUE (collection_id, path)
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT NOT NULL UNIQUE,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    collection_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    page INTEGER,
    heading TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks (file_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5 (
    text, content='chunks', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2'
);
-- Unstemmed and contentless: only here to look up how many passages contain a query word.
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_words USING fts5 (
    text, content='', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab ('chunks_words', 'row');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, text) VALUES (new.rowid, new.text);
    INSERT INTO chunks_words (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO chunks_words (chunks_words, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
"""

# Runs of scripts written without spaces (Chinese, Japanese, Thai...) as pairs of characters, which
# unicode61 cannot split into words (ngrams.py). Contentless, filled by triggers that call the
# function registered on each connection (hearth_ngrams).
_NGRAM_SCHEMA = (
    "CREATE VIRTUAL TABLE chunks_ngrams USING fts5 (text, content='', tokenize='unicode61 remove_diacritics 0')",
    "CREATE VIRTUAL TABLE chunks_ngrams_vocab USING fts5vocab ('chunks_ngrams', 'row')",
    """CREATE TRIGGER chunks_ngrams_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_ngrams (rowid, text) VALUES (new.rowid, hearth_ngrams(new.text));
    END""",
    """CREATE TRIGGER chunks_ngrams_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_ngrams (chunks_ngrams, rowid, text) VALUES ('delete', old.rowid, hearth_ngrams(old.text));
    END""",
)


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


class Catalog(Database):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._db.create_function("hearth_ngrams", 1, ngrams.index_text, deterministic=True)
        self._db.executescript(_SCHEMA)
        self._add_ngram_index()
        columns = {row["name"] for row in self.rows("PRAGMA table_info(files)")}
        if "chunking" not in columns:
            # How each file was cut into passages; '' (a catalogue from before) is re-chunked at the next sync.
            self._db.execute("ALTER TABLE files ADD COLUMN chunking TEXT NOT NULL DEFAULT ''")

    def _add_ngram_index(self) -> None:
        """Created with its passages in one transaction: a catalogue from before it gets the pairs
        of its stored passages' text (nothing is re-read or re-embedded), and a run stopped half-way
        leaves no index that looks complete."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'chunks_ngrams'").fetchone():
                return
            for statement in _NGRAM_SCHEMA:
                db.execute(statement)
            db.execute("INSERT INTO chunks_ngrams (rowid, text) SELECT rowid, hearth_ngrams(text) FROM chunks")

    # ----- collections --------------------------------------------------------------------------

    def create_collection(self, name: str, embedder: str, dimension: int) -> CollectionInfo:
        name = " ".join(name.split())
        if not name:
            raise HearthError("A collection needs a name.")
        try:
            with self.transaction() as db:
                db.execute(
                    "INSERT INTO collections (name, embedder, dimension, created_at) VALUES (?, ?, ?, ?)",
                    (name, embedder, dimension, time.time()),
                )
        except sqlite3.IntegrityError:
            raise HearthError(f"There is already a collection called '{name}'.") from None
        return self.collection(name)

    def collection(self, name: str) -> CollectionInfo:
        rows = self.rows("SELECT * FROM collections WHERE name = ?", (name,))
        if not rows:
            names = ", ".join(c.name for c in self.collections()) or "none yet"
            raise HearthError(
                f"There is no collection '{name}'.",
                f"Collections: {names}. Create one with 'hearth index PATH --collection NAME'.",
            )
        return self._info(rows[0])

    def collections(self) -> list[CollectionInfo]:
        return [self._info(row) for row in self.rows("SELECT * FROM collections ORDER BY name")]

    def _info(self, row: sqlite3.Row) -> CollectionInfo:
        roots = tuple(r["path"] for r in self.rows("SELECT path FROM roots WHERE collection_id = ?", (row["id"],)))
        counts = self.rows(
            "SELECT COUNT(*) AS files, COALESCE(SUM(chunks), 0) AS chunks,"
            " COALESCE(SUM(status = 'failed'), 0) AS failed FROM files WHERE collection_id = ?",
            (row["id"],),
        )[0]
        return CollectionInfo(
            row["id"],
            row["name"],
            row["embedder"],
            row["dimension"],
            roots,
            counts["files"],
            counts["chunks"],
            counts["failed"],
        )

    def rename_collection(self, name: str, new_name: str) -> None:
        collection = self.collection(name)
        try:
            with self.transaction() as db:
                db.execute("UPDATE collections SET name = ? WHERE id = ?", (" ".join(new_name.split()), collection.id))
        except sqlite3.IntegrityError:
            raise HearthError(f"There is already a collection called '{new_name}'.") from None

    def remove_collection(self, name: str) -> CollectionInfo:
        collection = self.collection(name)
        with self.transaction() as db:
            db.execute("DELETE FROM chunks WHERE collection_id = ?", (collection.id,))
            db.execute("DELETE FROM collections WHERE id = ?", (collection.id,))
        return collection

    def set_embedder(self, collection_id: int, embedder: str, dimension: int) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE collections SET embedder = ?, dimension = ? WHERE id = ?", (embedder, dimension, collection_id)
            )

    def add_roots(self, collection_id: int, paths: Iterable[Path]) -> None:
        with self.transaction() as db:
            for path in paths:
                db.execute(
                    "INSERT OR IGNORE INTO roots (collection_id, path) VALUES (?, ?)", (collection_id, str(path))
                )

    def remove_root(self, collection_id: int, path: Path) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM roots WHERE collection_id = ? AND path = ?", (collection_id, str(path)))

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
        """Mark a file as being (re)indexed and drop its old chunks; returns its id."""
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
            db.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))
        return file_id

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
