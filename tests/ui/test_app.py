"""The whole app: smoke mode as a packaged check runs it, and a session with no network at all."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from assistant.core.messages import MessageStatus
from tests.ui.waits import new_chat

pytestmark = pytest.mark.real_model


def test_smoke_mode_answers_and_saves_a_screenshot(tmp_path: Path, hearth_home: Path) -> None:
    out = tmp_path / "smoke.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "gui", "--smoke-test", str(out), "Say hello in five words."],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(result) == {"answer", "max_ui_stall_ms", "startup_s", "tokens_per_s"}
    assert result["answer"].strip()
    assert result["startup_s"] > 0 and result["max_ui_stall_ms"] >= 0 and result["tokens_per_s"] > 0
    assert out.stat().st_size > 10_000 and out.read_bytes()[:4] == b"\x89PNG"


def test_a_whole_session_with_every_connection_refused(qtbot, make_hearth, monkeypatch, screenshot) -> None:  # type: ignore[no-untyped-def]
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    hearth = make_hearth()  # the real bundled model
    window = hearth.window
    assert window.model_state == "ready"
    hearth.settings.sampling.max_tokens = 32
    window.input.setPlainText("Hello!")
    with qtbot.waitSignal(window.busyChanged, timeout=60_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert hearth.store.messages(window.conversation_id)[-1].status == MessageStatus.COMPLETE
    window.settings_action.trigger()
    dialog = window.findChild(QDialog, "settingsDialog")
    assert dialog is not None and dialog.isVisible()
    screenshot(dialog, "10-settings-offline")
    dialog.accept()
    new_chat(qtbot, window)
    window.close()
    assert attempts == []
