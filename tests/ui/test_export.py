"""Export a conversation from the window: Markdown to read, JSON that imports again."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from assistant.app import Hearth
from assistant.core.store import ConversationStore
from assistant.core.transfer import import_json


def test_export_markdown_and_json(qtbot, hearth: Hearth, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    window.input.setPlainText("What is a hearth?")
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)
    conversation_id = window.conversation_id
    markdown = window.sidebar.export(conversation_id, "md", tmp_path / "chat.md")
    assert markdown is not None and "What is a hearth?" in markdown.read_text(encoding="utf-8")
    exported = window.sidebar.export(conversation_id, "json", tmp_path / "chat.json")
    assert exported is not None
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
