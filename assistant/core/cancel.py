"""A cancellation flag shared between whoever asks for work and whoever does it."""

from __future__ import annotations

import threading


class CancelToken:
    """Checked on every token and between batches of long work; setting it is thread-safe."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking early on cancel; returns whether it was cancelled."""
        return self._event.wait(timeout)


class Cancelled(Exception):
    """Raised inside long work when its token was cancelled. Not an error to show."""


class QueuedCancels:
    """Cancel tokens for jobs that run one after another in the order they were submitted.

    A Stop must reach the job that is running and every job already waiting behind it: one token
    replaced when each job starts would lose a Stop pressed before a queued job began. Jobs
    submitted after the Stop are not touched. ``submitted`` is called by whoever queues a job (any
    thread), ``start`` by the thread that runs it, once per submitted job, in order.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._submitted = 0
        self._started = 0
        self._cancel_through = 0
        self._current = CancelToken()

    def submitted(self) -> None:
        with self._lock:
            self._submitted += 1

    def start(self) -> CancelToken:
        with self._lock:
            self._started += 1
            token = CancelToken()
            if self._started <= self._cancel_through:
                token.cancel()
            self._current = token
            return token

    def cancel(self) -> None:
        with self._lock:
            self._cancel_through = self._submitted
            self._current.cancel()
