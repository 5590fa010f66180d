from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.errors import ImportFormatError
from assistant.core.messages import MessageStatus
from assistant.core.store import ConversationStore
from assistant.core.transfer import export_json, import_json, to_markdown


def _conversation(store: ConversationStore) -> int:
    conversation = store.create(title="Bread", system_prompt="You are a baker.")
    store.add_message(conversation.id, "user", "How long do I proof dough?")
    store.add_message(conversation.id, "assistant", "About an hour, until doubled.", stats={"completion_tokens": 8})
    store.add_message(conversation.id, "user", "And then?")
    store.add_message(conversation.id, "assistant", "Shape it and", MessageStatus.STOPPED)
    return conversation.id


def test_markdown_export_reads_like_the_conversation(store: ConversationStore) -> None:
    cid = _conversation(store)
    text = to_markdown(store.get(cid), store.messages(cid))
    assert text.startswith("# Bread\n")
    assert "You are a baker." in text
    assert text.index("How long do I proof dough?") < text.index("About an hour") < text.index("And then?")
    assert "(stopped)" in text


def test_json_round_trip_into_another_store(store: ConversationStore, tmp_path: Path) -> None:
    cid = _conversation(store)
    store.set_summary(cid, "They talked about bread.", store.messages(cid)[1].id)
    path = tmp_path / "export.json"
    path.write_text(export_json(store, [cid]), encoding="utf-8")

    other = ConversationStore(tmp_path / "other.db")
    imported, skipped = import_json(other, path)
    assert skipped == [] and len(imported) == 1
    copy = imported[0]
    original = store.get(cid)
    assert (copy.title, copy.system_prompt, copy.uuid, copy.summary) == (
        original.title,
        original.system_prompt,
        original.uuid,
        original.summary,
    )
    before = [(m.role, m.content, m.status, m.stats, m.created_at) for m in store.messages(cid)]
    after = [(m.role, m.content, m.status, m.stats, m.created_at) for m in other.messages(copy.id)]
    assert before == after
    # The summary still covers the same two messages in the new database.
    covered = [m for m in other.messages(copy.id) if m.id <= copy.summary_through]
    assert len(covered) == 2


def test_importing_twice_skips_what_is_already_there(store: ConversationStore, tmp_path: Path) -> None:
    cid = _conversation(store)
    path = tmp_path / "export.json"
    path.write_text(export_json(store, [cid]), encoding="utf-8")
    imported, skipped = import_json(store, path)
    assert imported == [] and skipped == ["Bread"]
    assert len(store.conversations()) == 1


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        json.dumps({"format": "something-else"}),
        json.dumps({"format": "hearth.conversations", "version": 99, "conversations": []}),
        json.dumps({"format": "hearth.conversations", "version": 1, "conversations": "nope"}),
        json.dumps(
            {
                "format": "hearth.conversations",
                "version": 1,
                "conversations": [
                    {"uuid": "a", "title": "ok", "messages": [{"role": "user", "content": "fine"}]},
                    {"uuid": "b", "title": "bad", "messages": [{"role": "wizard", "content": "x"}]},
                ],
            }
        ),
    ],
)
def test_a_bad_file_imports_nothing(store: ConversationStore, tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFormatError):
        import_json(store, path)
    assert store.conversations() == []  # validated whole before anything was written
