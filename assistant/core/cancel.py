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
