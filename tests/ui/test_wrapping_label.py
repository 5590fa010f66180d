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
