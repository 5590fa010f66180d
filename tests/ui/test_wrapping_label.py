"""A wrapped label shows all its lines however narrow its window: the Settings' "On this machine"."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QLabel

from assistant.config import Settings
from assistant.ui.settings_dialog import SettingsDialog


def _all_lines_shown(label: QLabel) -> bool:
    return label.height() >= label.heightForWidth(label.width())


@pytest.fixture
def short_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A short data directory (shown in the dialog): the dialog can get narrow."""
    home = tempfile.mkdtemp(prefix="h", dir="/tmp")
    monkeypatch.setenv("HEARTH_HOME", home)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_on_this_machine_is_not_cut_off_in_a_narrow_settings_dialog(qtbot, short_home, screenshot) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    label = dialog.fit_label
    assert "tokens of context" in label.text()
    assert _all_lines_shown(label)
    dialog.resize(1, dialog.height())  # as narrow as it goes: the estimate takes more lines
    qtbot.waitUntil(lambda: label.heightForWidth(label.width()) >= 3 * label.fontMetrics().height())
    qtbot.waitUntil(lambda: _all_lines_shown(label), timeout=2_000)
    dialog.n_ctx.setValue(2048)  # a new estimate, written into the label while it is open
    qtbot.waitUntil(lambda: _all_lines_shown(label), timeout=2_000)
    screenshot(dialog, "settings-narrow")


HEADINGS = ("Instructions (system prompt)", "Answer from documents in")  # the chat settings' own


def test_the_chat_settings_headings_are_not_cut_off_at_800_px(qtbot, hearth) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPoint

    window = hearth.window
    window.resize(800, 600)
    window.sidebar_action.setChecked(True)
    window.panel_action.setChecked(True)  # both side panels open: the narrowest each gets
    window.new_action.trigger()
    # The context gauge's line ("Context 50 / 4,096 tokens") widens the chat column once it comes.
    qtbot.waitUntil(lambda: "tokens" in window.gauge_label.text(), timeout=5_000)
    qtbot.wait(50)
    panel = window.panel
    headings = [label for label in panel.findChildren(QLabel) if label.text() in HEADINGS]
    assert len(headings) == len(HEADINGS)
    for label in headings:
        right = label.mapTo(panel, QPoint(label.width(), 0)).x()
        assert right <= panel.width(), f"{label.text()!r} runs past the panel's edge ({right} > {panel.width()})"
        shown = label.width() >= label.sizeHint().width() or (label.wordWrap() and _all_lines_shown(label))
        assert shown, f"{label.text()!r} is cut off: {label.width()} px of {label.sizeHint().width()}"
