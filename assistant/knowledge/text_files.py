"""Bytes to text for files that may not say how they are encoded.

In order: a byte-order mark; the charset a page declares; UTF-8; UTF-16 without a mark (told by
its zero bytes); else the encoding charset-normalizer detects (Shift-JIS, GB18030, cp1252...),
accepted only when the result is not full of control characters; binary data is refused.
"""

from __future__ import annotations

import contextlib
import re


class NotText(Exception):
    """The bytes are not text; the message is the reason shown to the user."""


def decode_text(raw: bytes, declared: str | None = None) -> tuple[str, list[str]]:
    """The text and any warnings about how it was read; raises NotText for binary data."""
    for mark, encoding in _BOMS:
        if raw.startswith(mark):
            return raw.decode(encoding, errors="replace"), []
    sample = raw[:8192]
    utf16 = _utf16_without_mark(sample)
    if utf16:
        with contextlib.suppress(UnicodeDecodeError):
            return raw.decode(utf16), []
    # Binary data has NULs throughout; text may carry a stray one (a bad export), which is read.
    nuls = sample.count(0)
    if nuls > 1 + len(sample) // 1000 or _controls(sample) - nuls > len(sample) * 0.05:
        raise NotText("binary data, not text")
    if declared:
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            return raw.decode(declared), []
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    guessed = _detect_encoding(raw)
    if guessed:
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            return raw.decode(guessed), [f"not UTF-8: read as {guessed} (detected)"]
    return raw.decode("utf-8", errors="replace"), ["not valid UTF-8: undecodable bytes were replaced"]


def declared_charset(head: bytes) -> str | None:
    """The charset an HTML page names in its first bytes, if any."""
    match = _DECLARED_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# Short Western text decodes almost equally well in a dozen single-byte code pages, and the
# detector's pick among them is close to chance (cp775 for French). Where one of these is nearly
# as good as its pick, the one most files really use wins.
_PREFERRED_TIES = ("cp1252", "cp1251", "cp1250")
_TIE_CHAOS = 0.05
_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _controls(text: bytes | str) -> int:
    codes = text if isinstance(text, bytes) else (ord(c) for c in text)
    return sum(1 for code in codes if code < 9 or 13 < code < 32)


def _utf16_without_mark(sample: bytes) -> str | None:
    """UTF-16 text in Latin script has a zero in every other byte, on one side only."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_zeros, odd_zeros = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_zeros > 0.3 and even_zeros < 0.05:
        return "utf-16-le"
    if even_zeros > 0.3 and odd_zeros < 0.05:
        return "utf-16-be"
    return None


def _detect_encoding(raw: bytes) -> str | None:
    from charset_normalizer import from_bytes

    results = list(from_bytes(raw[:1_000_000]))
    if not results:
        return None
    best = results[0]
    if not _single_byte(str(best.encoding)):
        return str(best.encoding)  # a multi-byte guess (cp932, gb18030, big5...) is not a tie
    tied = {r.encoding for r in results if r.chaos <= best.chaos + _TIE_CHAOS and r.coherence >= best.coherence - 0.1}
    return next((encoding for encoding in _PREFERRED_TIES if encoding in tied), str(best.encoding))


def _single_byte(encoding: str) -> bool:
    """Two high bytes are two characters in a single-byte code page, one (or an error) otherwise."""
    try:
        return len(b"\xe9\xe9".decode(encoding, errors="replace")) == 2
    except LookupError:
        return False
