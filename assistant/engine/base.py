"""What every engine offers: streaming chat with cancellation, token counting and capability flags."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from assistant.config import SamplingSettings
from assistant.core.cancel import CancelToken
from assistant.core.messages import ChatMessage, GenerationStats

FinishReason = Literal["stop", "length", "cancelled"]
_DEFAULTS = SamplingSettings()


@dataclass(frozen=True)
class SamplingOptions:
    # The defaults are the settings' own (config.SamplingSettings): one definition.
    temperature: float = _DEFAULTS.temperature
    top_p: float = _DEFAULTS.top_p
    top_k: int = _DEFAULTS.top_k
    min_p: float = _DEFAULTS.min_p
    repeat_penalty: float = _DEFAULTS.repeat_penalty
    max_tokens: int = _DEFAULTS.max_tokens
    seed: int | None = _DEFAULTS.seed
    # Constrain the reply to JSON matching this schema (a grammar in llama.cpp; response_format on
    # servers), so even a small model can only produce a valid tool call.
    json_schema: dict[str, Any] | None = None
    # OpenAI-style function definitions, rendered by templates that describe tools natively
    # (EngineInfo.supports_tools); other engines ignore them.
    tools: list[dict[str, Any]] | None = None
    # Record each generated token's probability and this many alternatives (0: off; costs a little speed).
    logprobs: int = 0
    # The last message is the assistant's reply so far: the model carries it on from its last word
    # (the generation prompt, then that text, no end of turn). Engines that cannot
    # (EngineInfo.continues_replies False) are asked in words instead, by the chat.
    continue_last: bool = False


@dataclass(frozen=True)
class EngineInfo:
    name: str
    n_ctx: int
    backend: str
    supports_tools: bool = False
    # Tool results go back as tool messages (the template's own tool role, or OpenAI's API); without
    # it they are written into the user's turn as Hearth's own blocks.
    supports_tool_messages: bool = False
    # The chat template opens a thinking block in the generation prompt (DeepSeek-R1's distills).
    opens_thinking: bool = False
    # A stopped reply can be carried on by the model itself (SamplingOptions.continue_last).
    continues_replies: bool = False


@dataclass
class GenerationResult:
    """The last item of every stream: the whole reply, why it ended, and what it cost."""

    text: str
    finish_reason: FinishReason
    stats: GenerationStats = field(default_factory=GenerationStats)
    # With SamplingOptions.logprobs: per token {"token", "p", "top": [{"token", "p"}, ...]}.
    token_probs: list[dict[str, Any]] | None = None


StreamItem = str | GenerationResult


@runtime_checkable
class Engine(Protocol):
    """A chat model. ``stream`` yields text pieces, then exactly one ``GenerationResult``.

    Cancellation is checked on every token; a cancelled stream still ends with a result whose
    finish_reason is "cancelled" and whose text is what was generated so far. Errors a user can
    act on are raised as ``HearthError`` subclasses.
    """

    @property
    def info(self) -> EngineInfo: ...

    def count_tokens(self, text: str) -> int: ...

    def message_overhead(self) -> int:
        """Tokens the chat template adds around one message."""
        ...

    def stream(
        self, messages: Sequence[ChatMessage], options: SamplingOptions, cancel: CancelToken
    ) -> Iterator[StreamItem]: ...

    def close(self) -> None: ...


def complete(
    engine: Engine,
    messages: Sequence[ChatMessage],
    options: SamplingOptions,
    cancel: CancelToken | None = None,
) -> GenerationResult:
    """Run a stream to its end and return only the result."""
    result: GenerationResult | None = None
    for item in engine.stream(messages, options, cancel or CancelToken()):
        if isinstance(item, GenerationResult):
            result = item
    assert result is not None, "an engine stream must end with a GenerationResult"
    return result
