"""Test doubles: a scripted engine and a hashing embedder, for fast tests of the logic around them.

The scripted engine:

Replies are queued with ``enqueue``; every conversation it was asked to continue is recorded in
``history`` so a test can assert on exactly what the model would have received.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence

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
        return len(_TOKEN_RE.findall(text))

    def message_overhead(self) -> int:
        return 4

    def prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return sum(self.count_tokens(m.content) + self.message_overhead() for m in messages)

    def stream(
        self, messages: Sequence[ChatMessage], options: SamplingOptions, cancel: CancelToken
    ) -> Iterator[StreamItem]:
        self.history.append(list(messages))
        self.options.append(options)
        prompt_tokens = self.prompt_tokens(messages)
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

    def close(self) -> None:
        self.closed = True


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
