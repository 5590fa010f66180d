"""Answering the dialogs a click opens, as a person would: the real dialog is found once it is on
screen and driven (text typed, a file picked, a button pressed).

A modal dialog opened with ``exec()`` (``QInputDialog.getText``, ``QFileDialog.getSaveFileName``,
``QMessageBox.information``) blocks the click that opened it; ``answer_dialogs`` polls for it from
the event loop that ``exec()`` runs, so the click returns once the dialog is answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)

Answer = Callable[[QDialog], None]


@dataclass(frozen=True)
class Answered:
    """A dialog that was answered, as it was when it was (a static dialog is deleted afterwards)."""

    kind: str  # its class: "QInputDialog", "QFileDialog", "QMessageBox", …
    title: str
    text: str  # a message box's text, an input dialog's label


def open_dialogs() -> list[QDialog]:
    """The dialogs on screen now, the modal one first."""
    modal = QApplication.activeModalWidget()
    shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()]
    if isinstance(modal, QDialog) and modal in shown:
        shown.remove(modal)
        shown.insert(0, modal)
    return shown


@contextmanager
def answer_dialogs(*answers: Answer, interval_ms: int = 10) -> Iterator[list[Answered]]:
    """While the block runs, each dialog that opens (beyond those open at the start) gets the next
    answer; the dialogs answered are listed in the value yielded."""
    answered: list[Answered] = []
    seen: list[QDialog] = []
    before = set(map(id, open_dialogs()))
    pending = list(answers)

    def poll() -> None:
        for dialog in open_dialogs():
            if id(dialog) in before or dialog in seen or not pending:
                continue
            seen.append(dialog)
            text = dialog.labelText() if isinstance(dialog, QInputDialog) else getattr(dialog, "text", str)()
            answered.append(Answered(type(dialog).__name__, dialog.windowTitle(), str(text)))
            pending.pop(0)(dialog)
            return

    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(poll)
    timer.start()
    try:
        yield answered
    finally:
        timer.stop()


def type_text(text: str) -> Answer:
    """Types ``text`` into a QInputDialog and presses OK."""

    def answer(dialog: QDialog) -> None:
        assert isinstance(dialog, QInputDialog), f"expected a text box, got {type(dialog).__name__}"
        dialog.setTextValue(text)
        dialog.accept()

    return answer


def pick_file(path: str) -> Answer:
    """Types ``path`` into a (Qt, not native) QFileDialog's file name box and presses Save/Open."""

    def answer(dialog: QDialog) -> None:
        assert isinstance(dialog, QFileDialog), f"expected a file dialog, got {type(dialog).__name__}"
        name = dialog.findChild(QLineEdit, "fileNameEdit")
        assert name is not None, "a Qt file dialog has a file name box"
        name.setText(path)
        dialog.accept()

    return answer


def press(button: QMessageBox.StandardButton) -> Answer:
    """Presses ``button`` of a QMessageBox."""

    def answer(dialog: QDialog) -> None:
        assert isinstance(dialog, QMessageBox), f"expected a message box, got {type(dialog).__name__}"
        dialog.button(button).click()

    return answer


def cancel(dialog: QDialog) -> None:
    dialog.reject()


def button(parent: QWidget, text: str) -> QWidget:
    """The one visible push button of ``parent`` whose text is ``text``."""
    from PySide6.QtWidgets import QAbstractButton

    found = [b for b in parent.findChildren(QAbstractButton) if b.text() == text and b.isVisibleTo(parent)]
    assert len(found) == 1, f"{len(found)} buttons called {text!r}"
    return found[0]


def context_menu_action(view: QAbstractItemView, row: int, text: str) -> QAction:
    """The action ``text`` of the menu a right click on ``row`` of ``view`` opens (the menu is
    closed again; trigger the action to choose it, as a click on it does)."""
    from PySide6.QtWidgets import QMenu

    index = view.model().index(row, 0)
    found: list[QAction] = []

    def take() -> None:
        menu = QApplication.activePopupWidget()
        if isinstance(menu, QMenu):
            found.extend(a for a in menu.actions() if a.text() == text)
            menu.close()
        else:
            QTimer.singleShot(5, take)

    QTimer.singleShot(0, take)
    view.customContextMenuRequested.emit(view.visualRect(index).center())
    assert found, f"no {text!r} in the menu"
    return found[0]
