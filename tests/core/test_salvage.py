"""A damaged conversation database: what can be read is copied into a new file, the old one kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.errors import StorageDamagedError
from assistant.core.salvage import salvage
from assistant.core.store import ConversationStore


def _filled(path: Path, conversations: int = 30, messages: int = 20) -> None:
    store = ConversationStore(path)
    for c in range(conversations):
        conversation = store.create(f"Conversation {c}")
        for m in range(messages):
            store.add_message(conversation.id, "user" if m % 2 == 0 else "assistant", f"message {c}.{m} " + "x" * 300)
    store.close()


def test_a_damaged_page_costs_its_rows_and_the_rest_is_salvaged(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    _filled(path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 4096 // 2 * 4096
    data[middle : middle + 4096] = b"\xde\xad" * 2048  # one page of messages overwritten
    path.write_bytes(bytes(data))
    damaged = bytes(data)
    with pytest.raises(StorageDamagedError):
        ConversationStore(path)
    result = salvage(path)
    assert result.kept_aside.read_bytes() == damaged  # the damaged file itself is untouched, only renamed
    assert result.rows["conversations"] == 30
    assert 500 <= result.rows["messages"] < 600 and result.lost["messages"] >= 1
    store = ConversationStore(path)
    assert len(store.conversations()) == 30
    first = store.messages(store.conversations()[-1].id)
    assert first[0].content.startswith("message 0.0") and len(first) == 20  # before the damage: whole
    assert store.search("message")  # the search index is rebuilt from the salvaged rows
    store.add_message(first[0].conversation_id, "user", "still works")
    store.close()
    assert "Salvaged 30 conversations" in result.summary() and str(result.kept_aside) in result.summary()


def test_a_file_that_is_not_a_database_at_all_is_set_aside_for_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    path.write_bytes(b"not sqlite" * 1000)
    result = salvage(path)
    assert result.rows == {"conversations": 0, "messages": 0, "attachments": 0}
    assert result.kept_aside.read_bytes() == b"not sqlite" * 1000
    store = ConversationStore(path)
    assert store.conversations() == []
    store.close()
