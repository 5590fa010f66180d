"""Markdown to the HTML subset Qt's rich text understands, with highlighted code blocks.

Model output is untrusted: raw HTML and images are not rendered (an ``<img src=file:...>`` would
make the view read local files). Each code block gets a "Copy" link (``copy:N``) that the message
view answers by putting block N on the clipboard. A citation marker of a retrieved passage
(``[2]``, ``[1, 3]``: numbers in ``env["citations"]``) becomes a link ``cite:N`` that opens it.

A streaming reply is rendered by ``StreamingMarkdown``: top-level blocks (a paragraph, a list, a
table, a code block) that two more blocks follow are finished, as new text can only change the
last one or join it to the one before; each update re-parses and re-highlights those two only. The
blocks' HTML joined is the whole reply's HTML, the same as ``render_markdown`` gives.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from assistant.knowledge.citations import markers


@dataclass
class RenderedMarkdown:
    html: str
    code_blocks: list[str] = field(default_factory=list)


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.disable("image")
    parser.add_render_rule("fence", _render_code)
    parser.add_render_rule("code_block", _render_code)
    parser.core.ruler.push("citations", _link_citations)
    return parser


def _link_citations(state: StateCore) -> None:
    """Citation markers in prose (not in code, not inside a link) become ``cite:N`` links."""
    numbers = state.env.get("citations")
    if not numbers:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for token in block.children:
            in_link += 1 if token.type == "link_open" else -1 if token.type == "link_close" else 0
            if token.type != "text" or in_link:
                children.append(token)
                continue
            children += _split_citations(token.content, numbers)
        block.children = children


def _split_citations(text: str, numbers: frozenset[int]) -> list[Token]:
    tokens: list[Token] = []
    position = 0

    def plain(upto: int) -> None:
        if upto > position:
            tokens.append(Token("text", "", 0, content=text[position:upto]))

    for start, end, cited in markers(text, numbers):
        plain(start)
        single = len(cited) == 1  # "[2]" is one link, the brackets included: a wider target
        tokens.append(Token("text", "", 0, content="" if single else "["))
        for index, number in enumerate(cited):
            if index:
                tokens.append(Token("text", "", 0, content=", "))
            tokens.append(Token("link_open", "a", 1, attrs={"href": f"cite:{number}", "title": f"Source {number}"}))
            tokens.append(Token("text", "", 0, content=f"[{number}]" if single else str(number)))
            tokens.append(Token("link_close", "a", -1))
        tokens.append(Token("text", "", 0, content="" if single else "]"))
        position = end
    plain(len(text))
    return tokens


def _render_code(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    code = token.content.rstrip("\n")
    language = (token.info or "").strip().split(" ")[0]
    blocks: list[str] = env.setdefault("code_blocks", [])
    number = env.get("code_offset", 0) + len(blocks)
    blocks.append(code)
    dark = bool(env.get("dark"))
    background, border = ("#1e1e24", "#3a3a46") if dark else ("#f5f5f7", "#d8d8e0")
    label = html.escape(language) if language else "code"
    return (
        f'<table width="100%" cellspacing="0" cellpadding="6" bgcolor="{background}" '
        f'style="border: 1px solid {border}; margin: 4px 0;">'
        f'<tr><td><span style="color: #888;">{label}</span> &nbsp; <a href="copy:{number}">Copy</a></td></tr>'
        f'<tr><td><pre style="margin: 0;">{_highlight(code, language, dark)}</pre></td></tr></table>'
    )


def _highlight(code: str, language: str, dark: bool) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    if lexer is None:
        return html.escape(code)
    formatter = HtmlFormatter(nowrap=True, noclasses=True, style="monokai" if dark else "friendly")
    return str(highlight(code, lexer, formatter)).rstrip("\n")


def warm_up() -> None:
    """Build the parser and load Pygments ahead of the first reply (safe on any thread: no Qt)."""
    render_markdown("**warm** `up`\n\n```python\nx = 1\n```\n\n| a |\n|---|\n| 1 |")


def _table_borders(body: str, dark: bool) -> str:
    # Qt's rich text draws table borders only from attributes; collapsed, in a quiet colour (the
    # default is a heavy dark frame around every cell).
    colour = "#4a4a56" if dark else "#d8d8e0"
    style = f"border-collapse: collapse; border-color: {colour}; border-style: solid;"
    return body.replace("<table>", f'<table border="1" cellspacing="0" cellpadding="4" style="{style}">')


def render_markdown(text: str, dark: bool = False, citations: frozenset[int] = frozenset()) -> RenderedMarkdown:
    env: dict[str, Any] = {"dark": dark, "citations": citations}
    body = _parser().render(text, env)
    return RenderedMarkdown(_table_borders(body, dark), env.get("code_blocks", []))


@dataclass(frozen=True)
class RenderedBlock:
    """One top-level Markdown block of a reply: where it starts in the text and its HTML."""

    start: int  # character offset in the (line-ending normalised) text
    html: str
    code_blocks: tuple[str, ...]


class StreamingMarkdown:
    """Renders a reply that grows at its end: finished blocks once, the last block on every update."""

    def __init__(self, dark: bool = False, citations: frozenset[int] = frozenset()) -> None:
        self.dark = dark
        self.citations = citations  # the passage numbers whose markers become links
        self._text = ""
        self._blocks: list[RenderedBlock] = []
        self.kept = 0  # blocks the last update took over unchanged from the one before
        self._references = False  # whether the text defines reference links

    def update(self, text: str) -> list[RenderedBlock]:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        # The last block can still grow, and can still join the one before it ("3" becoming "3."
        # continues the list above it): both are parsed again. Text that did not just grow, or
        # that defines a reference link ([x]: url, which changes links anywhere before it), is
        # parsed whole.
        kept: list[RenderedBlock] = []
        if len(self._blocks) > 2 and text.startswith(self._text) and not self._references:
            kept = self._blocks[:-2]
        restart = self._blocks[len(kept)].start if kept else 0
        blocks = self._render_from(text, restart, sum(len(block.code_blocks) for block in kept))
        if kept and self._references:  # the new tail defines one: the kept blocks may link to it
            kept, blocks = [], self._render_from(text, 0, 0)
        self.kept = len(kept)
        self._blocks = kept + blocks
        self._text = text
        return list(self._blocks)

    def _render_from(self, text: str, offset: int, code_offset: int) -> list[RenderedBlock]:
        parser = _parser()
        tail = text[offset:]
        env: dict[str, Any] = {"citations": self.citations}
        tokens = parser.parse(tail, env)
        self._references = bool(env.get("references"))
        line_starts = [0]
        for line in tail.split("\n"):
            line_starts.append(line_starts[-1] + len(line) + 1)
        blocks: list[RenderedBlock] = []
        first = 0
        for index, token in enumerate(tokens):
            if token.level != 0 or token.nesting == 1:
                continue  # inside a block, or the opening of one that closes later
            group = tokens[first : index + 1]
            start_line = group[0].map[0] if group[0].map else 0
            render_env: dict[str, Any] = {"dark": self.dark, "code_offset": code_offset, **env}
            body = _table_borders(parser.renderer.render(group, parser.options, render_env), self.dark)
            found = tuple(render_env.get("code_blocks", []))
            blocks.append(RenderedBlock(offset + line_starts[start_line], body, found))
            code_offset += len(found)
            first = index + 1
        return blocks


def join_blocks(blocks: list[RenderedBlock]) -> RenderedMarkdown:
    return RenderedMarkdown("".join(b.html for b in blocks), [code for b in blocks for code in b.code_blocks])
