"""Long-term memory on the fake engine: extraction, dedup, contradiction, forgetting, recall, failures."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.chat.events import MemoriesSaved, ReplyStarted, TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core.errors import HearthError
from assistant.core.store import ConversationStore
from assistant.memory.extraction import Candidate, explicit_memory, grounded, parse_extraction, worth_extracting
from assistant.memory.long_term import LongTermMemory
from tests.fakes import ScriptedEngine

MakeMemory = Callable[..., LongTermMemory]
MIRA = "The user's daughter is called Mira."


def _extraction(*facts: str, summary: str = "The user talked about their family.") -> str:
    return json.dumps({"summary": summary, "memories": [{"text": f, "kind": "fact"} for f in facts]})


def _session(store: ConversationStore, engine: ScriptedEngine, memory: LongTermMemory) -> ChatSession:
    return ChatSession(store, engine, Settings(), memory=memory)


def test_a_fact_told_in_one_conversation_reaches_the_prompt_of_another(
    store: ConversationStore, make_memory: MakeMemory
) -> None:
    memory = make_memory()
    engine = ScriptedEngine(["What a lovely name!", _extraction(MIRA), "Your daughter is Mira.", _extraction()])
    session = _session(store, engine, memory)

    first = session.create_conversation()
    saved = [e for e in session.send(first.id, "My daughter is called Mira.") if isinstance(e, MemoriesSaved)]
    assert [(c.action, c.memory.text) for c in saved[0].changes] == [("added", MIRA)]
    stored = memory.store.memories()[0]
    assert (stored.conversation_id, stored.profile_id) == (first.id, memory.profiles.active().id)
    assert stored.message_id == store.messages(first.id)[0].id, "the memory names the message it came from"
    learned = store.messages(first.id)[-1].stats["learned"]  # kept with the reply, for the line under it
    assert [(c["action"], c["text"]) for c in learned] == [("added", MIRA)] and saved[0].reply is not None
    # The extraction itself was constrained by the schema.
    assert engine.options[1].json_schema is not None and "memories" in engine.options[1].json_schema["properties"]

    second = session.create_conversation()
    events = list(session.send(second.id, "What is my daughter's name?"))
    prompt = engine.history[2][-1].content
    assert "What you remember about the user" in prompt and MIRA in prompt
    started = next(e for e in events if isinstance(e, ReplyStarted))
    finished = next(e for e in events if isinstance(e, TurnFinished))
    assert [m["text"] for m in started.memories if m["kind"] == "fact"] == [MIRA]
    assert finished.memories == started.memories
    assert finished.stats.context["memories"] > 0
    assert store.messages(second.id)[-1].stats["memories"][0]["text"] == MIRA, "kept with the reply for the GUI"


def test_explicit_requests_are_saved_without_asking_the_model(
    store: ConversationStore, make_memory: MakeMemory
) -> None:
    memory = make_memory()
    engine = ScriptedEngine(["Noted."])
    session = _session(store, engine, memory)
    conversation = session.create_conversation()
    list(session.send(conversation.id, "Remember that I take my coffee black."))
    assert [m.text for m in memory.store.memories()] == ["I take my coffee black."]
    assert len(engine.history) == 1, "only the reply was generated"
    assert explicit_memory("From now on, answer in French") == Candidate("Answer in French.", "preference")
    assert explicit_memory("What do you remember?") is None
    assert not worth_extracting("What is the capital of France?") and worth_extracting("I moved to Lyon")
    assert not worth_extracting("What should we plant first?")


def test_proposed_facts_must_rest_on_the_users_words(store: ConversationStore, make_memory: MakeMemory) -> None:
    memory = make_memory()
    babble = "The user's family is a family of a family of a family of a family."
    engine = ScriptedEngine(["Nice!", _extraction(MIRA, "The user's work is a company.", babble)])
    session = _session(store, engine, memory)
    list(session.send(session.create_conversation().id, "My daughter is called Mira."))
    assert [m.text for m in memory.store.memories()] == [MIRA]
    assert grounded(Candidate("The user lives in Lyon."), "I moved to lyon last year")
    assert not grounded(Candidate("The user is called."), "hello there")


def test_a_near_duplicate_updates_the_old_memory(make_memory: MakeMemory) -> None:
    memory = make_memory()
    profile = memory.profiles.active().id
    first = memory.remember(profile, Candidate(MIRA), conversation_id=1)
    again = memory.remember(profile, Candidate("The user's daughter is called Mira"), conversation_id=2)
    assert again.action == "updated" and again.memory.id == first.memory.id
    assert len(memory.store.memories()) == 1
    assert again.memory.conversation_id == 2


def test_a_contradiction_replaces_the_old_fact_and_keeps_its_history(make_memory: MakeMemory) -> None:
    memory = make_memory()
    memory.duplicate_similarity = 0.99  # the hashing embedder finds Mira/Lena very close; make the model judge
    profile = memory.profiles.active().id
    old = memory.remember(profile, Candidate(MIRA)).memory
    judged: list[tuple[str, str]] = []

    def judge(a: str, b: str) -> str:
        judged.append((a, b))
        return "contradicts"

    changed = memory.remember(profile, Candidate("The user's daughter is called Lena."), judge=judge)  # type: ignore[arg-type]
    assert judged == [(MIRA, "The user's daughter is called Lena.")]
    assert changed.action == "replaced" and changed.memory.id == old.id
    assert changed.memory.text == "The user's daughter is called Lena."
    history = memory.store.get(old.id).history
    assert [(h["text"], h["reason"]) for h in history] == [(MIRA, "contradicted")]
    unrelated = memory.remember(
        profile, Candidate("The user's daughter plays the cello."), judge=lambda a, b: "different"
    )
    assert unrelated.action == "added" and len(memory.store.memories()) == 2


def test_the_relation_question_goes_to_the_model_under_a_schema(
    store: ConversationStore, make_memory: MakeMemory
) -> None:
    memory = make_memory()
    memory.duplicate_similarity = 0.99
    memory.remember(memory.profiles.active().id, Candidate(MIRA))
    lena = "The user's daughter is called Lena."
    engine = ScriptedEngine(["Oh, sorry!", _extraction(lena), json.dumps({"relation": "contradicts"})])
    session = _session(store, engine, memory)
    conversation = session.create_conversation()
    saved = [
        e for e in session.send(conversation.id, "Actually my daughter is called Lena.") if isinstance(e, MemoriesSaved)
    ]
    assert [c.action for c in saved[0].changes] == ["replaced"]
    assert engine.options[2].json_schema["properties"]["relation"]["enum"] == ["same", "contradicts", "different"]  # type: ignore[index]
    assert [m.text for m in memory.store.memories()] == [lena]


def test_forgetting_a_conversation_removes_its_memories_and_digest(
    store: ConversationStore, make_memory: MakeMemory
) -> None:
    memory = make_memory()
    engine = ScriptedEngine(
        ["ok", _extraction(MIRA, "The user lives in Lyon."), "ok", _extraction("The user likes tea.")]
    )
    session = _session(store, engine, memory)
    first, second = session.create_conversation(), session.create_conversation()
    list(session.send(first.id, "My daughter Mira and I live in Lyon."))
    list(session.send(second.id, "I like tea."))
    assert len(memory.store.memories()) == 3 and memory.store.digest(first.id) is not None
    assert memory.forget_conversation(first.id) == 2
    assert [m.text for m in memory.store.memories()] == ["The user likes tea."]
    assert memory.store.digest(first.id) is None
    assert memory.store.vectors.keys() == {f"m{memory.store.memories()[0].id}", f"c{second.id}"}


def test_past_conversations_are_recalled_by_their_digest(store: ConversationStore, make_memory: MakeMemory) -> None:
    memory = make_memory(min_similarity=0.2)
    engine = ScriptedEngine(
        ["ok", _extraction(summary="We decided to plant tomatoes in the garden in May."), "You chose May."]
    )
    session = _session(store, engine, memory)
    garden = session.create_conversation(title="Garden plans")
    list(session.send(garden.id, "We should plant the tomatoes in May, I think."))
    later = session.create_conversation()
    events = list(session.send(later.id, "What did we decide about the garden tomatoes?"))
    recalled = next(e for e in events if isinstance(e, TurnFinished)).memories
    assert recalled and recalled[0]["kind"] == "conversation" and recalled[0]["conversation_id"] == garden.id
    assert "plant tomatoes" in engine.history[2][-1].content


def test_unparseable_extraction_is_dropped_never_stored(store: ConversationStore, make_memory: MakeMemory) -> None:
    memory = make_memory()
    engine = ScriptedEngine(["ok", '{"summary": "x", "memories": [{"txt": 1}]', "ok", "not json at all"])
    session = _session(store, engine, memory)
    conversation = session.create_conversation()
    list(session.send(conversation.id, "My cat is called Tom."))
    list(session.send(conversation.id, "I also have a dog."))
    assert memory.store.memories() == []
    assert parse_extraction("[1, 2]").problem
    assert memory.problem is None, "a bad extraction does not switch memory off"


def test_memory_never_overfills_the_context(store: ConversationStore, make_memory: MakeMemory) -> None:
    memory = make_memory(max_tokens=40, min_similarity=0.0, recall_k=10)
    profile = memory.profiles.active().id
    for n in range(10):
        memory.store.add(profile, f"The user's daughter number {n} likes long walks in the forest on sundays.")
    engine = ScriptedEngine(["ok", _extraction()])
    session = _session(store, engine, memory)
    conversation = session.create_conversation()
    finished = next(
        e for e in session.send(conversation.id, "Tell me about my daughter.") if isinstance(e, TurnFinished)
    )
    assert 0 < len(finished.memories) < 10
    assert 0 < finished.stats.context["memories"] <= 40 + 20  # the section's heading adds a few tokens


def test_paused_memory_neither_recalls_nor_saves(store: ConversationStore, make_memory: MakeMemory) -> None:
    memory = make_memory(enabled=False)
    memory.store.add(memory.profiles.active().id, MIRA)
    engine = ScriptedEngine(["ok"])
    session = _session(store, engine, memory)
    conversation = session.create_conversation()
    events = list(session.send(conversation.id, "Remember that my son is Leo. What is my daughter's name?"))
    assert MIRA not in engine.history[0][0].content + engine.history[0][-1].content
    assert not [e for e in events if isinstance(e, MemoriesSaved)]
    assert len(memory.store.memories()) == 1


def test_a_failing_vector_store_costs_one_turn_is_said_once_and_memory_recovers(
    store: ConversationStore, make_memory: MakeMemory
) -> None:
    """One exception used to switch memory off until restart."""

    class FlakyEmbedder:
        name, dimension = "flaky", 8
        failing = True

        def embed(self, texts: list[str]) -> list[list[float]]:
            if self.failing:
                raise RuntimeError("disk on fire")
            return [[1.0] + [0.0] * 7 for _ in texts]

    embedder = FlakyEmbedder()
    memory = make_memory(embedder=embedder)
    engine = ScriptedEngine(["first answer", "second answer", "third answer"])
    session = _session(store, engine, memory)
    conversation = session.create_conversation()
    events = list(session.send(conversation.id, "Remember that my daughter is called Mira."))
    assert next(e for e in events if isinstance(e, TurnFinished)).reply.content == "first answer"
    saved = next(e for e in events if isinstance(e, MemoriesSaved))
    assert saved.notice and "disk on fire" in saved.notice and "try again" in saved.notice
    again = list(session.send(conversation.id, "Remember that my son is called Leo."))
    assert next(e for e in again if isinstance(e, TurnFinished)).reply.content == "second answer"
    assert next(e for e in again if isinstance(e, MemoriesSaved)).notice is None, "said once, not every turn"
    embedder.failing = False  # the disk is back
    recovered = list(session.send(conversation.id, "Remember that my cat is called Pixel."))
    saved = next(e for e in recovered if isinstance(e, MemoriesSaved))
    assert saved.notice == "Memory works again."
    assert [m.text for m in memory.store.memories()] and memory.problem is None
    assert any("Pixel" in m.text for m in memory.store.memories())


def test_recall_failing_while_learning_works_is_one_streak_not_a_flicker(
    store: ConversationStore, make_memory: MakeMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Searching fails every turn but saving works: one notice, not "failed", "works again", "failed"."""
    memory = make_memory()
    memory.store.add(memory.profiles.active().id, MIRA)

    def broken_search(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the index is locked")

    monkeypatch.setattr(memory.store, "similar", broken_search)
    session = _session(store, ScriptedEngine(["one", "two", "three"]), memory)
    conversation = session.create_conversation()
    notices = []
    for question in ("What is my daughter called?", "And her age?", "Where does she live?"):
        events = list(session.send(conversation.id, question))
        notices.append(next(e for e in events if isinstance(e, MemoriesSaved)).notice)
    assert notices[0] and "the index is locked" in notices[0]
    assert notices[1:] == [None, None]


def test_a_damaged_memory_database_is_a_clear_error_and_left_alone(tmp_path: Path, make_memory: MakeMemory) -> None:
    home = tmp_path / "damaged"
    home.mkdir()
    (home / "memory.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(HearthError, match="memory database") as caught:
        make_memory(home=home)
    assert "Move the file aside" in caught.value.hint
    assert (home / "memory.db").read_bytes().startswith(b"this is not a database")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(home / "memory.db").execute("SELECT 1 FROM sqlite_master").fetchall()


def test_orphan_vectors_are_swept_after_the_first_reply(store: ConversationStore, make_memory: MakeMemory) -> None:
    memory = make_memory()
    kept = memory.store.add(1, "The user likes tea.")
    memory.store.vectors.put("m999", "gone", 1)  # as a crash between the two writes leaves them
    memory.store.vectors.put("c998", "gone", 1)
    session = _session(store, ScriptedEngine(["ok"]), memory)
    conversation = session.create_conversation()
    list(session.send(conversation.id, "hello"))
    assert memory.store.vectors.keys() == {f"m{kept.id}", f"c{conversation.id}"}
