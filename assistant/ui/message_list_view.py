"""The conversation view: one widget per message, built for the newest messages only.

It observes a MessageListModel. A streaming update changes one row, so it re-renders one
message widget: the cost of a token does not grow with the length of the conversation. Opening a
long conversation builds only the newest ``PAGE`` messages; "Show earlier messages" builds more.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QEvent, QModelIndex, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from assistant.core.messages import MessageStatus
from assistant.core.store import StoredMessage
from assistant.ui.message_frame import MAX_BUBBLE, MessageFrame, confidence_legend
from assistant.ui.message_notes import CONTINUE_LINK, cut_short, header_note, stopped_text
from assistant.ui.message_parts import SourceCards, ToolCallCards, VersionSwitcher, learned_line, used_from_memory
from assistant.ui.message_text import MessageText, StreamedReply
from assistant.ui.models import MessageListModel
from assistant.ui.reasoning_view import StagesView, probabilities_html, show_alternatives
from assistant.ui.theme import colors, is_dark

PAGE = 40
EMPTY_TEXT = (
    "<p style='font-size:20px; font-weight:600'>Ask anything.</p>"
    "<p>Everything stays on this computer.</p>"
    "<p>Enter sends · Shift+Enter starts a new line · Library… answers from your documents</p>"
)


class MessageWidget(MessageFrame):
    copyRequested = Signal(str)
    editRequested = Signal(int)
    regenerateRequested = Signal()
    continueRequested = Signal()
    sourceRequested = Signal(object)  # the source dict of a cited passage
    versionRequested = Signal(int, int)  # message id, step (-1 the version before, +1 the one after)

    def __init__(self, message: StoredMessage, parent: QWidget | None = None) -> None:
        user = message.role == "user"
        super().__init__(user, parent)
        self.message = message
        self._code_blocks: list[str] = []
        self._rendered_dark = False
        layout = self.content
        self.header = QLabel()
        self.header.setObjectName("messageHeader")
        # Wrapped: a long note ("interrupted — …") must not make the bubble wider than the window.
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.linkActivated.connect(self._on_header_link)
        self.text = MessageText()
        self.text.anchorClicked.connect(self._on_anchor)
        self._streamed = StreamedReply(layout, self.text, self._on_anchor)
        self.text.setAccessibleName("Your message" if user else "Hearth's reply")
        actions = self.action_row
        actions.declare("copy", "Copy", "Copy this message", lambda: self._copy(self.message.content, "Copied"))
        actions.declare(
            "edit", "Edit", "Edit this message and send it again", lambda: self.editRequested.emit(self.message.id)
        )
        actions.declare("regenerate", "Regenerate", "Write this reply again", self.regenerateRequested.emit)
        actions.declare("continue", "Continue", "Carry on from where this reply stopped", self.continueRequested.emit)
        actions.declare(
            "confidence",
            "Confidence",
            "Tint the reply by how sure the model was of each word",
            self._toggle_confidence,
            checkable=True,
        )
        self.confidence_legend = QLabel()  # its text is set when it is first shown
        self.confidence_legend.setObjectName("confidenceLegend")
        self.confidence_legend.setWordWrap(True)
        self.confidence_legend.setTextFormat(Qt.TextFormat.RichText)
        self.confidence_legend.hide()
        self.stages_view = StagesView()
        self.last_hover = ""
        self.text.highlighted.connect(self._on_hover)
        self.versions = VersionSwitcher()
        self.versions.stepRequested.connect(lambda step: self.versionRequested.emit(self.message.id, step))
        self.tool_cards = ToolCallCards()
        self.memory_note = QLabel()
        self.memory_note.setObjectName("memoryNote")
        self.memory_note.setWordWrap(True)
        self.memory_note.setTextFormat(Qt.TextFormat.RichText)
        self.memory_note.hide()
        # What memory learned from this exchange, in one line ("Remembered: your cat is Pixel").
        self.learned_note = QLabel()
        self.learned_note.setObjectName("learnedNote")
        self.learned_note.setWordWrap(True)
        self.learned_note.setTextFormat(Qt.TextFormat.PlainText)
        self.learned_note.hide()
        self.sources = SourceCards()
        self.sources.sourceRequested.connect(self.sourceRequested)
        header_row = QHBoxLayout()
        header_row.setContentsMargins(0, 0, 0, 0)
        header_row.addWidget(self.header, 1)
        header_row.addWidget(self.versions)
        layout.addLayout(header_row)
        layout.addWidget(self.stages_view)
        layout.addWidget(self.tool_cards)
        layout.addWidget(self.text)
        layout.addWidget(self.confidence_legend)
        layout.addWidget(self.sources)
        layout.addWidget(self.memory_note)
        layout.addWidget(self.learned_note)
        self.set_last(False)
        self.update_message(message)

    def update_message(self, message: StoredMessage) -> None:
        self.message = message
        self._render_header()
        self._render_text()
        self.set_natural_text(message.content)
        stats = message.stats
        note = f"stopped: {stats['error']}" if stats.get("error") else ""
        self.stages_view.set_stages(list(stats.get("stages") or []), note)
        self.action_row.set_applies("confidence", bool(stats.get("token_probs")))
        self.action_row.set_applies("edit", message.role == "user")
        streaming = message.status == MessageStatus.STREAMING
        self.versions.show_place(message.version, message.versions, enabled=not streaming)
        self.sources.set_sources(list(stats.get("sources") or []), message.content)
        self.tool_cards.set_calls(list(stats.get("tool_calls") or []))
        self._show_memories(stats.get("memories") or [])
        line = learned_line(list(stats.get("learned") or []))
        self.learned_note.setText(line)
        self.learned_note.setToolTip("Memory… in the toolbar shows, edits or forgets what Hearth remembers")
        self.learned_note.setVisible(bool(line))
        self._update_reply_actions()

    def _render_header(self) -> None:
        message = self.message
        who = "You" if message.role == "user" else "Hearth"
        when = datetime.fromtimestamp(message.created_at).strftime("%H:%M")
        note = header_note(message, self.action_row.applies("continue"), colors(is_dark(self))["link"])
        self.header.setText(f"<b>{who}</b> · {when}" + (f" · {note}" if note else ""))

    def _on_header_link(self, link: str) -> None:
        if link == CONTINUE_LINK:
            self.continueRequested.emit()

    def _copy(self, text: str, said: str) -> None:
        self.copyRequested.emit(text)
        self.action_row.flash("copy", said)

    @property
    def source_buttons(self) -> list[QPushButton]:
        return self.sources.buttons

    def _show_memories(self, memories: list[dict[str, object]]) -> None:
        """What memory gave the reply, in one line, so the user sees why it knew something."""
        line, tip = used_from_memory(list(memories))
        self.memory_note.setText(line)
        self.memory_note.setToolTip(tip)
        self.memory_note.setVisible(bool(line))

    def set_last(self, last: bool) -> None:
        self._last = last
        self.action_row.set_pinned(last)
        self._update_reply_actions()

    def _update_reply_actions(self) -> None:
        reply = self.message.role == "assistant"
        streaming = self.message.status == MessageStatus.STREAMING
        last = getattr(self, "_last", False)
        self.action_row.set_applies("regenerate", reply and last and not streaming)
        can_continue = reply and last and cut_short(self.message) and bool(self.message.content.strip())
        if can_continue != self.action_row.applies("continue"):
            self.action_row.set_applies("continue", can_continue)
            self._render_header()
        self.action_row.set_applies("copy", not streaming)

    def _render_text(self) -> None:
        self._rendered_dark = is_dark(self)
        probs = self.message.stats.get("token_probs")
        if probs and self.action_row.is_checked("confidence"):
            self._streamed.clear()
            self._code_blocks = []
            self.text.setHtml(probabilities_html(probs, dark=self._rendered_dark))
            return
        content = self.message.content or stopped_text(self.message)
        sources = self.message.stats.get("sources") or []
        citations = frozenset(int(s["n"]) for s in sources if isinstance(s.get("n"), int))
        if self.message.status == MessageStatus.STREAMING or self._streamed.active(self._rendered_dark, citations):
            # Only the reply's last blocks are rendered again on each update (see StreamedReply).
            self._code_blocks = self._streamed.show(content, self._rendered_dark, citations)
            return
        rendered = self._streamed.finish(content, self._rendered_dark, citations)
        self._code_blocks = rendered.code_blocks
        self.text.setHtml(rendered.html)

    def _toggle_confidence(self) -> None:
        self.confidence_legend.setText(confidence_legend())
        self.confidence_legend.setVisible(self.action_row.is_checked("confidence"))
        self._streamed.clear()  # the tint, and the text after it, are one document
        self._render_text()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Code blocks and the confidence tint carry their colours in the HTML: a theme switched
        # while the message is on screen needs it rendered again.
        if event.type() == QEvent.Type.PaletteChange and is_dark(self) != self._rendered_dark:
            self._render_header()
            self._render_text()
            if self.confidence_legend.isVisibleTo(self):
                self.confidence_legend.setText(confidence_legend())

    def _on_hover(self, url: QUrl) -> None:
        probs = self.message.stats.get("token_probs") or []
        shown = self.action_row.is_checked("confidence")
        self.last_hover = show_alternatives(probs, url.toString(), self.text) if shown else ""

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() == "cite":
            number = url.path()
            source = next((s for s in self.message.stats.get("sources") or [] if str(s.get("n")) == number), None)
            if source is not None:
                self.sourceRequested.emit(source)
        elif url.scheme() == "copy":
            index = int(url.path() or 0)
            if 0 <= index < len(self._code_blocks):
                self._copy(self._code_blocks[index], "Code copied")
        elif url.scheme() in ("http", "https", "mailto", "file"):
            QDesktopServices.openUrl(url)


class ChatView(QScrollArea):
    """Scrolls the message widgets; keeps to the bottom while a reply streams if the user is there."""

    editRequested = Signal(int)
    regenerateRequested = Signal()
    continueRequested = Signal()
    sourceRequested = Signal(object)
    versionRequested = Signal(int, int)  # message id, step

    def __init__(self, model: MessageListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Conversation")
        self.setObjectName("chatView")
        # The messages in one column of readable width, centred in a wide window.
        canvas = QWidget()
        canvas.setObjectName("chatCanvas")
        centring = QHBoxLayout(canvas)
        centring.setContentsMargins(0, 0, 0, 0)
        self._container = QWidget()
        self._container.setObjectName("chatColumn")
        self._container.setMaximumWidth(MAX_BUBBLE + 40)
        centring.addWidget(self._container)
        self._layout = QVBoxLayout(self._container)
        self._layout.setContentsMargins(16, 16, 16, 16)
        self._layout.setSpacing(6)
        self.earlier_button = QPushButton("Show earlier messages")
        self.earlier_button.clicked.connect(self.show_earlier)
        self._layout.addWidget(self.earlier_button)
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setTextFormat(Qt.TextFormat.RichText)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self.empty_label, 1)  # shares the height with the stretch: a third down
        self._layout.addStretch(1)
        self.setWidget(canvas)
        self._widgets: list[MessageWidget] = []  # for model rows first_row .. end
        self._first_row = 0
        self._stick_to_bottom = True
        self.verticalScrollBar().rangeChanged.connect(self._on_range_changed)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        model.modelReset.connect(self._rebuild)
        model.rowsInserted.connect(self._on_rows_inserted)
        model.rowsRemoved.connect(self._rebuild)
        model.dataChanged.connect(self._on_data_changed)
        self._rebuild()

    @property
    def message_widgets(self) -> list[MessageWidget]:
        return list(self._widgets)

    def _make(self, message: StoredMessage) -> MessageWidget:
        widget = MessageWidget(message)
        widget.copyRequested.connect(lambda text: QGuiApplication.clipboard().setText(text))
        widget.editRequested.connect(self.editRequested)
        widget.regenerateRequested.connect(self.regenerateRequested)
        widget.continueRequested.connect(self.continueRequested)
        widget.sourceRequested.connect(self.sourceRequested)
        widget.versionRequested.connect(self.versionRequested)
        return widget

    def _clear(self) -> None:
        for widget in self._widgets:
            self._layout.removeWidget(widget)
            widget.hide()  # not painted where it was until its deletion comes round
            widget.deleteLater()
        self._widgets = []

    def _rebuild(self, *args: object) -> None:
        self.setUpdatesEnabled(False)
        self._clear()
        count = self.model.rowCount()
        self._first_row = max(0, count - PAGE)
        position = 2  # after the "earlier" button and the empty-state label
        for row in range(self._first_row, count):
            widget = self._make(self.model.message(row))
            self._layout.insertWidget(position, widget)
            self._widgets.append(widget)
            position += 1
        self._refresh_chrome()
        self.setUpdatesEnabled(True)
        self._stick_to_bottom = True
        self.scroll_to_bottom()

    def show_earlier(self) -> None:
        if self._first_row == 0:
            return
        new_first = max(0, self._first_row - PAGE)
        bar = self.verticalScrollBar()
        distance_from_bottom = bar.maximum() - bar.value()
        for offset, row in enumerate(range(new_first, self._first_row)):
            widget = self._make(self.model.message(row))
            self._layout.insertWidget(1 + offset + 1, widget)
            self._widgets.insert(offset, widget)
        self._first_row = new_first
        self._refresh_chrome()
        QTimer.singleShot(0, lambda: bar.setValue(bar.maximum() - distance_from_bottom))

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):
            widget = self._make(self.model.message(row))
            index = row - self._first_row
            self._layout.insertWidget(2 + index, widget)
            self._widgets.insert(index, widget)
        self._refresh_chrome()

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, roles: object = None) -> None:
        for row in range(top_left.row(), bottom_right.row() + 1):
            index = row - self._first_row
            if 0 <= index < len(self._widgets):
                self._widgets[index].update_message(self.model.message(row))
        self._refresh_last()

    def _refresh_chrome(self) -> None:
        self.earlier_button.setVisible(self._first_row > 0)
        self.empty_label.setVisible(self.model.rowCount() == 0)
        self._refresh_last()

    def _refresh_last(self) -> None:
        for position, widget in enumerate(self._widgets):
            widget.set_last(position == len(self._widgets) - 1)

    def _on_scrolled(self, value: int) -> None:
        self._stick_to_bottom = value >= self.verticalScrollBar().maximum() - 24

    def _on_range_changed(self, minimum: int, maximum: int) -> None:
        if self._stick_to_bottom:
            self.verticalScrollBar().setValue(maximum)

    def scroll_to_bottom(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
