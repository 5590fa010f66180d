"""The conversation database's tables, and the migrations from each earlier schema."""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    system_prompt TEXT,
    summary TEXT NOT NULL DEFAULT '',
    summary_through INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
    content TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'complete',
    stats TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, id);
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5 (
    content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER IF NOT EXISTS messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER IF NOT EXISTS messages_au AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
"""


def migrate(db: sqlite3.Connection) -> None:
    """Bring a database of any earlier schema up to ``SCHEMA_VERSION``."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"written by a newer Hearth (schema {version})")
    if version < 1:
        db.executescript(_SCHEMA)
    if version < 2:
        # Per-conversation sampling overrides (temperature, top_p, max_tokens...), as JSON.
        db.execute("ALTER TABLE conversations ADD COLUMN options TEXT")
    if version < 3:
        # Versions (regenerate, edit): each message names its parent; the old linear
        # conversations become paths of one version each. No foreign key: a cascade down a
        # long conversation would hit SQLite's recursion limit; subtrees are deleted here.
        db.executescript(
            "BEGIN; ALTER TABLE messages ADD COLUMN parent_id INTEGER;"
            " ALTER TABLE messages ADD COLUMN active INTEGER NOT NULL DEFAULT 1;"
            " UPDATE messages SET parent_id = (SELECT MAX(p.id) FROM messages p"
            " WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id);"
            " CREATE INDEX IF NOT EXISTS messages_by_parent ON messages (conversation_id, parent_id); COMMIT;"
        )
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
