"""What the window remembers: the side panels open or collapsed; and its first size fits the screen."""

from __future__ import annotations

from PySide6.QtCore import QSize

from assistant.app import Hearth
from assistant.ui.window_state import default_size
from tests.fakes import ScriptedEngine


def test_the_first_size_is_a_share_of_the_screen_within_bounds() -> None:
    assert default_size(QSize(1920, 1080)) == QSize(1440, 918)
    assert default_size(QSize(1366, 728)) == QSize(1161, 618)
    assert default_size(QSize(2560, 1400)) == QSize(1440, 960)  # no wider than lines can be read
    assert default_size(QSize(1024, 700)) == QSize(870, 600)
    assert default_size(QSize(640, 480)) == QSize(640, 480)  # never larger than the screen


def test_the_side_panels_collapse_and_stay_so_across_runs(qtbot, make_hearth) -> None:  # type: ignore[no-untyped-def]
    first: Hearth = make_hearth(lambda settings: ScriptedEngine())
    window = first.window
    # At first the chat's settings are closed, so the conversation gets the width.
    assert not window.panel.isVisible() and window.sidebar.isVisible()
    width = window.chat_view.width()
    window.sidebar_action.trigger()
    assert not window.sidebar.isVisible() and not window.sidebar_action.isChecked()
    qtbot.waitUntil(lambda: window.chat_view.width() > width, timeout=5_000)
    window.panel_action.trigger()
    assert window.panel.isVisible()
    window.close()
    second: Hearth = make_hearth(lambda settings: ScriptedEngine())
    again = second.window
    assert not again.sidebar.isVisible() and not again.sidebar_action.isChecked()
    assert again.panel.isVisible() and again.panel_action.isChecked()
    again.sidebar_action.trigger()
    again.panel_action.trigger()
    again.close()
    third: Hearth = make_hearth(lambda settings: ScriptedEngine())
    assert third.window.sidebar.isVisible() and not third.window.panel.isVisible()
