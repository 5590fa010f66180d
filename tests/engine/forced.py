"""The real llama.cpp engine with a random-weight model's output forced, for tests.

``ForcedLlamaEngine`` is ``LlamaEngine`` itself (owner thread, chat template, tokenizer, sampling,
stop tokens, stream queue) with one change: a generation for which a reply was queued with
``force`` is constrained by a GBNF grammar that admits only that text, so the model "says" a
``<think>`` block, a tool call or a marker through the very path a user's model takes.

``hold_after`` pauses the owner thread after it has put the piece that completes a given text, until
the test says the consumer saw it (``release``), or a time-out passes: a consumer that waits for
the model's thread (a token count queued behind the generation) then only gets its answer after
the whole reply, which the test sees in ``generations_finished`` and ``hold_timed_out`` without
timing anything.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import deque
from typing import Any

from assistant.core.cancel import CancelToken
from assistant.core.messages import ChatMessage
from assistant.engine.base import GenerationResult, SamplingOptions, StreamItem
from assistant.engine.llama import LlamaEngine

HOLD_TIMEOUT_S = 10.0


def literal_grammar(text: str) -> str:
    """A GBNF grammar whose only sentence is ``text`` (JSON's string escapes are GBNF's too)."""
    return f"root ::= {json.dumps(text)}"


class _Gate:
    """The owner thread's side of the stream queue: it waits, once, after the held piece."""

    def __init__(self, out: queue.Queue[Any], engine: ForcedLlamaEngine) -> None:
        self.out, self.engine, self.text = out, engine, ""

    def put(self, item: Any) -> None:
        self.out.put(item)
        engine = self.engine
        if isinstance(item, str):
            self.text += item
            engine.pieces_generated += 1
            hold = engine.hold_after
            if hold is not None and hold in self.text and not engine.released.is_set():
                engine.hold_after = None
                if not engine.released.wait(HOLD_TIMEOUT_S):
                    engine.hold_timed_out = True


class ForcedLlamaEngine(LlamaEngine):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.forced: deque[str] = deque()
        self.grammars: list[str | None] = []  # per generation: the forced text, or None
        self.prompts: list[str] = []  # per generation: the prompt as the model read it, special tokens spelled
        self.hold_after: str | None = None
        self.released = threading.Event()
        self.hold_timed_out = False
        self.pieces_generated = 0
        self.generations_finished = 0

    def force(self, *replies: str) -> None:
        """The next generations' outputs, in order (tool decisions and stages count too)."""
        self.forced.extend(replies)

    def release(self) -> None:
        self.released.set()

    def _grammar_for(self, options: SamplingOptions) -> Any:
        if not self.forced:
            self.grammars.append(None)
            return super()._grammar_for(options)
        from llama_cpp.llama_grammar import LlamaGrammar

        text = self.forced.popleft()
        self.grammars.append(text)
        return LlamaGrammar.from_string(literal_grammar(text), verbose=False)

    def _generate_on_owner(
        self,
        messages: list[ChatMessage],
        options: SamplingOptions,
        cancel: CancelToken,
        abandoned: CancelToken,
        out: queue.Queue[StreamItem | BaseException],
    ) -> None:
        tools = options.tools if self.info.supports_tools else None
        tokens = self._prompt_tokens(messages, tools=tools)
        self.prompts.append(bytes(self._llm.detokenize(tokens, special=True)).decode("utf-8", "replace"))
        try:
            super()._generate_on_owner(messages, options, cancel, abandoned, _Gate(out, self))  # type: ignore[arg-type]
        finally:
            self.generations_finished += 1


def last_result(items: list[Any]) -> GenerationResult:
    return next(item for item in reversed(items) if isinstance(item, GenerationResult))
