"""The frame of one message: its bubble (yours on the right in the accent colour, Hearth's on the
left as a neutral card) of readable width, and its actions under it.

The actions (Copy, Edit, Regenerate, Continue, Confidence) are one compact row of icon buttons,
shown while the pointer is over the message, while one of them has the keyboard focus, and always
under the conversation's last message. The row keeps its place when it is faded out, so nothing
moves as the pointer crosses the conversation; a button that does not apply to the message is
hidden, which is what ``isVisibleTo`` tells.

What goes inside the bubble is MessageWidget's (message_list_view.py): this module is its frame only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QEnterEvent, QFocusEvent, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from assistant.ui.reasoning_view import tint
from assistant.ui.theme import icon, is_dark

# The widest a bubble grows (lines much longer than this are hard to read), and the share of the
# row a message of the user's takes at most.
MAX_BUBBLE = 860
USER_SHARE = 0.8
ROW_HEIGHT = 24  # of the row of actions, and the side of each of its buttons
FLASH_MS = 1500  # how long a button says what it did ("Copied")


def confidence_legend() -> str:
    """What the Confidence tint means, shown under a tinted reply."""
    swatch = "<span style='background-color:{};'>&nbsp;&nbsp;&nbsp;&nbsp;</span>"
    return (
        f"Confidence: {swatch.format(tint(0.2, is_dark()))} under 40% &nbsp; "
        f"{swatch.format(tint(0.7, is_dark()))} 40–90% &nbsp; untinted: 90% or more · "
        "hover a word to see the alternatives the model weighed"
    )


class MessageFrame(QFrame):
    """A message's bubble on its side over its row of actions; the content goes in ``content``."""

    def __init__(self, user: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._user = user
        self._natural_width = 0  # of a message of the user's: its longest line
        self.setObjectName("userMessage" if user else "assistantMessage")
        self.bubble = QFrame()
        self.bubble.setObjectName("userBubble" if user else "assistantBubble")
        self.bubble.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if user:
            row.addStretch(0)
        row.addWidget(self.bubble, 1)
        if not user:
            row.addStretch(0)
        self.action_row = MessageActions(align_right=user)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        outer.addLayout(row)
        outer.addWidget(self.action_row)
        self.content = QVBoxLayout(self.bubble)
        self.content.setContentsMargins(12, 6, 12, 8)
        self.content.setSpacing(2)

    # The row's buttons, made on first use (see MessageActions).
    @property
    def copy_button(self) -> QToolButton:
        return self.action_row.button("copy")

    @property
    def edit_button(self) -> QToolButton:
        return self.action_row.button("edit")

    @property
    def regenerate_button(self) -> QToolButton:
        return self.action_row.button("regenerate")

    @property
    def continue_button(self) -> QToolButton:
        return self.action_row.button("continue")

    @property
    def confidence_button(self) -> QToolButton:
        return self.action_row.button("confidence")

    def set_natural_text(self, text: str) -> None:
        """The text a bubble of the user's is sized to (a reply's takes the readable width)."""
        if self._user:
            metrics = QFontMetrics(self.bubble.font())
            lines = text.splitlines()[:60] or [""]
            self._natural_width = max(metrics.horizontalAdvance(line[:400]) for line in lines)
            self._fit_bubble()

    def _fit_bubble(self) -> None:
        widest = min(MAX_BUBBLE, self.width())
        if self._user:
            margins = self.content.contentsMargins()
            needed = max(self._natural_width, 120) + margins.left() + margins.right() + 32
            widest = min(int(widest * USER_SHARE), needed)
        if self.bubble.maximumWidth() != widest:
            self.bubble.setMaximumWidth(widest)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_bubble()

    def enterEvent(self, event: QEnterEvent) -> None:
        super().enterEvent(event)
        self.action_row.set_hovered(True)

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        self.action_row.set_hovered(False)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.action_row.restyle()


class ActionButton(QToolButton):
    """A small icon button of a message's row; its focus shows the row to keyboard users."""

    def __init__(self, row: MessageActions, name: str) -> None:
        super().__init__(row)  # a parent from the start: a parentless button shown is a window
        self.row = row
        self.icon_name = name
        self.setObjectName("messageAction")
        self.setIcon(icon(name))
        self.setIconSize(QSize(16, 16))
        self.setFixedSize(ROW_HEIGHT, ROW_HEIGHT)
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.row.refresh()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.row.refresh()


@dataclass
class _Action:
    label: str
    description: str
    slot: Callable[[], object]
    checkable: bool
    applies: bool = True


class MessageActions(QWidget):
    """The row of a message's actions. Its buttons are made when the row is first shown (most
    messages of a long conversation never are) or asked for: ``button(name)``."""

    def __init__(self, align_right: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageActions")
        self.setFixedHeight(ROW_HEIGHT)  # its place is kept whether its buttons exist or not
        self._align_right = align_right
        self._actions: dict[str, _Action] = {}
        self._buttons: dict[str, ActionButton] = {}
        self._effect: QGraphicsOpacityEffect | None = None
        self._hovered = False
        self._pinned = False
        self._flashing = False  # an action just done says so on its button (see flash)

    def declare(
        self, name: str, label: str, description: str, slot: Callable[[], object], checkable: bool = False
    ) -> None:
        self._actions[name] = _Action(label, description, slot, checkable)

    def button(self, name: str) -> ActionButton:
        self._build()
        return self._buttons[name]

    def flash(self, name: str, text: str, icon_name: str = "check", ms: int = FLASH_MS) -> None:
        """Say that the action was done, on its button, for a moment ("Copied", with a check mark):
        the icon, the tooltip shown at once, and the name a screen reader reads."""
        button = self.button(name)
        action = self._actions[name]
        button.icon_name = icon_name
        button.setIcon(icon(icon_name))
        button.setToolTip(text)
        button.setAccessibleName(text)
        self._flashing = True
        self.refresh()
        QToolTip.showText(button.mapToGlobal(button.rect().bottomLeft()), text, button)

        def restore() -> None:
            button.icon_name = name
            button.setIcon(icon(name))
            button.setToolTip(action.description)
            button.setAccessibleName(f"{action.label} message")
            self._flashing = False
            self.refresh()

        QTimer.singleShot(ms, button, restore)

    def applies(self, name: str) -> bool:
        return self._actions[name].applies

    def set_applies(self, name: str, applies: bool) -> None:
        """Whether the action applies to the message now (its button is hidden when not)."""
        self._actions[name].applies = applies
        if name in self._buttons:
            self._buttons[name].setVisible(applies)

    def is_checked(self, name: str) -> bool:
        return name in self._buttons and self._buttons[name].isChecked()

    @property
    def built(self) -> bool:
        return bool(self._buttons)

    def _build(self) -> None:
        if self._buttons:
            return
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        row.setSpacing(2)
        if self._align_right:
            row.addStretch(1)
        for name, action in self._actions.items():
            button = ActionButton(self, name)
            button.setToolTip(action.description)
            button.setAccessibleName(f"{action.label} message")
            button.setText(action.label)
            button.setCheckable(action.checkable)
            button.setVisible(action.applies)
            button.clicked.connect(action.slot)
            row.addWidget(button)
            self._buttons[name] = button
        if not self._align_right:
            row.addStretch(1)
        self._effect = QGraphicsOpacityEffect(self)
        self.setGraphicsEffect(self._effect)
        self.refresh()

    @property
    def revealed(self) -> bool:
        return self._hovered or self._pinned or self._flashing or any(b.hasFocus() for b in self._buttons.values())

    def set_hovered(self, hovered: bool) -> None:
        self._hovered = hovered
        self.refresh()

    def set_pinned(self, pinned: bool) -> None:
        """Always shown (under the conversation's last message)."""
        self._pinned = pinned
        self.refresh()

    def restyle(self) -> None:
        """The icons again, in the colours of the theme now in use."""
        for button in self._buttons.values():
            button.setIcon(icon(button.icon_name))

    def refresh(self) -> None:
        shown = self.revealed
        if shown:
            self._build()
        if self._effect is not None:
            self._effect.setOpacity(1.0 if shown else 0.0)
