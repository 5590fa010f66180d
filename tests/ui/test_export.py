"""Export a conversation from the window: Markdown to read, JSON that imports again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from assistant.app import Hearth
from assistant.core.store import ConversationStore
from assistant.core.transfer import import_json
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
