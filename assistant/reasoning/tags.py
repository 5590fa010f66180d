"""Split a reasoning model's output into its thinking and its answer, as the text streams.

Models that think in tags write ``<think>…</think>`` (DeepSeek-R1, Qwen3, QwQ), ``<thinking>…``,
``<reasoning>…``, ``[THINK]…[/THINK]`` (Magistral) or ``<|begin_of_thought|>…<|end_of_thought|>``
before the answer. Some templates open the block in the generation prompt itself (R1's distills),
so the output starts inside the thinking: ``start_thinking=True``.

An opening tag counts only before any answer text (a reply that talks about ``<think>`` tags is
left alone); a tag split across stream chunks is held back until it is complete; a block that
never closes is all thinking, and ``unclosed`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TAG_PAIRS: tuple[tuple[str, str], ...] = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("<reasoning>", "</reasoning>"),
    ("[THINK]", "[/THINK]"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
)
Kind = Literal["thinking", "answer"]


@dataclass(frozen=True)
class Segment:
    kind: Kind
    text: str


class ReasoningSplitter:
    def __init__(self, start_thinking: bool = False) -> None:
        self.thinking = ""
        self.answer = ""
        self._buffer = ""
        self._closing: str | None = "</think>" if start_thinking else None
        self._state: Literal["start", "thinking", "answer"] = "thinking" if start_thinking else "start"
        self._closings = {close for _, close in TAG_PAIRS}
        self._after_close = False

    @property
    def unclosed(self) -> bool:
        return self._state == "thinking"

    def feed(self, chunk: str) -> list[Segment]:
        self._buffer += chunk
        segments: list[Segment] = []
        while self._buffer:
            if self._state == "start":
                stripped = self._buffer.lstrip()
                opened = next((pair for pair in TAG_PAIRS if stripped.startswith(pair[0])), None)
                if opened is not None:
                    self._buffer = stripped[len(opened[0]) :]
                    self._state, self._closing = "thinking", opened[1]
                    continue
                if stripped and any(open_.startswith(stripped) for open_, _ in TAG_PAIRS):
                    break  # maybe the start of a tag: wait for more
                if not stripped:
                    break  # only whitespace so far
                self._state = "answer"
            if self._state == "answer":
                if self._after_close:
                    # The line breaks after a closing tag come as tokens of their own: not the answer's.
                    self._buffer = self._buffer.lstrip("\n")
                    if not self._buffer:
                        break
                    self._after_close = False
                segments.append(self._emit("answer", self._buffer))
                self._buffer = ""
                break
            # thinking: look for any closing tag (R1-style blocks opened by the template use </think>).
            position, tag = self._find_closing()
            if tag is not None:
                if position:
                    segments.append(self._emit("thinking", self._buffer[:position]))
                self._buffer = self._buffer[position + len(tag) :]
                self._state, self._after_close = "answer", True
                continue
            keep = self._partial_suffix()
            text = self._buffer[: len(self._buffer) - keep]
            if text:
                segments.append(self._emit("thinking", text))
            self._buffer = self._buffer[len(self._buffer) - keep :]
            break
        return [s for s in segments if s.text]

    def finish(self) -> list[Segment]:
        """Whatever is held back: at the end of the stream a partial tag is just text."""
        rest, self._buffer = self._buffer, ""
        if not rest:
            return []
        if self._state == "thinking":
            return [self._emit("thinking", rest)]
        if self._state == "start" and not rest.strip():
            return []
        self._state = "answer"
        return [self._emit("answer", rest)]

    def _emit(self, kind: Kind, text: str) -> Segment:
        if kind == "thinking":
            self.thinking += text
        else:
            self.answer += text
        return Segment(kind, text)

    def _find_closing(self) -> tuple[int, str | None]:
        found: tuple[int, str | None] = (-1, None)
        for tag in self._closings:
            position = self._buffer.find(tag)
            if position >= 0 and (found[1] is None or position < found[0]):
                found = (position, tag)
        return found

    def _partial_suffix(self) -> int:
        """How many trailing characters could be the start of a closing tag."""
        longest = 0
        for tag in self._closings:
            for size in range(min(len(tag) - 1, len(self._buffer)), 0, -1):
                if self._buffer.endswith(tag[:size]):
                    longest = max(longest, size)
                    break
        return longest


def split_reasoning(text: str, start_thinking: bool = False) -> tuple[str, str, bool]:
    """(thinking, answer, unclosed) of a complete reply."""
    splitter = ReasoningSplitter(start_thinking)
    splitter.feed(text)
    splitter.finish()
    return splitter.thinking.strip(), splitter.answer.strip(), splitter.unclosed
