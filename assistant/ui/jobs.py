"""Small jobs off the UI thread: a function runs on a worker thread, its result comes back to a callback
on the UI thread. For memory edits, which embed text (the first embedding imports torch)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from assistant.core.errors import HearthError
from assistant.ui.threads import start_on_thread

log = logging.getLogger(__name__)


class _Executor(QObject):
    requested = Signal(int, object)
    finished = Signal(int, object, object)  # job id, result, error message (or None)

    def __init__(self) -> None:
        super().__init__()
        self.requested.connect(self._run)

    @Slot(int, object)
    def _run(self, job_id: int, function: Callable[[], Any]) -> None:
        try:
            self.finished.emit(job_id, function(), None)
        except HearthError as exc:
            self.finished.emit(job_id, None, exc.user_text())
        except Exception as exc:
            log.exception("background job failed")
            self.finished.emit(job_id, None, f"{type(exc).__name__}: {exc}")


class JobRunner(QObject):
    """Lives on the UI thread; runs jobs one at a time on its own thread, in the order submitted."""

    failed = Signal(str)
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, Callable[[Any], None]] = {}
        self._executor = _Executor()
        self._executor.finished.connect(self._on_finished)
        self._thread = start_on_thread(self._executor, "hearth-jobs")

    def submit(self, function: Callable[[], Any], done: Callable[[Any], None] | None = None) -> None:
        job_id = next(self._ids)
        self._callbacks[job_id] = done or (lambda result: None)
        self._executor.requested.emit(job_id, function)

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    def _on_finished(self, job_id: int, result: Any, error: str | None) -> None:
        callback = self._callbacks.pop(job_id, None)
        if error is not None:
            self.failed.emit(error)
        elif callback is not None:
            callback(result)
        if not self._callbacks:
            self.idle.emit()

    def stop(self) -> None:
        self._thread.quit()
        self._thread.wait(30_000)
