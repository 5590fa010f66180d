"""Markdown to the HTML subset Qt's rich text understands, with highlighted code blocks.

Model output is untrusted: raw HTML and images are not rendered (an ``<img src=file:...>`` would
make the view read local files). Each code block gets a "Copy" link (``copy:N``) that the message
view answers by putting block N on the clipboard.
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
    number = len(blocks)
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


def render_markdown(text: str, dark: bool = False) -> RenderedMarkdown:
    env: dict[str, Any] = {"dark": dark}
    body = _parser().render(text, env)
    # Qt's rich text draws table borders only from attributes.
    body = body.replace("<table>", '<table border="1" cellspacing="0" cellpadding="4">')
    return RenderedMarkdown(body, env.get("code_blocks", []))
