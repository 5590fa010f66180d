from __future__ import annotations

import itertools
import random
import textwrap

import pytest

from assistant.knowledge.bundled_embedder import bundled_embedder_path
from assistant.knowledge.chunking import MAX_CHARS, MAX_TOKENS, chunk_section, chunk_sections
from assistant.knowledge.documents import Section
from assistant.knowledge.tokens import MINILM_MAX_TOKENS, EstimatingCounter, counter_for


def _prose(paragraphs: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return "\n\n".join(
        " ".join(
            f"Sentence {p}.{s} talks about topic {rng.randint(1, 99)} and then ends." for s in range(rng.randint(1, 25))
        )
        for p in range(paragraphs)
    )


def _embedded_tokens(text: str) -> int:
    """What all-MiniLM-L6-v2 itself would read: its tokenizer, with [CLS] and [SEP]."""
    from tokenizers import Tokenizer

    path = bundled_embedder_path()
    assert path is not None
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_truncation()  # the file says 128; sentence-transformers reads up to 256
    return len(tokenizer.encode(text).ids)


JAPANESE = "東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。"
CHINESE = "人工智能是计算机科学的一个分支，它研究如何让机器像人一样思考和学习。"


@pytest.mark.parametrize(
    "text",
    [
        _prose(30),
        (JAPANESE + CHINESE) * 80,  # no spaces at all, one token per character
        "\n".join(f"name: Person {n}; role: member; joined: 20{n % 100:02d}" for n in range(400)),  # a CSV, no stops
        "Pneumonoultramicroscopicsilicovolcanoconiosis " * 300,  # long words, many word-pieces each
        "x" * 5000,
    ],
    ids=["english", "cjk", "table", "long-words", "no-spaces"],
)
def test_every_passage_fits_in_what_the_embedder_reads(text: str) -> None:
    chunks = chunk_sections([Section(text)])
    assert len(chunks) > 1
    assert max(_embedded_tokens(c.text) for c in chunks) <= MINILM_MAX_TOKENS
    assert all(text[c.start : c.end].strip() == c.text for c in chunks)


def test_chunks_point_back_into_the_text_and_keep_their_citation() -> None:
    text = _prose(30)
    chunks = chunk_sections([Section(text, page=4, heading="A > B", offset=100)])
    assert len(chunks) > 5
    assert all(text[c.start - 100 : c.end - 100].strip() == c.text for c in chunks)
    assert all((c.page, c.heading) == (4, "A > B") for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_chunks_end_at_sentence_boundaries_and_overlap() -> None:
    chunks = chunk_sections([Section(_prose(30))])
    assert all(c.text.endswith(".") for c in chunks)
    overlapping = sum(1 for a, b in itertools.pairwise(chunks) if b.start < a.end)
    assert overlapping >= len(chunks) // 2


def test_a_pdf_line_break_is_not_a_sentence_end() -> None:
    # PDF text wraps every 60 characters or so, mid-sentence; passages must still end at a full stop.
    sentence = "The kettle in room {} should be descaled every ninety days with vinegar."
    sentences = " ".join(sentence.format(n) for n in range(60))
    wrapped = textwrap.fill(sentences, 60)
    chunks = chunk_section(Section(wrapped, page=1), counter_for(None), target=60, maximum=100, overlap=0)
    assert len(chunks) > 5
    assert all(c.text.endswith("vinegar.") for c in chunks), [c.text[-30:] for c in chunks]


def test_cjk_sentences_end_at_their_own_full_stops() -> None:
    chunks = chunk_section(Section(JAPANESE * 40), counter_for(None), target=60, maximum=100, overlap=0)
    assert len(chunks) > 3 and all(c.text.endswith("。") for c in chunks)


def test_list_items_on_their_own_lines_are_pieces() -> None:
    items = "\n".join(f"- step {n}: turn the dial to position {n}" for n in range(80))
    chunks = chunk_section(Section(items), counter_for(None), target=60, maximum=100, overlap=0)
    assert all(c.text.startswith("- step") for c in chunks)


def test_chunks_never_cross_sections() -> None:
    sections = [Section("Page one text.", page=1), Section("Page two text.", page=2)]
    assert [(c.page, c.text) for c in chunk_sections(sections)] == [(1, "Page one text."), (2, "Page two text.")]


def test_a_text_without_spaces_is_still_split() -> None:
    chunks = chunk_sections([Section("x" * 5000)])
    assert len(chunks) >= 4 and "".join(c.text for c in chunks) == "x" * 5000


def test_a_huge_paragraph_is_tokenized_a_window_at_a_time() -> None:
    # A table with no blank line is one paragraph and, with no full stops, one "sentence":
    # tokenizing 20 MB of it at once took over 16 GB. Every text tokenized must be passage-sized.
    longest = 0

    class Counting(EstimatingCounter):
        def counts(self, texts: list[str]) -> list[int]:
            nonlocal longest
            longest = max([longest, *map(len, texts)])
            return super().counts(texts)

        def starts(self, text: str) -> list[int]:
            nonlocal longest
            longest = max(longest, len(text))
            return super().starts(text)

    table = "\n".join(f"row {n}: value {n * 7}" for n in range(20_000))
    chunks = chunk_sections([Section(table)], Counting())
    assert len(chunks) > 100 and longest <= MAX_CHARS + 1
    assert all(table[c.start : c.end].strip() == c.text for c in chunks)


def test_the_estimate_without_a_tokenizer_stays_within_the_limit() -> None:
    text = (JAPANESE + " An English sentence, for a mix. ") * 60
    chunks = chunk_sections([Section(text)], EstimatingCounter())
    assert max(_embedded_tokens(c.text) for c in chunks) <= MINILM_MAX_TOKENS
    assert MAX_TOKENS < MINILM_MAX_TOKENS
