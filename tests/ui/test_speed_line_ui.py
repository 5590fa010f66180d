"""The speed line under the composer, in a narrow window with the side panel open: it ends in "…"
where it does not fit and keeps the whole line in its tooltip, instead of being cut off mid-word
(walk: 53_rag.png read "36.5 tokens/s ·")."""

from __future__ import annotations

from PySide6.QtCore import Qt

from assistant.app import Hearth
from tests.fakes import ScriptedEngine


def test_the_speed_line_is_elided_not_cut_when_the_panel_is_open(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, scripted: ScriptedEngine, screenshot
) -> None:
    window = hearth.window
    window.resize(1160, 650)  # the size it opened at in the walk
    scripted.enqueue("A short answer to read the speed of.")
    window.input.setFocus()
    window.input.setPlainText("hello")
    with qtbot.waitSignal(window.busyChanged, timeout=30_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "tokens/s" in window.speed_label.text(), timeout=5_000)
    full = window.speed_label.text()
    if not window.panel_action.isChecked():
        window.panel_action.trigger()  # the toolbar's side-panel button
    qtbot.waitUntil(window.panel.isVisible, timeout=5_000)
    label = window.speed_label
    qtbot.waitUntil(lambda: 0 < label.width() < label.fontMetrics().horizontalAdvance(full), timeout=5_000)
    assert label.toolTip() == full  # the whole line, on hover
    shown = label.shown_text()
    assert shown.endswith("…") and full.startswith(shown[:-1]), shown
    screenshot(window, "speed-line-elided")
