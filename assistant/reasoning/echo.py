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


def _is_frame(line: str, question: str, instructions: tuple[str, ...] = ()) -> bool:
    stripped = line.strip()
    if not stripped or _echoes_instruction(stripped, instructions):
        return True
    if _FRAME.match(stripped) or any(stripped.startswith(s) for s in scaffolding()):
        return True
    # The question again on a line of its own, however it is punctuated.
    return bool(_words(question)) and _words(stripped) == _words(question)


def strip_echo(text: str, question: str, instructions: tuple[str, ...] = ()) -> str:
    """``text`` without its opening lines of scaffolding (or of ``instructions`` repeated) and
    without a leading copy of the question."""
    lines = text.splitlines(keepends=True)
    while lines and _is_frame(lines[0], question, instructions):
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


def only_echo(text: str, question: str, instructions: tuple[str, ...] = ()) -> bool:
    """The answer said nothing beyond the question and the scaffolding."""
    return not _words(strip_echo(text, question, instructions))


# Hearth's own block markers (tool results, passages) and the frames models make up in their style,
# whole and on one line; a heredoc's ``<<<`` or a conflict marker is not one of them.
_MARKER = re.compile(
    r"(?:<<<|‹‹‹)[ \t]*(?:tool|end of|passage|question|message|answer|background|notes?)\b[^<>\n‹›]{0,300}(?:>>>|›››)",
    re.IGNORECASE,
)
_OPENERS = ("<<<", "‹‹‹")
_HOLD_LIMIT = 320
_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]+|\n|$)")
_MIN_ECHO_WORDS = 3


def _echoes_instruction(sentence: str, instructions: tuple[str, ...]) -> bool:
    """The sentence is one of Hearth's instructions, or the start of one (at least three words of it)."""
    words = _words(sentence)
    if len(words) < _MIN_ECHO_WORDS:
        return False
    for instruction in instructions:
        for part in _SENTENCE.findall(instruction):
            asked = _words(part)
            if asked and asked[: len(words)] == words:
                return True
    return False


class ScaffoldingFilter:
    """Takes Hearth's own scaffolding out of a streaming answer, whatever the mode: its block markers
    (``<<<end of tool result>>>``, ``<<<passage [1] from …>>>``) wherever they appear, and an opening
    that copies its background frame ("(Background for your reply; …)") or repeats one of its
    instructions ("Now answer my message."). Text that could still
    become a marker, and the answer's first sentence, are held back until they can be told apart."""

    def __init__(self, instructions: tuple[str, ...] = ()) -> None:
        self.instructions = instructions
        self.text = ""  # what was let through
        self._buffer = ""
        self._opening = bool(instructions)
        self._own_line = False  # a marker alone on its line was cut: its line break goes too
        self._cut = False  # an opening frame or echo was cut

    def feed(self, piece: str) -> str:
        self._buffer += piece
        return self._release(final=False)

    def finish(self) -> str:
        return self._release(final=True)

    def _release(self, final: bool) -> str:
        out: list[str] = []
        if self._opening and not self._strip_opening(final):
            return ""
        while self._buffer:
            if self._own_line:
                self._own_line = False
                if self._buffer.startswith("\n"):
                    self._buffer = self._buffer[1:]
                    continue
            start = _first_opener(self._buffer)
            if start is None:
                out.append(self._buffer)
                self._buffer = ""
                break
            out.append(self._buffer[:start])
            self._buffer = self._buffer[start:]
            match = _MARKER.match(self._buffer)
            if match:
                # A marker on a line of its own goes with its line break (which may come later).
                before = (self.text + "".join(out)).rstrip(" \t")
                self._own_line = not before or before.endswith("\n")
                self._buffer = self._buffer[match.end() :]
                continue
            undecided = "\n" not in self._buffer and len(self._buffer) < _HOLD_LIMIT
            if undecided and not final and not any(close in self._buffer for close in (">>>", "›››")):
                break
            out.append(self._buffer[:1])
            self._buffer = self._buffer[1:]
        released = "".join(out)
        self.text += released
        return released

    def _strip_opening(self, final: bool) -> bool:
        """Cut opening sentences that echo an instruction; False while that cannot be told yet (the
        words so far could still become one: anything else is let through at once)."""
        while True:
            stripped = self._buffer.lstrip()
            frame = _BACKGROUND.match(stripped)
            if frame:
                self._buffer, self._cut = stripped[frame.end() :], True
                continue
            if not final and _could_be_background(stripped):
                return False
            sentence = _SENTENCE.match(stripped)
            text = sentence.group() if sentence else ""
            complete = bool(text) and text.rstrip(" ") != stripped.rstrip(" ")
            if not complete and not final:
                if len(stripped) < _HOLD_LIMIT and self._could_echo(stripped):
                    return False
                break
            if not _echoes_instruction(text, self.instructions):
                break
            self._buffer, self._cut = stripped[len(text) :], True
        if self._cut:  # what followed the cut opening starts the answer
            self._buffer = self._buffer.lstrip()
        self._opening = False
        return True

    def _could_echo(self, partial: str) -> bool:
        words = _words(partial)
        if not words:
            return True
        for instruction in self.instructions:
            for part in _SENTENCE.findall(instruction):
                asked = _words(part)
                if (
                    len(asked) >= len(words)
                    and asked[: len(words) - 1] == words[:-1]
                    and asked[len(words) - 1].startswith(words[-1])
                ):
                    return True
        return False


# The frame Hearth puts around a turn's material, as models copy it: "(Background for your reply;
# do not mention it.)", "(Background for the answer; not following instructions)", "(End of background.)".
_BACKGROUND = re.compile(r"\((?:background|end of background)\b[^()\n]{0,200}\)[ \t]*\n?", re.IGNORECASE)
_BACKGROUND_OPENS = ("(background", "(end of background")


def _could_be_background(text: str) -> bool:
    lowered = text.lower()
    if any(opening.startswith(lowered) for opening in _BACKGROUND_OPENS):
        return True
    opened = lowered.startswith(_BACKGROUND_OPENS)
    return opened and ")" not in lowered and "\n" not in lowered and len(lowered) < _HOLD_LIMIT


def _first_opener(text: str) -> int | None:
    """Where a marker could begin: a whole opener, or the start of one at the very end."""
    found = [i for i in (text.find(o) for o in _OPENERS) if i >= 0]
    for size in (2, 1):
        if text[-size:] in {o[:size] for o in _OPENERS}:
            found.append(len(text) - size)
    return min(found) if found else None
