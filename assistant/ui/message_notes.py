"""What a message's header says about how it ended (stopped, interrupted, cut at the length limit),
and what a reply that was stopped before its answer shows instead of its missing text."""

from __future__ import annotations

import html
from typing import Any

from assistant.core.messages import MessageStatus
from assistant.core.store import StoredMessage

STATUS_NOTES = {
    MessageStatus.STOPPED: "stopped",
    MessageStatus.INTERRUPTED: "interrupted — the app closed while this was written",
    MessageStatus.FAILED: "failed",
}
LENGTH_NOTE = "stopped at the length limit"
CONTINUE_LINK = "continue:"  # the header's link that does what the Continue button does
_STAGE_CHARS = 600  # of each completed stage's text, shown in place of a missing answer


def cut_short(message: StoredMessage) -> bool:
    """Whether the reply ended before it was done: stopped, interrupted, failed, or at the length limit."""
    return message.status in STATUS_NOTES or message.stats.get("finish_reason") == "length"


def header_note(message: StoredMessage, can_continue: bool, link_colour: str = "") -> str:
    """The header's note (HTML, "" for none); where Continue applies, it ends in a Continue link
    (in ``link_colour``: a label's own link colour is fixed when its text is set, not by the theme)."""
    note = STATUS_NOTES.get(message.status, "")
    if not note and message.role == "assistant" and message.stats.get("finish_reason") == "length":
        note = LENGTH_NOTE
    if not note:
        return ""
    style = f" style='color:{link_colour}'" if link_colour else ""
    link = f" — <a href='{CONTINUE_LINK}'{style}>Continue</a>" if can_continue else ""
    return f"<i>{html.escape(note)}</i>{link}"


def stopped_text(message: StoredMessage) -> str:
    """Markdown for a reply that ended with no text of its own: what its completed stages wrote (a
    Vote's finished votes, a Think's plan), said to be stopped; "…" while it is still being written."""
    if message.status == MessageStatus.STREAMING:
        return "…"
    stages: list[dict[str, Any]] = [s for s in message.stats.get("stages") or [] if str(s.get("text", "")).strip()]
    why = {MessageStatus.STOPPED: "Stopped", MessageStatus.INTERRUPTED: "Interrupted", MessageStatus.FAILED: "Failed"}
    ended = why.get(message.status, "Ended")
    if not stages:
        return f"*{ended} before any text was written.*"
    lines = [f"*{ended} before the answer. What was finished:*", ""]
    for stage in stages:
        text = " ".join(str(stage["text"]).split())
        shown = text[:_STAGE_CHARS] + ("…" if len(text) > _STAGE_CHARS else "")
        lines.append(f"- **{stage.get('name', 'stage')}**: {shown}")
    return "\n".join(lines)
