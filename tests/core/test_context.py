from __future__ import annotations

import pytest

from assistant.core.context import BACKGROUND_CLOSES, BACKGROUND_OPENS, SECTIONS, ContextBuilder, HistoryItem
from assistant.core.errors import PromptTooLongError
from tests.fakes import ScriptedEngine


def _history(turns: int, words: int = 10) -> list[HistoryItem]:
    items = []
    for n in range(turns):
        items.append(HistoryItem(2 * n + 1, "user", f"question {n} " + "word " * words))
        items.append(HistoryItem(2 * n + 2, "assistant", f"answer {n} " + "word " * words))
    items.append(HistoryItem(2 * turns + 1, "user", "the new question"))
    return items


def test_everything_fits_and_the_breakdown_adds_up() -> None:
    engine = ScriptedEngine(n_ctx=1000)
    builder = ContextBuilder(engine, n_ctx=1000, reply_reserve=100)
    history = _history(2)
    built = builder.build("Be kind.", history, sections={"memories": "Likes tea."})
    assert [m.role for m in built.messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert built.messages[0].content == "Be kind."
    # This turn's material goes with the newest message, so the prompt's prefix stays reusable.
    newest = built.messages[-1].content
    assert newest.startswith(f"{BACKGROUND_OPENS}\n\n## What you remember about the user\nLikes tea.")
    assert newest.endswith(f"{BACKGROUND_CLOSES}\n\nthe new question"), "the message itself comes last, unheaded"
    assert built.overflow == [] and built.dropped == 0
    b = built.breakdown
    assert set(SECTIONS) <= set(b) and b["reply_reserve"] == 100
    assert b["memories"] > 0 and b["passages"] == 0
    assert sum(b[s] for s in SECTIONS) + b["free"] + b["reply_reserve"] == 1000
    assert b["history"] == sum(builder.message_tokens(item.content) for item in history)


def test_old_turns_that_do_not_fit_are_reported_not_silently_cut() -> None:
    engine = ScriptedEngine(n_ctx=200)
    builder = ContextBuilder(engine, n_ctx=200, reply_reserve=40)
    history = _history(10)
    built = builder.build("S", history)
    assert built.overflow, "overflowing history must be reported"
    assert built.messages[-1].content == "the new question"
    assert built.messages[1].role == "user"  # never starts on a reply without its question
    kept = len(built.messages) - 1
    assert [i.id for i in built.overflow] == [i.id for i in history[: len(history) - kept]]
    assert built.used <= builder.budget


def test_summary_replaces_the_turns_it_covers() -> None:
    engine = ScriptedEngine(n_ctx=1000)
    builder = ContextBuilder(engine, n_ctx=1000, reply_reserve=100)
    history = _history(3)
    built = builder.build("S", history, summary="They discussed words.", summary_through=4)
    assert "They discussed words." in built.messages[0].content
    assert built.breakdown["summary"] > 0
    assert [m.content.split()[0] for m in built.messages[1:]] == ["question", "answer", "the"]
    assert "question 0" not in " ".join(m.content for m in built.messages)


def test_fold_plan_leaves_room_for_coming_turns() -> None:
    engine = ScriptedEngine(n_ctx=300)
    builder = ContextBuilder(engine, n_ctx=300, reply_reserve=50)
    history = _history(12)
    built = builder.build("S", history)
    plan = builder.fold_plan(history, built)
    assert len(plan) > len(built.overflow)  # folds more than the bare overflow
    assert plan[0] == history[0]
    rebuilt = builder.build("S", history, summary="short summary", summary_through=plan[-1].id)
    assert rebuilt.overflow == []
    assert rebuilt.breakdown["free"] > 0.3 * (rebuilt.breakdown["history"] + rebuilt.breakdown["free"])


def test_a_message_too_large_for_the_window() -> None:
    engine = ScriptedEngine(n_ctx=100)
    builder = ContextBuilder(engine, n_ctx=100, reply_reserve=30)
    with pytest.raises(PromptTooLongError, match="context window"):
        builder.build("S", [HistoryItem(1, "user", "word " * 200)])
