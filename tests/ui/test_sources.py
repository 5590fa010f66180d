"""A clicked citation shows its passage highlighted in its own page."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from assistant.ui.sources import _READING, SourceDialog, passage_in_context
from tests.knowledge.conftest import write_pdf


def test_a_pdf_citation_is_shown_in_its_page(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "manual.pdf", ["Unpacking.", "Descale every 90 days.", "Warranty."])
    shown = passage_in_context({"path": str(path), "page": 2, "heading": "", "text": "every 90 days"})
    assert "Descale " in shown and "every 90 days</span>" in shown and "Warranty" not in shown


def test_open_file_without_a_launcher_says_where_the_file_is(  # type: ignore[no-untyped-def]
    qtbot, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QDialog, QPushButton

    from assistant.ui.sources import SourceDialog

    path = tmp_path / "manuals" / "kettle.txt"
    path.parent.mkdir()
    path.write_text("Descale every 90 days.")
    opened: list[str] = []

    def no_launcher(url) -> bool:  # type: ignore[no-untyped-def]
        opened.append(url.toLocalFile())
        return False  # what QDesktopServices answers where no program is registered

    monkeypatch.setattr("assistant.ui.sources.QDesktopServices.openUrl", no_launcher)
    dialog = SourceDialog({"n": 1, "path": str(path), "page": 0, "heading": "", "text": "every 90 days"})
    qtbot.addWidget(dialog)
    dialog.show()
    button = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Open file")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    box = dialog.findChild(QDialog, "noLauncher")
    assert box is not None and box.isVisible()
    assert "kettle.txt" in box.message.text() and str(path) in box.where.text()
    buttons = {b.text(): b for b in box.findChildren(QPushButton)}
    qtbot.mouseClick(buttons["Copy path"], Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == str(path) and box.isVisible()
    assert buttons["Copy path"].text() == "Path copied"
    qtbot.mouseClick(buttons["Show folder"], Qt.MouseButton.LeftButton)
    assert opened == [str(path), str(path.parent)]
    assert box.isVisible() and not buttons["Show folder"].isEnabled()  # that failed too: it says so
    assert "file manager" in box.where.text()
    qtbot.mouseClick(buttons["Close"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not box.isVisible())
    qtbot.waitUntil(lambda: not _READING, timeout=10_000)  # the page it read on opening


def test_the_citation_viewer_reads_off_the_ui_thread_in_the_reader_process(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile PDF must not reach PDFium in Hearth's process, nor a slow one freeze the window."""

    def in_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a PDF was parsed in Hearth's own process")

    monkeypatch.setattr("assistant.knowledge.documents.read_pdf", in_process)
    path = write_pdf(tmp_path / "manual.pdf", ["Unpacking.", "Descale every 90 days.", "Warranty."])
    source = {"n": 1, "path": str(path), "page": 2, "heading": "", "text": "every 90 days"}
    dialog = SourceDialog(source)
    qtbot.addWidget(dialog)
    assert dialog.text.toPlainText() == "every 90 days"  # the stored passage at once; nothing parsed yet
    with qtbot.waitSignal(dialog.contextShown, timeout=60_000):
        dialog.open()
    assert "Descale every 90 days." in dialog.text.toPlainText()
    assert "Warranty" not in dialog.text.toPlainText()
    qtbot.waitUntil(lambda: not _READING, timeout=10_000)
