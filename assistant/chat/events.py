"""What a turn reports as it happens: the events ChatSession yields to the CLI and the GUI's worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.core.context import BuiltContext
from assistant.core.messages import GenerationStats
from assistant.core.store import StoredMessage
from assistant.engine.base import GenerationResult
from assistant.knowledge.retriever import Passage, Retrieved
from assistant.memory.long_term import MemoryChange
from assistant.reasoning.modes import StageFinished, StageStarted
from assistant.tools.registry import ToolResult

__all__ = [
    "HistoryFolded",
    "MemoriesSaved",
    "ReplyStarted",
    "ReplyToken",
    "Retrieve",
    "StageFinished",
    "StageStarted",
    "ToolCalled",
    "TurnEvent",
    "TurnFinished",
    "TurnNotice",
    "UserMessageSaved",
]


@dataclass(frozen=True)
class UserMessageSaved:
    message: StoredMessage


@dataclass(frozen=True)
class HistoryFolded:
    summary: str
    folded_messages: int


@dataclass(frozen=True)
class ReplyStarted:
    message_id: int
    context: BuiltContext
    sources: list[dict[str, Any]] = field(default_factory=list)
    memories: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ReplyToken:
    text: str


@dataclass(frozen=True)
class TurnFinished:
    reply: StoredMessage
    result: GenerationResult
    sources: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    memories: list[dict[str, Any]] = field(default_factory=list)

    @property
    def stats(self) -> GenerationStats:
        return self.result.stats


# Given the conversation's active collections (ids, or names from before ids) and the question, the
# passages to cite: a Retrieved also says which collections no longer exist (Library.retrieve).
Retrieve = Callable[[list[str], str], list[Passage] | Retrieved]


@dataclass(frozen=True)
class TurnNotice:
    """Something the user should know about this turn that did not stop it (a collection gone)."""

    text: str


@dataclass(frozen=True)
class ToolCalled:
    result: ToolResult


@dataclass(frozen=True)
class MemoriesSaved:
    """After a finished exchange: what memory learnt from it, and what to tell the user about memory
    (a failure, once per streak of them, or that it works again)."""

    changes: list[MemoryChange]
    notice: str | None = None
    reply: StoredMessage | None = None  # the reply learned from, "learned" now in its stats


TurnEvent = (
    UserMessageSaved
    | HistoryFolded
    | ToolCalled
    | ReplyStarted
    | ReplyToken
    | TurnFinished
    | MemoriesSaved
    | TurnNotice
    | StageStarted
    | StageFinished
)
