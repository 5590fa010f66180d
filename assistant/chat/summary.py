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
    """Return the new summary covering ``previous_summary`` and ``items``.

    Turns are folded in chunks that each fit the summariser's window, oldest first, carrying the
    summary forward, so no turn is skipped however small the window.
    """
    reply_tokens = max(32, min(SUMMARY_TOKENS, n_ctx // 4))
    summary = previous_summary.strip()
    for chunk in _chunks(engine, items, n_ctx - reply_tokens - _PROMPT_SLACK, summary):
        summary = _fold_chunk(engine, summary, chunk, cancel, reply_tokens)
    return summary


def _fold_chunk(engine: Engine, summary: str, chunk: str, cancel: CancelToken, reply_tokens: int) -> str:
    parts = [f"Summary so far:\n{summary}"] if summary else []
    parts += [f"New part of the conversation:\n{chunk}", "Write the updated summary."]
    messages = [ChatMessage("system", SUMMARY_INSTRUCTIONS), ChatMessage("user", "\n\n".join(parts))]
    options = SamplingOptions(temperature=0.2, max_tokens=reply_tokens, repeat_penalty=1.1, seed=0)
    result = complete(engine, messages, options, cancel)
    if result.finish_reason == "cancelled":
        raise Cancelled()
    # A model that returns nothing must not erase what the old turns said.
    return result.text.strip() or "\n".join(filter(None, [summary, _digest(chunk)]))


def _chunks(engine: Engine, items: Sequence[HistoryItem], room: int, summary: str) -> list[str]:
    """Transcript pieces, each fitting ``room`` tokens next to a summary as long as the current one."""
    room = max(48, room - engine.count_tokens(summary))
    chunks: list[str] = []
    current: list[HistoryItem] = []
    for item in items:
        item = _shorten(engine, item, room)
        if current and engine.count_tokens(transcript([*current, item])) > room:
            chunks.append(transcript(current))
            current = []
        current.append(item)
    if current:
        chunks.append(transcript(current))
    return chunks


def _shorten(engine: Engine, item: HistoryItem, room: int) -> HistoryItem:
    """A single message longer than the room keeps its beginning and its end."""
    tokens = engine.count_tokens(item.content)
    if tokens <= room - 8:
        return item
    keep = max(40, int(len(item.content) * (room - 8) / tokens * 0.45))
    return HistoryItem(item.id, item.role, item.content[:keep] + " … " + item.content[-keep:])


def _digest(chunk: str) -> str:
    return " ".join(chunk.split())[:400]
