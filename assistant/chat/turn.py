"""What one turn gathers on its way to the reply, and the record saved with the reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.core.context import HistoryItem
from assistant.core.messages import ChatMessage
from assistant.core.store import Conversation, StoredMessage
from assistant.engine.base import GenerationResult
from assistant.reasoning.modes import Stage
from assistant.reasoning.reply import TurnStyle
from assistant.tools.registry import ToolResult


@dataclass
class Turn:
    """The conversation as the turn found it, the latest user message (found once), and the
    material gathered for the reply: prompt sections, cited sources, recalled memories, tool calls."""

    conversation: Conversation
    history: list[HistoryItem]
    latest: HistoryItem | None
    continuing: StoredMessage | None
    style: TurnStyle
    sections: dict[str, str]
    sources: list[dict[str, Any]] = field(default_factory=list)
    memories: list[dict[str, Any]] = field(default_factory=list)
    calls: list[ToolResult] = field(default_factory=list)
    # The calls as tool messages after the question, where the model takes results in a tool role.
    exchange: list[ChatMessage] = field(default_factory=list)

    @property
    def question(self) -> str:
        return self.latest.content if self.latest is not None else ""

    @property
    def prefix(self) -> str:
        return self.continuing.content if self.continuing is not None else ""

    def record(self, result: GenerationResult, stages: list[Stage]) -> dict[str, Any]:
        """The stats stored with the reply: timings, what it drew on, and its timeline of stages."""
        stats: dict[str, Any] = {**result.stats.to_dict(), "finish_reason": result.finish_reason}
        if self.sources:
            stats["sources"] = self.sources
        if self.calls:
            stats["tool_calls"] = [call.to_dict() for call in self.calls]
        if self.memories:
            stats["memories"] = self.memories
        if self.style.mode != "direct" or stages:
            stats["mode"] = self.style.mode
            # The timeline: tool calls first, then the mode's stages (and the model's own thinking).
            tool_stages = [
                Stage(f"tool {call.tool}", call.result, 0, call.duration_s, "" if call.ok else "failed")
                for call in self.calls
            ]
            stats["stages"] = [stage.to_dict() for stage in [*tool_stages, *stages]]
        if result.token_probs is not None:
            stats["token_probs"] = result.token_probs
        return stats


# A continuation that starts with one of these goes on the same word or sentence ("…of" + ", then");
# a text that ends with one of these is followed at once ("(" + "see", "well-" + "known").
_JOINS_BEFORE = frozenset(".,;:!?)]}%…'’\"”»")
_JOINS_AFTER = frozenset("([{/-–'‘\"“«")


def join_continuation(prefix: str, continuation: str) -> str:
    """Glue a continuation to the text it continues, with a space where neither side has one and
    the text does not go on in the same word: "at the time." + "Zek…" is "at the time. Zek…"."""
    if not prefix or not continuation or prefix[-1].isspace() or continuation[0].isspace():
        return prefix + continuation
    if continuation[0] in _JOINS_BEFORE or prefix[-1] in _JOINS_AFTER:
        return prefix + continuation
    return prefix + " " + continuation
