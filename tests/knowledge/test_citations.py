"""Which retrieved passages an answer cites: markers of real passage numbers, outside code."""

from __future__ import annotations

from assistant.knowledge.citations import cited_numbers


def test_markers_of_passages_are_citations_in_order_of_first_use() -> None:
    text = "Descale monthly [2]. The warranty [1, 3] says so [2]."
    assert cited_numbers(text, {1, 2, 3}) == [2, 1, 3]


def test_numbers_that_are_no_passage_and_code_are_not_citations() -> None:
    text = "See [7] and [1, 9].\n\n```python\nx = items[1]\n```\n\nAlso `a[2]` and ~~~ but [3].\n\n~~~\nb[1]\n"
    assert cited_numbers(text, {1, 2, 3}) == [3]


def test_an_answer_without_markers_cites_nothing() -> None:
    assert cited_numbers("The kettle needs descaling every 90 days.", {1, 2}) == []
    assert cited_numbers("[1]", set()) == []


def test_an_echo_of_the_passage_delimiters_is_no_citation() -> None:
    # What the bundled model wrote once, asked to cite: the delimiter copied, then an answer.
    text = "<<<Question [1] from kettle.txt>>\nHow often?\n\nThe answer is: 90 days (2)"
    assert cited_numbers(text, {1, 2}) == []
    assert cited_numbers("<<<passage [1] from a.txt>>> quoted. Then [2].", {1, 2}) == [2]
    # and the closing delimiter's words, after an answer taken from passage 3:
    assert cited_numbers("Serviced every October.\n(End of passage [4])", {1, 2, 3, 4}) == []
