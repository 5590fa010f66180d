"""Thinking modes on the fake engine: the prompts and order of stages, early stopping, voting,
reasoning tags in the reply, cancels and failures between stages."""

from __future__ import annotations

import json

import pytest

from assistant.chat.events import ReplyToken, StageFinished, StageStarted, TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core.cancel import CancelToken
from assistant.core.errors import EngineError
from assistant.core.messages import ChatMessage, MessageStatus
from assistant.core.store import ConversationStore
from assistant.engine.base import SamplingOptions
from assistant.reasoning.modes import CRITIQUE_SCHEMA, ThinkingRunner, majority
from assistant.reasoning.reply import TurnStyle
from tests.fakes import ScriptedEngine

QUESTION = "How many legs do three spiders have?"


def _turn(store: ConversationStore, engine: ScriptedEngine, style: TurnStyle, text: str = QUESTION) -> list[object]:
    session = ChatSession(store, engine, Settings())
    return list(session.send(store.create().id, text, style=style))


def _finished(events: list[object]) -> TurnFinished:
    return next(e for e in events if isinstance(e, TurnFinished))


def _stage_names(events: list[object]) -> list[str]:
    return [e.stage.name for e in events if isinstance(e, StageFinished)]


def test_think_plans_then_answers_with_the_plan_in_context(store: ConversationStore) -> None:
    engine = ScriptedEngine(["Plan: 8 legs each, times 3.", "24 legs."])
    events = _turn(store, engine, TurnStyle("think"))
    assert [e.name for e in events if isinstance(e, StageStarted)] == ["plan", "answer"]
    plan_prompt, answer_prompt = engine.history
    assert plan_prompt[-1].content.startswith(QUESTION) and "step by step" in plan_prompt[-1].content
    # The answer stage extends the plan stage's whole prompt (one KV cache prefix), the notes as the
    # model's own turn and then a request that does not quote the message back.
    assert answer_prompt[: len(plan_prompt)] == plan_prompt
    assert (answer_prompt[-2].role, answer_prompt[-2].content) == ("assistant", "Plan: 8 legs each, times 3.")
    assert QUESTION not in answer_prompt[-1].content and "do not repeat my message" in answer_prompt[-1].content
    finished = _finished(events)
    assert finished.reply.content == "24 legs."
    stages = finished.reply.stats["stages"]
    assert [s["name"] for s in stages] == ["plan", "answer"] and stages[0]["text"] == "Plan: 8 legs each, times 3."
    assert all(set(s) >= {"name", "text", "tokens", "duration_s"} for s in stages)
    assert "".join(e.text for e in events if isinstance(e, ReplyToken)) == "24 legs.", "only the answer streams"


def test_refine_critiques_then_revises(store: ConversationStore) -> None:
    critique = json.dumps({"issues": ["3 times 8 is 24, not 21."]})
    engine = ScriptedEngine(["21 legs.", critique, "24 legs."])
    events = _turn(store, engine, TurnStyle("refine"))
    assert _stage_names(events) == ["draft", "critique 1", "revision 1"]
    draft, asked, revise = engine.history
    assert asked[-2] == ChatMessage("assistant", "21 legs.") and asked[:-2] == draft
    assert engine.options[1].json_schema == CRITIQUE_SCHEMA and engine.options[1].temperature == 0.0
    assert revise[-2].content == critique and "fixing these issues" in revise[-1].content
    assert _finished(events).reply.content == "24 legs."


def test_refine_stops_early_when_the_critique_finds_nothing(store: ConversationStore) -> None:
    engine = ScriptedEngine(["24 legs.", json.dumps({"issues": []}), "never used"])
    events = _turn(store, engine, TurnStyle("refine", rounds=3))
    assert _stage_names(events) == ["draft", "critique 1", "answer"]
    finished = _finished(events)
    assert finished.reply.content == "24 legs." and engine.pending == 1
    assert finished.reply.stats["stages"][1]["note"].startswith("no issues found")


def test_refine_rounds_are_capped(store: ConversationStore) -> None:
    issue = json.dumps({"issues": ["still wrong"]})
    engine = ScriptedEngine(["a", issue, "b", issue, "c", issue, "d", issue, "e"])
    events = _turn(store, engine, TurnStyle("refine", rounds=9))
    assert _stage_names(events)[-1] == "revision 3" and _finished(events).reply.content == "d"


def test_refine_checks_citations_for_library_answers(store: ConversationStore) -> None:
    engine = ScriptedEngine(["x", json.dumps({"issues": []})])
    prompt = [ChatMessage("user", "<<<passage [1] from a.txt>>>\ntext\n<<<end of passage [1]>>>\n\nQ?")]

    list(ThinkingRunner(engine).run("refine", prompt, SamplingOptions(), CancelToken()))
    assert "numbered passages" in engine.history[1][-1].content


def test_vote_takes_the_majority_of_short_answers(store: ConversationStore) -> None:
    engine = ScriptedEngine(["24", "It is 24.", "21"])
    events = _turn(store, engine, TurnStyle("vote", votes=3))
    assert _stage_names(events) == ["vote 1", "vote 2", "vote 3", "answer"]
    assert [o.seed for o in engine.options] == [1234, 1235, 1236] and all(o.temperature >= 0.7 for o in engine.options)
    assert engine.history[0] == engine.history[1] == engine.history[2], "the same prompt: the KV cache serves it"
    finished = _finished(events)
    assert finished.reply.content == "24" and finished.reply.stats["stages"][-1]["note"] == "majority: 2 of 3 agree"


def test_vote_merges_long_or_split_answers(store: ConversationStore) -> None:
    engine = ScriptedEngine(["Red.", "Blue.", "Green.", "Red, blue or green: no agreement."])
    events = _turn(store, engine, TurnStyle("vote", votes=3), text="Which colour?")
    assert _stage_names(events)[-1] == "merge"
    assert "1. Red.\n2. Blue.\n3. Green." in engine.history[-1][-1].content
    assert _finished(events).reply.content == "Red, blue or green: no agreement."
    assert majority(["7", "seven", "7.0"]) is None and majority(["7", "7", "8"]) == ("7", 2)


def test_reasoning_tags_become_a_stage_and_only_the_answer_is_kept(store: ConversationStore) -> None:
    engine = ScriptedEngine(["<think>Three spiders, eight legs.</think>\n\n24 legs.", "Next answer."])
    session = ChatSession(store, engine, Settings())
    conversation = store.create()
    events = list(session.send(conversation.id, QUESTION))
    finished = _finished(events)
    assert finished.reply.content == "24 legs."
    assert finished.reply.stats["stages"][0]["name"] == "thinking"
    assert finished.reply.stats["stages"][0]["text"] == "Three spiders, eight legs."
    streamed = "".join(e.text for e in events if isinstance(e, ReplyToken))
    assert streamed.strip() == "24 legs." and "<think>" not in streamed
    list(session.send(conversation.id, "And four?"))
    history_text = " ".join(m.content for m in engine.history[-1])
    assert "Three spiders, eight legs" not in history_text, "later turns see only the answer"


def test_a_cancel_in_the_first_stage_starts_no_other(store: ConversationStore) -> None:
    cancel = CancelToken()

    def responder(messages: list[ChatMessage]) -> str:
        cancel.cancel()  # the user presses Stop during the plan
        return "Plan: count."

    engine = ScriptedEngine(responder=responder)
    session = ChatSession(store, engine, Settings())
    events = list(session.send(store.create().id, QUESTION, cancel, TurnStyle("think")))
    assert len(engine.history) == 1, "no stage started after the cancel"
    assert not [e for e in events if isinstance(e, StageFinished)]


def test_a_cancel_in_the_last_stage_keeps_the_stages_that_completed(store: ConversationStore) -> None:
    cancel = CancelToken()
    calls: list[int] = []

    def responder(messages: list[ChatMessage]) -> str:
        calls.append(1)
        if len(calls) == 2:
            cancel.cancel()  # Stop while the answer streams
        return "Plan: count." if len(calls) == 1 else "Twenty four legs in total."

    engine = ScriptedEngine(responder=responder)
    session = ChatSession(store, engine, Settings())
    conversation = store.create()
    events = list(session.send(conversation.id, QUESTION, cancel, TurnStyle("think")))
    assert _finished(events).result.finish_reason == "cancelled"
    reply = store.messages(conversation.id)[-1]
    assert reply.status == MessageStatus.STOPPED
    assert [s["name"] for s in reply.stats["stages"]] == ["plan"]


def test_a_failing_stage_shows_what_completed_and_why(store: ConversationStore) -> None:
    engine = ScriptedEngine(["24 legs.", EngineError("the model crashed")])
    session = ChatSession(store, engine, Settings())
    conversation = store.create()
    with pytest.raises(EngineError):
        list(session.send(conversation.id, QUESTION, style=TurnStyle("refine")))
    reply = store.messages(conversation.id)[-1]
    assert reply.status == MessageStatus.FAILED
    assert [s["name"] for s in reply.stats["stages"]] == ["draft"] and "crashed" in reply.stats["error"]


def test_tool_calls_open_the_timeline(store: ConversationStore) -> None:
    from assistant.tools.builtin import build_registry

    decisions = [json.dumps({"tool": "calculator", "arguments": {"expression": "3*8"}}), json.dumps({"tool": "none"})]
    engine = ScriptedEngine([*decisions, "Plan: use the result.", "24 legs."])
    session = ChatSession(store, engine, Settings(), tools=build_registry([]))
    conversation = store.create()
    store.set_options(conversation.id, {"tools": True})
    finished = _finished(list(session.send(conversation.id, "Legs of three spiders?", style=TurnStyle("think"))))
    stages = finished.reply.stats["stages"]
    assert [s["name"] for s in stages] == ["tool calculator", "plan", "answer"]
    assert stages[0]["text"] == "24"


class _Snapshotting(ScriptedEngine):
    """Looks at the stored reply before each piece it writes, as a second process would."""

    def __init__(self, store: ConversationStore, replies: list[str]) -> None:
        super().__init__(replies)
        self.store = store
        self.seen: list[tuple[str, dict[str, object]]] = []

    def stream(self, messages, options, cancel):  # type: ignore[no-untyped-def]
        for item in super().stream(messages, options, cancel):
            conversation = self.store.conversations()[0]
            last = self.store.messages(conversation.id)[-1]
            if last.role == "assistant":
                self.seen.append((last.content, last.stats))
            yield item


def _every_call_a_second_later() -> object:
    ticks = iter(range(0, 10_000, 2))
    return lambda: float(next(ticks))


def test_every_stage_is_checkpointed_while_it_streams(store: ConversationStore) -> None:
    """A crash during a long refine kept nothing but the answer's text: the draft and the critique
    being written are now in the stored reply as they stream."""
    draft = "The river floods in spring because the snow on the mountains melts quickly."
    engine = _Snapshotting(store, [draft, json.dumps({"issues": ["say which river"]}), "The Rhine floods in spring."])
    session = ChatSession(store, engine, Settings(), clock=_every_call_a_second_later())  # type: ignore[arg-type]
    list(session.send(store.create().id, "Why does the river flood?", style=TurnStyle("refine")))
    during_critique = [
        stats for _, stats in engine.seen if any(s["name"] == "critique 1" for s in stats.get("stages", []))
    ]
    assert during_critique, engine.seen
    unfinished = [
        {s["name"]: s for s in stats["stages"]}
        for stats in during_critique
        if any(s.get("note") == "not finished" for s in stats["stages"])
    ]
    assert unfinished and unfinished[-1]["draft"]["text"] == draft
    assert unfinished[-1]["critique 1"]["text"].startswith('{"issues"')
    during_draft = [stats for _, stats in engine.seen if any(s["name"] == "draft" for s in stats.get("stages", []))]
    assert during_draft[0]["stages"][0]["text"]  # part of the draft, before it finished


def test_the_models_thinking_is_checkpointed_while_it_streams(store: ConversationStore) -> None:
    thoughts = "First I recall that water boils at one hundred degrees at sea level, then I check the altitude."
    engine = _Snapshotting(store, [f"<think>{thoughts}</think>It boils at 100 °C."])
    session = ChatSession(store, engine, Settings(), clock=_every_call_a_second_later())  # type: ignore[arg-type]
    list(session.send(store.create().id, "At what temperature does water boil?"))
    thinking = [stats["stages"] for content, stats in engine.seen if not content and stats.get("stages")]
    assert thinking and thinking[-1][0]["name"] == "thinking"
    assert thoughts.startswith(thinking[-1][0]["text"]) and len(thinking[-1][0]["text"]) > 20
