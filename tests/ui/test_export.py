"""Export a conversation from the window: Markdown to read, JSON that imports again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from assistant.app import Hearth
from assistant.core.conversation_files import import_json
from assistant.core.store import ConversationStore
from tests.ui.dialogs import answer_dialogs, context_menu_action, pick_file


@pytest.mark.qt_log_ignore("does not support grabbing")  # the menu's grab, on the offscreen platform
def test_export_markdown_and_json(qtbot, hearth: Hearth, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    window.input.setPlainText("What is a hearth?")
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)
    row = window.conversations.row_of(window.conversation_id)
    markdown, exported = tmp_path / "chat.md", tmp_path / "chat.json"
    # Right click › Export as…, the file name typed into the dialog that opens.
    for chosen, item in ((markdown, "Export as Markdown…"), (exported, "Export as JSON…")):
        with answer_dialogs(pick_file(str(chosen))) as answered:
            context_menu_action(window.conversation_list, row, item).trigger()
        assert answered and answered[0].kind == "QFileDialog"
    assert "What is a hearth?" in markdown.read_text(encoding="utf-8")
    assert json.loads(exported.read_text(encoding="utf-8"))["conversations"][0]["messages"][1]["content"] == "OK."
    fresh = ConversationStore(tmp_path / "other.sqlite3")
    imported, problems = import_json(fresh, exported)
    assert problems == [] and [m.content for m in fresh.messages(imported[0].id)] == ["What is a hearth?", "OK."]
    fresh.close()


def test_a_failed_export_says_so(qtbot, hearth: Hearth, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    conversation = hearth.store.create("Unwritable")
    assert hearth.window.sidebar.export(conversation.id, "md", tmp_path / "missing" / "chat.md") is None
    box = hearth.window.sidebar.findChild(QMessageBox, "exportError")
    assert box is not None and "could not be exported" in box.text()
    box.done(0)


@pytest.mark.qt_log_ignore("does not support grabbing")  # the offscreen platform, opening a menu
def test_markdown_export_lists_the_sources_a_reply_cites(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication, QMenu

    from assistant.core.messages import MessageStatus

    sources = [
        {"n": 1, "path": "/home/ann/manuals/kettle.txt", "page": 0, "heading": "", "text": "Descale every 90 days."},
        {"n": 2, "path": "/home/ann/manuals/toaster.pdf", "page": 3, "heading": "Cleaning", "text": "Empty the tray."},
        {"n": 3, "path": "/home/ann/manuals/fridge.md", "page": 0, "heading": "", "text": "Defrost yearly."},
    ]
    conversation = hearth.store.create("Appliances")
    hearth.store.add_message(conversation.id, "user", "How do I care for them?")
    hearth.store.add_message(
        conversation.id,
        "assistant",
        "Empty the crumb tray [2] and descale the kettle [1].",
        MessageStatus.COMPLETE,
        {"sources": sources},
    )
    sidebar = hearth.window.sidebar
    sidebar.refresh()
    target = tmp_path / "appliances.md"
    monkeypatch.setattr(
        "assistant.ui.export.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), "Markdown (*.md)")
    )
    row = sidebar.model.row_of(conversation.id)
    rect = sidebar.list_view.visualRect(sidebar.model.index(row))

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        next(a for a in menu.actions() if a.text() == "Export as Markdown…").trigger()
        menu.close()

    QTimer.singleShot(100, choose)
    viewport = sidebar.list_view.viewport()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, rect.center(), viewport.mapToGlobal(rect.center()))
    QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(target.exists, timeout=5_000)
    text = target.read_text(encoding="utf-8")
    reply = text.split("## Hearth")[1]
    assert "[2]" in reply and "**Sources**" in reply
    listed, uncited = reply.split("**Sources**")[1].split("**Retrieved, not cited**")
    assert "- [2] toaster.pdf, page 3, “Cleaning”: `/home/ann/manuals/toaster.pdf`" in listed
    assert "- [1] kettle.txt: `/home/ann/manuals/kettle.txt`" in listed
    assert listed.index("[2]") < listed.index("[1]")  # in the order the reply cites them
    assert "fridge.md" not in listed and "- [3] fridge.md: `/home/ann/manuals/fridge.md`" in uncited
