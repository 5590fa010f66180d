"""Messages that need no tool: greetings, thanks, small talk, and requests to write or joke.

The bundled 135M model, asked whether a tool is needed, called one for 8 of 8 such messages (the
clock, mostly) whatever the instruction said; recognising them spares the decision altogether.
"""

from __future__ import annotations

import re

_SOCIAL = re.compile(
    r"^\s*(hi|hello|hey|hiya|good (morning|afternoon|evening|night)|thanks?( you)?|thank you|cheers|bye|goodbye|"
    r"see you|how are you|how's it going|nice to meet you|ok(ay)?|great|cool|lol)\b",
    re.I,
)
_WRITING = re.compile(
    r"^\s*(please\s+)?(can you\s+|could you\s+)?(tell me a joke|write (me )?a (short )?(poem|story|haiku|song))", re.I
)
# A statement about oneself, not a question or a request: "I had a lovely walk today."
_STATEMENT = re.compile(r"^\s*(i|i'm|i've|my|we|we're|our)\b[^?]*$", re.I)
_QUESTION = re.compile(r"\b(what|when|where|who|which|why|how (much|many|long|far|do|can|should))\b", re.I)
_REQUEST = re.compile(
    r"\b(please|can you|could you|would you|find|read|search|open|look up|calculate|work out)\b", re.I
)


def is_chit_chat(message: str) -> bool:
    """True when no tool can help: short social messages, writing requests, and plain statements
    with no number, no file and no request in them."""
    text = message.strip()
    if not text or len(text) > 200 or re.search(r"\d|\.\w{2,4}\b|[/\\]", text):
        return False
    social = _SOCIAL.match(text)
    if social and len(text.split()) <= 8:
        return not _QUESTION.search(text[social.end() :])  # "Hello, what day is it?" is a question
    if _WRITING.match(text):
        return True
    return bool(_STATEMENT.match(text)) and not _REQUEST.search(text)
