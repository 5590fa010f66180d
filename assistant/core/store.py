"""Conversations in SQLite: committed as they happen, so none is ever lost.

A user message is committed before generation starts; the reply is written as a STREAMING row
and checkpointed while it grows. A process killed mid-reply leaves that row behind, and the next
open marks it INTERRUPTED, keeping the text of the last checkpoint.

Regenerate and Edit keep the earlier versions: the messages form a tree (``core/versions.py``)
and ``messages()`` returns the chosen path through it, which is what is shown, exported and sent
to the model.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

from assistant.core import liveness
from assistant.core.database import Database
from assistant.core.errors import ConversationNotFoundError, HearthError
from assistant.core.messages import MessageStatus, Role
from assistant.core.store_rows import (
    _CONVERSATION_SELECT,
    DEFAULT_TITLE,
    Conversation,
    SearchHit,
    StoredMessage,
    _conversation,
    _drop_summary_past,
    _json,
    _message,
    _node,
    _title_from,
)
from assistant.core.store_schema import MIGRATIONS
from assistant.core.versions import Node, chosen_path, places, sibling, subtree

__all__ = ["DEFAULT_TITLE", "Conversation", "ConversationStore", "SearchHit", "StoredMessage"]

# Far above any real conversation id, and still within the 32-bit ints Qt signals carry.
INCOGNITO_FIRST_ID = 2_000_000_000
# A STREAMING row untouched for this long belongs to a process that died (checkpoints come every second).
STALE_STREAM_S = 15.0


class ConversationStore(Database):
    what = "The conversation database"
    damaged_hint = (
        "Hearth will not overwrite it. Run 'hearth conversations salvage' (or start the window) to copy"
        " what can be read into a new file, the damaged one kept aside; or move the file aside to start afresh."
    )

    def __init__(self, path: Path | str, stale_stream_s: float = STALE_STREAM_S) -> None:
        self.stale_stream_s = stale_stream_s
        super().__init__(Path(path))
        self.migrate(MIGRATIONS)
        self.recovered_conversations: list[int] = []
        self.recovered = self.recover_interrupted()

    @classmethod
    def incognito(cls) -> ConversationStore:
        """A store that lives in memory only and is gone with the process. Its ids start far above
        any real conversation's, so the two can never be confused."""
        store = cls(":memory:")
        with store.transaction() as db:
            db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('conversations', ?)", (INCOGNITO_FIRST_ID - 1,))
        return store

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
        """The chosen path: the versions shown, exported and sent to the model, in order."""
        every = {m.id: m for m in self.all_messages(conversation_id)}
        return [every[i] for i in chosen_path([_node(m) for m in every.values()])]

    def all_messages(self, conversation_id: int) -> list[StoredMessage]:
        """Every version of every message, in the order written."""
        self.get(conversation_id)
        rows = self.rows("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,))
        found = [_message(row) for row in rows]
        where = places([_node(m) for m in found])
        return [dataclasses.replace(m, version=where[m.id].version, versions=where[m.id].versions) for m in found]

    def _nodes(self, conversation_id: int) -> list[Node]:
        rows = self.rows("SELECT id, parent_id, active FROM messages WHERE conversation_id = ?", (conversation_id,))
        return [Node(row["id"], row["parent_id"], bool(row["active"])) for row in rows]

    def add_message(
        self,
        conversation_id: int,
        role: Role,
        content: str,
        status: MessageStatus = MessageStatus.COMPLETE,
        stats: dict[str, Any] | None = None,
    ) -> StoredMessage:
        """Add a message at the end of the chosen path; it becomes the active version there (after
        ``set_aside``, a new version beside the one set aside)."""
        now = time.time()
        with self.transaction() as db:
            exists = db.execute("SELECT title FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if exists is None:
                raise ConversationNotFoundError(f"There is no conversation {conversation_id}.")
            path = chosen_path(self._nodes(conversation_id))
            parent = path[-1] if path else None
            db.execute(
                "UPDATE messages SET active = 0 WHERE conversation_id = ? AND parent_id IS ?", (conversation_id, parent)
            )
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, content, status, stats, created_at, updated_at,"
                " parent_id, writer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, str(status), _json(stats), now, now, parent, self._writer(status)),
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
        found = _message(rows[0])
        group = self.rows(
            "SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY id",
            (found.conversation_id, found.parent_id),
        )
        ids = [row["id"] for row in group]
        return dataclasses.replace(found, version=ids.index(found.id) + 1, versions=len(ids))

    def update_message(
        self,
        message_id: int,
        content: str,
        status: MessageStatus | None = None,
        stats: dict[str, Any] | None = None,
    ) -> None:
        now = time.time()
        writer = self._writer(status) if status == MessageStatus.STREAMING else None
        with self.transaction() as db:
            db.execute(
                "UPDATE messages SET content = ?, status = COALESCE(?, status), stats = COALESCE(?, stats),"
                " updated_at = ?, writer = COALESCE(?, writer) WHERE id = ?",
                (content, str(status) if status else None, _json(stats), now, writer, message_id),
            )
            db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id ="
                " (SELECT conversation_id FROM messages WHERE id = ?)",
                (now, message_id),
            )

    # ----- versions ----------------------------------------------------------------------------

    def set_aside(self, message_id: int) -> None:
        """End the chosen path before ``message_id``, keeping it as a version: the next message added
        becomes its new version (regenerate, edit). ``choose_version`` brings it back."""
        self._set_active(message_id, None)

    def choose_version(self, message_id: int) -> None:
        """Show ``message_id`` instead of its other versions, with the messages that follow it."""
        self._set_active(message_id, message_id)

    def version_beside(self, message_id: int, step: int) -> int | None:
        """The id of the version ``step`` places from ``message_id`` (-1 the one before), if any."""
        return sibling(self._nodes(self.message(message_id).conversation_id), message_id, step)

    def _set_active(self, message_id: int, chosen: int | None) -> None:
        target = self.message(message_id)
        with self.transaction() as db:
            group = (target.conversation_id, target.parent_id)
            db.execute(
                "UPDATE messages SET active = (id IS ?) WHERE conversation_id = ? AND parent_id IS ?", (chosen, *group)
            )
            # The paths part at the group's first version: a summary reaching it covers the old path.
            first = db.execute("SELECT MIN(id) FROM messages WHERE conversation_id = ? AND parent_id IS ?", group)
            _drop_summary_past(db, target.conversation_id, int(first.fetchone()[0]))

    def delete_message(self, message_id: int) -> None:
        """Delete a message and all that follows it; if it was shown, its newest version takes its place."""
        target = self.message(message_id)
        doomed = subtree(self._nodes(target.conversation_id), message_id)
        with self.transaction() as db:
            db.execute(f"DELETE FROM messages WHERE id IN ({','.join('?' * len(doomed))})", doomed)
            if target.active:
                db.execute(
                    "UPDATE messages SET active = 1 WHERE id = (SELECT MAX(id) FROM messages"
                    " WHERE conversation_id = ? AND parent_id IS ?)",
                    (target.conversation_id, target.parent_id),
                )
            _drop_summary_past(db, target.conversation_id, message_id)

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
            # Old ids to new: parents come before their children (a child is written after its parent).
            renumbered: dict[int, int] = {}
            for message in sorted(messages, key=lambda m: m.id):
                inserted = db.execute(
                    "INSERT INTO messages (conversation_id, role, content, status, stats, created_at, updated_at,"
                    " parent_id, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new_id,
                        message.role,
                        message.content,
                        str(message.status),
                        _json(message.stats or None),
                        message.created_at,
                        message.updated_at,
                        renumbered.get(message.parent_id) if message.parent_id is not None else None,
                        int(message.active),
                    ),
                )
                renumbered[message.id] = int(inserted.lastrowid or 0)
            covered = [old for old in renumbered if old <= conversation.summary_through]
            if conversation.summary_through and covered:
                # Summary positions are message ids; in the new file the summary covers what it did.
                db.execute(
                    "UPDATE conversations SET summary_through = ? WHERE id = ?", (renumbered[max(covered)], new_id)
                )
        return self.get(new_id)

    def _writer(self, status: MessageStatus) -> str | None:
        """This process's mark on a reply it is streaming, so others can tell it is alive."""
        if status != MessageStatus.STREAMING or str(self.path) == ":memory:":
            return None
        try:
            return liveness.own_mark(self.path.parent)
        except OSError:  # no mark possible (a read-only run/): the reply falls back to the age rule
            return None

    def recover_interrupted(self) -> int:
        """Mark INTERRUPTED every reply left STREAMING by a process that is gone, whatever its age;
        a reply another live process is still writing is left alone. The text of its last
        checkpoint is kept. Replies written before writers were recorded fall back to their age."""
        if str(self.path) == ":memory:":
            return 0
        rows = self.rows(
            "SELECT id, conversation_id, writer, updated_at FROM messages WHERE status = ?",
            (str(MessageStatus.STREAMING),),
        )
        data = self.path.parent
        stale_before = time.time() - self.stale_stream_s
        dead = [
            row
            for row in rows
            if (not liveness.alive(data, row["writer"]) if row["writer"] else row["updated_at"] < stale_before)
        ]
        if not dead:
            liveness.sweep(data)
            return 0
        with self.transaction() as db:
            for row in dead:
                db.execute(
                    "UPDATE messages SET status = ? WHERE id = ? AND status = ?",
                    (str(MessageStatus.INTERRUPTED), row["id"], str(MessageStatus.STREAMING)),
                )
        liveness.sweep(data)
        for row in dead:
            if row["conversation_id"] not in self.recovered_conversations:
                self.recovered_conversations.append(row["conversation_id"])
        return len(dead)

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
