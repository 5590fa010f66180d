"""The one way Hearth starts a worker thread: a QObject moved onto a QThread of its own."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject, QThread

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
