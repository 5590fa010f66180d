"""Export conversations to Markdown (to read) and JSON (to keep or move), and import that JSON."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.core.errors import ImportFormatError
from assistant.core.messages import MessageStatus
from assistant.core.store import Conversation, ConversationStore, StoredMessage

FORMAT = "hearth.conversations"
FORMAT_VERSION = 1
_ROLES = {"system", "user", "assistant"}


def to_markdown(conversation: Conversation, messages: list[StoredMessage]) -> str:
    lines = [f"# {conversation.title}", "", f"_Started {_when(conversation.created_at)}_", ""]
    if conversation.system_prompt:
        lines += ["> **Instructions:** " + conversation.system_prompt.replace("\n", "\n> "), ""]
    if conversation.summary:
        lines += ["> **Summary of earlier turns:** " + conversation.summary.replace("\n", "\n> "), ""]
    names = {"user": "You", "assistant": "Hearth", "system": "System"}
    for message in messages:
        note = "" if message.status == MessageStatus.COMPLETE else f" _({message.status.value})_"
        lines += [f"## {names[message.role]} · {_when(message.created_at)}{note}", "", message.content, ""]
    return "\n".join(lines).rstrip() + "\n"


def to_record(conversation: Conversation, messages: list[StoredMessage]) -> dict[str, Any]:
    return {
        "uuid": conversation.uuid,
        "title": conversation.title,
        "system_prompt": conversation.system_prompt,
        "summary": conversation.summary,
        "summary_through": conversation.summary_through,
        "options": conversation.options,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "messages": [
            {
                "id": m.id,
                "role": m.role,
                "content": m.content,
                "status": m.status.value,
                "created_at": m.created_at,
                "updated_at": m.updated_at,
                "stats": m.stats,
            }
            for m in messages
        ],
    }


def export_json(store: ConversationStore, conversation_ids: list[int]) -> str:
    records = [to_record(store.get(cid), store.messages(cid)) for cid in conversation_ids]
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
        for position, raw in enumerate(record.get("messages") or []):
            spot = f"{where}, message #{position + 1}"
            role = _text(raw, "role", spot)
            if role not in _ROLES:
                raise ImportFormatError(f"{spot} has an unknown role '{role}'.")
            messages.append(
                StoredMessage(
                    id=int(raw.get("id") or 0),
                    conversation_id=0,
                    role=role,  # type: ignore[arg-type]  # checked against _ROLES above
                    content=_text(raw, "content", spot),
                    status=MessageStatus(raw.get("status") or "complete"),
                    created_at=float(raw.get("created_at") or now),
                    updated_at=float(raw.get("updated_at") or now),
                    stats=raw.get("stats") if isinstance(raw.get("stats"), dict) else {},
                )
            )
    except (TypeError, ValueError, AttributeError) as exc:
        raise ImportFormatError(f"{where} is malformed: {exc}") from exc
    return conversation, messages


def _text(record: Any, key: str, where: str) -> str:
    if not isinstance(record, dict) or not isinstance(record.get(key), str):
        raise ImportFormatError(f"{where} lacks the text field '{key}'.")
    return str(record[key])


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
