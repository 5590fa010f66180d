"""Markdown to the HTML subset Qt's rich text understands, with highlighted code blocks.

Model output is untrusted: raw HTML and images are not rendered (an ``<img src=file:...>`` would
make the view read local files). Each code block gets a "Copy" link (``copy:N``) that the message
view answers by putting block N on the clipboard.

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
    return parser


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


def render_markdown(text: str, dark: bool = False) -> RenderedMarkdown:
    env: dict[str, Any] = {"dark": dark}
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

    def __init__(self, dark: bool = False) -> None:
        self.dark = dark
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
        env: dict[str, Any] = {}
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
