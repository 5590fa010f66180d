"""The library catalogue's tables, and the steps that bring an older catalogue up to them."""

from __future__ import annotations

import sqlite3
import uuid

from assistant.core.migrations import Step, add_column, has_table

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
-- Include/exclude glob patterns of a collection (patterns.py), in the order they were given.
CREATE TABLE IF NOT EXISTS patterns (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('include', 'exclude')),
    pattern TEXT NOT NULL,
    PRIMARY KEY (collection_id, kind, pattern)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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


def _stable_ids(db: sqlite3.Connection) -> None:
    """Collections from before stable ids: each gets a uid now, and keeps its Chroma collection
    'hearth-{id}' until the vector store renames it (Library.vectors)."""
    add_column(db, "collections", "uid TEXT NOT NULL DEFAULT ''")
    add_column(db, "collections", "vector_name TEXT NOT NULL DEFAULT ''")
    add_column(db, "collections", "state TEXT NOT NULL DEFAULT ''")
    for (collection_id,) in db.execute("SELECT id FROM collections WHERE uid = ''").fetchall():
        db.execute(
            "UPDATE collections SET uid = ?, vector_name = ? WHERE id = ?",
            (uuid.uuid4().hex, f"hearth-{collection_id}", collection_id),
        )


def _ngram_index(db: sqlite3.Connection) -> None:
    """A catalogue from before it gets the pairs of its stored passages' text (nothing is re-read
    or re-embedded), in the same transaction: no half-built index looks complete."""
    if has_table(db, "chunks_ngrams"):
        return
    for statement in _NGRAM_SCHEMA:
        db.execute(statement)
    db.execute("INSERT INTO chunks_ngrams (rowid, text) SELECT rowid, hearth_ngrams(text) FROM chunks")


# Step n brings a catalogue from user_version n to n + 1 (core/migrations.py). Append only.
MIGRATIONS: tuple[Step, ...] = (
    _SCHEMA,
    # How each file was cut into passages; '' (a catalogue from before) is re-chunked at the next sync.
    lambda db: add_column(db, "files", "chunking TEXT NOT NULL DEFAULT ''"),
    _stable_ids,
    _ngram_index,
)


def unversioned(db: sqlite3.Connection) -> int:
    """Catalogues written before the version was kept: their tables stand for the first step, and
    the later steps check what is there before they add it."""
    return 1 if has_table(db, "collections") else 0
