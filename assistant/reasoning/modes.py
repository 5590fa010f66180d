"""Thinking modes: the answer is not returned at once but planned, checked and revised, or sampled
several times and reconciled. Each stage is a generation of its own, recorded with its text,
tokens and time; the last one streams as the reply.

Every stage's prompt is the conversation's prompt with something appended (an instruction added to
the newest message, or the draft and the critique after it), so llama.cpp's KV cache serves the
shared prefix and a stage costs only its own new tokens.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any, Literal

from assistant.core.cancel import CancelToken
from assistant.core.messages import ChatMessage, newest_user_text, with_instruction
from assistant.engine.base import Engine, GenerationResult, SamplingOptions, StreamItem
from assistant.reasoning.echo import only_echo, strip_echo, undecided

Mode = Literal["direct", "think", "refine", "vote"]
MODES: tuple[Mode, ...] = ("direct", "think", "refine", "vote")
MAX_ROUNDS = 3
SHORT_ANSWER_WORDS = 12

THINK_INSTRUCTION = (
    "Before answering, think it through step by step: write a short plan, then work through the steps. "
    "Write only your notes, not the final answer."
)
# The notes stay the model's own turn and the request comes after them, so the answer stage reuses
# the plan stage's whole prompt from the KV cache; it asks for the answer itself because with the
# notes pasted into a request ("Your notes: … the message above") the answer often repeated the question.
FINAL_FROM_NOTES = (
    "Now answer my message itself, using your notes. Begin with the answer; do not repeat my message, "
    "the notes or these words."
)
ECHO_NOTE = "only repeated the question: discarded, and answered directly"
CRITIQUE_INSTRUCTION = (
    "Check your answer above against the question: list its errors, gaps and claims that are not supported"
    "{library}. List nothing if the answer is correct and complete. Answer with JSON."
)
LIBRARY_CHECK = ", and every claim that is not backed by one of the numbered passages"
MERGE_INSTRUCTION = (
    "{count} candidate answers to the message above:\n{candidates}\n\n"
    "Write one final answer: keep what they agree on and the best of each. Begin with the answer itself; "
    "do not mention the candidates."
)
REVISE_INSTRUCTION = (
    "Write the answer again, fixing these issues. Begin with the answer itself; do not mention the issues."
)
# Hearth's own words to the model: an answer that opens by repeating one has that opening cut.
INSTRUCTIONS = (THINK_INSTRUCTION, FINAL_FROM_NOTES, CRITIQUE_INSTRUCTION, MERGE_INSTRUCTION, REVISE_INSTRUCTION)
CRITIQUE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"issues": {"type": "array", "maxItems": 5, "items": {"type": "string", "maxLength": 200}}},
    "required": ["issues"],
    "additionalProperties": False,
}


@dataclass
class Stage:
    name: str
    text: str
    tokens: int
    duration_s: float
    note: str = ""
    prompt_tokens: int = 0
    evaluated: int | None = None  # prompt tokens llama.cpp decoded; the rest came from the KV cache

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "text": self.text,
            "tokens": self.tokens,
            "duration_s": round(self.duration_s, 3),
        }
        if self.note:
            data["note"] = self.note
        if self.prompt_tokens:
            data["prompt_tokens"] = self.prompt_tokens
            data["prompt_tokens_evaluated"] = self.evaluated
        return data


@dataclass(frozen=True)
class StageStarted:
    name: str


@dataclass(frozen=True)
class StageFinished:
    stage: Stage


@dataclass(frozen=True)
class StageProgress:
    """A piece of a stage's text as it is written (a plan, a draft, the model's thinking), so the
    reply can be checkpointed while a stage that is not the answer runs."""

    name: str
    text: str


ModeItem = StreamItem | StageStarted | StageFinished | StageProgress


class StageCancelled(Exception):
    pass


class ThinkingRunner:
    """Runs one mode; ``stages`` holds what completed, also after a cancel or a failure, and
    ``running`` the stage being written (its text so far)."""

    def __init__(self, engine: Engine, rounds: int = 1, votes: int = 3) -> None:
        self.engine = engine
        self.rounds = max(1, min(rounds, MAX_ROUNDS))
        self.votes = max(2, votes)
        self.stages: list[Stage] = []
        self.running: Stage | None = None

    def run(
        self, mode: Mode, prompt: list[ChatMessage], options: SamplingOptions, cancel: CancelToken
    ) -> Iterator[ModeItem]:
        """Like Engine.stream (text pieces of the final answer, then its result), with stage events."""
        if mode == "direct":
            yield from self.engine.stream(prompt, options, cancel)
            return
        steps = {"think": self._think, "refine": self._refine, "vote": self._vote}[mode]
        try:
            yield from steps(prompt, options, cancel)
        except StageCancelled:
            yield GenerationResult("", "cancelled")

    # ----- stages -------------------------------------------------------------------------------

    def _stage(
        self, name: str, prompt: list[ChatMessage], options: SamplingOptions, cancel: CancelToken
    ) -> Iterator[ModeItem]:
        yield StageStarted(name)
        started = time.perf_counter()
        running = self.running = Stage(name, "", 0, 0.0, "not finished")
        result: GenerationResult | None = None
        try:
            for item in self.engine.stream(prompt, options, cancel):
                if isinstance(item, GenerationResult):
                    result = item
                    break
                running.text += item
                yield StageProgress(name, item)
        except Exception:
            if running.text.strip():  # what it had written is kept, marked as cut short
                self.stages.append(replace(running, text=running.text.strip(), note="stopped by an error"))
            raise
        finally:
            self.running = None
        assert result is not None, "the engine's stream ended without a result"
        if result.finish_reason == "cancelled":
            raise StageCancelled()
        stage = _stage_of(name, result, started)
        self.stages.append(stage)
        yield StageFinished(stage)

    def _final(
        self, name: str, prompt: list[ChatMessage], options: SamplingOptions, cancel: CancelToken
    ) -> Iterator[ModeItem]:
        """The last stage streams as the reply; it is recorded as a stage too."""
        yield StageStarted(name)
        started = time.perf_counter()
        for item in self.engine.stream(prompt, options, cancel):
            if isinstance(item, GenerationResult) and item.finish_reason != "cancelled":
                stage = _stage_of(name, item, started)
                self.stages.append(stage)
                yield StageFinished(stage)
            yield item

    def _given(self, name: str, text: str, note: str) -> Iterator[ModeItem]:
        """A final answer decided without generating (an early stop, a majority): one piece."""
        stage = Stage(name, text, 0, 0.0, note)
        self.stages.append(stage)
        yield StageFinished(stage)
        yield text
        yield GenerationResult(text, "stop")

    def _think(self, prompt: list[ChatMessage], options: SamplingOptions, cancel: CancelToken) -> Iterator[ModeItem]:
        planned = with_instruction(prompt, THINK_INSTRUCTION)
        yield from self._stage("plan", planned, options, cancel)
        notes = self.stages[-1].text
        answer = [*planned, ChatMessage("assistant", notes), ChatMessage("user", FINAL_FROM_NOTES)]
        yield from self._checked_final("answer", answer, prompt, options, cancel)

    def _checked_final(
        self,
        name: str,
        prompt: list[ChatMessage],
        fallback: list[ChatMessage],
        options: SamplingOptions,
        cancel: CancelToken,
    ) -> Iterator[ModeItem]:
        """``_final``, with the opening held back until it can be told from an echo: a repeated question
        or a made-up frame (``<<<Question: …>>>``) is cut before it streams, and an answer that was
        nothing else is discarded for a direct answer to ``fallback`` (the plain prompt)."""
        question = newest_user_text(fallback)
        yield StageStarted(name)
        started = time.perf_counter()
        held, released, sent = "", False, []
        for item in self.engine.stream(prompt, options, cancel):
            if isinstance(item, str):
                if released:
                    sent.append(item)
                    yield item
                    continue
                held += item
                if undecided(held, question):
                    continue
                released = True
                item = strip_echo(held, question, INSTRUCTIONS)
                if item:
                    sent.append(item)
                    yield item
                continue
            if item.finish_reason == "cancelled":
                yield replace(item, text="".join(sent))
                return
            if not released:
                opening = strip_echo(held, question, INSTRUCTIONS)
                if opening:
                    sent.append(opening)
                    yield opening
            text = "".join(sent)
            if only_echo(text, question, INSTRUCTIONS):
                discarded = Stage(f"{name} (discarded)", item.text.strip(), item.stats.completion_tokens, 0.0)
                self.stages.append(replace(discarded, note=ECHO_NOTE))
                yield from self._final(name, fallback, options, cancel)
                return
            result = replace(item, text=text)
            stage = _stage_of(name, result, started)
            if text.strip() != item.text.strip():
                stage.note = "its opening repeated the question or the prompt's frames: cut"
            self.stages.append(stage)
            yield StageFinished(stage)
            yield result

    def _refine(self, prompt: list[ChatMessage], options: SamplingOptions, cancel: CancelToken) -> Iterator[ModeItem]:
        yield from self._stage("draft", prompt, options, cancel)
        answer = self.stages[-1].text
        library = LIBRARY_CHECK if "<<<passage [" in newest_user_text(prompt) else ""
        critique_options = replace(options, temperature=0.0, json_schema=CRITIQUE_SCHEMA, max_tokens=300, seed=0)
        for round_number in range(1, self.rounds + 1):
            asked = [
                *prompt,
                ChatMessage("assistant", answer),
                ChatMessage("user", CRITIQUE_INSTRUCTION.format(library=library)),
            ]
            yield from self._stage(f"critique {round_number}", asked, critique_options, cancel)
            critique = self.stages[-1]
            raw = critique.text
            issues = _issues(raw)
            if issues is None:
                critique.note = "the critique was not valid JSON; the answer stands"
            else:
                # Shown as the list it is, not as the JSON the grammar made the model write.
                critique.text = "\n".join(f"- {issue}" for issue in issues) or "No issues found."
            if not issues:
                critique.note = critique.note or "no issues found: stopped early"
                yield from self._given("answer", answer, "the last answer stands")
                return
            revise = [*asked, ChatMessage("assistant", raw), ChatMessage("user", REVISE_INSTRUCTION)]
            if round_number == self.rounds:
                yield from self._final(f"revision {round_number}", revise, options, cancel)
                return
            yield from self._stage(f"revision {round_number}", revise, options, cancel)
            answer = self.stages[-1].text

    def _vote(self, prompt: list[ChatMessage], options: SamplingOptions, cancel: CancelToken) -> Iterator[ModeItem]:
        base_seed = options.seed if options.seed is not None else 1234
        sampled = replace(options, temperature=max(options.temperature, 0.7))
        for index in range(self.votes):
            yield from self._stage(f"vote {index + 1}", prompt, replace(sampled, seed=base_seed + index), cancel)
        answers = [stage.text for stage in self.stages[-self.votes :]]
        winner = majority(answers)
        if winner is not None:
            answer, count = winner
            yield from self._given("answer", answer, f"majority: {count} of {len(answers)} agree")
            return
        candidates = "\n".join(f"{n}. {text}" for n, text in enumerate(answers, 1))
        merge = MERGE_INSTRUCTION.format(count=len(answers), candidates=candidates)
        yield from self._final("merge", with_instruction(prompt, merge), options, cancel)


def _stage_of(name: str, result: GenerationResult, started: float) -> Stage:
    stats = result.stats
    return Stage(
        name,
        result.text.strip(),
        stats.completion_tokens,
        time.perf_counter() - started,
        prompt_tokens=stats.prompt_tokens,
        evaluated=stats.prompt_tokens_evaluated,
    )


def _issues(raw: str) -> list[str] | None:
    """The critique's issues; one without a word in it ("1.0", a small model's filler) is none."""
    try:
        issues = json.loads(raw)["issues"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return None
    if not isinstance(issues, list):
        return None
    return [text for text in (str(i).strip() for i in issues) if re.search(r"[^\W\d_]", text)]


def _normalise(answer: str) -> str:
    numbers = re.findall(r"-?\d+(?:[.,]\d+)?", answer)
    if len(numbers) == 1:
        return str(numbers[0]).replace(",", ".")
    return " ".join(re.sub(r"[^\w\s]", " ", answer.lower()).split())


def majority(answers: list[str]) -> tuple[str, int] | None:
    """For short factual or numeric answers: the one most of them agree on (more than half), else None."""
    if not answers or any(len(a.split()) > SHORT_ANSWER_WORDS for a in answers):
        return None
    counts = Counter(_normalise(a) for a in answers)
    key, count = counts.most_common(1)[0]
    if count * 2 <= len(answers):
        return None
    return next(a for a in answers if _normalise(a) == key), count
