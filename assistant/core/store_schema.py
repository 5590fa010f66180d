"""The conversation database's tables, and the migrations from each earlier schema."""

from __future__ import annotations

import sqlite3

from assistant.core.attachment_store import SCHEMA as ATTACHMENTS_SCHEMA
from assistant.core.migrations import Step, add_column

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


def _versions(db: sqlite3.Connection) -> None:
    """Versions (regenerate, edit): each message names its parent; the old linear conversations
    become paths of one version each. No foreign key: a cascade down a long conversation would hit
    SQLite's recursion limit; subtrees are deleted by the store."""
    add_column(db, "messages", "parent_id INTEGER")
    add_column(db, "messages", "active INTEGER NOT NULL DEFAULT 1")
    db.execute(
        "UPDATE messages SET parent_id = (SELECT MAX(p.id) FROM messages p"
        " WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS messages_by_parent ON messages (conversation_id, parent_id)")


# Step n brings a file from user_version n to n + 1. Append only: never edit a step that shipped.
MIGRATIONS: tuple[Step, ...] = (
    _SCHEMA,
    # Per-conversation sampling overrides (temperature, top_p, max_tokens...), as JSON.
    "ALTER TABLE conversations ADD COLUMN options TEXT",
    _versions,
    # Files attached to one conversation (attachment_store.py); files of schema 3 may have it already.
    ATTACHMENTS_SCHEMA,
    # Which process writes a STREAMING reply (core/liveness.py), so a reply whose writer died is
    # told apart from one still growing in another process, whatever their ages.
    "ALTER TABLE messages ADD COLUMN writer TEXT",
)
SCHEMA_VERSION = len(MIGRATIONS)
