"""Thinking models, thinking modes and Hearth's scaffolding, on tiny GGUFs of the catalogue families
run by the real llama.cpp engine with their real chat templates (tests/engine/tiny_families.py).
Random weights say what the test forces them to (a grammar), through the owner thread, template and
tokenizer a user's model goes through."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.chat.events import ReplyToken, TurnFinished
from assistant.chat.session import CHECKPOINT_S, ChatSession
from assistant.config import ModelSettings, Settings
from assistant.core.store import ConversationStore
from assistant.reasoning.reply import TurnStyle
from assistant.tools.builtin import build_registry
from tests.engine.forced import ForcedLlamaEngine

pytest.importorskip("gguf")
pytestmark = pytest.mark.real_model


@pytest.fixture
def load(tiny_model: Callable[[str], Path]) -> Iterator[Callable[[str], ForcedLlamaEngine]]:
    engines: list[ForcedLlamaEngine] = []

    def make(family: str) -> ForcedLlamaEngine:
        engine = ForcedLlamaEngine(tiny_model(family), ModelSettings(n_ctx=8192, n_threads=1))
        engine.wait_until_loaded(60)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()


def _settings(agent: bool = False) -> Settings:
    settings = Settings()
    settings.sampling.max_tokens = 300
    settings.tools.agent = agent
    return settings


def _every_item_a_checkpoint() -> Callable[[], float]:
    """A clock that moves a checkpoint's interval per reading: the reply is checkpointed on every item."""
    ticks = itertools.count()
    return lambda: next(ticks) * CHECKPOINT_S


_THOUGHT = "First add two and two, then check the sum once more.\n</think>\n\nFour is the answer. It is 2 + 2."
# Qwen3 writes its own <think> block; the R1 distills' template opens it in the prompt.
THINKING = {"qwen3": f"<think>\n{_THOUGHT}", "deepseek-r1-distill-qwen": _THOUGHT}


@pytest.mark.parametrize("family", sorted(THINKING))
def test_a_thinking_model_s_answer_reaches_the_window_while_the_model_still_writes(
    family: str, load: Callable[[str], ForcedLlamaEngine], store: ConversationStore
) -> None:
    """The owner thread stops after the answer's first piece until the chat's consumer has it. A
    consumer that asks the model's thread for anything meanwhile (a token count at a checkpoint)
    waits behind the generation, the hold times out, and the answer arrives only after the end."""
    engine = load(family)
    engine.force(THINKING[family])
    engine.hold_after = "</think>\n\nF"
    session = ChatSession(store, engine, _settings(), clock=_every_item_a_checkpoint())
    finished_at_first_piece: int | None = None
    events = []
    for event in session.send(session.create_conversation().id, "What is 2 + 2?"):
        events.append(event)
        if isinstance(event, ReplyToken) and finished_at_first_piece is None:
            finished_at_first_piece = engine.generations_finished
            engine.release()
    assert finished_at_first_piece == 0 and not engine.hold_timed_out, (
        "the answer's first piece reached the consumer only after the model had written the whole reply"
    )
    finished = next(e for e in events if isinstance(e, TurnFinished))
    streamed = "".join(e.text for e in events if isinstance(e, ReplyToken))
    assert streamed == finished.reply.content == "Four is the answer. It is 2 + 2."
    thinking = finished.reply.stats["stages"][0]
    assert thinking["name"] == "thinking" and thinking["text"].startswith("First add two and two")
    # Counted from the stream: about one piece per token of the thinking.
    assert 10 <= thinking["tokens"] <= finished.result.stats.completion_tokens


def test_think_mode_s_answer_does_not_open_with_hearth_s_instruction(
    load: Callable[[str], ForcedLlamaEngine], store: ConversationStore
) -> None:
    engine = load("llama-3.2")
    engine.force(
        "1. Recall the capital of France.\n2. Say it.", "Now answer my message. Paris is the capital of France."
    )
    session = ChatSession(store, engine, _settings())
    events = list(
        session.send(session.create_conversation().id, "What is the capital of France?", style=TurnStyle("think"))
    )
    streamed = "".join(e.text for e in events if isinstance(e, ReplyToken))
    finished = next(e for e in events if isinstance(e, TurnFinished))
    assert streamed == finished.reply.content == "Paris is the capital of France."
    assert [s["name"] for s in finished.reply.stats["stages"]] == ["plan", "answer"]


def test_refine_s_critique_is_shown_as_a_list_and_the_model_still_reads_its_json(
    load: Callable[[str], ForcedLlamaEngine], store: ConversationStore
) -> None:
    engine = load("gemma-3")
    critique = '{"issues": ["It does not say which river.", "2.0"]}'
    engine.force("Porto is in Portugal.", critique, "Porto is in Portugal, on the Douro river.")
    session = ChatSession(store, engine, _settings())
    events = list(session.send(session.create_conversation().id, "Where is Porto?", style=TurnStyle("refine")))
    finished = next(e for e in events if isinstance(e, TurnFinished))
    stages = {s["name"]: s for s in finished.reply.stats["stages"]}
    assert stages["critique 1"]["text"] == "- It does not say which river."
    assert critique in engine.prompts[-1], "the revision's prompt keeps what the model wrote"
    assert finished.reply.content == "Porto is in Portugal, on the Douro river."


def test_a_critique_of_numbers_alone_is_no_critique(
    load: Callable[[str], ForcedLlamaEngine], store: ConversationStore
) -> None:
    engine = load("gemma-3")
    engine.force("Porto is in Portugal.", '{"issues": ["1.0", "2.0"]}')
    session = ChatSession(store, engine, _settings())
    events = list(session.send(session.create_conversation().id, "Where is Porto?", style=TurnStyle("refine")))
    finished = next(e for e in events if isinstance(e, TurnFinished))
    stages = {s["name"]: s for s in finished.reply.stats["stages"]}
    assert stages["critique 1"]["text"] == "No issues found."
    assert finished.reply.content == "Porto is in Portugal." and len(engine.grammars) == 2


def test_a_failed_tool_s_end_marker_never_reaches_the_reply(
    load: Callable[[str], ForcedLlamaEngine], store: ConversationStore, tmp_path: Path
) -> None:
    """Phi-4-mini's template has no tool role: results go into the user's turn as Hearth's blocks,
    and a model that copies the closing marker must not show it."""
    engine = load("phi-4-mini")
    engine.force(
        '{"tool": "calculator", "arguments": {"expression": "1 / 0"}}',
        '{"tool": "none"}',
        "I could not divide by zero.\n<<<end of tool result>>>\nDividing by zero is undefined.",
    )
    session = ChatSession(store, engine, _settings(agent=True), tools=build_registry([tmp_path]))
    events = list(
        session.send(session.create_conversation().id, "We share 1 cake among 0 guests. How much does each get?")
    )
    assert "failed>>>" in engine.prompts[-1], "the failed call is shown to the model as a block"
    streamed = "".join(e.text for e in events if isinstance(e, ReplyToken))
    finished = next(e for e in events if isinstance(e, TurnFinished))
    expected = "I could not divide by zero.\nDividing by zero is undefined."
    assert streamed == finished.reply.content == expected
