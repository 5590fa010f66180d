"""Memories and profiles to and from one JSON file: the user's own copy, readable and portable.

Import checks the whole file before writing anything; profiles are matched by name and memories by
uuid, so importing the same file twice adds nothing the second time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.core.errors import HearthError
from assistant.memory.long_term import LongTermMemory
from assistant.memory.store import KINDS

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


def import_memory(memory: LongTermMemory, path: Path) -> tuple[int, int]:
    """Returns (profiles created, memories added)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HearthError(f"{path} could not be read: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise HearthError(f"{path} is not a Hearth memory export.", "Export one with 'hearth memory export'.")
    if int(document.get("version", 0)) > VERSION:
        raise HearthError(f"{path} was written by a newer Hearth.", "Update Hearth to import it.")
    profiles = document.get("profiles", [])
    memories = document.get("memories", [])
    _validate(profiles, memories, path)

    created = 0
    existing = {p.name.lower() for p in memory.profiles.all()}
    for entry in profiles:
        if entry["name"].lower() not in existing:
            fields = {k: v for k, v in entry.items() if k != "name"}
            memory.profiles.create(entry["name"], **fields)
            existing.add(entry["name"].lower())
            created += 1
    ids = {p.name.lower(): p.id for p in memory.profiles.all()}
    known = {m.uuid for m in memory.store.memories()}
    added = 0
    for entry in memories:
        if entry["uuid"] in known:
            continue
        profile_id = ids.get(str(entry.get("profile", "")).lower(), memory.profiles.all()[0].id)
        memory.store.add(
            profile_id,
            entry["text"],
            entry.get("kind", "fact"),
            memory_uuid=entry["uuid"],
            created_at=float(entry.get("created_at") or 0) or None,
        )
        known.add(entry["uuid"])
        added += 1
    return created, added


def _validate(profiles: Any, memories: Any, path: Path) -> None:
    if not isinstance(profiles, list) or not isinstance(memories, list):
        raise HearthError(f"{path}: 'profiles' and 'memories' must be lists.")
    for n, entry in enumerate(profiles, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            raise HearthError(f"{path}: profile {n} has no name.")
    for n, entry in enumerate(memories, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("uuid"), str):
            raise HearthError(f"{path}: memory {n} has no uuid.")
        if not isinstance(entry.get("text"), str) or not entry["text"].strip() or len(entry["text"]) > 1000:
            raise HearthError(f"{path}: memory {n} has no text, or more than 1000 characters.")
        if entry.get("kind", "fact") not in KINDS:
            raise HearthError(f"{path}: memory {n} has an unknown kind {entry.get('kind')!r}.")
