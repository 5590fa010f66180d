"""Tool turns end: no copyable example values, "none" preferred after a result, a repeat ends quietly."""

from __future__ import annotations

import json
import re

import pytest

from assistant.chat.events import TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core.cancel import CancelToken
from assistant.core.store import ConversationStore
from assistant.tools.agent import ToolAgent
from assistant.tools.builtin import build_registry, knowledge_tool, memory_tools
from assistant.tools.chit_chat import is_chit_chat
from tests.fakes import ScriptedEngine


def _call(tool: str, **arguments: object) -> str:
    return json.dumps({"tool": tool, "arguments": arguments})


def test_tool_descriptions_carry_no_example_values_to_copy() -> None:
    tools = [*build_registry([]).tools(), knowledge_tool(lambda q: []), *memory_tools(lambda q: [], lambda f: "")]
    for item in tools:
        described = json.dumps(item.schema(), ensure_ascii=False)
        assert "e.g." not in described, item.name
        assert not re.search(r"\d{3,}", described), (item.name, described)
        # Nor a sample value of another kind: a quoted literal, an equation, a file pattern (main's
        # descriptions still offered "x^2 - 4 = 0" and "*.pdf", as copyable as a number).
        texts = [item.description, *(p.get("description", "") for p in item.parameters["properties"].values())]
        for text in texts:
            assert not re.search(r"\"[^\"]+\"|\S\s*=\s*\S|\*\.", text), (item.name, text)
        assert "Mira" not in described


def test_a_repeated_call_ends_the_loop_with_no_failure_for_the_answer(store: ConversationStore) -> None:
    repeat = _call("calculator", expression="37 * 12.49")
    engine = ScriptedEngine([repeat, repeat, "It is 462.13."])
    session = ChatSession(store, engine, Settings(), tools=build_registry([]))
    conversation = store.create()
    store.set_options(conversation.id, {"tools": True})
    events = list(session.send(conversation.id, "What is 37 times 12.49?"))
    finished = next(e for e in events if isinstance(e, TurnFinished))
    assert [(c["tool"], c["ok"]) for c in finished.tool_calls] == [("calculator", True)]
    answer_prompt = engine.history[-1][-1].content
    assert "462.13" in answer_prompt and "repeated" not in answer_prompt and "failed" not in answer_prompt


def test_after_a_result_the_decision_is_asked_to_answer_now() -> None:
    engine = ScriptedEngine([_call("calculator", expression="2 + 2"), json.dumps({"tool": "none"})])
    results = list(ToolAgent(build_registry([]), engine).run("What is 2 + 2?", CancelToken()))
    assert [r.result for r in results] == ["4"]
    second = engine.history[1][-1].content
    assert second.index('answer {"tool": "none"} now') > second.index("<<<tool calculator")
    assert "answer {" not in engine.history[0][-1].content, "before any result, no push to stop"


CHIT_CHAT = ["Hello!", "Thanks, that was helpful.", "Good morning!", "Tell me a joke.", "I had a lovely walk today."]
NEEDS_TOOLS = [
    "What time is it?",
    "What is 37 times 12.49?",
    "Read notes.txt",
    "I need 15% of 80",
    "Hello, what day is it?",
]


@pytest.mark.parametrize("message", CHIT_CHAT)
def test_chit_chat_asks_for_no_tool_decision(store: ConversationStore, message: str) -> None:
    """The bundled model called a tool (the clock, mostly) for 8 of 8 chit-chat messages."""
    engine = ScriptedEngine(["Hi there!"])
    session = ChatSession(store, engine, Settings(), tools=build_registry([]))
    conversation = store.create()
    store.set_options(conversation.id, {"tools": True})
    finished = next(e for e in session.send(conversation.id, message) if isinstance(e, TurnFinished))
    assert finished.tool_calls == [] and len(engine.history) == 1 and engine.options[0].json_schema is None


@pytest.mark.parametrize("message", NEEDS_TOOLS)
def test_questions_that_may_need_a_tool_still_get_a_decision(message: str) -> None:
    assert not is_chit_chat(message)
