"""Memory › Export…, clicked in the running window: the file box starts in the home folder, and a
file that cannot be written is a plain message, not an exception (walk: 35_export.png)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from assistant.config import Settings
from assistant.memory.extraction import Candidate
from assistant.memory.long_term import LongTermMemory
from tests.fakes import ScriptedEngine
from tests.ui.dialogs import answer_dialogs, button, pick_file, press


def test_export_suggests_the_home_folder_and_a_failed_write_says_so(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, make_memory: Callable[..., LongTermMemory], tmp_path: Path
) -> None:
    memory = make_memory()
    memory.remember(memory.profiles.active().id, Candidate("The user prefers tea to coffee."))
    hearth = make_hearth(lambda s: ScriptedEngine([]), settings=Settings(), memory=memory)
    controls = hearth.window.memory_controls
    assert controls is not None
    controls.memory_action.trigger()
    dialog = controls.memory_dialog
    assert dialog is not None and dialog.isVisible()

    suggested: list[str] = []
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    target = blocked / "memories.json"  # its "folder" is a file: the write fails

    def note_and_pick(box: QDialog) -> None:
        assert isinstance(box, QFileDialog)
        suggested.extend(box.selectedFiles())
        pick_file(str(target))(box)

    with answer_dialogs(note_and_pick, press(QMessageBox.StandardButton.Ok)) as answered:
        qtbot.mouseClick(button(dialog, "Export…"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(answered) == 2, timeout=10_000)
    assert suggested and Path(suggested[0]).parent == Path.home(), suggested
    assert answered[1].kind == "QMessageBox" and "could not be exported" in answered[1].text
    assert not target.exists() and dialog.isVisible()
