"""The toolbar: an icon on every button, and nothing behind the overflow chevron at the default
size or at 800x600 (the labels give way to the icons alone first)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from assistant.app import Hearth
from assistant.ui.window_state import default_size


def _hidden_actions(hearth: Hearth) -> list[str]:
    toolbar = hearth.window.toolbar
    hidden = []
    for action in toolbar.actions():
        widget = toolbar.widgetForAction(action)
        if action.isVisible() and not action.isSeparator() and (widget is None or not widget.isVisible()):
            hidden.append(action.text() or repr(widget))
    return hidden


def _overflowing(hearth: Hearth) -> bool:
    chevron = hearth.window.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    return chevron is not None and chevron.isVisible()


def test_no_action_overflows_at_the_default_size_or_at_800x600(qtbot, hearth: Hearth, screenshot) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    toolbar = window.toolbar
    names = [a.text() for a in toolbar.actions() if not a.isSeparator() and a.text()]
    for needed in ("New chat", "Incognito", "Library…", "Models…", "Profiles…", "Memory…", "Settings"):
        assert needed in names
    assert all(not a.icon().isNull() for a in toolbar.actions() if a.text())
    assert window.size() == default_size()
    qtbot.waitUntil(lambda: toolbar.widgetForAction(toolbar.settings_action).isVisible(), timeout=5_000)
    assert not _overflowing(hearth) and _hidden_actions(hearth) == []
    window.resize(800, 600)
    qtbot.waitUntil(lambda: toolbar.width() <= 800, timeout=5_000)
    assert not _overflowing(hearth) and _hidden_actions(hearth) == []
    assert window.width() == 800, "nothing in the window needs more than 800 pixels"
    window.panel_action.setChecked(True)  # both side panels open
    qtbot.waitUntil(lambda: window.panel.width() >= window.panel.minimumWidth(), timeout=5_000)  # laid out
    assert window.width() == 800 and not _overflowing(hearth)
    screenshot(window, "toolbar-800x600")


def test_labels_show_where_they_fit_and_give_way_to_icons_where_they_do_not(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    toolbar = window.toolbar
    window.resize(800, 600)
    qtbot.waitUntil(lambda: toolbar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly, timeout=5_000)
    button = toolbar.widgetForAction(toolbar.library_action)
    assert button.toolTip() and toolbar.library_action.text() == "Library…"  # the name stays in reach
    # A window wide enough for the labels shows them (the offscreen screen is 800 wide; a window
    # may still be made wider than it).
    window.resize(1500, 700)
    qtbot.waitUntil(lambda: toolbar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon, timeout=5_000)
    assert not _overflowing(hearth)
