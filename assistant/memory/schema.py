"""The memory database's tables (profiles and memories share one file), and the steps that
bring an older file up to them (core/migrations.py)."""

from __future__ import annotations

from assistant.core.migrations import Step

PROFILES_SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    instructions TEXT NOT NULL DEFAULT '',
    about_me TEXT NOT NULL DEFAULT '',
    model TEXT,
    sampling TEXT NOT NULL DEFAULT '{}',
    collections TEXT NOT NULL DEFAULT '[]',
    tool_approvals TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

MEMORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS memories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    profile_id INTEGER NOT NULL,
    text TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'fact',
    conversation_id INTEGER,
    message_id INTEGER,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS memories_by_conversation ON memories (conversation_id);
CREATE TABLE IF NOT EXISTS memory_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id INTEGER NOT NULL REFERENCES memories(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    replaced_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS conversation_digests (
    conversation_id INTEGER PRIMARY KEY,
    profile_id INTEGER NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""

# Step n brings memory.db from user_version n to n + 1. Append only. Files from before versions
# (user_version 0) run the first step again: every statement in it is CREATE ... IF NOT EXISTS.
MIGRATIONS: tuple[Step, ...] = (PROFILES_SCHEMA + MEMORY_SCHEMA,)
