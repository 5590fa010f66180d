"""A .gguf dropped on the window: checked, then copied or linked into the models folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from assistant.config import models_dir


def _drop(hearth, widget, paths: list[Path]) -> bool:  # type: ignore[no-untyped-def]
    """Hand a drop to the application's filter as Qt does during a real drag.

    QApplication.sendEvent delivers no drop outside a drag in progress (offscreen has none), so the
    event goes to the filter the way QApplication::notify passes it during one.
    """
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    event.setAccepted(False)
    return bool(hearth.model_drop.eventFilter(widget, event)) and event.isAccepted()


def test_a_dropped_gguf_is_copied_after_a_check(hearth, qtbot, tmp_path: Path, model_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "Dropped-Model.gguf"
    shutil.copyfile(model_path, source)
    # Dropped on the composer, which would otherwise take the file's URL as text.
    assert _drop(hearth, hearth.window.input, [source])
    box = hearth.window.findChild(QMessageBox, "addModelBox")
    assert box is not None and "Dropped-Model.gguf" in box.text()
    with qtbot.waitSignal(hearth.model_drop.added, timeout=30_000):
        hearth.model_drop.copy_button.click()
    target = models_dir() / source.name
    assert target.is_file() and not target.is_symlink()
    assert target.read_bytes() == source.read_bytes()
    assert hearth.window.input.toPlainText() == ""
    qtbot.waitUntil(lambda: "Added Dropped-Model.gguf" in hearth.window.statusBar().currentMessage())


def test_a_dropped_gguf_can_be_linked(hearth, qtbot, tmp_path: Path, model_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert _drop(hearth, hearth.window, [model_path])
    with qtbot.waitSignal(hearth.model_drop.added, timeout=10_000):
        hearth.model_drop.link_button.click()
    target = models_dir() / model_path.name
    assert target.is_symlink() and target.resolve() == model_path.resolve()


def test_a_damaged_or_foreign_file_is_refused(hearth, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 10)
    with qtbot.waitSignal(hearth.model_drop.failed, timeout=5_000) as failed:
        assert _drop(hearth, hearth.window, [broken])
    assert "broken.gguf" in failed.args[0]
    assert hearth.window.findChild(QMessageBox, "addModelBox") is None
    assert not list(models_dir().iterdir())
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model")
    assert not _drop(hearth, hearth.window, [notes]), "a drag that is not all .gguf files is left alone"
