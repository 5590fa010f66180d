"""The plain data that flows between the store, the context builder and the engines."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
_SURROGATE = re.compile("[\ud800-\udfff]")


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    STREAMING = "streaming"  # being written right now; checkpointed at least every second
    STOPPED = "stopped"  # the user stopped it; the partial text is kept
    INTERRUPTED = "interrupted"  # the process died while it streamed; the last checkpoint is kept
    FAILED = "failed"  # generation failed; the partial text is kept


@dataclass(frozen=True)
class ToolCall:
    """A call the assistant made, as chat templates and OpenAI's API describe one."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    """One message as an engine sees it.

    A tool exchange is two messages: the assistant's, with ``tool_calls`` (and usually no content),
    then a ``tool`` message with the result as content and the call's id in ``tool_call_id``.
    """

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""
    name: str = ""  # the tool's name, on a tool message


def clean_text(text: str) -> str:
    """``text`` as valid Unicode: lone surrogates (undecodable bytes smuggled in as surrogate escapes,
    or half a pair pasted from elsewhere) become U+FFFD, which SQLite and the tokenizer accept."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)  # in a str, any surrogate is a lone one
    return text


def clean_json(value: Any) -> Any:
    """``clean_text`` on every string of a decoded JSON value, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_json(key): clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    return value


def with_instruction(prompt: list[ChatMessage], instruction: str) -> list[ChatMessage]:
    """The prompt with ``instruction`` added to its newest message (no second user turn in a row,
    which some templates refuse), so everything before it stays a cached prefix. A prompt that ends
    with tool results gets it in the newest user message instead: a tool result is data, and a
    template may allow only the assistant after it (Mistral's)."""
    index = len(prompt) - 1
    if prompt[index].role == "tool":
        index = max((i for i, m in enumerate(prompt) if m.role == "user"), default=index)
    target = prompt[index]
    changed = replace(target, content=f"{target.content}\n\n{instruction}")
    return [*prompt[:index], changed, *prompt[index + 1 :]]


def counted_text(message: ChatMessage) -> str:
    """The text a message costs in the context: its content and the calls it makes."""
    calls = " ".join(f"{call.name} {json.dumps(call.arguments, ensure_ascii=False)}" for call in message.tool_calls)
    return f"{message.content} {calls}" if calls else message.content


def newest_user_text(prompt: Sequence[ChatMessage]) -> str:
    """The content of the newest user message (the prompt may end with tool results)."""
    return next((m.content for m in reversed(prompt) if m.role == "user"), "")


def decode_rate(tokens: int, first_token_at: float | None, finished_at: float) -> float | None:
    """Tokens per second after the first one (the first token's wait is TTFT, reported apart)."""
    if first_token_at is None or tokens < 2 or finished_at <= first_token_at:
        return None
    return (tokens - 1) / (finished_at - first_token_at)


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    prompt_tokens_evaluated: int | None = None  # None where the engine cannot tell (remote servers)
    completion_tokens: int = 0
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    total_s: float = 0.0
    context: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "prompt_tokens_evaluated": self.prompt_tokens_evaluated,
            "completion_tokens": self.completion_tokens,
            "ttft_s": self.ttft_s,
            "tokens_per_s": self.tokens_per_s,
            "total_s": self.total_s,
            "context": dict(self.context),
        }
