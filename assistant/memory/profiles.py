"""Profiles: the user's own instructions and facts, one set per part of their life ("Work", "Home").

A conversation belongs to one profile (``options["profile_id"]``; conversations from before
profiles existed belong to the first one). The profile supplies the instructions, the "about me"
section of the context, default sampling and collections, and the user's remembered answers to
tool approval prompts.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.core.database import Database
from assistant.core.errors import HearthError
from assistant.memory.schema import MIGRATIONS

DEFAULT_PROFILE = "Default"
ToolPolicy = Literal["allow", "ask", "deny"]
TOOL_POLICIES: tuple[ToolPolicy, ...] = ("allow", "ask", "deny")

_EDITABLE = ("name", "instructions", "about_me", "model", "sampling", "collections", "tool_approvals")
_JSON_FIELDS = ("sampling", "collections", "tool_approvals")


@dataclass
class Profile:
    id: int
    name: str
    instructions: str = ""
    about_me: str = ""
    model: str | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    collections: list[str] = field(default_factory=list)
    tool_approvals: dict[str, ToolPolicy] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _EDITABLE}

    def new_conversation_options(self) -> dict[str, Any]:
        """A new conversation in this profile: its owner, and the profile's default collections."""
        options: dict[str, Any] = {"profile_id": self.id}
        if self.collections:
            options["collections"] = list(self.collections)
        return options


class ProfileStore:
    """Profiles in the memory database; there is always at least one, and one is active."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate(MIGRATIONS)  # the whole file, profiles and memories (memory/schema.py)
        if not self.all():
            self.create(DEFAULT_PROFILE)

    def all(self) -> list[Profile]:
        return [_profile(row) for row in self.db.rows("SELECT * FROM profiles ORDER BY id")]

    def get(self, key: int | str) -> Profile:
        column = "id" if isinstance(key, int) else "name"
        rows = self.db.rows(f"SELECT * FROM profiles WHERE {column} = ?", (key,))
        if not rows:
            names = ", ".join(p.name for p in self.all())
            raise HearthError(f"There is no profile '{key}'. Profiles: {names}.")
        return _profile(rows[0])

    def for_conversation(self, options: dict[str, Any]) -> Profile:
        """The conversation's profile; its own may have been deleted, then the first one."""
        try:
            return self.get(int(options["profile_id"]))
        except (KeyError, ValueError, TypeError, HearthError):
            return self.all()[0]

    def create(self, name: str, **values: Any) -> Profile:
        name = _clean_name(name)
        now = time.time()
        try:
            with self.db.transaction() as conn:
                cursor = conn.execute(
                    "INSERT INTO profiles (name, created_at, updated_at) VALUES (?, ?, ?)", (name, now, now)
                )
        except sqlite3.IntegrityError:
            raise HearthError(f"A profile called '{name}' already exists.") from None
        profile = self.get(int(cursor.lastrowid or 0))
        return self.update(profile.id, **values) if values else profile

    def update(self, key: int | str, **values: Any) -> Profile:
        profile = self.get(key)
        unknown = set(values) - set(_EDITABLE)
        if unknown:
            raise HearthError(f"Profiles have no field {', '.join(sorted(unknown))}.")
        if "name" in values:
            values["name"] = _clean_name(values["name"])
        if "tool_approvals" in values:
            _check_policies(values["tool_approvals"])
        assignments = ", ".join(f"{column} = ?" for column in values)
        params = [json.dumps(v) if column in _JSON_FIELDS else v for column, v in values.items()]
        try:
            with self.db.transaction() as conn:
                conn.execute(
                    f"UPDATE profiles SET {assignments}, updated_at = ? WHERE id = ?",
                    (*params, time.time(), profile.id),
                )
        except sqlite3.IntegrityError:
            raise HearthError(f"A profile called '{values.get('name')}' already exists.") from None
        return self.get(profile.id)

    def delete(self, key: int | str) -> Profile:
        profile = self.get(key)
        if len(self.all()) == 1:
            raise HearthError("The last profile cannot be deleted.", "Create another profile first.")
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM profiles WHERE id = ?", (profile.id,))
        if self.active().id == profile.id:
            self.use(self.all()[0].id)
        return profile

    def active(self) -> Profile:
        rows = self.db.rows("SELECT value FROM state WHERE key = 'active_profile'")
        try:
            return self.get(int(rows[0]["value"]))
        except (IndexError, ValueError, HearthError):
            return self.all()[0]

    def use(self, key: int | str) -> Profile:
        profile = self.get(key)
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO state (key, value) VALUES ('active_profile', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(profile.id),),
            )
        return profile

    def set_tool_policy(self, key: int | str, tool: str, policy: ToolPolicy) -> Profile:
        approvals = dict(self.get(key).tool_approvals)
        approvals[tool] = policy
        return self.update(key, tool_approvals=approvals)


def _clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise HearthError("A profile needs a name.")
    return name


def _check_policies(approvals: Any) -> None:
    if not isinstance(approvals, dict) or any(v not in TOOL_POLICIES for v in approvals.values()):
        raise HearthError(f"Tool approvals must map tool names to one of {', '.join(TOOL_POLICIES)}.")


def _profile(row: sqlite3.Row) -> Profile:
    return Profile(
        id=row["id"],
        name=row["name"],
        instructions=row["instructions"],
        about_me=row["about_me"],
        model=row["model"],
        sampling=json.loads(row["sampling"]),
        collections=json.loads(row["collections"]),
        tool_approvals=json.loads(row["tool_approvals"]),
    )
