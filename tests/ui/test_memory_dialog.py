"""The memory window's buttons, clicked: each opens its dialog, and the answer given there is what
is stored (``clicked(bool)`` once landed in the methods' optional text/path parameter)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QMessageBox

from assistant.memory.extraction import Candidate
from assistant.memory.long_term import LongTermMemory
from assistant.ui.memory_dialog import MemoryDialog
from assistant.ui.operations import Operations
from tests.ui.dialogs import answer_dialogs, button, cancel, pick_file, press, type_text

TEA = "The user prefers tea to coffee."


@pytest.fixture
def operations() -> Iterator[Operations]:
    operations = Operations()
    yield operations
    operations.stop()


@pytest.fixture
def memory(make_memory: Callable[..., LongTermMemory]) -> LongTermMemory:
    memory = make_memory()
    memory.remember(memory.profiles.active().id, Candidate(TEA))
    return memory


@pytest.fixture
def dialog(qtbot, memory: LongTermMemory, operations: Operations) -> MemoryDialog:  # type: ignore[no-untyped-def]
    shown = MemoryDialog(memory, operations)
    qtbot.addWidget(shown)
    shown.show()
    return shown


def _texts(memory: LongTermMemory) -> list[str]:
    return sorted(m.text for m in memory.store.memories())


def _click(qtbot, dialog: MemoryDialog, text: str) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(button(dialog, text), Qt.MouseButton.LeftButton)


def test_edit_opens_a_box_with_the_memory_and_stores_what_is_typed(qtbot, dialog, memory, operations) -> None:  # type: ignore[no-untyped-def]
    dialog.list.setCurrentRow(0)
    with answer_dialogs(type_text("The user prefers green tea.")) as answered:
        _click(qtbot, dialog, "Edit…")
        qtbot.waitUntil(lambda: operations.pending == 0 and len(answered) == 1, timeout=10_000)
    assert answered[0].title == "Edit memory"
    qtbot.waitUntil(lambda: "green tea" in dialog.list.item(0).text(), timeout=10_000)
    assert _texts(memory) == ["The user prefers green tea."]


def test_edit_cancelled_changes_nothing(qtbot, dialog, memory, operations) -> None:  # type: ignore[no-untyped-def]
    dialog.list.setCurrentRow(0)
    with answer_dialogs(cancel) as answered:
        _click(qtbot, dialog, "Edit…")
        qtbot.waitUntil(lambda: len(answered) == 1, timeout=10_000)
    qtbot.wait(50)
    assert operations.pending == 0 and _texts(memory) == [TEA]


def test_add_stores_the_typed_memory(qtbot, dialog, memory) -> None:  # type: ignore[no-untyped-def]
    with answer_dialogs(type_text("The user's cat is called Pixel.")):
        _click(qtbot, dialog, "Add…")
        qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=10_000)
    assert _texts(memory) == [TEA, "The user's cat is called Pixel."]


def test_export_writes_the_picked_file_and_import_reads_it_back(  # type: ignore[no-untyped-def]
    qtbot, dialog, memory, operations, tmp_path: Path
) -> None:
    target = tmp_path / "my-memories.json"
    with answer_dialogs(pick_file(str(target))) as answered:
        _click(qtbot, dialog, "Export…")
        qtbot.waitUntil(target.exists, timeout=10_000)
    assert answered[0].kind == "QFileDialog"
    assert TEA in json.dumps(json.loads(target.read_text(encoding="utf-8")), ensure_ascii=False)

    dialog.list.setCurrentRow(0)
    with answer_dialogs(press(QMessageBox.StandardButton.Yes)):
        _click(qtbot, dialog, "Delete")
        qtbot.waitUntil(lambda: dialog.list.count() == 0, timeout=10_000)
    with answer_dialogs(pick_file(str(target)), press(QMessageBox.StandardButton.Ok)) as answered:
        _click(qtbot, dialog, "Import…")
        qtbot.waitUntil(lambda: len(answered) == 2, timeout=10_000)
    assert "Imported 1 memory" in answered[1].text
    assert dialog.problem.isHidden()
    assert _texts(memory) == [TEA] and dialog.list.count() == 1


def test_export_and_import_cancelled_do_nothing(qtbot, dialog, memory, operations, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with answer_dialogs(cancel, cancel) as answered:
        _click(qtbot, dialog, "Export…")
        _click(qtbot, dialog, "Import…")
        qtbot.waitUntil(lambda: len(answered) == 2, timeout=10_000)
    qtbot.wait(50)
    assert operations.pending == 0 and dialog.problem.isHidden() and _texts(memory) == [TEA]


def _press_enter(dialog: QDialog) -> None:
    """Enter, as a person who hurries past the question: its default button answers."""
    QTest.keyClick(dialog, Qt.Key.Key_Return)


def test_delete_asks_first_and_enter_keeps_the_memory(qtbot, dialog, memory, operations) -> None:  # type: ignore[no-untyped-def]
    dialog.list.setCurrentRow(0)
    with answer_dialogs(_press_enter) as answered:
        _click(qtbot, dialog, "Delete")
        qtbot.waitUntil(lambda: len(answered) == 1, timeout=10_000)
    assert answered[0].kind == "QMessageBox" and answered[0].title == "Delete memory"
    assert TEA in answered[0].text, "the question names the memory"
    qtbot.wait(50)
    assert operations.pending == 0 and _texts(memory) == [TEA] and dialog.list.count() == 1


def test_delete_answered_no_keeps_and_yes_deletes(qtbot, dialog, memory, operations) -> None:  # type: ignore[no-untyped-def]
    dialog.list.setCurrentRow(0)
    with answer_dialogs(press(QMessageBox.StandardButton.No)) as answered:
        _click(qtbot, dialog, "Delete")
        qtbot.waitUntil(lambda: len(answered) == 1, timeout=10_000)
    qtbot.wait(50)
    assert _texts(memory) == [TEA]
    with answer_dialogs(press(QMessageBox.StandardButton.Yes)) as answered:
        _click(qtbot, dialog, "Delete")
        qtbot.waitUntil(lambda: len(answered) == 1 and dialog.list.count() == 0, timeout=10_000)
    assert _texts(memory) == []
