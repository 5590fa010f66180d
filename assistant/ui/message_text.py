"""The text of one message: a read-only rich-text view as tall as its content, and the column of
such views that shows a reply while it streams.

While a reply streams, its finished Markdown blocks move into frozen views of about
``FREEZE_CHARS`` of HTML each, which are never set again; each update sets only the last view,
which holds the blocks that may still change. The cost of an update so follows the length of
the reply's tail, not of the reply. The column stays when the reply is complete (one document of
10 KB is set in about 40 ms, the longest stall of a stream if done at its end); its blocks' HTML is
the full render's, and the message shows as one document when its conversation is opened again
or when it is rendered whole for another reason (the Confidence tint, a theme change).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QVBoxLayout, QWidget

from assistant.ui.markdown import RenderedMarkdown, StreamingMarkdown, join_blocks, render_markdown

FREEZE_CHARS = 1500


class MessageText(QTextBrowser):
    """Read-only rich text that is exactly as tall as its content."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setOpenLinks(False)
        self.viewport().setAutoFillBackground(False)
        self.document().setDocumentMargin(2)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)

    def _fit_height(self, size: object = None) -> None:
        height = int(self.document().size().height()) + 4
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.document().setTextWidth(self.viewport().width())
        self._fit_height()

    def sizeHint(self) -> QSize:
        return QSize(400, int(self.document().size().height()) + 4)


class StreamedReply:
    """The frozen views above a message's own text view while its reply streams."""

    def __init__(self, column: QVBoxLayout, tail: MessageText, on_anchor: Callable[[QUrl], None]) -> None:
        self._column = column
        self._tail = tail
        self._on_anchor = on_anchor
        self._markdown: StreamingMarkdown | None = None
        self._frozen: list[MessageText] = []
        self._frozen_blocks = 0  # how many of the reply's blocks the frozen views hold

    def show(self, text: str, dark: bool, citations: frozenset[int] = frozenset()) -> list[str]:
        """Show the reply so far; returns all its code blocks (for the Copy links)."""
        if self._markdown is None or not self.active(dark, citations):
            self.clear()
            self._markdown = StreamingMarkdown(dark, citations)
        markdown = self._markdown
        blocks = markdown.update(text)
        if markdown.kept < self._frozen_blocks:  # parsed whole again: frozen blocks may differ
            self._clear_views()
        finished = len(blocks) - 2  # the last two blocks may still change
        pending = blocks[self._frozen_blocks : max(finished, self._frozen_blocks)]
        if sum(len(block.html) for block in pending) >= FREEZE_CHARS:
            view = MessageText()
            view.anchorClicked.connect(self._on_anchor)
            view.setHtml("".join(block.html for block in pending))
            self._column.insertWidget(self._column.indexOf(self._tail), view)
            self._frozen.append(view)
            self._frozen_blocks += len(pending)
        self._tail.setHtml("".join(block.html for block in blocks[self._frozen_blocks :]))
        return [code for block in blocks for code in block.code_blocks]

    def active(self, dark: bool, citations: frozenset[int] = frozenset()) -> bool:
        """Whether this reply streamed here (in these colours, with these passages to cite), so its
        column can go on showing it."""
        return self._markdown is not None and (self._markdown.dark, self._markdown.citations) == (dark, citations)

    @property
    def views(self) -> list[MessageText]:
        return [*self._frozen, self._tail]

    def finish(self, text: str, dark: bool, citations: frozenset[int] = frozenset()) -> RenderedMarkdown:
        """The complete reply's rendering (from the blocks already rendered, if it streamed here)."""
        if self._markdown is not None and self.active(dark, citations):
            rendered = join_blocks(self._markdown.update(text))
        else:
            rendered = render_markdown(text, dark=dark, citations=citations)
        self.clear()
        return rendered

    def clear(self) -> None:
        self._markdown = None
        self._clear_views()

    def _clear_views(self) -> None:
        for view in self._frozen:
            self._column.removeWidget(view)
            view.hide()
            view.deleteLater()
        self._frozen = []
        self._frozen_blocks = 0
