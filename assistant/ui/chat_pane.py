"""The centre of the window: the conversation, the edit banner, the input with Send/Stop, the status line."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.reasoning.reply import TurnStyle
from assistant.ui.attachment_bar import AttachmentBar, dropped_files
from assistant.ui.composer import MessageInput
from assistant.ui.eliding_label import ElidingLabel
from assistant.ui.gauge import ContextGauge
from assistant.ui.message_list_view import ChatView
from assistant.ui.models import MessageListModel
from assistant.ui.theme import colors, icon, is_dark

MODE_CHOICES = (
    ("Direct", "direct", "Direct: the model answers in one pass. Fastest; right for most questions."),
    ("Think", "think", "Think: the model writes a step-by-step plan first, then the answer. For problems with steps."),
    (
        "Refine",
        "refine",
        "Refine: a draft, a critique of it, a revised answer. Slower; for writing that must be right.",
    ),
    ("Vote", "vote", "Vote: several answers sampled and reconciled into one. Slowest; for questions with one answer."),
)
INCOGNITO_TEXT = "Incognito: nothing in this chat is saved or remembered; it is gone when Hearth closes."


class ChatPane(QWidget):
    sendRequested = Signal(str)
    stopRequested = Signal()
    filesDropped = Signal(list)  # list[Path]: to attach to this conversation

    def __init__(self, messages: MessageListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chat_view = ChatView(messages)
        self.edit_banner = QLabel()
        self.edit_banner.setObjectName("editBanner")
        self.edit_banner.hide()
        # Shown for as long as an incognito chat is open, not only as a notice that fades.
        self.incognito_banner = QLabel(INCOGNITO_TEXT)
        self.incognito_banner.setObjectName("incognitoBanner")
        self.incognito_banner.setWordWrap(True)  # its text must not set the window's minimum width
        self.incognito_banner.hide()
        # The thinking mode and Confidence belong to one chat: a new chat starts Direct.
        self._styles: dict[int, tuple[int, bool]] = {}
        self._conversation_id: int | None = None
        self.input = MessageInput()
        self.input.submitted.connect(self.sendRequested)
        self.input.filesDropped.connect(self.filesDropped)
        self.attachment_bar = AttachmentBar()
        self.attach_button = QPushButton("Attach…")
        self.attach_button.setAccessibleName("Attach files")
        self.attach_button.setToolTip(
            "Attach files to this conversation only, without making a collection (or drop them on the chat)"
        )
        self.setAcceptDrops(True)  # drops on the conversation; the input takes its own
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setAccessibleName("Send message")
        self.send_button.clicked.connect(lambda: self.sendRequested.emit(self.input.toPlainText()))
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setAccessibleName("Stop the reply")
        self.stop_button.setToolTip("Stop (Esc)")
        self.stop_button.clicked.connect(self.stopRequested)
        self.stop_button.setEnabled(False)
        self.mode_picker = QComboBox()
        self.mode_picker.setAccessibleName("Thinking mode")
        for label, mode, tip in MODE_CHOICES:
            self.mode_picker.addItem(label, mode)
            self.mode_picker.setItemData(self.mode_picker.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.mode_picker.currentIndexChanged.connect(self._explain_mode)
        self._explain_mode()
        self.probs_box = QCheckBox("Confidence")
        self.probs_box.setToolTip("Record each word's probability and alternatives (a little slower)")
        self.speed_label = ElidingLabel("")  # "…" where it does not fit, not cut mid-word
        self.speed_label.setAccessibleName("Generation speed")
        self.gauge = ContextGauge()
        self.gauge.setMaximumWidth(220)
        self.gauge.setMinimumWidth(60)  # the window fits 800 pixels with both side panels open
        self.gauge_label = QLabel("Context")
        self.gauge_label.setToolTip("Hover the bar to see how the context window is shared.")
        self.gauge.summaryChanged.connect(self.gauge_label.setText)

        # The input and its buttons in one rounded box; the choices for the next message and the
        # numbers of the last one in a row under it.
        self.composer = QFrame()
        self.composer.setObjectName("composer")
        composer = QHBoxLayout(self.composer)
        composer.setContentsMargins(6, 4, 6, 4)
        composer.addWidget(self.input, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.attach_button)
        buttons.addStretch(1)
        composer.addLayout(buttons)
        status = QHBoxLayout()
        status.setContentsMargins(4, 0, 4, 0)
        status.addWidget(self.mode_picker)
        status.addWidget(self.probs_box)
        status.addWidget(self.speed_label, 1)
        status.addWidget(self.gauge_label)
        status.addWidget(self.gauge)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 6)
        layout.addWidget(self.incognito_banner)
        layout.addWidget(self.chat_view, 1)
        layout.addWidget(self.edit_banner)
        layout.addWidget(self.attachment_bar)
        layout.addWidget(self.composer)
        layout.addLayout(status)
        self.restyle()

    def restyle(self) -> None:
        """The buttons' icons in the colours of the theme now in use."""
        self.send_button.setIcon(icon("send", color=colors(is_dark(self))["accent_text"]))
        self.stop_button.setIcon(icon("stop"))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.restyle()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = dropped_files(event.mimeData())
        if files:
            event.acceptProposedAction()
            self.filesDropped.emit(files)

    def _explain_mode(self, index: int = 0) -> None:
        tip = MODE_CHOICES[self.mode_picker.currentIndex()][2]
        self.mode_picker.setToolTip(f"How this chat's next message is answered. {tip}")

    def show_conversation(self, conversation_id: int | None, incognito: bool) -> None:
        """Keep the choices of the chat left, restore those of the chat opened (Direct for a new one)."""
        if self._conversation_id is not None:
            self._styles[self._conversation_id] = (self.mode_picker.currentIndex(), self.probs_box.isChecked())
        self._conversation_id = conversation_id
        mode, probs = self._styles.get(conversation_id, (0, False)) if conversation_id is not None else (0, False)
        self.mode_picker.setCurrentIndex(mode)
        self.probs_box.setChecked(probs)
        self.incognito_banner.setVisible(incognito)

    def turn_style(self, rounds: int = 1, votes: int = 3) -> TurnStyle:
        """The thinking mode and probability recording chosen for the next message."""
        mode = self.mode_picker.currentData()
        return TurnStyle(mode, rounds, votes, token_probs=self.probs_box.isChecked())

    def set_busy(self, busy: bool) -> None:
        self.stop_button.setEnabled(busy)
        self.send_button.setEnabled(not busy)
