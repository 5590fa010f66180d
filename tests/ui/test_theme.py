"""The dark theme: what is on screen follows a theme switch, and faint controls are made visible."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QCheckBox, QMainWindow, QToolBar, QToolButton

from assistant.app import Hearth, apply_theme
from tests.fakes import ScriptedEngine
from tests.ui.waits import new_chat

CODE_REPLY = "Like this:\n\n```python\ndef greet(name):\n    return f'hello {name}'\n```\n\nThat is all."


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
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
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


def test_a_message_on_screen_takes_the_dark_colours_in_place(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, scripted: ScriptedEngine, dark_then_light, screenshot
) -> None:
    from assistant.ui.theme import COLORS

    apply_theme(dark_then_light, "light")
    scripted.enqueue("A reply.")
    window = hearth.window
    window.input.setPlainText("hello")
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    question, reply = window.chat_view.message_widgets

    def inside(widget) -> QColor:  # type: ignore[no-untyped-def]
        image = widget.bubble.grab().toImage()
        return image.pixelColor(image.width() // 2, 3)  # the bubble's padding, above the header

    def icon_lightness() -> int:
        image = reply.copy_button.icon().pixmap(16, 16).toImage()
        return max(
            image.pixelColor(x, y).lightness() for x in range(16) for y in range(16) if image.pixelColor(x, y).alpha()
        )

    assert inside(question).name() == COLORS["light"]["user"] and inside(reply).name() == COLORS["light"]["card"]
    dark_icon_in_light = icon_lightness()
    apply_theme(dark_then_light, "dark")
    qtbot.waitUntil(lambda: inside(reply).name() == COLORS["dark"]["card"], timeout=5_000)
    assert inside(question).name() == COLORS["dark"]["user"]
    assert icon_lightness() > dark_icon_in_light + 80, "the action icons are redrawn light"
    assert window.chat_view.message_widgets == [question, reply]  # re-styled in place, not rebuilt
    screenshot(window, "theme-dark-bubbles")


def test_a_reply_tinted_by_confidence_reads_light_on_the_dark_theme(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, dark_then_light
) -> None:
    apply_theme(dark_then_light, "dark")
    engine = ScriptedEngine(["Three spiders have twenty four legs."], token_delay_s=0.001)
    hearth = make_hearth(lambda s: engine)
    window = hearth.window
    new_chat(qtbot, window)  # a new chat starts without probabilities: ask for them in this one
    window.centre.probs_box.setChecked(True)
    window.input.setPlainText("legs?")
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    reply = window.chat_view.message_widgets[-1]
    reply.confidence_button.click()
    assert "p:0" in reply.text.toHtml()  # tinted, token by token
    image = reply.text.grab().toImage()
    lightest = max(image.pixelColor(x, y).lightness() for x in range(image.width()) for y in range(image.height()))
    assert lightest > 200, "the tinted words are drawn in the theme's text colour, not near-black"


def test_file_dialogs_are_dark_in_the_dark_theme(qtbot, hearth: Hearth, dark_then_light, screenshot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication, QDialog, QFileDialog

    from tests.ui.dialogs import answer_dialogs

    apply_theme(dark_then_light, "dark")
    seen: list[tuple[str, int, int]] = []

    def look_and_cancel(dialog: QDialog) -> None:
        assert isinstance(dialog, QFileDialog)
        window_colour = dialog.palette().color(QPalette.ColorRole.Window).lightness()
        base = dialog.palette().color(QPalette.ColorRole.Base).lightness()
        seen.append((type(dialog).__name__, window_colour, base))
        screenshot(dialog, "file-dialog-dark")
        dialog.reject()

    with answer_dialogs(look_and_cancel):
        qtbot.mouseClick(hearth.window.centre.attach_button, Qt.MouseButton.LeftButton)  # Attach… opens one
        qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    # Qt's own dialog, in Hearth's colours: a native one would follow the desktop's light theme.
    assert QApplication.testAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs)
    assert seen[0][1] < 128 and seen[0][2] < 128, seen
    apply_theme(dark_then_light, "system")
    assert not QApplication.testAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs), "the system's own"


def test_the_context_gauge_turns_dark_with_the_theme(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, scripted: ScriptedEngine, dark_then_light, screenshot
) -> None:
    apply_theme(dark_then_light, "light")
    scripted.enqueue("A short answer.")
    window = hearth.window
    window.input.setPlainText("hello")
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.gauge.total > 0, timeout=5_000)

    def free_part() -> QColor:  # the right end of the bar: the part of the window still free
        image = window.gauge.grab().toImage()
        return image.pixelColor(image.width() - 4, image.height() // 2)

    assert free_part().lightness() > 200
    apply_theme(dark_then_light, "dark")  # what saving the theme in Settings does
    qtbot.waitUntil(lambda: free_part().lightness() < 80, timeout=5_000)  # not a white bar on the dark window
    screenshot(window, "theme-dark-context-gauge")
