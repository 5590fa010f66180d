"""Memories and conversation digests: text in SQLite, vectors in Chroma.

SQLite holds the truth (text, profile, source, times, and the history of every replaced text);
Chroma holds only vectors and ids, so forgetting deletes the words themselves, and a vector left
behind by a crash reveals nothing and is swept on the next open. Both memories (``m<id>``) and
conversation digests (``c<conversation id>``) live in one Chroma collection, filtered by profile.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from assistant.core.database import Database
from assistant.core.errors import HearthError
from assistant.knowledge.embedder import Embedder
from assistant.memory.schema import MIGRATIONS

MemoryKind = Literal["fact", "preference", "decision"]
KINDS: tuple[MemoryKind, ...] = ("fact", "preference", "decision")
VECTOR_COLLECTION = "hearth-memories"  # the Chroma name, as it always was


@dataclass
class Memory:
    id: int
    uuid: str
    profile_id: int
    text: str
    kind: str
    conversation_id: int | None
    message_id: int | None
    created_at: float
    updated_at: float
    history: list[dict[str, Any]] = field(default_factory=list)
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "uuid": self.uuid,
            "text": self.text,
            "kind": self.kind,
            "profile_id": self.profile_id,
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "history": self.history,
        }
        if self.similarity is not None:
            data["similarity"] = round(self.similarity, 4)
        return data


@dataclass(frozen=True)
class ConversationDigest:
    conversation_id: int
    profile_id: int
    title: str
    summary: str
    updated_at: float
    similarity: float = 0.0


class MemoryVectors:
    """The memories' Chroma collection, opened on first use (chromadb and torch are slow imports)."""

    def __init__(self, path: Path, embedder: Callable[[], Embedder]) -> None:
        self.path = path
        self._embedder_factory = embedder
        self._store: Any = None
        self._embedder: Embedder | None = None

    def _open(self) -> tuple[Any, Embedder]:
        if self._store is None:
            from assistant.knowledge.vectors import VectorStore

            self._embedder = self._embedder_factory()
            self._store = VectorStore(self.path)
        assert self._embedder is not None
        return self._store, self._embedder

    def _args(self) -> tuple[Any, str, str, int]:
        store, embedder = self._open()
        return store, VECTOR_COLLECTION, embedder.name, embedder.dimension

    def put(self, key: str, text: str, profile_id: int) -> None:
        store, collection, name, dimension = self._args()
        vector = self._embedder.embed([text])[0]  # type: ignore[union-attr]
        # No document text in Chroma: the words live only in SQLite.
        store.upsert(collection, name, dimension, [key], [vector], [""], [{"profile_id": profile_id}])

    def put_many(self, items: list[tuple[str, str, int]]) -> None:
        """(key, text, profile id) each, embedded together."""
        store, collection, name, dimension = self._args()
        for start in range(0, len(items), 64):
            part = items[start : start + 64]
            vectors = self._embedder.embed([text for _, text, _ in part])  # type: ignore[union-attr]
            metadatas = [{"profile_id": profile_id} for *_, profile_id in part]
            store.upsert(collection, name, dimension, [key for key, *_ in part], vectors, [""] * len(part), metadatas)

    def remove(self, keys: list[str]) -> None:
        store, collection, name, dimension = self._args()
        store.delete(collection, name, dimension, keys)

    def count(self) -> int:
        store, collection, _, _ = self._args()
        return int(store.size(collection))

    def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.close()

    def keys(self) -> set[str]:
        store, collection, name, dimension = self._args()
        return set(store.ids(collection, name, dimension))

    def nearest(self, text: str, profile_id: int, k: int) -> list[tuple[str, float]]:
        store, collection, name, dimension = self._args()
        if store.count(collection, name, dimension) == 0:
            return []
        vector = self._embedder.embed([text])[0]  # type: ignore[union-attr]
        hits = store.query(collection, name, dimension, vector, k, where={"profile_id": profile_id})
        return [(hit.id, 1.0 - hit.distance) for hit in hits]


class MemoryStore:
    def __init__(self, db: Database, vectors: MemoryVectors) -> None:
        self.db = db
        self.vectors = vectors
        db.migrate(MIGRATIONS)  # the whole file, profiles and memories (memory/schema.py)

    # ----- memories -----------------------------------------------------------------------------

    def add(
        self,
        profile_id: int,
        text: str,
        kind: str = "fact",
        conversation_id: int | None = None,
        message_id: int | None = None,
        memory_uuid: str | None = None,
        created_at: float | None = None,
    ) -> Memory:
        text = _clean(text)
        now = time.time()
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO memories (uuid, profile_id, text, kind, conversation_id, message_id, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    memory_uuid or uuid.uuid4().hex,
                    profile_id,
                    text,
                    kind if kind in KINDS else "fact",
                    conversation_id,
                    message_id,
                    created_at or now,
                    now,
                ),
            )
        memory = self.get(int(cursor.lastrowid or 0))
        self.vectors.put(f"m{memory.id}", memory.text, profile_id)
        return memory

    def update(self, memory_id: int, text: str, reason: str = "edited", **source: int | None) -> Memory:
        """Replace a memory's text, keeping the old text in its history."""
        old = self.get(memory_id)
        text = _clean(text)
        now = time.time()
        with self.db.transaction() as conn:
            if text != old.text:
                conn.execute(
                    "INSERT INTO memory_history (memory_id, text, reason, replaced_at) VALUES (?, ?, ?, ?)",
                    (memory_id, old.text, reason, now),
                )
            conn.execute("UPDATE memories SET text = ?, updated_at = ? WHERE id = ?", (text, now, memory_id))
            if source:
                conn.execute(
                    "UPDATE memories SET conversation_id = ?, message_id = ? WHERE id = ?",
                    (source.get("conversation_id"), source.get("message_id"), memory_id),
                )
        if text != old.text:
            self.vectors.put(f"m{memory_id}", text, old.profile_id)
        return self.get(memory_id)

    def get(self, memory_id: int) -> Memory:
        rows = self.db.rows("SELECT * FROM memories WHERE id = ?", (memory_id,))
        if not rows:
            raise HearthError(f"There is no memory {memory_id}.")
        history = self.db.rows(
            "SELECT text, reason, replaced_at FROM memory_history WHERE memory_id = ? ORDER BY id", (memory_id,)
        )
        return _memory(rows[0], [dict(row) for row in history])

    def memories(self, profile_id: int | None = None, query: str = "") -> list[Memory]:
        sql, params = "SELECT * FROM memories WHERE 1", list[Any]()
        if profile_id is not None:
            sql += " AND profile_id = ?"
            params.append(profile_id)
        for word in query.split():
            sql += " AND text LIKE ? ESCAPE '\\'"
            params.append("%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        histories: dict[int, list[dict[str, Any]]] = {}
        for row in self.db.rows("SELECT memory_id, text, reason, replaced_at FROM memory_history ORDER BY id"):
            histories.setdefault(row["memory_id"], []).append(
                {"text": row["text"], "reason": row["reason"], "replaced_at": row["replaced_at"]}
            )
        rows = self.db.rows(sql + " ORDER BY updated_at DESC, id DESC", tuple(params))
        return [_memory(row, histories.get(row["id"])) for row in rows]

    def delete(self, memory_ids: list[int]) -> int:
        if not memory_ids:
            return 0
        # Vectors first: a crash in between leaves text without a vector (recalled by words only),
        # never a vector without the user knowing its memory exists.
        self.vectors.remove([f"m{i}" for i in memory_ids])
        marks = ",".join("?" * len(memory_ids))
        with self.db.transaction() as conn:
            return conn.execute(f"DELETE FROM memories WHERE id IN ({marks})", tuple(memory_ids)).rowcount

    def similar(self, profile_id: int, text: str, k: int) -> list[Memory]:
        found = []
        for key, similarity in self.vectors.nearest(text, profile_id, k * 2 + 4):
            if not key.startswith("m"):
                continue
            rows = self.db.rows("SELECT * FROM memories WHERE id = ?", (int(key[1:]),))
            if rows:
                memory = _memory(rows[0])
                memory.similarity = similarity
                found.append(memory)
        return found[:k]

    # ----- conversations ------------------------------------------------------------------------

    def set_digest(self, conversation_id: int, profile_id: int, title: str, summary: str, said: str = "") -> None:
        """``said``: the user's latest words, embedded with the summary (a small model's summary can
        miss the very thing a later question asks about) but not stored."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO conversation_digests (conversation_id, profile_id, title, summary, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET profile_id = excluded.profile_id,"
                " title = excluded.title, summary = excluded.summary, updated_at = excluded.updated_at",
                (conversation_id, profile_id, title, summary, time.time()),
            )
        self.vectors.put(f"c{conversation_id}", f"{title}\n{summary}\n{said[:500]}", profile_id)

    def digest(self, conversation_id: int) -> ConversationDigest | None:
        rows = self.db.rows("SELECT * FROM conversation_digests WHERE conversation_id = ?", (conversation_id,))
        return _digest(rows[0]) if rows else None

    def similar_conversations(self, profile_id: int, text: str, k: int) -> list[ConversationDigest]:
        found = []
        for key, similarity in self.vectors.nearest(text, profile_id, k * 3 + 4):
            if not key.startswith("c"):
                continue
            rows = self.db.rows("SELECT * FROM conversation_digests WHERE conversation_id = ?", (int(key[1:]),))
            if rows:
                found.append(_digest(rows[0], similarity))
        return found[:k]

    def forget_conversation(self, conversation_id: int) -> int:
        """Delete the conversation's digest and every memory that came from it; returns how many memories."""
        ids = [
            row["id"] for row in self.db.rows("SELECT id FROM memories WHERE conversation_id = ?", (conversation_id,))
        ]
        self.forget_digest(conversation_id)
        return self.delete(ids)

    def forget_digest(self, conversation_id: int) -> None:
        """The conversation's summary goes with it (a plain delete keeps the memories drawn from it)."""
        self.vectors.remove([f"c{conversation_id}"])
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM conversation_digests WHERE conversation_id = ?", (conversation_id,))

    def sweep_orphan_vectors(self) -> int:
        """Vectors whose memory or digest is gone (a crash between the two writes)."""
        memories = {f"m{row['id']}" for row in self.db.rows("SELECT id FROM memories")}
        digests = {
            f"c{row['conversation_id']}" for row in self.db.rows("SELECT conversation_id FROM conversation_digests")
        }
        orphans = sorted(self.vectors.keys() - memories - digests)
        if orphans:
            self.vectors.remove(orphans)
        return len(orphans)

    def restore_vectors(self) -> int:
        """Vectors made again, from the text in SQLite, for memories and digests that have none (the
        vector store lost them: ``vectors/chroma.sqlite3`` deleted, say); returns how many. Cheap
        when nothing is missing: one count."""
        expected = self.db.rows("SELECT (SELECT COUNT(*) FROM memories) + (SELECT COUNT(*) FROM conversation_digests)")[
            0
        ][0]
        if not expected or self.vectors.count() >= expected:
            return 0
        present = self.vectors.keys()
        items = [
            (f"m{row['id']}", row["text"], row["profile_id"])
            for row in self.db.rows("SELECT id, text, profile_id FROM memories")
            if f"m{row['id']}" not in present
        ]
        items += [
            (f"c{row['conversation_id']}", f"{row['title']}\n{row['summary']}", row["profile_id"])
            for row in self.db.rows("SELECT conversation_id, title, summary, profile_id FROM conversation_digests")
            if f"c{row['conversation_id']}" not in present
        ]
        self.vectors.put_many(items)
        return len(items)

    def export(self) -> list[dict[str, Any]]:
        return [m.to_dict() for m in self.memories()]


def _clean(text: str) -> str:
    text = " ".join(str(text).split())
    if not text:
        raise HearthError("A memory cannot be empty.")
    if len(text) > 1000:
        raise HearthError("A memory is at most 1000 characters; keep it to one fact.")
    return text


def _memory(row: sqlite3.Row, history: list[dict[str, Any]] | None = None) -> Memory:
    return Memory(
        id=row["id"],
        uuid=row["uuid"],
        profile_id=row["profile_id"],
        text=row["text"],
        kind=row["kind"],
        conversation_id=row["conversation_id"],
        message_id=row["message_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        history=history or [],
    )


def _digest(row: sqlite3.Row, similarity: float = 0.0) -> ConversationDigest:
    return ConversationDigest(
        row["conversation_id"], row["profile_id"], row["title"], row["summary"], row["updated_at"], similarity
    )


def dumps(memories: list[dict[str, Any]]) -> str:
    return json.dumps(memories, ensure_ascii=False, indent=2)
