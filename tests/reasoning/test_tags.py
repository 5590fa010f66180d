"""Reasoning tags: every supported format, blocks that never close, tags split across chunks."""

from __future__ import annotations

import pytest

from assistant.reasoning.tags import TAG_PAIRS, ReasoningSplitter, split_reasoning


@pytest.mark.parametrize(("opening", "closing"), TAG_PAIRS)
def test_each_format_is_split(opening: str, closing: str) -> None:
    thinking, answer, unclosed = split_reasoning(f"{opening}\nLet me add 2 and 2.\n{closing}\n\nIt is 4.")
    assert (thinking, answer, unclosed) == ("Let me add 2 and 2.", "It is 4.", False)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7])
def test_tags_split_across_chunks(size: int) -> None:
    text = "  <think>Plan: count.</think>The answer is 3 <b>bold</b>."
    splitter = ReasoningSplitter()
    segments = []
    for start in range(0, len(text), size):
        segments += splitter.feed(text[start : start + size])
    segments += splitter.finish()
    assert "".join(s.text for s in segments if s.kind == "thinking") == "Plan: count."
    assert "".join(s.text for s in segments if s.kind == "answer") == "The answer is 3 <b>bold</b>."
    assert not any("<" in s.text and s.kind == "thinking" for s in segments)


def test_a_block_that_never_closes_is_all_thinking() -> None:
    thinking, answer, unclosed = split_reasoning("<think>Hmm, first I should")
    assert (thinking, answer, unclosed) == ("Hmm, first I should", "", True)
    splitter = ReasoningSplitter()
    splitter.feed("<think>partial </thi")
    splitter.finish()
    assert splitter.thinking == "partial </thi" and splitter.unclosed


def test_a_block_opened_by_the_template_needs_only_its_end() -> None:
    assert split_reasoning("Okay, so the user asks.</think>\n\nParis.", start_thinking=True)[:2] == (
        "Okay, so the user asks.",
        "Paris.",
    )


def test_an_answer_that_mentions_tags_is_left_alone() -> None:
    text = "Use <think> tags like this: <think>x</think>."
    assert split_reasoning(text) == ("", text, False)
    assert split_reasoning("No reasoning here.") == ("", "No reasoning here.", False)
    assert split_reasoning("<thin") == ("", "<thin", False), "a partial tag at the end of the stream is text"


def test_the_line_breaks_after_the_closing_tag_are_not_the_answer_s_even_as_separate_pieces() -> None:
    """Qwen3 writes "</think>", then "\\n\\n" as a token of its own, then the answer."""
    splitter = ReasoningSplitter()
    pieces = ["<think>", "plan", "</think>", "\n", "\n", "Four", ".\n\nDone."]
    answer = [s.text for piece in pieces for s in splitter.feed(piece) if s.kind == "answer"]
    assert "".join(answer) == "Four.\n\nDone."
