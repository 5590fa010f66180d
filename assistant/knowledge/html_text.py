"""HTML to sections of text under their heading trail, through the standard library's parser.

Scripts, styles and templates are skipped. A heading ends at its end tag or, left open, where the
next block or heading starts: an unclosed <h2> once sent the rest of the page into a heading that
was never written (zero sections).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from assistant.knowledge.sections import Section, normalise

MAX_HEADING_CHARS = 300


class HTMLText(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "svg"})
    _BLOCK = frozenset({"p", "div", "br", "li", "tr", "section", "article", "pre", "blockquote", "table", "ul", "ol"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[Section] = []
        self.trail: list[str] = []
        self.parts: list[str] = []
        self.skipping = 0
        self.heading_level = 0
        self.heading_parts: list[str] = []
        self.position = 0

    def flush(self) -> None:
        body = normalise("".join(self.parts))
        if body:
            self.sections.append(Section(body, heading=" > ".join(self.trail), offset=self.position))
        self.position += len(body)
        self.parts = []

    def end_heading(self) -> None:
        """A heading ends at its end tag, or, left open, where the next block or heading starts:
        an unclosed <h2> must not swallow the rest of the page."""
        if not self.heading_level:
            return
        title = " ".join("".join(self.heading_parts).split())
        if len(title) > MAX_HEADING_CHARS:  # an open heading that ran on into the body: it is text
            self.parts.append("".join(self.heading_parts))
        else:
            self.trail = [*self.trail[: self.heading_level - 1], title]
        self.heading_level = 0
        self.heading_parts = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.end_heading()
            self.flush()
            self.heading_level = int(tag[1])
            self.heading_parts = []
        elif tag in self._BLOCK:
            self.end_heading()
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif re.fullmatch(r"h[1-6]", tag):
            self.end_heading()
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        (self.heading_parts if self.heading_level else self.parts).append(data)
