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
