"""Text from an MCP server made safe to print and to put in a prompt.

A server's tool names, descriptions, error messages and results reach the terminal (``hearth tools
list``, warnings) and the model. Escape sequences in them could erase lines, set the window title,
hide text or fake a message; lone surrogates made printing and encoding fail. So: ANSI/OSC/DCS
escape sequences are removed whole, other control characters and bidirectional overrides are
removed (tabs and newlines kept where asked), and lone surrogates become U+FFFD.
"""

from __future__ import annotations

import re

# CSI (ESC [ or the 8-bit 0x9B) with its parameters; OSC, DCS, SOS, PM, APC strings up to their
# terminator (BEL or ST) or the end of the text; any other two-character escape.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x7e]?"
)
# C0 and C1 controls, DEL, and the bidirectional embeddings, overrides and isolates that reorder
# what a terminal shows ("Trojan Source").
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def safe_text(text: str, keep_newlines: bool = False) -> str:
    """``text`` without escape sequences or control characters; lone surrogates as U+FFFD.
    With ``keep_newlines`` (results, logs) newlines and tabs stay; without, they become spaces."""
    text = _SURROGATE.sub("\ufffd", text)
    text = _ESCAPES.sub("", text)
    if keep_newlines:
        return _CONTROLS.sub("", text.replace("\r\n", "\n"))
    return _CONTROLS.sub("", re.sub(r"[\t\n\r\x0b\x0c]", " ", text))


def safe_line(text: str, limit: int = 1000) -> str:
    """One line for a list or a message: safe, whitespace collapsed, at most ``limit`` characters."""
    return " ".join(safe_text(text).split())[:limit]
