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
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from assistant.core.errors import ImportFormatError
from assistant.core.json_input import read_json, validate
from assistant.core.messages import MessageStatus
from assistant.core.store import Conversation, ConversationStore, StoredMessage

FORMAT = "hearth.conversations"
FORMAT_VERSION = 1


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


class ImportedMessage(BaseModel):
    id: int | None = None
    parent_id: int | None = None
    role: Literal["system", "user", "assistant"]
    content: str
    status: MessageStatus = MessageStatus.COMPLETE
    created_at: float | None = None
    updated_at: float | None = None
    stats: dict[str, Any] = Field(default_factory=dict)
    active: bool = True

    @field_validator("stats", mode="before")
    @classmethod
    def _stats_or_nothing(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {}  # stats are figures to show, never worth a refusal

    @field_validator("status", mode="before")
    @classmethod
    def _not_streaming(cls, value: Any) -> Any:
        # A file cannot be streaming: a reply exported mid-stream is what a crash leaves, interrupted.
        value = value or MessageStatus.COMPLETE
        return MessageStatus.INTERRUPTED if value == MessageStatus.STREAMING else value


class ImportedConversation(BaseModel):
    uuid: str
    title: str
    system_prompt: str | None = None
    summary: str = ""
    summary_through: int = 0
    created_at: float | None = None
    updated_at: float | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    messages: list[ImportedMessage] = Field(default_factory=list)
    other_versions: list[ImportedMessage] = Field(default_factory=list)

    @field_validator("summary", mode="before")
    @classmethod
    def _summary_text(cls, value: Any) -> Any:
        return value or ""

    @field_validator("summary_through", mode="before")
    @classmethod
    def _summary_position(cls, value: Any) -> Any:
        return value or 0

    @field_validator("options", mode="before")
    @classmethod
    def _options_or_nothing(cls, value: Any) -> Any:
        return value if isinstance(value, dict) else {}


class ConversationFile(BaseModel):
    format: Literal["hearth.conversations"]
    version: int = 0
    conversations: list[ImportedConversation]


def import_json(store: ConversationStore, path: Path) -> tuple[list[Conversation], list[str]]:
    """Import every conversation in ``path``; returns (imported, titles skipped as already present).

    The whole file is validated before anything is written, so a bad file changes nothing.
    """
    try:
        data = read_json(path)
    except ValueError as exc:
        raise ImportFormatError(str(exc)) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportFormatError(f"{path} is not a Hearth conversation export.")
    if isinstance(data.get("version"), int) and data["version"] > FORMAT_VERSION:
        raise ImportFormatError(f"{path} was written by a newer Hearth.", "Update Hearth to import it.")
    try:
        document = validate(ConversationFile, data, path)
    except ValueError as exc:
        raise ImportFormatError(str(exc)) from exc
    parsed = [_parse(record, index) for index, record in enumerate(document.conversations)]
    imported: list[Conversation] = []
    skipped: list[str] = []
    for conversation, messages in parsed:
        if store.find_by_uuid(conversation.uuid) is not None:
            skipped.append(conversation.title)
            continue
        imported.append(store.insert_conversation(conversation, messages))
    return imported, skipped


def _parse(record: ImportedConversation, index: int) -> tuple[Conversation, list[StoredMessage]]:
    where = f"conversation #{index + 1}"
    now = time.time()
    conversation = Conversation(
        id=0,
        uuid=record.uuid,
        title=record.title or "Imported conversation",
        system_prompt=record.system_prompt,
        summary=record.summary,
        summary_through=record.summary_through,
        created_at=record.created_at or now,
        updated_at=record.updated_at or now,
        options=record.options,
    )
    raws = record.messages
    linear = not any("parent_id" in raw.model_fields_set for raw in raws)
    if linear:
        # One path (an older Hearth's file, or one written by hand): each message follows the one
        # before; its own ids where they are usable (the summary's position is one), else positions.
        ids = [raw.id for raw in raws]
        known = [i for i in ids if i is not None]
        usable = len(known) == len(ids) and known == sorted(set(known))
        numbers = known if usable else list(range(1, len(raws) + 1))
        everything = raws
    else:
        everything = [*raws, *record.other_versions]
    messages = []
    for position, raw in enumerate(everything):
        if linear:
            number, parent = numbers[position], (numbers[position - 1] if position else None)
        elif raw.id is None:
            raise ImportFormatError(f"{where}, message #{position + 1} has no id.")
        else:
            number, parent = raw.id, raw.parent_id
        messages.append(
            StoredMessage(
                id=number,
                conversation_id=0,
                role=raw.role,
                content=raw.content,
                status=raw.status,
                created_at=raw.created_at or now,
                updated_at=raw.updated_at or now,
                stats=raw.stats,
                parent_id=parent,
                active=raw.active,
            )
        )
    _check_tree(messages, where)
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


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
