"""The guard against PySide6's reference leak: many void Qt calls and signal emits no longer abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALLS = """
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
for _ in range(100_000):  # far more than None's and True's references in a fresh interpreter
    label.setText("streamed text")  # a void call: returns None
    label.windowTitleChanged.emit("streamed text")  # an emit: returns True
print("survived")
"""


def _run(prelude: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", prelude + CALLS], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_many_void_qt_calls_survive_once_the_window_package_is_imported() -> None:
    result = _run("import assistant.ui\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "survived" in result.stdout
