"""A section of a document: a run of text under one heading trail or on one page, normalised."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    text: str
    page: int | None = None  # 1-based, PDFs only
    heading: str = ""  # "Chapter > Section"
    offset: int = 0  # where the text starts in its page (PDF) or in the whole document


def normalise(text: str) -> str:
    """NFKC (a ligature "ﬁ" becomes "fi", full-width letters plain ones, so keyword search finds
    them), then collapse runs of spaces and tabs (pypdf puts tabs between words), keeping
    paragraph breaks."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\f\v\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
