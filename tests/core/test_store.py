from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.core.errors import ConversationNotFoundError, HearthError, StorageDamagedError
from assistant.core.messages import MessageStatus
from assistant.core.store import DEFAULT_TITLE, ConversationStore


def test_create_list_rename_delete(store: ConversationStore) -> None:
    first = store.create()
    second = store.create(title="Garden plans")
    assert first.title == DEFAULT_TITLE
    assert [c.id for c in store.conversations()] == [second.id, first.id]
    store.add_message(first.id, "user", "hello")
    assert store.conversations()[0].id == first.id  # most recently active first
    store.rename(second.id, "  Vegetable   garden ")
    assert store.get(second.id).title == "Vegetable garden"
    store.delete(first.id)
    assert [c.id for c in store.conversations()] == [second.id]
    with pytest.raises(ConversationNotFoundError):
        store.get(first.id)
    with pytest.raises(ConversationNotFoundError):
        store.delete(first.id)
    with pytest.raises(HearthError):
        store.rename(second.id, "   ")


def test_first_user_message_titles_the_conversation(store: ConversationStore) -> None:
    conversation = store.create()
    store.add_message(conversation.id, "user", "How do I repot a very large fiddle-leaf fig without hurting its roots?")
    title = store.get(conversation.id).title
    assert title.startswith("How do I repot") and len(title) <= 60
    store.add_message(conversation.id, "user", "Something else")
    assert store.get(conversation.id).title == title


def test_messages_keep_order_status_and_stats(store: ConversationStore) -> None:
    conversation = store.create()
    user = store.add_message(conversation.id, "user", "Q")
    reply = store.add_message(conversation.id, "assistant", "", MessageStatus.STREAMING)
    store.update_message(reply.id, "partial")
    store.update_message(reply.id, "partial answer", MessageStatus.STOPPED, {"completion_tokens": 2})
    messages = store.messages(conversation.id)
    assert [m.id for m in messages] == [user.id, reply.id]
    assert messages[1].content == "partial answer"
    assert messages[1].status == MessageStatus.STOPPED
    assert messages[1].stats == {"completion_tokens": 2}
    assert store.get(conversation.id).message_count == 2


def test_deleting_a_conversation_deletes_its_messages(store: ConversationStore, tmp_path: Path) -> None:
    conversation = store.create()
    store.add_message(conversation.id, "user", "secret words")
    store.delete(conversation.id)
    raw = sqlite3.connect(tmp_path / "conversations.db")
    assert raw.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    assert store.search("secret") == []


def test_full_text_search(store: ConversationStore) -> None:
    garden = store.create(title="Garden")
    store.add_message(garden.id, "user", "When should I plant tomatoes?")
    store.add_message(garden.id, "assistant", "Plant tomatoes after the last frost.")
    taxes = store.create(title="Taxes")
    store.add_message(taxes.id, "user", "Which forms do I need?")
    hits = store.search("tomato")
    assert [h.conversation.id for h in hits] == [garden.id]
    assert "[" in hits[0].snippet  # the match is marked
    assert [h.conversation.id for h in store.search("taxes")] == [taxes.id]  # titles count too
    assert store.search("frost plant")[0].conversation.id == garden.id


@pytest.mark.parametrize(
    "query", ['"', "tomato*", "a AND OR NOT", "NEAR(", "col:umn", "'); DROP TABLE messages; --", ""]
)
def test_search_never_parses_user_text_as_syntax(store: ConversationStore, query: str) -> None:
    conversation = store.create()
    store.add_message(conversation.id, "user", "tomatoes and columns")
    store.search(query)  # must not raise
    assert store.messages(conversation.id)


def test_database_is_in_wal_mode(store: ConversationStore, tmp_path: Path) -> None:
    raw = sqlite3.connect(tmp_path / "conversations.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageDamagedError, match="is damaged"):
        ConversationStore(path)
    assert path.read_bytes().startswith(b"this is not sqlite")  # left as it was


def test_a_killed_writer_leaves_its_last_checkpoint(tmp_path: Path) -> None:
    """kill -9 in the middle of a streamed reply: the question and the reply so far survive."""
    db = tmp_path / "conversations.db"
    script = textwrap.dedent(
        f"""
        import itertools, sys
        from assistant.config import Settings
        from assistant.chat.session import ChatSession
        from assistant.chat.events import ReplyToken
        from assistant.core.store import ConversationStore
        from tests.fakes import ScriptedEngine
        engine = ScriptedEngine(["word " * 10000], token_delay_s=0.01)
        session = ChatSession(ConversationStore({str(db)!r}), engine, Settings())
        conversation = session.store.create()
        for event in session.send(conversation.id, "Tell me everything."):
            if isinstance(event, ReplyToken):
                print("streaming", flush=True)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "streaming"
    time.sleep(2.5)  # at least two checkpoints
    process.kill()
    process.wait(10)

    reopened = ConversationStore(db, stale_stream_s=0.0)
    assert reopened.recovered == 1
    conversation = reopened.conversations()[0]
    user, reply = reopened.messages(conversation.id)
    assert user.content == "Tell me everything." and user.status == MessageStatus.COMPLETE
    assert reply.status == MessageStatus.INTERRUPTED
    assert reply.content.startswith("word word")
    assert len(reply.content.split()) >= 50  # checkpointed while streaming, not only at the end


def test_a_live_stream_is_not_marked_interrupted(store: ConversationStore, tmp_path: Path) -> None:
    conversation = store.create()
    reply = store.add_message(conversation.id, "assistant", "so far", MessageStatus.STREAMING)
    other_process_view = ConversationStore(tmp_path / "conversations.db")
    assert other_process_view.recovered == 0
    assert other_process_view.message(reply.id).status == MessageStatus.STREAMING


def test_versions_keep_each_branch_and_its_choice(store: ConversationStore) -> None:
    conversation = store.create()
    q1 = store.add_message(conversation.id, "user", "q1")
    a1 = store.add_message(conversation.id, "assistant", "a1")
    store.set_aside(a1.id)  # regenerate: the next reply is a new version of a1
    a1b = store.add_message(conversation.id, "assistant", "a1 again")
    assert (a1b.parent_id, a1b.version, a1b.versions) == (q1.id, 2, 2)
    assert [m.content for m in store.messages(conversation.id)] == ["q1", "a1 again"]
    store.add_message(conversation.id, "user", "q2 after a1 again")
    assert store.version_beside(a1b.id, -1) == a1.id and store.version_beside(a1b.id, 1) is None
    store.choose_version(a1.id)
    assert [m.content for m in store.messages(conversation.id)] == ["q1", "a1"]
    store.choose_version(a1b.id)
    assert [m.content for m in store.messages(conversation.id)] == ["q1", "a1 again", "q2 after a1 again"]
    assert len(store.all_messages(conversation.id)) == 4
    # A new version that is deleted (an empty reply that failed) brings back the one it replaced.
    store.set_aside(a1b.id)
    failed = store.add_message(conversation.id, "assistant", "")
    store.delete_message(failed.id)
    assert [m.content for m in store.messages(conversation.id)] == ["q1", "a1 again", "q2 after a1 again"]


def test_choosing_another_branch_drops_a_summary_of_the_old_one(store: ConversationStore) -> None:
    conversation = store.create()
    q1 = store.add_message(conversation.id, "user", "q1")
    a1 = store.add_message(conversation.id, "assistant", "a1")
    store.set_summary(conversation.id, "about q1 and a1", a1.id)
    store.set_aside(q1.id)
    store.add_message(conversation.id, "user", "q1 edited")
    assert store.get(conversation.id).summary == ""


def test_a_conversation_from_before_versions_opens_as_one_path(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE conversations (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL, system_prompt TEXT, summary TEXT NOT NULL DEFAULT '',
            summary_through INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, updated_at REAL NOT NULL,
            options TEXT);
        CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            role TEXT NOT NULL, content TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'complete', stats TEXT,
            created_at REAL NOT NULL, updated_at REAL NOT NULL);
        INSERT INTO conversations VALUES (1, 'u1', 'One', NULL, '', 0, 0, 0, NULL);
        INSERT INTO conversations VALUES (2, 'u2', 'Two', NULL, '', 0, 0, 0, NULL);
        INSERT INTO messages VALUES (1, 1, 'user', 'hello', 'complete', NULL, 0, 0);
        INSERT INTO messages VALUES (2, 2, 'user', 'other chat', 'complete', NULL, 0, 0);
        INSERT INTO messages VALUES (3, 1, 'assistant', 'hi there', 'complete', NULL, 0, 0);
        PRAGMA user_version=2;
        """
    )
    old.close()
    migrated = ConversationStore(path)
    assert [(m.content, m.versions) for m in migrated.messages(1)] == [("hello", 1), ("hi there", 1)]
    assert [m.parent_id for m in migrated.messages(1)] == [None, 1]
    migrated.add_message(1, "user", "and now?")
    assert [m.content for m in migrated.messages(1)] == ["hello", "hi there", "and now?"]
    assert [m.content for m in migrated.messages(2)] == ["other chat"]
    migrated.close()


def test_a_summary_of_the_old_branch_is_dropped_when_a_newer_version_is_chosen(store: ConversationStore) -> None:
    conversation = store.create()
    q1 = store.add_message(conversation.id, "user", "q1")
    store.add_message(conversation.id, "assistant", "a1")
    store.set_aside(q1.id)
    edited = store.add_message(conversation.id, "user", "q1 edited")
    store.choose_version(q1.id)
    store.set_summary(conversation.id, "about q1 and a1", q1.id + 1)  # covers the first branch only
    store.choose_version(edited.id)  # newer than the summary's last message, and not on its path
    assert store.get(conversation.id).summary == ""
