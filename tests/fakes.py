"""Test doubles: a scripted engine and a hashing embedder, for fast tests of the logic around them.

The scripted engine:

Replies are queued with ``enqueue``; every conversation it was asked to continue is recorded in
``history`` so a test can assert on exactly what the model would have received.

Like the real engine, it counts tokens on the model's (one) thread: a count asked for while a reply
is being generated waits for that reply to end. Asked by the stream's own consumer it could only
wait forever (the reply is generated as the consumer reads it), so it fails the test instead: on
the real engine the consumer, and the window behind it, would see nothing until the reply was done.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence

from assistant.core.cancel import CancelToken
from assistant.core.errors import PromptTooLongError
from assistant.core.messages import ChatMessage, GenerationStats
from assistant.engine.base import (
    EngineInfo,
    FinishReason,
    GenerationResult,
    SamplingOptions,
    StreamItem,
)

_TOKEN_RE = re.compile(r"\w+|[^\w\s]")
_PIECE_RE = re.compile(r"\s*\S+|\s+")


class ScriptedEngine:
    def __init__(
        self,
        replies: Sequence[str | BaseException] = (),
        n_ctx: int = 4096,
        token_delay_s: float = 0.0,
        default_reply: str = "OK.",
        responder: Callable[[list[ChatMessage]], str] | None = None,
        supports_tools: bool = False,
        supports_tool_messages: bool = False,
    ) -> None:
        """Replies come from the queue, then from ``responder(messages)``, then ``default_reply``."""
        self._replies: deque[str | BaseException] = deque(replies)
        self.n_ctx = n_ctx
        self.token_delay_s = token_delay_s
        self.default_reply = default_reply
        self.responder = responder
        self.supports_tools = supports_tools
        self.supports_tool_messages = supports_tool_messages
        self.history: list[list[ChatMessage]] = []
        self.options: list[SamplingOptions] = []
        self.closed = False
        self._generating: dict[int, int] = {}  # consuming thread -> streams it has generating
        self._idle = threading.Condition()

    def enqueue(self, *replies: str | BaseException) -> None:
        self._replies.extend(replies)

    @property
    def pending(self) -> int:
        return len(self._replies)

    @property
    def info(self) -> EngineInfo:
        return EngineInfo(
            name="scripted",
            n_ctx=self.n_ctx,
            backend="fake",
            supports_tools=self.supports_tools,
            supports_tool_messages=self.supports_tool_messages,
        )

    def count_tokens(self, text: str) -> int:
        self._wait_for_model("count_tokens")
        return _count(text)

    def message_overhead(self) -> int:
        self._wait_for_model("message_overhead")
        return 4

    def prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        self._wait_for_model("prompt_tokens")
        return self._prompt_tokens(messages)

    def _prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(_count(m.content) + 4 for m in messages)

    def _wait_for_model(self, what: str) -> None:
        """What LlamaEngine does: tokenizing waits for the generation running on the model's thread."""
        with self._idle:
            if self._generating.get(threading.get_ident()):
                raise AssertionError(
                    f"{what} was called by the consumer of a stream while the model generates: the real "
                    "engine queues it behind the generation, so nothing reaches the window until the reply ends"
                )
            self._idle.wait_for(lambda: not self._generating, timeout=30)

    def _generation(self, delta: int) -> None:
        with self._idle:
            me = threading.get_ident()
            self._generating[me] = self._generating.get(me, 0) + delta
            if self._generating[me] <= 0:
                del self._generating[me]
            self._idle.notify_all()

    def stream(
        self, messages: Sequence[ChatMessage], options: SamplingOptions, cancel: CancelToken
    ) -> Iterator[StreamItem]:
        self.history.append(list(messages))
        self.options.append(options)
        prompt_tokens = self._prompt_tokens(messages)
        if prompt_tokens >= self.n_ctx:
            raise PromptTooLongError(
                f"The prompt needs {prompt_tokens} tokens but the context window holds {self.n_ctx}."
            )
        if self._replies:
            reply = self._replies.popleft()
        elif self.responder is not None:
            reply = self.responder(list(messages))
        else:
            reply = self.default_reply
        if isinstance(reply, BaseException):
            raise reply
        started = time.perf_counter()
        produced: list[str] = []
        self._generation(+1)
        try:
            finish, first_token_at = yield from self._pieces(reply, options, cancel, produced)
        finally:
            self._generation(-1)
        elapsed = time.perf_counter() - started
        stats = GenerationStats(
            prompt_tokens=prompt_tokens,
            prompt_tokens_evaluated=prompt_tokens,
            completion_tokens=len(produced),
            ttft_s=(first_token_at - started) if first_token_at else None,
            tokens_per_s=len(produced) / elapsed if elapsed > 0 and produced else None,
            total_s=elapsed,
        )
        yield GenerationResult("".join(produced), finish, stats, _made_up_probabilities(produced, options.logprobs))

    def _pieces(
        self, reply: str, options: SamplingOptions, cancel: CancelToken, produced: list[str]
    ) -> Generator[str, None, tuple[FinishReason, float | None]]:
        finish: FinishReason = "stop"
        first_token_at: float | None = None
        for piece in _PIECE_RE.findall(reply):
            if cancel.cancelled:
                finish = "cancelled"
                break
            if len(produced) >= options.max_tokens:
                finish = "length"
                break
            if self.token_delay_s:
                cancel.wait(self.token_delay_s)
                if cancel.cancelled:
                    finish = "cancelled"
                    break
            if first_token_at is None:
                first_token_at = time.perf_counter()
            produced.append(piece)
            yield piece
        return finish, first_token_at

    def close(self) -> None:
        self.closed = True


def _count(text: str) -> int:
    return len(_TOKEN_RE.findall(text))


def _made_up_probabilities(pieces: list[str], alternatives: int) -> list[dict[str, object]] | None:
    """Deterministic stand-ins for the UI's tests: every third piece is doubtful."""
    if not alternatives:
        return None
    entries: list[dict[str, object]] = []
    for index, piece in enumerate(pieces):
        p = 0.3 if index % 3 == 2 else 0.95
        top = [{"token": piece, "p": p}] + [
            {"token": f"alt{n}", "p": (1 - p) / (n + 2)} for n in range(alternatives - 1)
        ]
        entries.append({"token": piece, "p": p, "top": top})
    return entries


class HashingEmbedder:
    """Deterministic bag-of-words vectors for fast unit tests: same words, close vectors."""

    def __init__(self, dimension: int = 64, name: str = "hashing-test") -> None:
        self._dimension = dimension
        self._name = name
        self.calls = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        vectors = []
        for text in texts:
            vector = [0.0] * self._dimension
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                vector[int.from_bytes(digest, "little") % self._dimension] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors
