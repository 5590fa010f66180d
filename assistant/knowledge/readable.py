"""Text the embedder cannot read, so that its vector means nothing.

all-MiniLM-L6-v2 knows English word-pieces: most Chinese characters and every Thai word are one
[UNK] token to it, and text of replacement characters is no token at all. The vectors of such text
are all alike, so a Thai greeting scored 1.00 against a Thai passage on another subject, and
garbled passages came back first for any question in those scripts. Meaning search is therefore
not asked where it cannot answer: a query the embedder cannot read gets keyword hits only, and a
passage it cannot read is found by its words (the keyword index, which reads every script), never
by its vector alone.

Unreadable is: mostly replacement characters, control or private-use characters; mostly symbols
rather than letters or digits; mojibake (UTF-8 read as cp1252: "Ã©", "â€"); or, where the
embedder's tokenizer is at hand, mostly tokens it does not know.
"""

from __future__ import annotations

import re

from assistant.knowledge.tokens import TokenCounter

MAX_JUNK_SHARE = 0.10  # replacement, control and private-use characters
MIN_WORD_SHARE = 0.40  # letters, digits and combining marks
MAX_MOJIBAKE_SHARE = 0.02  # mojibake sequences per letter or digit
MAX_UNKNOWN_SHARE = 0.25  # tokens the embedder does not know
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf]|Â[\u00a0-\u00bf]|â€")
_JUNK = re.compile("[\ufffd\x00-\x08\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ud800-\udfff]")
_SPACE = re.compile(r"\s")
_WORD = re.compile(r"[^\W_]")  # a letter or a digit, in any script
_MARK = re.compile("[\u0300-\u036f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0900-\u0903\u093a-\u094f]")


def garbled(text: str) -> bool:
    """Unreadable whatever the embedder: see the module's docstring. Counted with regular
    expressions, not character by character: it runs on passages while a query waits."""
    chars = len(text) - len(_SPACE.findall(text))
    if chars <= 0:
        return True
    words = len(_WORD.findall(text))
    mojibake = len(_MOJIBAKE.findall(text))
    return (
        len(_JUNK.findall(text)) > MAX_JUNK_SHARE * chars
        or words + len(_MARK.findall(text)) < MIN_WORD_SHARE * chars
        or (mojibake >= 3 and mojibake > MAX_MOJIBAKE_SHARE * max(words, 1))
    )


def unreadable(texts: list[str], counter: TokenCounter | None) -> list[bool]:
    """For each text, whether the embedder cannot read it: garbled, or mostly unknown tokens
    (where ``counter`` can tell: ``unknown_shares``, WordPieceCounter's)."""
    result = [garbled(text) for text in texts]
    shares = getattr(counter, "unknown_shares", None)
    if shares is None:
        return result
    unknown = shares([text for text, bad in zip(texts, result, strict=True) if not bad])
    readable = iter(unknown)
    return [bad or next(readable) > MAX_UNKNOWN_SHARE for bad in result]
