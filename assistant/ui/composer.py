"""The message input: Enter sends, Shift+Enter starts a new line; files dropped or pasted on it are attached."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from assistant.ui.attachment_bar import dropped_files


class MessageInput(QPlainTextEdit):
    submitted = Signal(str)
    filesDropped = Signal(list)  # list[Path]: files dropped or pasted here, to attach rather than insert

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("Message Hearth — Enter sends, Shift+Enter for a new line")
        self.setAccessibleName("Message input")
        self.setTabChangesFocus(True)
        self.setMaximumHeight(140)
        self.setMinimumHeight(56)

    def sizeHint(self) -> QSize:
        return QSize(400, 64)  # a few lines; the conversation above takes the rest of the height

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            text = self.toPlainText()
            if text.strip():
                self.submitted.emit(text)
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return bool(dropped_files(source)) or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        files = dropped_files(source)
        if files:
            self.filesDropped.emit(files)  # not their URLs as text
        else:
            super().insertFromMimeData(source)
