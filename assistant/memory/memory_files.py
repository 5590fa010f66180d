"""Memories and profiles to and from one JSON file: the user's own copy, readable and portable.

Import checks the whole file before writing anything; profiles are matched by name and memories by
uuid, so importing the same file twice adds nothing the second time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.core.errors import HearthError
from assistant.core.json_input import read_json, validate
from assistant.memory.long_term import LongTermMemory
from assistant.memory.store import MemoryKind

FORMAT = "hearth-memory"
VERSION = 1


def export_memory(memory: LongTermMemory) -> dict[str, Any]:
    profiles = memory.profiles.all()
    names = {p.id: p.name for p in profiles}
    memories = []
    for item in memory.store.export():
        item["profile"] = names.get(item.pop("profile_id"), profiles[0].name)
        memories.append(item)
    return {"format": FORMAT, "version": VERSION, "profiles": [p.to_dict() for p in profiles], "memories": memories}


class ImportedProfile(BaseModel):
    """A profile's name, and its other fields as exported (``Profiles.create`` checks them)."""

    model_config = ConfigDict(extra="allow")
    name: str

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("has no name")
        return value


class ImportedMemory(BaseModel):
    uuid: str
    text: str
    kind: MemoryKind = "fact"
    profile: str = ""
    created_at: float | None = None

    @field_validator("text")
    @classmethod
    def _sized(cls, value: str) -> str:
        if not value.strip() or len(value) > 1000:
            raise ValueError("has no text, or more than 1000 characters")
        return value

    @field_validator("profile", mode="before")
    @classmethod
    def _profile_name(cls, value: Any) -> Any:
        return "" if value is None else value


class MemoryFile(BaseModel):
    format: Literal["hearth-memory"]
    version: int = 0
    profiles: list[ImportedProfile] = Field(default_factory=list)
    memories: list[ImportedMemory] = Field(default_factory=list)


def import_memory(memory: LongTermMemory, path: Path) -> tuple[int, int]:
    """Returns (profiles created, memories added)."""
    try:
        document = read_json(path)
    except ValueError as exc:
        raise HearthError(str(exc)) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise HearthError(f"{path} is not a Hearth memory export.", "Export one with 'hearth memory export'.")
    if isinstance(document.get("version"), int) and document["version"] > VERSION:
        raise HearthError(f"{path} was written by a newer Hearth.", "Update Hearth to import it.")
    try:
        parsed = validate(MemoryFile, document, path)
    except ValueError as exc:
        raise HearthError(str(exc)) from exc

    created = 0
    existing = {p.name.lower() for p in memory.profiles.all()}
    for entry in parsed.profiles:
        if entry.name.lower() not in existing:
            memory.profiles.create(entry.name, **(entry.model_extra or {}))
            existing.add(entry.name.lower())
            created += 1
    ids = {p.name.lower(): p.id for p in memory.profiles.all()}
    known = {m.uuid for m in memory.store.memories()}
    added = 0
    for item in parsed.memories:
        if item.uuid in known:
            continue
        profile_id = ids.get(item.profile.lower(), memory.profiles.all()[0].id)
        memory.store.add(profile_id, item.text, item.kind, memory_uuid=item.uuid, created_at=item.created_at or None)
        known.add(item.uuid)
        added += 1
    return created, added
