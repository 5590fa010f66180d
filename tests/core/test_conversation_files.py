from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.conversation_files import export_json, import_json, to_markdown
from assistant.core.errors import ImportFormatError
from assistant.core.messages import MessageStatus
from assistant.core.store import ConversationStore


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


def test_exports_show_the_chosen_version_and_json_keeps_the_others(store: ConversationStore, tmp_path: Path) -> None:
    conversation = store.create(title="Versions")
    store.add_message(conversation.id, "user", "Name a colour")
    first = store.add_message(conversation.id, "assistant", "Blue")
    store.set_aside(first.id)
    store.add_message(conversation.id, "assistant", "Green")
    store.add_message(conversation.id, "user", "Why green?")
    store.choose_version(first.id)
    markdown = to_markdown(store.get(conversation.id), store.messages(conversation.id))
    assert "Blue" in markdown and "Green" not in markdown and "version 1 of 2" in markdown
    data = json.loads(export_json(store, [conversation.id]))["conversations"][0]
    assert [m["content"] for m in data["messages"]] == ["Name a colour", "Blue"]
    assert [(m["content"], m["active"]) for m in data["other_versions"]] == [("Green", False), ("Why green?", True)]
    path = tmp_path / "versions.json"
    path.write_text(export_json(store, [conversation.id]), encoding="utf-8")
    other = ConversationStore(tmp_path / "other.db")
    copy = import_json(other, path)[0][0]
    assert [m.content for m in other.messages(copy.id)] == ["Name a colour", "Blue"]
    green = next(m for m in other.all_messages(copy.id) if m.content == "Green")
    other.choose_version(green.id)
    assert [m.content for m in other.messages(copy.id)] == ["Name a colour", "Green", "Why green?"]
    other.close()
    # A file from before versions (no parent_id, here not even ids) is one path.
    path = tmp_path / "old.json"
    record = {
        "uuid": "x1",
        "title": "Old",
        "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
    }
    path.write_text(
        json.dumps({"format": "hearth.conversations", "version": 1, "conversations": [record]}), encoding="utf-8"
    )
    copy = import_json(store, path)[0][0]
    assert [m.content for m in store.messages(copy.id)] == ["a", "b"]


def test_a_version_whose_parent_is_missing_is_refused(store: ConversationStore, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    messages = [
        {"id": 1, "parent_id": None, "role": "user", "content": "a"},
        {"id": 2, "parent_id": 7, "role": "assistant", "content": "b"},
    ]
    record = {"uuid": "x2", "title": "Bad", "messages": messages}
    path.write_text(
        json.dumps({"format": "hearth.conversations", "version": 1, "conversations": [record]}), encoding="utf-8"
    )
    with pytest.raises(ImportFormatError, match="not before it"):
        import_json(store, path)
    assert store.conversations() == []


@pytest.mark.parametrize(
    ("record", "says"),
    [
        ({"uuid": "a", "title": "t", "messages": [{"role": "wizard", "content": "x"}]}, "message #1, 'role': must be"),
        ({"uuid": "a", "title": "t", "messages": [{"role": "user"}]}, "message #1, 'content': is missing"),
        ({"uuid": "a", "title": "t", "messages": [{"role": "user", "content": 7}]}, "'content': must be text"),
        ({"title": "t", "messages": []}, "conversation #1, 'uuid': is missing"),
        ({"uuid": "a", "title": "t", "messages": "nope"}, "'messages': must be a list"),
        (
            {"uuid": "a", "title": "t", "messages": [{"id": "x", "parent_id": None, "role": "user", "content": "c"}]},
            "'id': must be a whole number",
        ),
    ],
)
def test_a_bad_file_is_refused_with_the_place_that_is_wrong(
    store: ConversationStore, tmp_path: Path, record: dict[str, object], says: str
) -> None:
    path = tmp_path / "bad.json"
    document = {"format": "hearth.conversations", "version": 1, "conversations": [record]}
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ImportFormatError) as refused:
        import_json(store, path)
    assert says in str(refused.value) and "Traceback" not in str(refused.value)
    assert "validation error" not in str(refused.value)  # pydantic's own wording stays inside
    assert store.conversations() == []


def test_a_reply_exported_while_streaming_is_imported_as_interrupted(store: ConversationStore, tmp_path: Path) -> None:
    path = tmp_path / "mid-stream.json"
    messages = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "half an", "status": "streaming"}]
    record = {"uuid": "s", "title": "t", "messages": messages}
    document = {"format": "hearth.conversations", "version": 1, "conversations": [record]}
    path.write_text(json.dumps(document), encoding="utf-8")
    copy = import_json(store, path)[0][0]
    assert [m.status for m in store.messages(copy.id)] == [MessageStatus.COMPLETE, MessageStatus.INTERRUPTED]
