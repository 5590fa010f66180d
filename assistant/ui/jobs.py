"""Small jobs off the UI thread: a function runs on a worker thread, its result comes back to a callback
on the UI thread. The store writes the window asks for run through it (``operations.py``), one at a
time on one thread, in the order asked."""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from assistant.core.errors import HearthError
from assistant.ui.threads import start_on_thread, stop_thread

log = logging.getLogger(__name__)

Failure = Callable[[str, str], None]  # message, hint


def describe_failure(exc: Exception) -> tuple[str, str]:
    """A message and a hint a person can read, for an exception a job raised."""
    if isinstance(exc, HearthError):
        return exc.message, exc.hint
    if isinstance(exc, sqlite3.Error):
        return (
            f"The database refused the change: {exc}.",
            "Nothing was changed. Check that Hearth's data folder can be written and has free space.",
        )
    return f"{type(exc).__name__}: {exc}", ""


class _Executor(QObject):
    requested = Signal(int, object)
    finished = Signal(int, object, object)  # job id, result, (message, hint) or None

    def __init__(self) -> None:
        super().__init__()
        self.requested.connect(self._run)

    @Slot(int, object)
    def _run(self, job_id: int, function: Callable[[], Any]) -> None:
        try:
            result = function()
        except Exception as exc:
            if not isinstance(exc, HearthError):
                log.exception("background job failed")
            self.finished.emit(job_id, None, describe_failure(exc))
        else:
            self.finished.emit(job_id, result, None)


class JobRunner(QObject):
    """Lives on the UI thread; runs jobs one at a time on its own thread, in the order submitted."""

    failed = Signal(str, str)  # message, hint: a job without a failure callback of its own failed
    idle = Signal()

    def __init__(self, parent: QObject | None = None, name: str = "hearth-jobs") -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable[[Any], None], Failure | None]] = {}
        self._executor = _Executor()
        self._executor.finished.connect(self._on_finished)
        self._thread = start_on_thread(self._executor, name)
        self._stopped = False

    def submit(
        self,
        function: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        failed: Failure | None = None,
    ) -> None:
        if self._stopped:
            raise RuntimeError("the job runner has stopped")
        job_id = next(self._ids)
        self._callbacks[job_id] = (done or (lambda result: None), failed)
        self._executor.requested.emit(job_id, function)

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    def on_thread(self) -> bool:
        """Whether the caller is running on this runner's thread (for tests and assertions)."""
        return self._thread.isCurrentThread()

    def _on_finished(self, job_id: int, result: Any, error: tuple[str, str] | None) -> None:
        if self._stopped:
            return  # the window is closing: what it would show is gone, and the stores may be closed
        done, failed = self._callbacks.pop(job_id, (None, None))
        if error is not None:
            if failed is not None:
                failed(*error)
            else:
                self.failed.emit(*error)
        elif done is not None:
            done(result)
        if not self._callbacks:
            self.idle.emit()

    def stop(self) -> None:
        """Finish the jobs already asked for (their writes are not lost), then end the thread; the
        callbacks of jobs finished now are not called (the window is closing)."""
        if self._stopped:
            return
        self._stopped = True
        drained = threading.Event()
        self._executor.requested.emit(0, drained.set)  # runs after every job submitted before it
        drained.wait(30)
        self._callbacks.clear()
        stop_thread(self._thread)
