"""Files attached to one conversation reach that conversation's turns, and only its turns; they survive reopening."""

from __future__ import annotations

from pathlib import Path

from assistant.chat.events import TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core.attachment_store import add_attachment, attachments, remove_attachment
from assistant.core.store import ConversationStore
from assistant.knowledge.attached_file import read_attachment
from assistant.knowledge.parse_pool import ParsePool
from assistant.knowledge.retriever import Passage
from tests.fakes import ScriptedEngine
from tests.knowledge.conftest import write_pdf


def attach_pdf(store: ConversationStore, conversation_id: int, path: Path) -> None:
    pool = ParsePool(size=1)
    try:
        passages, _ = read_attachment(path, pool, 50 * 1024 * 1024)
    finally:
        pool.close()
    add_attachment(store, conversation_id, str(path), path.name, [p.to_dict() for p in passages])


def finished(events: object) -> TurnFinished:
    return [e for e in events if isinstance(e, TurnFinished)][-1]  # type: ignore[attr-defined]


def test_an_attached_file_answers_in_its_conversation_only_and_survives_reopening(tmp_path: Path) -> None:
    manual = write_pdf(tmp_path / "kettle.pdf", ["Unpacking the kettle.", "Descale the kettle every 90 days."])
    store = ConversationStore(tmp_path / "chats.db")
    engine = ScriptedEngine(["Every 90 days [2].", "I do not know."])
    session = ChatSession(store, engine, Settings())
    with_file, without = store.create(), store.create()
    attach_pdf(store, with_file.id, manual)
    turn = finished(session.send(with_file.id, "How often should I descale the kettle?"))
    prompt = engine.history[-1][-1].content
    assert "<<<passage [2] from kettle.pdf, page 2>>>\nDescale the kettle every 90 days." in prompt
    assert [(s["path"], s["page"]) for s in turn.sources] == [(str(manual), 1), (str(manual), 2)]
    finished(session.send(without.id, "How often should I descale the kettle?"))
    assert "kettle.pdf" not in engine.history[-1][-1].content  # the other conversation knows nothing of it
    store.close()

    reopened = ConversationStore(tmp_path / "chats.db")
    assert [a.name for a in attachments(reopened, with_file.id)] == ["kettle.pdf"]
    manual.unlink()  # kept with the conversation: the file itself is no longer needed
    engine = ScriptedEngine(["Every 90 days."])
    finished(ChatSession(reopened, engine, Settings()).send(with_file.id, "How often should I descale?"))
    assert "Descale the kettle every 90 days." in engine.history[-1][-1].content
    remove_attachment(reopened, attachments(reopened, with_file.id)[0].id)
    engine = ScriptedEngine(["I do not know."])
    finished(ChatSession(reopened, engine, Settings()).send(with_file.id, "How often should I descale?"))
    assert "passage" not in engine.history[-1][-1].content
    reopened.delete(with_file.id)
    assert attachments(reopened, with_file.id) == []
    reopened.close()


def test_attached_passages_are_numbered_after_the_collections(store: ConversationStore, tmp_path: Path) -> None:
    collection_hit = Passage(1, "/lib/manual.txt", None, "", 0.5, "The library's kettle manual.", 0, 10, "c-1")
    engine = ScriptedEngine(["Both [1] [2]."])
    session = ChatSession(store, engine, Settings(), retrieve=lambda names, question: [collection_hit])
    conversation = store.create()
    store.set_options(conversation.id, {"collections": ["Manuals"]})
    notes = tmp_path / "notes.md"
    notes.write_text("# Kettle\n\nMy own note: descale with citric acid.")
    pool = ParsePool(size=1)
    try:
        passages, _ = read_attachment(notes, pool, 1024 * 1024)
    finally:
        pool.close()
    add_attachment(store, conversation.id, str(notes), notes.name, [p.to_dict() for p in passages])
    turn = finished(session.send(conversation.id, "How do I descale the kettle?"))
    assert [s["n"] for s in turn.sources] == [1, 2]
    assert [Path(s["path"]).name for s in turn.sources] == ["manual.txt", "notes.md"]
    assert "<<<passage [2] from notes.md, Kettle>>>" in engine.history[-1][-1].content


def test_the_incognito_store_keeps_attachments_in_memory(tmp_path: Path) -> None:
    store = ConversationStore.incognito()
    conversation = store.create()
    add_attachment(store, conversation.id, "/x/a.txt", "a.txt", [{"text": "Secret plans.", "page": None}])
    engine = ScriptedEngine(["Noted."])
    finished(ChatSession(store, engine, Settings()).send(conversation.id, "What are the plans?"))
    assert "Secret plans." in engine.history[-1][-1].content
