"""The frame of one message: its bubble (yours on the right in the accent colour, Hearth's on the
left in a neutral card) of readable width, and its actions under it.

The actions (Copy, Edit, Regenerate, Continue, Confidence) as one compact row of icon
buttons under its bubble, shown while the pointer is over the message, while one of them has the
keyboard focus, or always under the conversation's last message.

The row keeps its place when faded out, so nothing moves as the pointer crosses the conversation;
a button that does not apply to the message is hidden, which is what ``isVisibleTo`` tells.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant.ui.reasoning_view import tint
from assistant.ui.theme import icon, is_dark

# The widest a bubble grows (lines much longer than this are hard to read), and the share of the
# row a message of the user's takes at most.
MAX_BUBBLE = 860
USER_SHARE = 0.8


def build_frame(message: QWidget, user: bool) -> tuple[QFrame, QVBoxLayout, MessageActions]:
    """Lays out ``message`` as its bubble over its row of actions; returns the bubble, the layout
    its content goes in, and the actions."""
    bubble = QFrame()
    bubble.setObjectName("userBubble" if user else "assistantBubble")
    bubble.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    if user:
        row.addStretch(0)
    row.addWidget(bubble, 1)
    if not user:
        row.addStretch(0)
    actions = MessageActions(align_right=user)
    outer = QVBoxLayout(message)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.setSpacing(1)
    outer.addLayout(row)
    outer.addWidget(actions)
    content = QVBoxLayout(bubble)
    content.setContentsMargins(12, 6, 12, 8)
    content.setSpacing(2)
    return bubble, content, actions


def fit_bubble(bubble: QFrame, user: bool, text: str, header: QLabel, row_width: int) -> None:
    """A reply takes the readable width; a message of the user's as much as its longest line needs."""
    widest = min(MAX_BUBBLE, row_width)
    if user:
        margins = bubble.contentsMargins()
        metrics = QFontMetrics(bubble.font())
        lines = text.splitlines()[:60] or [""]
        natural = max(metrics.horizontalAdvance(line[:400]) for line in lines) + 24
        natural = max(natural, header.sizeHint().width())
        widest = min(int(widest * USER_SHARE), natural + margins.left() + margins.right() + 24)
    if bubble.maximumWidth() != widest:
        bubble.setMaximumWidth(widest)


def confidence_legend() -> str:
    """What the Confidence tint means, shown under a tinted reply."""
    swatch = "<span style='background-color:{};'>&nbsp;&nbsp;&nbsp;&nbsp;</span>"
    return (
        f"Confidence: {swatch.format(tint(0.2, is_dark()))} under 40% &nbsp; "
        f"{swatch.format(tint(0.7, is_dark()))} 40–90% &nbsp; untinted: 90% or more · "
        "hover a word to see the alternatives the model weighed"
    )


class MessageActions(QWidget):
    def __init__(self, align_right: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageActions")
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(4, 0, 4, 0)
        self._row.setSpacing(2)
        if align_right:
            self._row.addStretch(1)
        self._align_right = align_right
        self._buttons: list[tuple[QToolButton, str]] = []
        self._effect = QGraphicsOpacityEffect(self)
        self.setGraphicsEffect(self._effect)
        self._hovered = False
        self._pinned = False
        self._update()

    def add(self, name: str, label: str, description: str, slot: Callable[[], object]) -> QToolButton:
        button = QToolButton()
        button.setObjectName("messageAction")
        button.setIcon(icon(name))
        button.setToolTip(description)
        button.setAccessibleName(f"{label} message")
        button.setText(label)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        button.setAutoRaise(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.clicked.connect(slot)
        button.installEventFilter(self)
        self._row.addWidget(button)
        self._buttons.append((button, name))
        return button

    def finish(self) -> None:
        """Called once every button is added: a row on the left ends with its stretch."""
        if not self._align_right:
            self._row.addStretch(1)

    @property
    def revealed(self) -> bool:
        return self._hovered or self._pinned or any(b.hasFocus() for b, _ in self._buttons)

    def set_hovered(self, hovered: bool) -> None:
        self._hovered = hovered
        self._update()

    def set_pinned(self, pinned: bool) -> None:
        """Always shown (under the conversation's last message)."""
        self._pinned = pinned
        self._update()

    def restyle(self) -> None:
        """The icons again, in the colours of the theme now in use."""
        for button, name in self._buttons:
            button.setIcon(icon(name))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self._update()
        return False

    def _update(self) -> None:
        self._effect.setOpacity(1.0 if self.revealed else 0.0)
