"""Deleting the open conversation from the list's menu empties the window: the context gauge and
the speed line no longer show the deleted conversation's numbers (walk: 63_deleted.png)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from assistant.app import Hearth
from tests.fakes import ScriptedEngine
from tests.ui.dialogs import answer_dialogs, context_menu_action, press


@pytest.mark.qt_log_ignore("does not support grabbing")  # the menu's grab, on the offscreen platform
def test_deleting_the_open_conversation_clears_the_gauge_and_speed(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, scripted: ScriptedEngine
) -> None:
    window = hearth.window
    scripted.enqueue("Hello there.")
    window.input.setFocus()
    window.input.setPlainText("hello")
    with qtbot.waitSignal(window.busyChanged, timeout=30_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "tokens" in window.gauge_label.text(), timeout=5_000)
    opened = window.conversation_id
    assert opened is not None
    with answer_dialogs(press(QMessageBox.StandardButton.Yes)) as answered:
        context_menu_action(window.conversation_list, window.conversations.row_of(opened), "Delete…").trigger()
        qtbot.waitUntil(lambda: window.conversation_id is None, timeout=5_000)
    assert len(answered) == 1
    assert window.gauge_label.text() == "Context" and window.gauge.total == 0
    assert window.speed_label.text() == ""
