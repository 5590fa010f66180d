"""The one way Hearth starts a worker thread: a QObject moved onto a QThread of its own."""

from __future__ import annotations

import logging
import weakref

from PySide6.QtCore import QObject, QThread

log = logging.getLogger(__name__)

# Every worker thread started, so tests can check none is left running.
STARTED_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


def start_on_thread(worker: QObject, name: str) -> QThread:
    """Move ``worker`` onto a new, started thread named ``name``: its slots then run there, one at a
    time, in the order their queued signals arrive."""
    thread = QThread()
    thread.setObjectName(name)
    STARTED_THREADS.add(thread)
    worker.moveToThread(thread)
    thread.start()
    return thread


def stop_thread(thread: QThread, patience_ms: int = 30_000) -> None:
    """End ``thread``'s event loop and wait for it to finish.

    A QThread destroyed while it runs aborts the whole process ("QThread: Destroyed while thread is
    still running"), which a busy machine made happen at exit when a slot outlasted a fixed 30 s
    wait. So after ``patience_ms`` this logs which thread is slow and goes on waiting: closing late
    is better than losing the process mid-write."""
    thread.quit()
    if thread.wait(patience_ms):
        return
    log.warning("still waiting for %s to finish its work before closing", thread.objectName() or "a worker thread")
    thread.wait()
