"""The reply as the user gets it: a thinking mode's stages, then the final answer streamed without
the model's own thinking (which becomes a stage of its own, shown collapsed with its duration)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from assistant.core.cancel import CancelToken
from assistant.core.messages import ChatMessage
from assistant.engine.base import Engine, GenerationResult, SamplingOptions
from assistant.reasoning.echo import ScaffoldingFilter
from assistant.reasoning.modes import (
    INSTRUCTIONS,
    Mode,
    Stage,
    StageFinished,
    StageProgress,
    StageStarted,
    ThinkingRunner,
)
from assistant.reasoning.tags import ReasoningSplitter

TOP_ALTERNATIVES = 5


@dataclass(frozen=True)
class TurnStyle:
    """How one message is answered: its thinking mode, and whether token probabilities are kept."""

    mode: Mode = "direct"
    rounds: int = 1  # refine: critique-and-revise rounds (1 to 3)
    votes: int = 3  # vote: independent samples
    token_probs: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "rounds": self.rounds, "votes": self.votes, "token_probs": self.token_probs}


class ReplyStream:
    def __init__(self, engine: Engine, style: TurnStyle) -> None:
        self.engine = engine
        self.style = style
        self.runner = ThinkingRunner(engine, style.rounds, style.votes)
        self.splitter = ReasoningSplitter(start_thinking=engine.info.opens_thinking)
        # Whatever the mode, the answer shown carries none of Hearth's own markers or instructions.
        self.scaffolding = ScaffoldingFilter(INSTRUCTIONS)
        self.result: GenerationResult | None = None
        self._thinking_from: float | None = None
        self._thinking_until: float | None = None
        # Counted from the stream itself (an engine yields about one piece per token): asking the
        # engine would queue behind the generation on the model's owner thread, and the reply would
        # stall until the whole of it was written.
        self._thinking_tokens = 0

    @property
    def stages(self) -> list[Stage]:
        """The stages so far: those completed, then the one being written, if any."""
        stages = list(self.runner.stages)
        if self.runner.running is not None:
            stages.append(replace(self.runner.running, text=self.runner.running.text.strip()))
        thinking = self.splitter.thinking.strip()
        if thinking:
            started = self._thinking_from or 0.0
            seconds = (self._thinking_until or time.perf_counter()) - started if started else 0.0
            note = "the thinking never closed" if self.splitter.unclosed else ""
            stage = Stage("thinking", thinking, self._thinking_tokens, seconds, note)
            stages.insert(max(len(stages) - 1, 0), stage)  # before the final stage it belongs to
        return stages

    def run(
        self, prompt: list[ChatMessage], options: SamplingOptions, cancel: CancelToken
    ) -> Iterator[str | StageStarted | StageFinished | StageProgress]:
        """Answer text as it comes, and stage events; ``result`` is set at the end, its text the answer alone."""
        if self.style.token_probs:
            options = replace(options, logprobs=TOP_ALTERNATIVES)
        for item in self.runner.run(self.style.mode, prompt, options, cancel):
            if isinstance(item, GenerationResult):
                self.result = item
                break
            if not isinstance(item, str):
                yield item
                continue
            segments = self.splitter.feed(item)
            if any(segment.kind == "thinking" for segment in segments):
                self._thinking_tokens += 1
            for segment in segments:
                if segment.kind == "thinking":
                    self._thinking_from = self._thinking_from or time.perf_counter()
                    self._thinking_until = time.perf_counter()
                    yield StageProgress("thinking", segment.text)
                elif shown := self.scaffolding.feed(segment.text):
                    yield shown
        for segment in self.splitter.finish():
            if segment.kind == "answer":
                if shown := self.scaffolding.feed(segment.text):
                    yield shown
            else:
                self._thinking_tokens += 1
        if shown := self.scaffolding.finish():
            yield shown
        assert self.result is not None, "the engine's stream ended without a result"
        if self.splitter.thinking or self.scaffolding.text != self.splitter.answer:
            self.result.text = self.scaffolding.text.strip()
