"""Conversations in SQLite: committed as they happen, so none is ever lost.

A user message is committed before generation starts; the reply is written as a STREAMING row
and checkpointed while it grows. A process killed mid-reply leaves that row behind, and the next
open marks it INTERRUPTED, keeping the text of the last checkpoint.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.core.database import Database
from assistant.core.errors import ConversationNotFoundError, HearthError
from assistant.core.messages import MessageStatus, Role

SCHEMA_VERSION = 2
DEFAULT_TITLE = "New conversation"
# Far above any real conversation id, and still within the 32-bit ints Qt signals carry.
INCOGNITO_FIRST_ID = 2_000_000_000
# A STREAMING row untouched for this long belongs to a process that died (checkpoints come every second).
STALE_STREAM_S = 15.0

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


@dataclass
class Conversation:
    id: int
    uuid: str
    title: str
    system_prompt: str | None
    summary: str
    summary_through: int
    created_at: float
    updated_at: float
    message_count: int = 0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredMessage:
    id: int
    conversation_id: int
    role: Role
    content: str
    status: MessageStatus
    created_at: float
    updated_at: float
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchHit:
    conversation: Conversation
    message_id: int | None
    snippet: str


class ConversationStore(Database):
    def __init__(self, path: Path | str, stale_stream_s: float = STALE_STREAM_S) -> None:
        self.stale_stream_s = stale_stream_s
        try:
            super().__init__(Path(path))
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise HearthError(
                f"The conversation database {self.path} cannot be opened: {exc}",
                "Move the file aside to start afresh; Hearth will not overwrite it.",
            ) from exc
        self.recovered = self.recover_interrupted()

    @classmethod
    def incognito(cls) -> ConversationStore:
        """A store that lives in memory only and is gone with the process. Its ids start far above
        any real conversation's, so the two can never be confused."""
        store = cls(":memory:")
        with store.transaction() as db:
            db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('conversations', ?)", (INCOGNITO_FIRST_ID - 1,))
        return store

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"written by a newer Hearth (schema {version})")
        if version < 1:
            self._db.executescript(_SCHEMA)
        if version < 2:
            # Per-conversation sampling overrides (temperature, top_p, max_tokens...), as JSON.
            self._db.execute("ALTER TABLE conversations ADD COLUMN options TEXT")
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    # ----- conversations ------------------------------------------------------------------------

    def create(
        self, title: str | None = None, system_prompt: str | None = None, conversation_uuid: str | None = None
    ) -> Conversation:
        now = time.time()
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO conversations (uuid, title, system_prompt, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (conversation_uuid or uuid.uuid4().hex, title or DEFAULT_TITLE, system_prompt, now, now),
            )
        return self.get(int(cursor.lastrowid or 0))

    def get(self, conversation_id: int) -> Conversation:
        rows = self.rows(_CONVERSATION_SELECT + " WHERE c.id = ? GROUP BY c.id", (conversation_id,))
        if not rows:
            raise ConversationNotFoundError(f"There is no conversation {conversation_id}.")
        return _conversation(rows[0])

    def find_by_uuid(self, conversation_uuid: str) -> Conversation | None:
        rows = self.rows(_CONVERSATION_SELECT + " WHERE c.uuid = ? GROUP BY c.id", (conversation_uuid,))
        return _conversation(rows[0]) if rows else None

    def conversations(self, limit: int | None = None) -> list[Conversation]:
        sql = _CONVERSATION_SELECT + " GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_conversation(row) for row in self.rows(sql)]

    def rename(self, conversation_id: int, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise HearthError("A conversation title cannot be empty.")
        self._update_conversation(conversation_id, "title = ?", (title,))

    def set_system_prompt(self, conversation_id: int, system_prompt: str | None) -> None:
        self._update_conversation(conversation_id, "system_prompt = ?", (system_prompt,))

    def set_options(self, conversation_id: int, options: dict[str, Any], touch: bool = True) -> None:
        """``touch=False`` for a change the user did not make (a migration): the conversation keeps
        its place in the list."""
        value = json.dumps(options) if options else None
        self._update_conversation(conversation_id, "options = ?", (value,), touch)

    def set_summary(self, conversation_id: int, summary: str, through_message_id: int) -> None:
        self._update_conversation(conversation_id, "summary = ?, summary_through = ?", (summary, through_message_id))

    def _update_conversation(
        self, conversation_id: int, assignments: str, params: tuple[Any, ...], touch: bool = True
    ) -> None:
        with self.transaction() as db:
            if touch:
                assignments += ", updated_at = ?"
                params = (*params, time.time())
            cursor = db.execute(f"UPDATE conversations SET {assignments} WHERE id = ?", (*params, conversation_id))
        if cursor.rowcount == 0:
            raise ConversationNotFoundError(f"There is no conversation {conversation_id}.")

    def delete(self, conversation_id: int) -> None:
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        if cursor.rowcount == 0:
            raise ConversationNotFoundError(f"There is no conversation {conversation_id}.")

    # ----- messages -----------------------------------------------------------------------------

    def messages(self, conversation_id: int) -> list[StoredMessage]:
        self.get(conversation_id)
        rows = self.rows("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,))
        return [_message(row) for row in rows]

    def add_message(
        self,
        conversation_id: int,
        role: Role,
        content: str,
        status: MessageStatus = MessageStatus.COMPLETE,
        stats: dict[str, Any] | None = None,
    ) -> StoredMessage:
        now = time.time()
        with self.transaction() as db:
            exists = db.execute("SELECT title FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if exists is None:
                raise ConversationNotFoundError(f"There is no conversation {conversation_id}.")
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, content, status, stats, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, str(status), _json(stats), now, now),
            )
            title = exists["title"]
            if role == "user" and title == DEFAULT_TITLE:
                title = _title_from(content)
            db.execute(
                "UPDATE conversations SET updated_at = ?, title = ? WHERE id = ?",
                (now, title, conversation_id),
            )
        return self.message(int(cursor.lastrowid or 0))

    def message(self, message_id: int) -> StoredMessage:
        rows = self.rows("SELECT * FROM messages WHERE id = ?", (message_id,))
        if not rows:
            raise HearthError(f"There is no message {message_id}.")
        return _message(rows[0])

    def update_message(
        self,
        message_id: int,
        content: str,
        status: MessageStatus | None = None,
        stats: dict[str, Any] | None = None,
    ) -> None:
        now = time.time()
        with self.transaction() as db:
            db.execute(
                "UPDATE messages SET content = ?, status = COALESCE(?, status), stats = COALESCE(?, stats),"
                " updated_at = ? WHERE id = ?",
                (content, str(status) if status else None, _json(stats), now, message_id),
            )
            db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id ="
                " (SELECT conversation_id FROM messages WHERE id = ?)",
                (now, message_id),
            )

    def delete_messages_from(self, conversation_id: int, message_id: int) -> None:
        """Delete ``message_id`` and every later message (regenerate, edit-and-resend)."""
        with self.transaction() as db:
            db.execute("DELETE FROM messages WHERE conversation_id = ? AND id >= ?", (conversation_id, message_id))
            db.execute(
                "UPDATE conversations SET summary = '', summary_through = 0 WHERE id = ? AND summary_through >= ?",
                (conversation_id, message_id),
            )

    def insert_conversation(self, conversation: Conversation, messages: list[StoredMessage]) -> Conversation:
        """Insert a whole conversation (an import) in one transaction: all of it or nothing."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO conversations (uuid, title, system_prompt, summary, summary_through,"
                " created_at, updated_at, options) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
                (
                    conversation.uuid,
                    conversation.title,
                    conversation.system_prompt,
                    conversation.summary,
                    conversation.created_at,
                    conversation.updated_at,
                    json.dumps(conversation.options) if conversation.options else None,
                ),
            )
            new_id = int(cursor.lastrowid or 0)
            last_id = 0
            for message in messages:
                inserted = db.execute(
                    "INSERT INTO messages (conversation_id, role, content, status, stats, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        new_id,
                        message.role,
                        message.content,
                        str(message.status),
                        _json(message.stats or None),
                        message.created_at,
                        message.updated_at,
                    ),
                )
                last_id = int(inserted.lastrowid or 0)
            if conversation.summary_through and last_id:
                # Summary positions are message ids; in the new file the summary covers what it did.
                db.execute(
                    "UPDATE conversations SET summary_through = ? WHERE id = ?",
                    (_remap(conversation.summary_through, messages, last_id), new_id),
                )
        return self.get(new_id)

    def recover_interrupted(self) -> int:
        """Mark replies whose writer died mid-stream; their last checkpoint is kept."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE messages SET status = ? WHERE status = ? AND updated_at < ?",
                (str(MessageStatus.INTERRUPTED), str(MessageStatus.STREAMING), time.time() - self.stale_stream_s),
            )
        return cursor.rowcount

    # ----- search -------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        terms = re.findall(r"\w+", query)
        if not terms:
            return []
        # Quote every term: user text must never be parsed as FTS5 syntax.
        match = " ".join('"' + term.replace('"', '""') + '"*' for term in terms)
        rows = self.rows(
            "SELECT m.conversation_id, m.id AS message_id,"
            " snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet"
            " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
            " WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?",
            (match, limit),
        )
        hits: list[SearchHit] = []
        seen: set[int] = set()
        like = "%" + "%".join(terms) + "%"
        for row in self.rows("SELECT id FROM conversations WHERE title LIKE ? ORDER BY updated_at DESC", (like,)):
            seen.add(row["id"])
            conversation = self.get(row["id"])
            hits.append(SearchHit(conversation, None, conversation.title))
        for row in rows:
            if row["conversation_id"] in seen:
                continue
            seen.add(row["conversation_id"])
            hits.append(SearchHit(self.get(row["conversation_id"]), row["message_id"], row["snippet"]))
        return hits[:limit]


_CONVERSATION_SELECT = (
    "SELECT c.*, COUNT(m.id) AS message_count FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id"
)


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=row["id"],
        uuid=row["uuid"],
        title=row["title"],
        system_prompt=row["system_prompt"],
        summary=row["summary"],
        summary_through=row["summary_through"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        message_count=row["message_count"],
        options=json.loads(row["options"]) if row["options"] else {},
    )


def _message(row: sqlite3.Row) -> StoredMessage:
    return StoredMessage(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=row["role"],
        content=row["content"],
        status=MessageStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        stats=json.loads(row["stats"]) if row["stats"] else {},
    )


def _json(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value) if value is not None else None


def _remap(old_through: int, messages: list[StoredMessage], last_new_id: int) -> int:
    covered = sum(1 for m in messages if m.id <= old_through)
    return last_new_id - len(messages) + covered


def _title_from(text: str, limit: int = 60) -> str:
    words = " ".join(text.split())
    if not words:
        return DEFAULT_TITLE
    return words if len(words) <= limit else words[: limit - 1].rsplit(" ", 1)[0] + "…"
