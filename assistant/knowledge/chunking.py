"""Split sections into passages the embedder reads whole, following the document's own structure.

Passages are sized in the embedder's own tokens (tokens.py): about 200, never more than
MAX_TOKENS, so all-MiniLM-L6-v2 (256 word-pieces with [CLS] and [SEP]) never truncates one.
Chunks never cross a section (a heading or a page), so each keeps one citation. Inside a section
they break at paragraphs, then sentences, then lines, and only as a last resort inside a line.
A line break inside a paragraph is not a sentence end (PDF text wraps mid-sentence): a sentence
ends at . ! ? (or 。！？) or where a list item starts. The next chunk repeats the last sentence
or so of the previous one (overlap), so an answer that straddles a boundary is found whole in at
least one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.knowledge.documents import Section
from assistant.knowledge.tokens import MINILM_MAX_TOKENS, SPECIAL_TOKENS, TokenCounter, counter_for

# A few tokens below the model's limit: a cut inside a word can cost a word-piece more than the
# sum of the parts.
MAX_TOKENS = MINILM_MAX_TOKENS - SPECIAL_TOKENS - 6
TARGET_TOKENS = 200
# Also a cap in characters: a run the tokenizer reads as one [UNK] (a 5,000-letter "word") must
# still be cut into passages a reader can be shown.
MAX_CHARS = 1500
OVERLAP_TOKENS = 32
# Recorded with each indexed file: a file chunked by another version is re-chunked at the next sync.
CHUNKING_VERSION = 2

_SENTENCE_END = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9\u00c0-\u024f])"  # Latin: end mark, space, capital
    r"|(?<=[。！？])\s*"  # CJK: no space needed
    r"|\n(?=\s*(?:[-*•·]|\d{1,3}[.)])\s)"  # a list item on its own line
)


@dataclass(frozen=True)
class Chunk:
    text: str
    page: int | None
    heading: str
    start: int  # character offsets in the section's page (PDF) or document
    end: int
    index: int = 0  # position in the file, set when the file is chunked


def chunking_identity(counter: TokenCounter) -> str:
    return f"v{CHUNKING_VERSION}:{counter.name}:{MAX_TOKENS}"


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.end() > start and match.start() > start:
            yield start, match.start()
            start = match.end()
    if end > start:
        yield start, end


def _split_long(text: str, start: int, end: int, limit: int, counter: TokenCounter) -> Iterator[tuple[int, int]]:
    """A sentence longer than ``limit`` tokens or MAX_CHARS, cut at line breaks, then spaces,
    then anywhere. Tokenized a window at a time: a 20 MB table with no blank line is one
    "sentence", and its tokens at once would take gigabytes."""
    while start < end:
        window = text[start : min(end, start + MAX_CHARS + 1)]
        starts = counter.starts(window)
        if len(starts) <= limit and len(window) <= MAX_CHARS:
            yield start, end  # the rest fits
            return
        fits = start + min(starts[limit] if len(starts) > limit else len(window), MAX_CHARS)
        cut = text.rfind("\n", start + 1, fits + 1)
        if cut <= start:
            cut = text.rfind(" ", start + 1, fits + 1)
        if cut <= start:
            cut = fits
        yield start, cut
        start = cut
        while start < end and text[start].isspace():
            start += 1


def _pieces(text: str, limit: int, counter: TokenCounter) -> Iterator[tuple[int, int, int, bool]]:
    """(start, end, tokens, starts a paragraph) for each sentence, or part of a too-long one."""
    for paragraph in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text):
        spans = [(s, e) for s, e in _sentences(text, paragraph.start(), paragraph.end()) if text[s:e].strip()]
        # Spans too long for one passage are cut by _split_long; tokenizing them whole is waste.
        counts = counter.counts([text[s:e] if e - s <= MAX_CHARS else "" for s, e in spans])
        first = True
        for (start, end), tokens in zip(spans, counts, strict=True):
            fits = end - start <= MAX_CHARS and tokens <= limit
            parts = [(start, end)] if fits else list(_split_long(text, start, end, limit, counter))
            part_counts = [tokens] if len(parts) == 1 else counter.counts([text[s:e] for s, e in parts])
            for (s, e), n in zip(parts, part_counts, strict=True):
                yield s, e, n, first
                first = False


def chunk_section(
    section: Section,
    counter: TokenCounter,
    target: int = TARGET_TOKENS,
    maximum: int = MAX_TOKENS,
    overlap: int = OVERLAP_TOKENS,
) -> list[Chunk]:
    text = section.text
    chunks: list[Chunk] = []
    current: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for start, end, tokens, new_paragraph in _pieces(text, maximum, counter):
        if current:
            size = sum(piece[2] for piece in current)
            full = size + tokens > maximum or size >= target or end - current[0][0] > MAX_CHARS
            if full or (new_paragraph and size >= 0.6 * target):
                chunks.append(_make(section, current))
                # Overlap: carry the trailing sentences that fit in the overlap budget.
                carried: list[tuple[int, int, int]] = []
                for previous in reversed(current):
                    carried_tokens = sum(piece[2] for piece in carried) + previous[2]
                    too_long = current[-1][1] - previous[0] > MAX_CHARS // 4
                    if carried_tokens > overlap or carried_tokens + tokens > maximum or too_long:
                        break
                    carried.insert(0, previous)
                current = carried
        current.append((start, end, tokens))
    if current:
        chunks.append(_make(section, current))
    return chunks


def _make(section: Section, spans: list[tuple[int, int, int]]) -> Chunk:
    start, end = spans[0][0], spans[-1][1]
    return Chunk(
        text=section.text[start:end].strip(),
        page=section.page,
        heading=section.heading,
        start=section.offset + start,
        end=section.offset + end,
    )


def chunk_sections(sections: list[Section], counter: TokenCounter | None = None) -> list[Chunk]:
    counter = counter or counter_for(None)
    chunks: list[Chunk] = []
    for section in sections:
        for chunk in chunk_section(section, counter):
            if chunk.text:
                chunks.append(Chunk(chunk.text, chunk.page, chunk.heading, chunk.start, chunk.end, len(chunks)))
    return chunks
