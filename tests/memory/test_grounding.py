"""Memory never invents: proposals rest on the user's words, and a paraphrase never overwrites a fact."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from assistant.chat.events import MemoriesSaved
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core.store import ConversationStore
from assistant.engine.base import Engine
from assistant.memory.extraction import Candidate, extract, grounded, support
from assistant.memory.long_term import LongTermMemory
from tests.fakes import ScriptedEngine

MakeMemory = Callable[..., LongTermMemory]
ANA = "My sister Ana lives in Porto and is allergic to peanuts."
PORTO = "The user's sister Ana lives in Porto."


def _extraction(*facts: str) -> str:
    return json.dumps(
        {"summary": "The user talked about family.", "memories": [{"text": f, "kind": "fact"} for f in facts]}
    )


def test_every_name_and_number_in_a_proposal_was_written_by_the_user() -> None:
    assert grounded(Candidate(PORTO), ANA)
    assert grounded(Candidate("The user's sister Ana has a peanut allergy."), ANA)
    # One shared word ("Ana") used to be enough for these.
    assert not grounded(Candidate("Ana is a daughter of Mira, a famous person."), ANA)
    assert not grounded(Candidate("The user's sister Ana lives in Lisbon."), ANA)
    assert not grounded(Candidate("The user's sister Ana is 34."), ANA)
    assert grounded(Candidate("The user moved to Berlin in 2019."), "I moved to Berlin in 2019.")
    assert support("The user's sister Ana is a famous singer.", ANA) < 1.0


def test_a_paraphrase_that_contradicts_a_fact_does_not_replace_it(make_memory: MakeMemory) -> None:
    memory = make_memory()
    memory.duplicate_similarity = 0.99
    memory.related_similarity = 0.0  # let the judge decide every pair
    profile = memory.profiles.active().id
    old = memory.remember(profile, Candidate(PORTO)).memory
    weaker = Candidate("The user's sister Ana now lives abroad in Porto suburbs.", support=0.6)
    kept = memory.remember(profile, weaker, judge=lambda a, b: "contradicts")
    assert kept.action == "kept" and memory.store.get(old.id).text == PORTO
    assert memory.store.get(old.id).history == []
    stronger = memory.remember(
        profile, Candidate("The user's sister Ana lives in Lisbon."), judge=lambda a, b: "contradicts"
    )
    assert stronger.action == "replaced" and memory.store.get(old.id).text == "The user's sister Ana lives in Lisbon."


def test_through_a_turn_a_less_grounded_contradiction_is_neither_saved_nor_reported(
    store: ConversationStore, make_memory: MakeMemory
) -> None:
    memory = make_memory()
    memory.duplicate_similarity = 0.99
    memory.related_similarity = 0.0
    profile = memory.profiles.active().id
    memory.remember(profile, Candidate(PORTO))
    paraphrase = "The user's sister Ana visited Porto with a famous friend."  # grounded, but not wholly
    engine = ScriptedEngine(["How nice.", _extraction(paraphrase), json.dumps({"relation": "contradicts"})])
    session = ChatSession(store, engine, Settings(), memory=memory)
    events = list(session.send(session.create_conversation().id, "My sister Ana visited Porto again."))
    saved = next(e for e in events if isinstance(e, MemoriesSaved))
    assert saved.changes == []
    assert [m.text for m in memory.store.memories()] == [PORTO]


MESSAGES = [ANA, "I work as a nurse in Leeds and my son Tom is 7.", "I moved to Berlin in 2019."]


@pytest.mark.real_model
def test_the_bundled_model_proposes_nothing_from_the_prompts_examples(real_engine: Engine) -> None:
    """The old prompt's example ("The user's daughter is called Mira.") came back for two of these."""
    for message in MESSAGES:
        proposed = extract(real_engine, message, "That is good to know.").candidates
        assert all("Mira" not in c.text and "daughter" not in c.text for c in proposed), (message, proposed)


@pytest.mark.real_model
def test_what_the_bundled_model_saves_about_ana_is_in_her_words(
    store: ConversationStore, make_memory: MakeMemory, real_engine: Engine
) -> None:
    memory = make_memory()
    session = ChatSession(store, real_engine, Settings(), memory=memory)
    list(session.send(session.create_conversation().id, ANA))
    for saved in memory.store.memories():
        assert grounded(Candidate(saved.text), ANA), saved.text
