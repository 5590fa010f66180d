"""What the window does when something stands in the way of starting.

A damaged conversation database does not stop the window: the user is offered a salvage (the
readable rows copied into a new file, the damaged one kept aside), or to go on without saved
conversations for this session; memory and the library work either way. Any other problem is one
dialog naming the log file. A run nobody watches (``--smoke-test``) never waits on a dialog: it
writes the message to stderr and the log, and goes on or stops.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from assistant.core import logs
from assistant.core.errors import HearthError, StorageDamagedError
from assistant.core.store import ConversationStore

log = logging.getLogger(__name__)

SALVAGE, WITHOUT, QUIT = "salvage", "without", "quit"


def tell(title: str, error: HearthError, interactive: bool, parent: QWidget | None = None) -> None:
    """The start-up error, with the log file named: a dialog, or stderr when nobody is watching."""
    log.error("%s: %s", title, error.user_text())
    detail = " ".join(part for part in (error.hint, logs.where()) if part)
    if not interactive:
        print(f"hearth: {error.message}\n{detail}", file=sys.stderr, flush=True)
        return
    box = QMessageBox(QMessageBox.Icon.Critical, title, error.message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("startupError")
    box.setInformativeText(detail)
    box.exec()


def ask_salvage(error: StorageDamagedError, parent: QWidget | None = None) -> str:
    box = QMessageBox(QMessageBox.Icon.Warning, "Hearth", error.message, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("salvageDialog")
    box.setInformativeText(
        "Hearth can copy everything that can still be read into a new file and keep the damaged one"
        " beside it, untouched. Or start without your saved conversations this time: memory and the"
        f" library still work, and nothing is changed on disk. {logs.where()}"
    )
    salvage = box.addButton("Salvage conversations", QMessageBox.ButtonRole.AcceptRole)
    without = box.addButton("Start without them", QMessageBox.ButtonRole.RejectRole)
    box.addButton("Quit", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(salvage)
    box.exec()
    clicked = box.clickedButton()
    return SALVAGE if clicked is salvage else WITHOUT if clicked is without else QUIT


def open_store(path: Path, interactive: bool) -> tuple[ConversationStore | None, str]:
    """The conversation store and a notice for the window ('' when all is well); None to quit."""
    try:
        return ConversationStore(path), ""
    except StorageDamagedError as exc:
        log.error("conversation database damaged: %s", exc.message)
        choice = ask_salvage(exc) if interactive else WITHOUT
        if not interactive:
            print(f"hearth: {exc.message}\n{exc.hint}", file=sys.stderr, flush=True)
        if choice == QUIT:
            return None, ""
        if choice == SALVAGE:
            from assistant.core.salvage import salvage

            try:
                result = salvage(path)
                return ConversationStore(path), result.summary()
            except (HearthError, OSError) as failed:
                log.exception("salvage failed")
                without = f"The salvage failed ({failed}). {exc.message}"
                return ConversationStore(":memory:"), f"{without} Your conversations are not shown this time."
        return ConversationStore(":memory:"), (
            f"{exc.message} Your saved conversations are not shown and new ones are not saved this time;"
            " restart Hearth to salvage them ('hearth conversations salvage')."
        )


class UncaughtReporter(QObject):
    """An uncaught exception on any thread, after ``core/logs.py`` wrote it down, becomes one
    non-blocking error dialog on the window naming the log file (a signal: queued to the UI thread)."""

    raised = Signal(str)

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        show_error = window.show_error  # type: ignore[attr-defined]
        self.raised.connect(lambda text: show_error(f"Something went wrong: {text}", logs.where()))
        logs.on_uncaught(self._on_uncaught)

    def _on_uncaught(self, exc: BaseException) -> None:
        self.raised.emit(f"{type(exc).__name__}: {exc}"[:500])
