"""Plain arithmetic is answered by the calculator, exactly, without asking the model."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant.chat.events import TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core.store import ConversationStore
from assistant.tools.builtin import build_registry
from tests.fakes import ScriptedEngine


def test_arithmetic_goes_straight_to_the_calculator(store: ConversationStore) -> None:
    engine = ScriptedEngine(["the model should not be asked"])
    session = ChatSession(store, engine, Settings(), tools=build_registry([]))
    conversation = store.create()
    finished = [
        e for e in session.send(conversation.id, "What is 1234567890 * 9876543210?") if isinstance(e, TurnFinished)
    ]
    assert finished[0].result.text == "1234567890 * 9876543210 = 12193263111263526900"
    assert finished[0].tool_calls[0]["tool"] == "calculator" and finished[0].tool_calls[0]["ok"]
    assert finished[0].tool_calls[0]["arguments"] == {"expression": "1234567890 * 9876543210"}, "not the question"
    assert engine.history == []
    reply = store.messages(conversation.id)[-1]
    assert reply.stats["tool_calls"][0]["result"] == "12193263111263526900"
    # Anything else still goes to the model.
    list(session.send(conversation.id, "Thanks! What is the capital of France?"))
    assert len(engine.history) == 1


@pytest.mark.parametrize("message", ["What is 0.9^30000000?", "(-0.5)^(10^9)", "10^10^10"])
def test_hostile_arithmetic_typed_in_the_window_is_refused_by_the_fast_path(
    store: ConversationStore, message: str
) -> None:
    # In-process, 0.9^30000000 froze the window: SymPy held the GIL for as long as it computed.
    engine = ScriptedEngine(["the model should not be asked"])
    session = ChatSession(store, engine, Settings(), tools=build_registry([]))
    conversation = store.create()
    finished = [e for e in session.send(conversation.id, message) if isinstance(e, TurnFinished)]
    assert finished[0].result.text == "I could not calculate that: The result would have more than 10,000 digits."
    assert not finished[0].tool_calls[0]["ok"] and engine.history == []
    after = [e for e in session.send(conversation.id, "1 + 1") if isinstance(e, TurnFinished)]
    assert after[0].result.text == "1 + 1 = 2"


def test_the_fast_path_records_the_bare_expression(store: ConversationStore) -> None:
    session = ChatSession(store, ScriptedEngine(), Settings(), tools=build_registry([]))
    conversation = store.create()
    finished = [e for e in session.send(conversation.id, "How much is 15% of 80?") if isinstance(e, TurnFinished)]
    assert finished[0].tool_calls[0]["arguments"] == {"expression": "(15/100)*80"}
    assert finished[0].result.text == "(15/100)*80 = 12"


@pytest.mark.real_model
def test_the_cli_answers_exactly_on_the_bundled_model(hearth_home) -> None:  # type: ignore[no-untyped-def]
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--json", "What is 1234567890 * 9876543210?"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["answer"].endswith("= 12193263111263526900")
    assert answer["tool_calls"][0] == {
        "tool": "calculator",
        "arguments": {"expression": "1234567890 * 9876543210"},
        "result": "12193263111263526900",
        "ok": True,
        "duration_s": answer["tool_calls"][0]["duration_s"],
    }
