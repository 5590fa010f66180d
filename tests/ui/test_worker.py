"""The worker on its own thread: coalesced updates, cancellation, errors as signals."""

from __future__ import annotations

import itertools
import time
import types

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication

from assistant.config import Settings
from assistant.core.store import ConversationStore
from assistant.ui import worker as worker_module
from assistant.ui.stall import StallMeter
from assistant.ui.worker import ChatWorker, start_worker
from tests.fakes import ScriptedEngine


class Recorder(QObject):
    """Receives the worker's signals on the UI thread, as the window does."""

    def __init__(self) -> None:
        super().__init__()
        self.updates: list[str] = []
        self.finished: list[object] = []
        self.errors: list[str] = []
        self.states: list[str] = []

    @Slot(int, int, str)
    def on_text(self, conversation_id: int, message_id: int, text: str) -> None:
        self.updates.append(text)

    @Slot(int, object, object)
    def on_finished(self, conversation_id: int, reply: object, stats: object) -> None:
        self.finished.append(reply)

    @Slot(str, str)
    def on_failed(self, message: str, hint: str) -> None:
        self.errors.append(message)

    @Slot(str, str)
    def on_state(self, state: str, detail: str) -> None:
        self.states.append(state)


def _worker(qtbot, store: ConversationStore, engine: ScriptedEngine):  # type: ignore[no-untyped-def]
    worker = ChatWorker(store, lambda settings: engine)
    recorder = Recorder()
    worker.replyTextChanged.connect(recorder.on_text)
    worker.turnFinished.connect(recorder.on_finished)
    worker.failed.connect(recorder.on_failed)
    worker.loadStateChanged.connect(recorder.on_state)
    thread = start_worker(worker)
    settings = Settings()
    settings.sampling.max_tokens = 4000
    worker.loadRequested.emit(settings)
    qtbot.waitUntil(lambda: recorder.states[-1:] == ["ready"], timeout=5_000)
    return worker, recorder, thread


def _stop(thread, worker) -> None:  # type: ignore[no-untyped-def]
    worker.cancel()
    thread.quit()
    thread.wait(5_000)


def test_token_updates_are_coalesced(qtbot, store: ConversationStore, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """One update per coalescing interval, not one per token. The worker's clock is made to advance
    10 ms per token, so the count is exact whatever the machine's load."""
    ticks = itertools.count()
    monkeypatch.setattr(worker_module, "time", types.SimpleNamespace(monotonic=lambda: 0.010 * next(ticks)))
    engine = ScriptedEngine()
    worker, recorder, thread = _worker(qtbot, store, engine)
    try:
        reply = " ".join(f"t{n}" for n in range(1000))
        engine.enqueue(reply)
        conversation = store.create()
        worker.sendRequested.emit(conversation.id, "go")
        qtbot.waitUntil(lambda: bool(recorder.finished), timeout=30_000)
        assert recorder.finished[0].content == reply  # type: ignore[attr-defined]
        # 10 ms a token against a 33 ms interval: an update on every fourth token after the first
        # (at 40, 80, ... 990 ms); the rest arrives with the finished reply.
        assert len(recorder.updates) == 999 // 4
        assert all(reply.startswith(text) for text in recorder.updates)  # whole text so far, in order
    finally:
        _stop(thread, worker)


def test_cancel_reaches_the_busy_worker(qtbot, store: ConversationStore) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(token_delay_s=0.01)
    worker, recorder, thread = _worker(qtbot, store, engine)
    try:
        engine.enqueue("word " * 1000)
        conversation = store.create()
        worker.sendRequested.emit(conversation.id, "go")
        qtbot.waitUntil(lambda: len(recorder.updates) > 2, timeout=5_000)
        worker.cancel()
        qtbot.waitUntil(lambda: bool(recorder.finished), timeout=2_000)
        assert store.messages(conversation.id)[-1].status.value == "stopped"
        assert not recorder.errors  # a cancel is not an error
    finally:
        _stop(thread, worker)


def test_stall_meter_sees_a_blocked_ui_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    meter = StallMeter(interval_ms=5)
    meter.start()
    qtbot.wait(50)
    time.sleep(0.12)  # the UI thread does nothing else for 120 ms
    qtbot.wait(30)
    stall = meter.stop()
    assert 100 <= stall < 400
    meter.start()
    for _ in range(10):
        QApplication.processEvents()
        qtbot.wait(5)
    assert meter.stop() < 100
