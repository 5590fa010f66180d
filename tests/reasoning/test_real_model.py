"""Thinking modes and token probabilities on the real bundled model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.chat.events import StageFinished, TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import Settings, save_settings
from assistant.core.cancel import CancelToken
from assistant.core.messages import ChatMessage
from assistant.core.store import ConversationStore
from assistant.engine.base import SamplingOptions, complete
from assistant.reasoning.reply import TurnStyle

pytestmark = pytest.mark.real_model


def test_token_probabilities_at_temperature_zero(real_engine) -> None:  # type: ignore[no-untyped-def]
    options = SamplingOptions(temperature=0.0, repeat_penalty=1.0, max_tokens=24, logprobs=5)
    result = complete(real_engine, [ChatMessage("user", "Name three colours.")], options, CancelToken())
    probs = result.token_probs
    assert probs is not None and len(probs) == result.stats.completion_tokens > 0
    for entry in probs:
        assert 0.0 <= entry["p"] <= 1.0
        assert len(entry["top"]) == 5
        assert entry["top"][0]["token"] == entry["token"], "greedy decoding picks the most probable token"
        assert entry["top"][0]["p"] == pytest.approx(entry["p"])
        assert sum(alt["p"] for alt in entry["top"]) <= 1.0 + 1e-6
        assert [alt["p"] for alt in entry["top"]] == sorted((alt["p"] for alt in entry["top"]), reverse=True)
    assert "".join(e["token"] for e in probs).strip() == result.text.strip()


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        (TurnStyle("think"), ["plan", "answer"]),
        (TurnStyle("refine"), ["draft", "critique 1"]),
        (TurnStyle("vote", votes=2), ["vote 1", "vote 2"]),
    ],
)
def test_each_mode_runs_end_to_end(
    real_engine, store: ConversationStore, style: TurnStyle, expected: list[str]
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings()
    settings.sampling.max_tokens = 32
    settings.sampling.temperature = 0.0
    session = ChatSession(store, real_engine, settings)
    events = list(session.send(store.create().id, "What is 3 times 8?", style=style))
    names = [e.stage.name for e in events if isinstance(e, StageFinished)]
    assert names[: len(expected)] == expected, names
    finished = (
        events[-1] if isinstance(events[-1], TurnFinished) else next(e for e in events if isinstance(e, TurnFinished))
    )
    assert finished.reply.content.strip()
    stages = finished.reply.stats["stages"]
    assert [s["name"] for s in stages] == names
    assert all(s["tokens"] >= 0 and s["duration_s"] >= 0 for s in stages)
    # Every stage after the first extends the conversation's prompt: the KV cache serves the prefix.
    # (at least the system message; a cold prompt would evaluate every token), and a vote repeats
    # the very same prompt, so only its last token is decoded again.
    for stage in [s for s in stages if "prompt_tokens" in s][1:]:
        reused = stage["prompt_tokens"] - stage["prompt_tokens_evaluated"]
        assert reused >= 20, stage
        if stage["name"].startswith("vote"):
            assert stage["prompt_tokens_evaluated"] <= 1, stage


def test_cli_mode_and_probabilities(hearth_home: Path) -> None:
    settings = Settings()
    settings.sampling.max_tokens = 24
    settings.sampling.temperature = 0.0
    save_settings(settings)
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--json", "--mode", "think", "--show-probs", "Name a fruit."],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert [s["name"] for s in answer["stages"]] == ["plan", "answer"]
    assert set(answer["stages"][0]) == {"name", "text", "tokens", "duration_s"}
    assert answer["token_probs"] and all(0 <= t["p"] <= 1 for t in answer["token_probs"])
    text = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--show-probs", "Name a fruit."],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert "token probabilities" in text.stdout
