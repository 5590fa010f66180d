from __future__ import annotations

import itertools
import random

from assistant.knowledge.chunking import CHARS_PER_TOKEN, MAX_TOKENS, chunk_sections
from assistant.knowledge.documents import Section


def _prose(paragraphs: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return "\n\n".join(
        " ".join(
            f"Sentence {p}.{s} talks about topic {rng.randint(1, 99)} and then ends." for s in range(rng.randint(1, 25))
        )
        for p in range(paragraphs)
    )


def test_chunks_fit_the_budget_and_point_back_into_the_text() -> None:
    text = _prose(30)
    chunks = chunk_sections([Section(text, page=4, heading="A > B", offset=100)])
    assert len(chunks) > 5
    assert all(len(c.text) <= MAX_TOKENS * CHARS_PER_TOKEN for c in chunks)
    assert all(text[c.start - 100 : c.end - 100].strip() == c.text for c in chunks)
    assert all((c.page, c.heading) == (4, "A > B") for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_chunks_end_at_sentence_boundaries_and_overlap() -> None:
    chunks = chunk_sections([Section(_prose(30))])
    assert all(c.text.endswith(".") for c in chunks)
    overlapping = sum(1 for a, b in itertools.pairwise(chunks) if b.start < a.end)
    assert overlapping >= len(chunks) // 2


def test_chunks_never_cross_sections() -> None:
    sections = [Section("Page one text.", page=1), Section("Page two text.", page=2)]
    assert [(c.page, c.text) for c in chunk_sections(sections)] == [(1, "Page one text."), (2, "Page two text.")]


def test_a_text_without_spaces_is_still_split() -> None:
    chunks = chunk_sections([Section("x" * 5000)])
    assert len(chunks) >= 4 and "".join(c.text for c in chunks) == "x" * 5000
