"""The conversation store's rows as Python objects, and the small SQL helpers they share."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from assistant.core.messages import MessageStatus, Role
from assistant.core.versions import Node

DEFAULT_TITLE = "New conversation"


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
    parent_id: int | None = None  # the message before it; its versions share it
    active: bool = True  # the version that continues the chosen path
    version: int = 1  # its place among its versions, 1-based
    versions: int = 1


@dataclass
class SearchHit:
    conversation: Conversation
    message_id: int | None
    snippet: str


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
        parent_id=row["parent_id"],
        active=bool(row["active"]),
    )


def _json(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value) if value is not None else None


def _node(message: StoredMessage) -> Node:
    return Node(message.id, message.parent_id, message.active)


def _drop_summary_past(db: sqlite3.Connection, conversation_id: int, message_id: int) -> None:
    """A summary that covers ``message_id`` covers a path that is no longer the chosen one."""
    db.execute(
        "UPDATE conversations SET summary = '', summary_through = 0 WHERE id = ? AND summary_through >= ?",
        (conversation_id, message_id),
    )


def _title_from(text: str, limit: int = 60) -> str:
    words = " ".join(text.split())
    if not words:
        return DEFAULT_TITLE
    return words if len(words) <= limit else words[: limit - 1].rsplit(" ", 1)[0] + "…"
