"""Split sections into passages of about 250 tokens that follow the document's own structure.

Chunks never cross a section (a heading or a page), so each keeps one citation. Inside a section
they break at paragraphs, then sentences, and only as a last resort inside a sentence. The next
chunk repeats the last sentence or so of the previous one (overlap), so an answer that straddles
a boundary is found whole in at least one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.knowledge.documents import Section

CHARS_PER_TOKEN = 4  # English prose with a WordPiece or BPE tokenizer, near enough for sizing
TARGET_TOKENS = 250
MAX_TOKENS = 350
OVERLAP_TOKENS = 40

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])|\n")


@dataclass(frozen=True)
class Chunk:
    text: str
    page: int | None
    heading: str
    start: int  # character offsets in the section's page (PDF) or document
    end: int
    index: int = 0  # position in the file, set when the file is chunked


def _pieces(text: str, limit: int) -> Iterator[tuple[int, int, bool]]:
    """Sentence spans no longer than ``limit`` (words split only when a sentence is longer),
    each flagged when it starts a paragraph."""
    for paragraph in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text):
        start, first = paragraph.start(), True
        boundaries = [m.start() for m in _SENTENCE_END.finditer(text, start, paragraph.end())]
        for boundary in [*boundaries, paragraph.end()]:
            while boundary - start > limit:
                cut = text.rfind(" ", start, start + limit)
                cut = cut if cut > start else start + limit
                yield start, cut, first
                first = False
                start = cut
                while start < boundary and text[start].isspace():
                    start += 1
            if boundary > start:
                yield start, boundary, first
                first = False
                start = boundary
            while start < paragraph.end() and text[start].isspace():
                start += 1


def chunk_section(section: Section, target: int = TARGET_TOKENS, maximum: int = MAX_TOKENS) -> list[Chunk]:
    text = section.text
    target_chars, max_chars = target * CHARS_PER_TOKEN, maximum * CHARS_PER_TOKEN
    overlap_chars = OVERLAP_TOKENS * CHARS_PER_TOKEN
    chunks: list[Chunk] = []
    current: list[tuple[int, int]] = []
    for start, end, new_paragraph in _pieces(text, max_chars):
        if current:
            size = current[-1][1] - current[0][0]
            full = end - current[0][0] > max_chars or size >= target_chars
            if full or (new_paragraph and size >= 0.6 * target_chars):
                chunks.append(_make(section, current))
                # Overlap: carry the trailing sentences that fit in the overlap budget.
                carried: list[tuple[int, int]] = []
                for previous in reversed(current):
                    if current[-1][1] - previous[0] > overlap_chars or end - previous[0] > max_chars:
                        break
                    carried.insert(0, previous)
                current = carried
        current.append((start, end))
    if current:
        chunks.append(_make(section, current))
    return chunks


def _make(section: Section, spans: list[tuple[int, int]]) -> Chunk:
    start, end = spans[0][0], spans[-1][1]
    return Chunk(
        text=section.text[start:end].strip(),
        page=section.page,
        heading=section.heading,
        start=section.offset + start,
        end=section.offset + end,
    )


def chunk_sections(sections: list[Section]) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in sections:
        for chunk in chunk_section(section):
            if chunk.text:
                chunks.append(Chunk(chunk.text, chunk.page, chunk.heading, chunk.start, chunk.end, len(chunks)))
    return chunks
