"""The dark theme: what is on screen follows a theme switch, and faint controls are made visible."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QCheckBox, QMainWindow, QToolBar, QToolButton

from assistant.app import Hearth, apply_theme
from tests.fakes import ScriptedEngine

CODE_REPLY = "Like this:\n\n```python\ndef greet(name):\n    return f'hello {name}'\n```\n\nThat is all."


@pytest.fixture
def dark_then_light(qapp: QApplication) -> Iterator[QApplication]:
    yield qapp
    apply_theme(qapp, "light")


def _contrast(image: QImage, background: QColor, width: int) -> int:
    """The largest lightness difference from the background among the first ``width`` columns."""
    return max(
        abs(image.pixelColor(x, y).lightness() - background.lightness())
        for x in range(min(width, image.width()))
        for y in range(image.height())
    )


def test_a_code_block_on_screen_turns_dark_with_the_theme(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, scripted: ScriptedEngine, dark_then_light, screenshot
) -> None:
    apply_theme(dark_then_light, "light")
    scripted.enqueue(CODE_REPLY)
    window = hearth.window
    window.input.setPlainText("show me code")
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        window.send("show me code")
    reply = window.chat_view.message_widgets[-1]
    assert "#f5f5f7" in reply.text.toHtml()  # the light code block
    apply_theme(dark_then_light, "dark")  # what saving the theme in Settings does (Hearth._on_settings_changed)
    qtbot.waitUntil(lambda: "#1e1e24" in reply.text.toHtml(), timeout=5_000)
    assert window.chat_view.message_widgets[-1] is reply  # re-styled in place, not rebuilt
    screenshot(window, "theme-dark-code-block")


def test_unticked_check_boxes_and_the_toolbar_chevron_show_in_the_dark(qtbot, dark_then_light, screenshot) -> None:  # type: ignore[no-untyped-def]
    apply_theme(dark_then_light, "dark")
    background = dark_then_light.palette().color(dark_then_light.palette().ColorRole.Window)
    box = QCheckBox("Unticked")
    qtbot.addWidget(box)
    box.show()
    assert _contrast(box.grab().toImage(), background, 18) > 60
    window = QMainWindow()
    qtbot.addWidget(window)
    toolbar = QToolBar()
    window.addToolBar(toolbar)
    for n in range(12):
        toolbar.addAction(f"Action {n}")
    window.resize(300, 80)
    window.show()
    chevron = window.findChild(QToolButton, "qt_toolbar_ext_button")
    qtbot.waitUntil(chevron.isVisible, timeout=5_000)
    assert _contrast(chevron.grab().toImage(), background, chevron.width()) > 60
    screenshot(window, "theme-dark-toolbar-chevron")
