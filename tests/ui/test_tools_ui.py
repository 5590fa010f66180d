"""Tools in the window: the per-conversation switch, the approval prompt, and the tool cards."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from assistant.app import Hearth
from assistant.config import KnowledgeSettings, Settings
from assistant.knowledge.library import Library
from tests.fakes import HashingEmbedder, ScriptedEngine
from tests.ui.waits import new_chat, writes_done


def test_approve_one_file_read_refuse_another_and_see_the_cards(
    qtbot, hearth_home: Path, tmp_path: Path, screenshot
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "boiler.txt").write_text("The boiler pressure should be 1.5 bar.")
    settings = Settings()
    settings.tools.allowed_folders = [folder]
    engine = ScriptedEngine(
        [
            json.dumps({"tool": "files_read", "arguments": {"path": str(folder / "boiler.txt")}}),
            json.dumps({"tool": "files_read", "arguments": {"path": "~/.ssh/id_rsa"}}),
            json.dumps({"tool": "none"}),
            "The pressure should be 1.5 bar.",
        ]
    )
    library = Library(tmp_path / "lib", KnowledgeSettings(), HashingEmbedder())
    hearth = Hearth(settings, engine_factory=lambda s: engine, library=library)
    qtbot.addWidget(hearth.window)
    window = hearth.window
    answers = [QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No]
    asked: list[str] = []

    def answer_when_asked() -> None:
        """Like a user: when the approval prompt is up, read it and answer (first yes, then no)."""
        box = window.last_approval
        if box is not None and box.isVisible():
            asked.append(box.text())
            box.done(answers[len(asked) - 1])
        if len(asked) < len(answers):
            QTimer.singleShot(20, answer_when_asked)

    try:
        with qtbot.waitSignal(window.modelStateChanged, timeout=10_000):
            hearth.show()
        new_chat(qtbot, window)
        window.panel.use_tools.setChecked(True)
        window.panel.flush()
        writes_done(qtbot, window)
        assert hearth.store.get(window.conversation_id).options["tools"] is True
        QTimer.singleShot(20, answer_when_asked)
        window.input.setPlainText("What should the boiler pressure be?")
        with qtbot.waitSignal(window.busyChanged, timeout=20_000, check_params_cb=lambda busy: not busy):
            qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
        assert len(asked) == 2 and "boiler.txt" in asked[0] and "id_rsa" in asked[1]
        reply = window.chat_view.message_widgets[-1]
        qtbot.waitUntil(lambda: reply.isVisible(), timeout=3_000)
        cards = reply.tool_cards.text()
        assert reply.tool_cards.isVisible() and cards.count("files_read") == 2
        assert "1.5 bar" in cards and "did not approve" in cards
        assert "1.5 bar" in engine.history[-1][-1].content  # the approved result reached the answer
        screenshot(window, "15-tool-cards")
    finally:
        window.close()
        hearth.shutdown()


def test_the_file_tools_follow_the_collections_as_they_change(qtbot, make_hearth, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A folder added to a collection after start-up can be read by files_read; once the collection
    is removed, it cannot (the allowed folders used to be fixed at start-up)."""
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / "soup.txt").write_text("Leek soup: two leeks, one potato.")
    library = Library(tmp_path / "lib", KnowledgeSettings(), HashingEmbedder())
    hearth = make_hearth(lambda settings: ScriptedEngine(), library=library)
    tools = hearth.worker._tools

    def read() -> str:
        return tools.execute("files_read", {"path": str(folder / "soup.txt")}).result

    assert "No folders are allowed" in read()
    worker = hearth.library_worker
    # The worker's signals arrive on the UI thread, where the app updates the allowed folders.
    worker.addRequested.emit("Recipes", [folder])
    qtbot.waitUntil(lambda: read().startswith("Leek soup"), timeout=20_000)
    worker.removeRequested.emit("Recipes")
    qtbot.waitUntil(lambda: "No folders are allowed" in read(), timeout=20_000)
