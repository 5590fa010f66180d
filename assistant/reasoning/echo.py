"""An answer that opens by repeating the question, or with scaffolding the model made up in Hearth's
style (``<<<Question: …>>>``, "(Background …)"), has that opening cut; one that is nothing else is
no answer at all.

Small models asked for a final answer after their own notes sometimes write the question out
again, alone or headed like the blocks Hearth puts around material (``<<<passage …>>>``).
"""

from __future__ import annotations

import re

from assistant.core.context import scaffolding

_WORD = re.compile(r"\w+")
# Lines that frame rather than answer: Hearth's block markers (and their defused look-alikes), its
# frames and headings, and the labels a model puts before a repeated question.
_FRAME = re.compile(
    r"\s*(?:<<<|‹‹‹|>>>|›››|(?:the\s+)?(?:question|user'?s?\s+message|my\s+message|message|query)\s*:)",
    re.IGNORECASE,
)
# How much of the start of an answer is held back before streaming, beyond the question's length.
HOLD_CHARS = 80


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _is_frame(line: str, question: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return True
    if _FRAME.match(stripped) or any(stripped.startswith(s) for s in scaffolding()):
        return True
    # The question again on a line of its own, however it is punctuated.
    return bool(_words(question)) and _words(stripped) == _words(question)


def strip_echo(text: str, question: str) -> str:
    """``text`` without its opening lines of scaffolding and without a leading copy of the question."""
    lines = text.splitlines(keepends=True)
    while lines and _is_frame(lines[0], question):
        lines.pop(0)
    rest = "".join(lines).lstrip()
    asked = _words(question)
    matches = list(_WORD.finditer(rest))
    if asked and len(matches) >= len(asked) and [m.group().lower() for m in matches[: len(asked)]] == asked:
        rest = rest[matches[len(asked) - 1].end() :].lstrip(" \t?!.:;,-—\n")
    return rest


def undecided(held: str, question: str) -> bool:
    """Whether the start of a streaming answer is still too short to tell an echo or a frame from an
    answer: it is held back until it is longer than the question by HOLD_CHARS, and while it is one
    opening line of scaffolding (up to four times that)."""
    limit = len(question) + HOLD_CHARS
    if len(held) < limit:
        return True
    return "\n" not in held and _FRAME.match(held) is not None and len(held) < 4 * limit


def only_echo(text: str, question: str) -> bool:
    """The answer said nothing beyond the question and the scaffolding."""
    return not _words(strip_echo(text, question))
