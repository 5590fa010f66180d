"""Starting the window when something stands in the way: a crash mid-reply, a window already open,
a damaged conversation database, an error nobody is there to read. Real processes throughout."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from assistant.app import Hearth
from assistant.core.messages import MessageStatus
from assistant.core.store import ConversationStore
from assistant.ui.startup import open_store
from assistant.ui.window_state import WindowState
from tests.fakes import ScriptedEngine

ROOT = Path(__file__).resolve().parents[2]

_WRITER = textwrap.dedent(
    """
    import os
    from pathlib import Path
    from assistant.core.messages import MessageStatus
    from assistant.core.store import ConversationStore
    store = ConversationStore(Path(os.environ["HEARTH_HOME"]) / "conversations.db")
    other = store.create("Another conversation")
    store.add_message(other.id, "user", "unrelated")
    conversation = store.create()
    store.add_message(conversation.id, "user", "Tell me about kettles.")
    store.add_message(conversation.id, "assistant", "Kettles boil water and", MessageStatus.STREAMING)
    print(other.id, flush=True)
    input()
    """
)


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "HEARTH_HOME": str(home), "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}


def test_after_a_kill_mid_reply_the_window_opens_that_conversation_labelled_with_continue(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, hearth_home: Path
) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env(hearth_home)
    )
    assert writer.stdout is not None
    other_id = int(writer.stdout.readline())
    WindowState().remember("last_conversation", other_id)  # the list's other conversation was open last
    writer.kill()  # kill -9, and the window starts at once (the old rule waited 15 s)
    writer.wait(10)
    engine = ScriptedEngine()
    hearth: Hearth = make_hearth(lambda settings: engine)
    window = hearth.window
    assert window.conversation_id == 2 and hearth.store.recovered == 1
    widget = window.chat_view.message_widgets[-1]
    assert "interrupted" in widget.header.text()
    assert widget.continue_button.isVisibleTo(widget) and widget.regenerate_button.isVisibleTo(widget)
    engine.enqueue("steam.")
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(widget.continue_button, qtbot_left())
    reply = hearth.store.messages(2)[-1]
    assert reply.content.startswith("Kettles boil water and") and reply.content.endswith("steam.")
    assert reply.status == MessageStatus.COMPLETE
    engine.enqueue("A kettle heats water.")
    widget = window.chat_view.message_widgets[-1]
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(widget.regenerate_button, qtbot_left())
    assert hearth.store.messages(2)[-1].content == "A kettle heats water."


def qtbot_left():  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def _wait_for_line(path: Path, text: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never reached {path}")


def test_a_second_window_on_one_data_directory_brings_the_first_forward_and_exits(tmp_path: Path) -> None:
    home = tmp_path / "home"
    log = home / "logs" / "hearth.log"
    gui = [sys.executable, "-m", "assistant", "gui"]
    first = subprocess.Popen(gui, env=_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_line(log, "the window is open on")
        second = subprocess.run(gui, env=_env(home), capture_output=True, text=True, timeout=90)
        assert second.returncode == 0 and "Hearth is already open" in second.stdout, second.stderr
        assert "brought its window forward" in second.stdout
        _wait_for_line(log, "asked for this window: brought forward")
        listing = [sys.executable, "-m", "assistant", "conversations", "list"]  # the terminal still works beside it
        assert subprocess.run(listing, env=_env(home), capture_output=True, timeout=90).returncode == 0
    finally:
        first.kill()  # kill -9: its claim goes with it
        first.wait(30)
    third = subprocess.Popen(gui, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 90
        while log.read_text().count("the window is open on") < 2 and time.monotonic() < deadline:
            assert third.poll() is None, third.stdout.read() if third.stdout else ""
            time.sleep(0.2)
        assert log.read_text().count("the window is open on") == 2  # not "already open": the crash left no claim
    finally:
        third.kill()
        third.wait(30)


def _damaged(path: Path) -> None:
    store = ConversationStore(path)
    for c in range(30):
        conversation = store.create(f"Conversation {c}")
        for m in range(20):
            store.add_message(conversation.id, "user" if m % 2 == 0 else "assistant", f"message {c}.{m} " + "x" * 300)
    store.close()
    data = bytearray(path.read_bytes())
    middle = len(data) // 4096 // 2 * 4096
    data[middle : middle + 4096] = b"\xde\xad" * 2048
    path.write_bytes(bytes(data))


def _click_when_shown(qtbot, name: str, label: str) -> None:  # type: ignore[no-untyped-def]
    def answer() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.objectName() == name and widget.isVisible():
                (button,) = [b for b in widget.findChildren(QPushButton) if b.text() == label]
                qtbot.mouseClick(button, qtbot_left())
                return
        QTimer.singleShot(50, answer)

    QTimer.singleShot(50, answer)


def test_a_damaged_conversation_database_is_salvaged_when_the_user_agrees(qtbot, hearth_home: Path) -> None:  # type: ignore[no-untyped-def]
    path = hearth_home / "conversations.db"
    hearth_home.mkdir(parents=True, exist_ok=True)
    _damaged(path)
    _click_when_shown(qtbot, "salvageDialog", "Salvage conversations")
    store, notice = open_store(path, interactive=True)
    assert store is not None and len(store.conversations()) == 30
    assert notice.startswith("Salvaged 30 conversations") and "damaged" in notice
    assert list(hearth_home.glob("conversations.db.damaged-*"))
    store.close()


def test_without_salvage_the_window_starts_with_memory_and_library(qtbot, make_hearth, hearth_home: Path) -> None:  # type: ignore[no-untyped-def]
    path = hearth_home / "conversations.db"
    hearth_home.mkdir(parents=True, exist_ok=True)
    _damaged(path)
    before = path.read_bytes()
    _click_when_shown(qtbot, "salvageDialog", "Start without them")
    store, notice = open_store(path, interactive=True)
    assert store is not None and "not saved this time" in notice
    settings_on = __import__("assistant.config", fromlist=["Settings"]).Settings()
    hearth: Hearth = make_hearth(lambda settings: ScriptedEngine(), settings=settings_on, store=store)
    assert hearth.memory is not None and hearth.memory.profiles.all()  # memory works
    assert hearth.library.collections() == []  # and the library opens
    assert path.read_bytes() == before  # nothing changed on disk


def test_an_error_at_start_never_waits_for_a_click_in_a_smoke_test(tmp_path: Path) -> None:
    """Before, the start-up dialog blocked --smoke-test forever; now the message goes to stderr."""
    home = tmp_path / "home"
    home.mkdir()
    import sqlite3

    db = sqlite3.connect(home / "conversations.db")
    db.execute("PRAGMA user_version = 99")
    db.close()
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "gui", "--smoke-test", str(tmp_path / "x.png"), "hi"],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1 and "newer Hearth" in run.stderr and "update Hearth" in run.stderr
    assert "Traceback" not in run.stderr
    assert "newer Hearth" in (home / "logs" / "hearth.log").read_text()


@pytest.mark.real_model
def test_a_smoke_test_on_a_damaged_database_still_answers(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _damaged(home / "conversations.db")
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "gui", "--smoke-test", str(tmp_path / "x.png"), "Say hello."],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "is damaged" in run.stderr


def test_an_unexpected_failure_s_dialog_names_the_log_file_that_holds_its_traceback(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, hearth_home: Path
) -> None:
    from PySide6.QtCore import Qt

    from assistant.core import logs

    log = logs.install(hearth_home / "logs")
    try:
        engine = ScriptedEngine()
        hearth: Hearth = make_hearth(lambda settings: engine)
        engine.enqueue(RuntimeError("the engine broke"))
        window = hearth.window
        window.input.setPlainText("hello")
        with qtbot.waitSignal(window.errorShown, timeout=10_000):
            qtbot.keyClick(window.input, Qt.Key.Key_Return)
        assert f"Details are in {log}" in window.last_error.informativeText()
        assert log is not None and "RuntimeError: the engine broke" in log.read_text()
        window.last_error.close()
    finally:
        logs.uninstall()
