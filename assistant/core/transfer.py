"""Export conversations to Markdown (to read) and JSON (to keep or move), and import that JSON.

Both show the chosen version of each message (see core/versions.py). JSON keeps the others too:
``messages`` is the chosen path, as a reader expects, and ``other_versions`` the rest, each
message with its ``parent_id`` and whether it is the ``active`` one of its versions, so an import
restores the whole tree. A file without ``parent_id`` (from an older Hearth) is one path.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.core.errors import ImportFormatError
from assistant.core.messages import MessageStatus
from assistant.core.store import Conversation, ConversationStore, StoredMessage

FORMAT = "hearth.conversations"
FORMAT_VERSION = 1
_ROLES = {"system", "user", "assistant"}


def to_markdown(
    conversation: Conversation,
    messages: list[StoredMessage],
    after: Callable[[StoredMessage], list[str]] | None = None,
) -> str:
    """``after``: lines to add under a message (the sources a reply cites, say)."""
    lines = [f"# {conversation.title}", "", f"_Started {_when(conversation.created_at)}_", ""]
    if conversation.system_prompt:
        lines += ["> **Instructions:** " + conversation.system_prompt.replace("\n", "\n> "), ""]
    if conversation.summary:
        lines += ["> **Summary of earlier turns:** " + conversation.summary.replace("\n", "\n> "), ""]
    names = {"user": "You", "assistant": "Hearth", "system": "System"}
    for message in messages:
        note = "" if message.status == MessageStatus.COMPLETE else f" _({message.status.value})_"
        if message.versions > 1:
            note += f" _(version {message.version} of {message.versions})_"
        lines += [f"## {names[message.role]} · {_when(message.created_at)}{note}", "", message.content, ""]
        extra = after(message) if after else []
        lines += [*extra, ""] if extra else []
    return "\n".join(lines).rstrip() + "\n"


def to_record(
    conversation: Conversation, messages: list[StoredMessage], every: list[StoredMessage] | None = None
) -> dict[str, Any]:
    """``messages`` is the chosen path; ``every`` (all versions), when given, adds the others."""
    shown = {m.id for m in messages}
    record: dict[str, Any] = {
        "uuid": conversation.uuid,
        "title": conversation.title,
        "system_prompt": conversation.system_prompt,
        "summary": conversation.summary,
        "summary_through": conversation.summary_through,
        "options": conversation.options,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "messages": [_message_record(m) for m in messages],
    }
    others = [m for m in every or [] if m.id not in shown]
    if others:
        record["other_versions"] = [_message_record(m) for m in others]
    return record


def _message_record(m: StoredMessage) -> dict[str, Any]:
    return {
        "id": m.id,
        "parent_id": m.parent_id,
        "active": m.active,
        "version": m.version,
        "versions": m.versions,
        "role": m.role,
        "content": m.content,
        "status": m.status.value,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "stats": m.stats,
    }


def export_json(store: ConversationStore, conversation_ids: list[int]) -> str:
    records = [to_record(store.get(cid), store.messages(cid), store.all_messages(cid)) for cid in conversation_ids]
    return json.dumps(
        {"format": FORMAT, "version": FORMAT_VERSION, "exported_at": time.time(), "conversations": records},
        ensure_ascii=False,
        indent=2,
    )


def import_json(store: ConversationStore, path: Path) -> tuple[list[Conversation], list[str]]:
    """Import every conversation in ``path``; returns (imported, titles skipped as already present).

    The whole file is validated before anything is written, so a bad file changes nothing.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFormatError(f"{path} cannot be read as JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportFormatError(f"{path} is not a Hearth conversation export.")
    if int(data.get("version", 0)) > FORMAT_VERSION:
        raise ImportFormatError(f"{path} was written by a newer Hearth.", "Update Hearth to import it.")
    records = data.get("conversations")
    if not isinstance(records, list):
        raise ImportFormatError(f"{path} holds no list of conversations.")
    parsed = [_parse(record, index) for index, record in enumerate(records)]
    imported: list[Conversation] = []
    skipped: list[str] = []
    for conversation, messages in parsed:
        if store.find_by_uuid(conversation.uuid) is not None:
            skipped.append(conversation.title)
            continue
        imported.append(store.insert_conversation(conversation, messages))
    return imported, skipped


def _parse(record: Any, index: int) -> tuple[Conversation, list[StoredMessage]]:
    where = f"conversation #{index + 1}"
    if not isinstance(record, dict):
        raise ImportFormatError(f"{where} is not an object.")
    now = time.time()
    try:
        conversation = Conversation(
            id=0,
            uuid=_text(record, "uuid", where),
            title=_text(record, "title", where) or "Imported conversation",
            system_prompt=record.get("system_prompt"),
            summary=str(record.get("summary") or ""),
            summary_through=int(record.get("summary_through") or 0),
            created_at=float(record.get("created_at") or now),
            updated_at=float(record.get("updated_at") or now),
            options=dict(record["options"]) if isinstance(record.get("options"), dict) else {},
        )
        messages = []
        raws = list(record.get("messages") or [])
        linear = not any(isinstance(raw, dict) and "parent_id" in raw for raw in raws)
        if linear:
            # One path (an older Hearth's file, or one written by hand): each message follows the one
            # before; its own ids where they are usable (the summary's position is one), else positions.
            ids = [raw.get("id") if isinstance(raw, dict) else None for raw in raws]
            usable = all(isinstance(i, int) for i in ids) and ids == sorted(set(ids))  # type: ignore[type-var]
            numbers = [int(i) for i in ids] if usable else list(range(1, len(raws) + 1))  # type: ignore[arg-type]
        others = [] if linear else list(record.get("other_versions") or [])
        for position, raw in enumerate([*raws, *others]):
            spot = f"{where}, message #{position + 1}"
            role = _text(raw, "role", spot)
            if role not in _ROLES:
                raise ImportFormatError(f"{spot} has an unknown role '{role}'.")
            number = numbers[position] if linear else int(raw.get("id"))
            parent = (numbers[position - 1] if position else None) if linear else raw.get("parent_id")
            messages.append(
                StoredMessage(
                    id=number,
                    conversation_id=0,
                    role=role,  # type: ignore[arg-type]  # checked against _ROLES above
                    content=_text(raw, "content", spot),
                    status=MessageStatus(raw.get("status") or "complete"),
                    created_at=float(raw.get("created_at") or now),
                    updated_at=float(raw.get("updated_at") or now),
                    stats=raw.get("stats") if isinstance(raw.get("stats"), dict) else {},
                    parent_id=int(parent) if parent is not None else None,
                    active=bool(raw.get("active", True)),
                )
            )
        _check_tree(messages, where)
    except (TypeError, ValueError, AttributeError) as exc:
        raise ImportFormatError(f"{where} is malformed: {exc}") from exc
    return conversation, messages


def _check_tree(messages: list[StoredMessage], where: str) -> None:
    """Every parent is an earlier message of the same conversation, and no id is used twice."""
    seen: set[int] = set()
    for message in sorted(messages, key=lambda m: m.id):
        if message.id in seen:
            raise ImportFormatError(f"{where} has two messages with the id {message.id}.")
        if message.parent_id is not None and message.parent_id not in seen:
            raise ImportFormatError(f"{where}: message {message.id} follows a message that is not before it.")
        seen.add(message.id)


def _text(record: Any, key: str, where: str) -> str:
    if not isinstance(record, dict) or not isinstance(record.get(key), str):
        raise ImportFormatError(f"{where} lacks the text field '{key}'.")
    return str(record[key])


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
