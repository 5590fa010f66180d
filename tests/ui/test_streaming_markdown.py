"""StreamingMarkdown renders a growing reply block by block; at every step its HTML is the full render's."""

from __future__ import annotations

import re

import pytest

from assistant.ui.markdown import StreamingMarkdown, join_blocks, render_markdown

CORPORA = {
    "fences": (
        "Here is code:\n\n```python\ndef f(x):\n    return x * 2\n```\n\nAnd more:\n\n"
        "```\nplain block\n\n\nwith blank lines\n```\nText right after.\n\n~~~js\nlet a = 1;\n~~~\n"
    ),
    "fence left open": "Start.\n\n```python\nfor i in range(3):\n    print(i)\n\nstill inside the fence",
    "lists": (
        "Steps:\n\n1. first\n2. second\n   - nested a\n   - nested b\n\n3. third, now a loose list\n\n"
        "- a bullet\n- another\n\n  continued paragraph\n- last\n\nafter the list\n* star list\n+ plus list\n"
    ),
    "tables": (
        "Intro line\n| a | b |\n|---|:-:|\n| 1 | 2 |\n| **3** | `4` |\n\n| only | header |\n|---|---|\n\n"
        "not | a table\n"
    ),
    "nested quotes": (
        "> quoted\n> > nested deeper\n> > still\n> back out\nlazy continuation\n\n> - list in quote\n"
        ">   ```\n>   code in quote\n>   ```\n\nplain\n"
    ),
    "headings and rules": (
        "Title\n=====\n\nSub\n---\n\ntext\n\n---\n\n# ATX\n\n    indented code\n    more\n\npara\n    lazy\n"
        "Setext after para\n---\n***\n"
    ),
    "windows line endings": "one\r\n\r\n```\r\ncode\r\n```\r\n\r\n- a\r\n- b\r\n",
    "references": "A [link][x] and [another].\n\n[x]: https://example.com\n[another]: https://example.org\n",
}

_PIECES = re.compile(r"\s*\S+|\s+")


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_every_streamed_prefix_renders_as_the_whole(name: str) -> None:
    text = CORPORA[name]
    stream = StreamingMarkdown()
    so_far = ""
    for piece in _PIECES.findall(text):
        so_far += piece
        streamed = join_blocks(stream.update(so_far))
        whole = render_markdown(so_far.replace("\r\n", "\n"))
        assert streamed.html == whole.html, f"after {len(so_far)} characters"
        assert streamed.code_blocks == whole.code_blocks


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_character_by_character_and_dark(name: str) -> None:
    text = CORPORA[name].replace("\r\n", "\n") + "\n\n" + CORPORA["lists"] + CORPORA["tables"]
    stream = StreamingMarkdown(dark=True)
    for end in range(1, len(text) + 1):
        assert join_blocks(stream.update(text[:end])).html == render_markdown(text[:end], dark=True).html


def test_finished_blocks_are_not_rendered_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.ui import markdown

    highlighted: list[str] = []
    original = markdown._highlight
    monkeypatch.setattr(
        markdown, "_highlight", lambda code, language, dark: highlighted.append(code) or original(code, language, dark)
    )
    stream = StreamingMarkdown()
    text = "```python\nfirst = 1\n```\n\n" + "".join(f"Paragraph {n} has a few words.\n\n" for n in range(20))
    so_far = ""
    renders_when_two_blocks_followed = None
    for piece in _PIECES.findall(text):
        so_far += piece
        stream.update(so_far)
        if renders_when_two_blocks_followed is None and "Paragraph 1" in so_far:
            renders_when_two_blocks_followed = highlighted.count("first = 1")
    # Rendered while it was one of the last two blocks, then never again however long the reply grew.
    assert highlighted.count("first = 1") == renders_when_two_blocks_followed


def test_citation_markers_become_links_to_their_sources_and_nothing_else_does() -> None:
    text = "Descale [2], per [1, 3].\n\n[7] is none; `a[1]` is code; [a link [1]](https://example.org).\n\n```\nx[2]\n```\n"
    html = render_markdown(text, citations=frozenset({1, 2, 3})).html
    assert re.findall(r'href="cite:(\d)"', html) == ["2", "1", "3"]
    assert '<a href="cite:2" title="Source 2">[2]</a>' in html  # the whole marker is the link
    assert "[7]" in html and "<code>a[1]</code>" in html
    assert "cite:" not in render_markdown(text).html  # an answer without sources links nothing
    streamed = StreamingMarkdown(citations=frozenset({1, 2, 3}))
    for end in range(0, len(text) + 1, 7):
        streamed.update(text[:end])
    assert join_blocks(streamed.update(text)).html == html
