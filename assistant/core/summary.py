"""Fold old turns into the running summary of a conversation, written by the model itself."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.core.cancel import Cancelled, CancelToken
from assistant.core.context import HistoryItem, transcript
from assistant.core.messages import ChatMessage
from assistant.engine.base import Engine, SamplingOptions, complete

SUMMARY_INSTRUCTIONS = (
    "You maintain the running summary of a conversation between a user and an assistant. "
    "Keep every fact, name, number, decision and open question. Be brief: at most 150 words. "
    "Write only the summary."
)
SUMMARY_TOKENS = 256
# Room in the summariser's own prompt for instructions and the template around them.
_PROMPT_SLACK = 96


def fold_into_summary(
    engine: Engine,
    previous_summary: str,
    items: Sequence[HistoryItem],
    cancel: CancelToken,
    n_ctx: int,
) -> str:
    """Return the new summary covering ``previous_summary`` and ``items``."""
    room = n_ctx - SUMMARY_TOKENS - _PROMPT_SLACK - engine.count_tokens(previous_summary)
    text = _fit(engine, transcript(items), max(room, 64))
    parts = []
    if previous_summary.strip():
        parts.append(f"Summary so far:\n{previous_summary.strip()}")
    parts.append(f"New part of the conversation:\n{text}")
    parts.append("Write the updated summary.")
    messages = [ChatMessage("system", SUMMARY_INSTRUCTIONS), ChatMessage("user", "\n\n".join(parts))]
    options = SamplingOptions(temperature=0.2, max_tokens=SUMMARY_TOKENS, repeat_penalty=1.1, seed=0)
    result = complete(engine, messages, options, cancel)
    if result.finish_reason == "cancelled":
        raise Cancelled()
    summary = result.text.strip()
    # A model that returns nothing must not erase what the old turns said.
    return summary or _fallback(previous_summary, items)


def _fit(engine: Engine, text: str, limit: int) -> str:
    """Keep the end of the transcript when it is longer than the summariser can read at once."""
    tokens = engine.count_tokens(text)
    if tokens <= limit:
        return text
    keep = int(len(text) * limit / tokens * 0.9)
    return "…" + text[-keep:]


def _fallback(previous_summary: str, items: Sequence[HistoryItem]) -> str:
    lines = [previous_summary.strip()] if previous_summary.strip() else []
    lines += [f"- {item.role}: {' '.join(item.content.split())[:200]}" for item in items]
    return "\n".join(lines)
