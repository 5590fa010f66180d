"""Where the model has a tool role, tool results reach it as tool messages, not as text in the user's turn."""

from __future__ import annotations

import json

from assistant.chat.events import TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core.cancel import CancelToken
from assistant.core.store import ConversationStore
from assistant.tools.agent import ToolAgent
from assistant.tools.builtin import build_registry
from tests.fakes import ScriptedEngine


def _turn(store: ConversationStore, engine: ScriptedEngine, question: str) -> TurnFinished:
    session = ChatSession(store, engine, Settings(), tools=build_registry([]))
    conversation = store.create()
    store.set_options(conversation.id, {"tools": True})
    return next(e for e in session.send(conversation.id, question) if isinstance(e, TurnFinished))


def test_the_answer_gets_the_results_as_the_models_own_tool_exchange(store: ConversationStore) -> None:
    call = json.dumps({"name": "calculator", "arguments": {"expression": "37 * 12.49"}})
    engine = ScriptedEngine(
        [call, json.dumps({"name": "none"}), "It is 462.13."], supports_tools=True, supports_tool_messages=True
    )
    finished = _turn(store, engine, "What is 37 times 12.49?")
    assert finished.reply.content == "It is 462.13."
    answer = engine.history[-1]
    question, called, result = answer[-3:]
    assert (question.role, question.content) == ("user", "What is 37 times 12.49?")  # bare: no blocks in it
    assert called.role == "assistant" and called.content == ""
    assert [(c.name, c.arguments) for c in called.tool_calls] == [("calculator", {"expression": "37 * 12.49"})]
    assert (result.role, result.tool_call_id) == ("tool", called.tool_calls[0].id)
    assert result.content.endswith("462.13")
    assert not any("<<<tool" in m.content for m in answer)
    # The second decision saw the first result the same way, and was asked to stop.
    decision = engine.history[1]
    assert decision[-1].role == "tool" and decision[-1].content == result.content
    assert 'answer {"name": "none"} now' in decision[0].content


def test_a_failed_call_goes_back_as_an_error_in_the_tool_role(store: ConversationStore) -> None:
    call = json.dumps({"name": "calculator", "arguments": {"expression": "1 / 0 +"}})
    replies = [call, json.dumps({"name": "none"}), "Sorry."]
    engine = ScriptedEngine(replies, supports_tools=True, supports_tool_messages=True)
    _turn(store, engine, "Work out 1 / 0 +")
    result = engine.history[-1][-1]
    assert result.role == "tool" and result.content.startswith("Error: ")


def test_every_call_is_its_own_exchange_with_ids_stable_across_decisions() -> None:
    """One call per assistant message (Llama 3.1's template refuses more); 9-character ids (Mistral's)."""
    calls = [
        json.dumps({"tool": "calculator", "arguments": {"expression": "2 + 2"}}),
        json.dumps({"tool": "datetime_now", "arguments": {}}),
        json.dumps({"tool": "none"}),
    ]
    engine = ScriptedEngine(calls, supports_tool_messages=True)
    list(ToolAgent(build_registry([]), engine).run("What is 2 + 2, and what time is it?", CancelToken()))
    second, third = engine.history[1], engine.history[2]
    assert [m.role for m in third[-4:]] == ["assistant", "tool", "assistant", "tool"]
    assert [m.tool_calls[0].id for m in third[-4:] if m.tool_calls] == ["call00001", "call00002"]
    assert third[: len(second)] == second, "each decision extends the last one's prompt (KV cache)"
    assert all(len(m.tool_calls) <= 1 for m in third)
