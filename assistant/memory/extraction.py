"""What is worth remembering from an exchange, and how a new fact relates to an old one.

Explicit requests ("remember that …", "from now on …") are recognised without the model. Otherwise
the model proposes candidates under a JSON schema (a grammar in llama.cpp), so even a 135M model
cannot emit anything but ``{"summary": ..., "memories": [{"text", "kind"}]}``; output that still does
not parse (a remote server ignoring the schema) is dropped and logged, never stored.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.core.cancel import Cancelled, CancelToken
from assistant.core.messages import ChatMessage
from assistant.engine.base import Engine, SamplingOptions, complete
from assistant.memory.store import KINDS

log = logging.getLogger(__name__)

MAX_CANDIDATES = 3
_EXTRACTION_TOKENS = 220
Relation = Literal["same", "contradicts", "different"]

_EXPLICIT = [
    (re.compile(r"^\s*(?:please\s+)?remember(?:\s+that)?[:,]?\s+(?P<text>.+)$", re.I | re.S), "fact"),
    (re.compile(r"^\s*(?:please\s+)?(?:don'?t|do not) forget(?:\s+that)?[:,]?\s+(?P<text>.+)$", re.I | re.S), "fact"),
    (re.compile(r"^\s*(?:please\s+)?note that\s+(?P<text>.+)$", re.I | re.S), "fact"),
    (re.compile(r"^\s*from now on[:,]?\s+(?P<text>.+)$", re.I | re.S), "preference"),
]
# A first-person statement is the only kind of message that can teach something about the user;
# questions about the world are skipped without asking the model.
_ABOUT_THE_USER = re.compile(r"\b(i|i'm|i've|i'd|my|me|mine|we|our|us|we're)\b", re.I)

EXTRACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "maxLength": 240},
        "memories": {
            "type": "array",
            "maxItems": MAX_CANDIDATES,
            "items": {
                "type": "object",
                "properties": {"text": {"type": "string", "maxLength": 200}, "kind": {"enum": list(KINDS)}},
                "required": ["text", "kind"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["summary", "memories"],
    "additionalProperties": False,
}
RELATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"relation": {"enum": ["same", "contradicts", "different"]}},
    "required": ["relation"],
    "additionalProperties": False,
}

# No example sentence: a small model copies an example's content ("The user's daughter is called
# Mira." came back as a fact about a user who never mentioned a Mira).
_EXTRACT_PROMPT = (
    "You keep a memory of durable facts about the user: their name, family, work, preferences and "
    "decisions. From the exchange below, write a one-sentence summary, and list new facts the user stated "
    'about themselves, each as a short sentence that starts with "The user" and uses the user\'s own words. '
    "Never add a name, place or number the user did not write. List nothing for questions, small talk or "
    "general knowledge. Answer with JSON."
)
_RELATION_PROMPT = (
    "Compare two statements about the user. same: they say the same thing. contradicts: the new one "
    "changes or replaces the old one (a different value for the same thing). different: they are about "
    "different things. Answer with JSON."
)


@dataclass(frozen=True)
class Candidate:
    """A fact to remember. ``support`` is the share of its words the user wrote (1.0 for what the user
    typed or asked to be remembered; lower for a model's paraphrase)."""

    text: str
    kind: str = "fact"
    support: float = 1.0


@dataclass
class Extraction:
    summary: str = ""
    candidates: list[Candidate] = field(default_factory=list)
    problem: str = ""


def explicit_memory(text: str) -> Candidate | None:
    """ "Remember that my daughter is called Mira" → that fact, without asking the model."""
    for pattern, kind in _EXPLICIT:
        match = pattern.match(text.strip())
        if match:
            fact = match.group("text").strip().rstrip(".!").strip()
            if len(fact) >= 3:
                return Candidate(fact[0].upper() + fact[1:] + ".", kind)
    return None


_WORD = re.compile(r"[a-zà-ÿ0-9']{3,}", re.I)
_NOT_EVIDENCE = {"the", "user", "user's", "users", "and", "has", "have", "called", "named", "is", "are", "their"}
_NOT_EVIDENCE |= {"who", "with", "his", "her", "she", "they", "them", "for", "that", "this", "was", "were", "likes"}
_CAPITALISED = re.compile(r"\b[A-ZÀ-Þ][a-zà-ÿ]+(?:'s)?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NOT_A_NAME = {"the", "user", "he", "she", "they", "his", "her", "their", "it", "its", "a", "an", "this", "that", "i"}


def _stem(word: str) -> str:
    """Enough of a word to match its other forms ("peanut"/"peanuts", "allergy"/"allergic")."""
    word = word.lower().removesuffix("'s")
    return word[:5]


def support(text: str, user_text: str) -> float:
    """The share of ``text``'s content words that the user wrote (in some form)."""
    words = {_stem(w) for w in _WORD.findall(text) if w.lower() not in _NOT_EVIDENCE}
    if not words:
        return 0.0
    said = {_stem(w) for w in _WORD.findall(user_text)}
    return len(words & said) / len(words)


def _names_and_numbers_said(text: str, user_text: str) -> bool:
    said = {w.lower().removesuffix("'s") for w in _WORD.findall(user_text)}
    names = {n.lower().removesuffix("'s") for n in _CAPITALISED.findall(text)} - _NOT_A_NAME
    return names <= said and set(_NUMBER.findall(text)) <= set(_NUMBER.findall(user_text))


def grounded(candidate: Candidate, user_text: str) -> bool:
    """A proposed fact must rest on the user's own words: every name and number in it written by the
    user, and at least half of its words too; and it must not babble (a word more than three times). Small
    models otherwise invent ("Ana is a daughter of Mira": the user never mentioned a Mira) or loop."""
    words = [w.lower() for w in _WORD.findall(candidate.text)]
    if not words or max(words.count(w) for w in words) > 3:
        return False
    return _names_and_numbers_said(candidate.text, user_text) and support(candidate.text, user_text) >= 0.5


def worth_extracting(user_text: str) -> bool:
    """Statements about the user; a question ("what should we plant?") teaches nothing durable, and
    skipping it spares a generation of a few seconds on a small machine."""
    text = user_text.strip()
    return bool(_ABOUT_THE_USER.search(text)) and not text.endswith("?")


def _options(schema: dict[str, Any], max_tokens: int) -> SamplingOptions:
    return SamplingOptions(temperature=0.0, max_tokens=max_tokens, repeat_penalty=1.0, json_schema=schema, seed=0)


def extract(
    engine: Engine,
    user_text: str,
    reply_text: str,
    cancel: CancelToken | None = None,
    conversation: Sequence[ChatMessage] = (),
) -> Extraction:
    """With ``conversation`` (the prompt the reply was generated from), the request is appended to it,
    so llama.cpp reuses the whole conversation from its KV cache and the next turn's prompt still
    shares its prefix; otherwise (or if that would not fit) the exchange is sent on its own."""
    instruction = _EXTRACT_PROMPT.replace("the exchange below", "the user's last message above")
    prompt = _after_reply(engine, conversation, reply_text, instruction)
    if prompt is None:
        exchange = f"User: {user_text.strip()[:2000]}\n\nAssistant: {reply_text.strip()[:1000]}"
        prompt = [ChatMessage("system", _EXTRACT_PROMPT), ChatMessage("user", exchange)]
    result = complete(engine, prompt, _options(EXTRACTION_SCHEMA, _EXTRACTION_TOKENS), cancel)
    if result.finish_reason == "cancelled":
        raise Cancelled()
    return parse_extraction(result.text)


def _after_reply(
    engine: Engine, conversation: Sequence[ChatMessage], reply_text: str, instruction: str
) -> list[ChatMessage] | None:
    """The conversation, the reply, then ``instruction``: a prompt whose long prefix is already in the
    KV cache. None when there is no conversation or it would not fit the window."""
    if not conversation:
        return None
    prompt = [*conversation, ChatMessage("assistant", reply_text), ChatMessage("user", instruction)]
    overhead = engine.message_overhead()
    needed = sum(engine.count_tokens(m.content) + overhead for m in prompt)
    return prompt if needed + _EXTRACTION_TOKENS <= engine.info.n_ctx else None


def parse_extraction(raw: str) -> Extraction:
    try:
        data = json.loads(raw)
        summary = data["summary"]
        items = data["memories"]
        if not isinstance(summary, str) or not isinstance(items, list):
            raise TypeError("wrong types")
        candidates: list[Candidate] = []
        for item in items[:MAX_CANDIDATES]:
            text = " ".join(str(item["text"]).split())
            if len(text) >= 3 and text not in [c.text for c in candidates]:
                candidates.append(Candidate(text, item.get("kind") if item.get("kind") in KINDS else "fact"))
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        # Its length only: the output repeats the user's words, which stay out of logs.
        log.warning("memory extraction output dropped (%s): %d characters", exc, len(raw))
        return Extraction(problem=f"unparseable extraction output ({exc})")
    return Extraction(" ".join(summary.split()), candidates)


def relation(
    engine: Engine,
    old: str,
    new: str,
    cancel: CancelToken | None = None,
    conversation: Sequence[ChatMessage] = (),
    reply_text: str = "",
) -> Relation:
    question = f"Old: {old}\nNew: {new}"
    prompt = _after_reply(engine, conversation, reply_text, f"{_RELATION_PROMPT}\n\n{question}") or [
        ChatMessage("system", _RELATION_PROMPT),
        ChatMessage("user", question),
    ]
    result = complete(engine, prompt, _options(RELATION_SCHEMA, 20), cancel)
    if result.finish_reason == "cancelled":
        raise Cancelled()
    try:
        value = json.loads(result.text)["relation"]
    except (json.JSONDecodeError, KeyError, TypeError):
        log.warning("memory relation output dropped: %d characters", len(result.text))
        return "different"
    return value if value in ("same", "contradicts", "different") else "different"
