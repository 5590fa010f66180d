"""A .gguf dropped anywhere on the window is checked, then copied or linked into the models folder.

An application-wide event filter, so a drop on the composer or the conversation (which would take
the file's URL as text) reaches it too; it only claims drags whose every file is a .gguf. The
header is read (a memory map, milliseconds) before anything is written; a copy of a multi-GB file
runs on a plain thread into a ``.part`` name and is renamed when whole, so a cut-off copy never
shows up as a model.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from assistant.config import models_dir
from assistant.core.errors import HearthError
from assistant.engine.gguf import read_gguf


def dropped_models(event: QDropEvent | QDragEnterEvent) -> list[Path]:
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    if not paths or len(paths) != len(mime.urls()) or any(p.suffix.lower() != ".gguf" for p in paths):
        return []
    return paths


class ModelDropHandler(QObject):
    added = Signal(str)  # the new path in the models folder
    failed = Signal(str, str)
    # Emitted by the copying thread; queued to this object's (the UI) thread, which re-emits.
    _copied = Signal(str)
    _copy_failed = Signal(str, str)

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self._threads: list[threading.Thread] = []
        self._copied.connect(self._relay_added, Qt.ConnectionType.QueuedConnection)
        self._copy_failed.connect(self._relay_failed, Qt.ConnectionType.QueuedConnection)

    @Slot(str)
    def _relay_added(self, path: str) -> None:
        self.added.emit(path)

    @Slot(str, str)
    def _relay_failed(self, message: str, hint: str) -> None:
        self.failed.emit(message, hint)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kinds = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)
        if event.type() not in kinds or not isinstance(watched, QWidget) or watched.window() is not self.window:
            return False
        assert isinstance(event, (QDragEnterEvent, QDropEvent))
        paths = dropped_models(event)
        if not paths:
            return False
        event.acceptProposedAction()
        if event.type() == QEvent.Type.Drop:
            self.offer(paths)
        return True

    def offer(self, paths: list[Path]) -> QMessageBox | None:
        """Check each file, then ask whether to copy or link the good ones."""
        good: list[Path] = []
        for path in paths:
            try:
                read_gguf(path)
            except HearthError as exc:
                self.failed.emit(exc.message, exc.hint)
                continue
            if (models_dir() / path.name).exists():
                self.failed.emit(f"{path.name} is already in the models folder.", "Rename one of the two files.")
                continue
            good.append(path)
        if not good:
            return None
        names = ", ".join(p.name for p in good)
        box = QMessageBox(
            QMessageBox.Icon.Question, "Add model", f"Add {names} to Hearth's models folder?", parent=self.window
        )
        box.setInformativeText(
            "A copy stays valid if the original moves or is deleted; a link saves the disk space "
            "but stops working if the original goes."
        )
        copy = box.addButton("Copy", QMessageBox.ButtonRole.AcceptRole)
        link = box.addButton("Link", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("addModelBox")

        def answered(_: int) -> None:
            clicked = box.clickedButton()
            if clicked in (copy, link):
                for path in good:
                    self.add(path, link=clicked is link)

        box.finished.connect(answered)
        box.open()
        self.copy_button: QPushButton = copy
        self.link_button: QPushButton = link
        return box

    def add(self, path: Path, link: bool) -> None:
        target = models_dir() / path.name
        if link:
            try:
                os.symlink(path.resolve(), target)
            except OSError as exc:
                self.failed.emit(f"Could not link {path.name}: {exc.strerror or exc}.", "Try Copy instead.")
                return
            self.added.emit(str(target))
            return
        thread = threading.Thread(target=self._copy, args=(path, target), name="hearth-model-copy", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _copy(self, path: Path, target: Path) -> None:
        part = target.with_name(target.name + ".part")
        try:
            shutil.copyfile(path, part)
            os.replace(part, target)
        except OSError as exc:
            part.unlink(missing_ok=True)
            self._copy_failed.emit(f"Could not copy {path.name}: {exc.strerror or exc}.", "Check the free disk space.")
            return
        self._copied.emit(str(target))

    def wait(self, timeout: float = 60.0) -> None:
        for thread in self._threads:
            thread.join(timeout)
