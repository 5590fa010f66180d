"""Files attached to one conversation, kept with it in the conversation database.

Each row holds the file's passages as read when it was attached (JSON), so the conversation
answers from them after a restart, and even if the file has since moved. Deleting the
conversation deletes its attachments (the foreign key cascades); the incognito store keeps them
in memory like everything else in it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from assistant.core.database import Database
from assistant.core.errors import HearthError

SCHEMA = """
CREATE TABLE IF NOT EXISTS attachments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    passages TEXT NOT NULL,
    added_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_by_conversation ON attachments (conversation_id, id);
"""


@dataclass(frozen=True)
class Attachment:
    id: int
    conversation_id: int
    name: str
    path: str
    added_at: float
    passages: list[dict[str, Any]] = field(default_factory=list)


def add_attachment(
    db: Database, conversation_id: int, path: str, name: str, passages: list[dict[str, Any]]
) -> Attachment:
    """Attach (or attach again, replacing the older copy of the same file)."""
    now = time.time()
    with db.transaction() as connection:
        if connection.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone() is None:
            raise HearthError("That conversation no longer exists; the file was not attached.")
        connection.execute("DELETE FROM attachments WHERE conversation_id = ? AND path = ?", (conversation_id, path))
        cursor = connection.execute(
            "INSERT INTO attachments (conversation_id, name, path, passages, added_at) VALUES (?, ?, ?, ?, ?)",
            (conversation_id, name, path, json.dumps(passages, ensure_ascii=False), now),
        )
    return Attachment(int(cursor.lastrowid or 0), conversation_id, name, path, now, passages)


def attachments(db: Database, conversation_id: int, with_passages: bool = True) -> list[Attachment]:
    columns = "id, conversation_id, name, path, added_at" + (", passages" if with_passages else "")
    rows = db.rows(f"SELECT {columns} FROM attachments WHERE conversation_id = ? ORDER BY id", (conversation_id,))
    return [
        Attachment(
            row["id"],
            row["conversation_id"],
            row["name"],
            row["path"],
            row["added_at"],
            _passages(row["passages"]) if with_passages else [],
        )
        for row in rows
    ]


def remove_attachment(db: Database, attachment_id: int) -> None:
    with db.transaction() as connection:
        connection.execute("DELETE FROM attachments WHERE id = ?", (attachment_id,))


def _passages(raw: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [p for p in value if isinstance(p, dict)] if isinstance(value, list) else []
