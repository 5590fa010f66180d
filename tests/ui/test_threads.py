"""Worker threads are stopped by waiting for them, however long their last slot takes."""

from __future__ import annotations

import logging
import threading

import pytest
from PySide6.QtCore import QObject, Signal, Slot

from assistant.ui.threads import start_on_thread, stop_thread


class SlowWorker(QObject):
    requested = Signal()

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.release = release
        self.started = threading.Event()
        self.requested.connect(self.work)

    @Slot()
    def work(self) -> None:
        self.started.set()
        self.release.wait(30)


class ReleaseOnWarning(logging.Handler):
    """Lets the slow slot finish once stop_thread has said it is still waiting."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.let_go = release  # not "release": a logging.Handler has a release() of its own
        self.said: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append(record.getMessage())
        self.let_go.set()


def test_a_thread_whose_slot_outlasts_the_patience_is_still_waited_for(qtbot: object) -> None:
    """A QThread destroyed while it runs aborts the process; stop_thread never lets that happen."""
    release = threading.Event()
    worker = SlowWorker(release)
    thread = start_on_thread(worker, "hearth-test-slow")
    worker.requested.emit()
    assert worker.started.wait(10)
    handler = ReleaseOnWarning(release)
    logger = logging.getLogger("assistant.ui.threads")
    logger.addHandler(handler)
    try:
        stop_thread(thread, patience_ms=50)
    finally:
        logger.removeHandler(handler)
    assert thread.isFinished()
    assert handler.said == ["still waiting for hearth-test-slow to finish its work before closing"]


@pytest.mark.parametrize("busy", [False, True])
def test_an_idle_or_briefly_busy_thread_stops_without_a_word(qtbot: object, busy: bool) -> None:
    release = threading.Event()
    worker = SlowWorker(release)
    thread = start_on_thread(worker, "hearth-test-quick")
    if busy:
        worker.requested.emit()
        assert worker.started.wait(10)
        threading.Timer(0.05, release.set).start()
    stop_thread(thread, patience_ms=10_000)
    assert thread.isFinished()
