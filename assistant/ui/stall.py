"""Measures how long the UI thread is kept from its event loop (the longest stall)."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QTimer


class StallMeter(QObject):
    """A timer ticks every ``interval_ms`` on the UI thread; a late tick is a stall."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.max_stall_ms = 0.0
        self.stalls_ms: list[float] = []  # every stall over 1 ms, for counting the long ones
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.max_stall_ms = 0.0
        self.stalls_ms = []
        self._clock.start()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        return self.max_stall_ms

    def _tick(self) -> None:
        elapsed = self._clock.nsecsElapsed() / 1e6
        self._clock.restart()
        stall = elapsed - self.interval_ms
        self.max_stall_ms = max(self.max_stall_ms, stall)
        if stall > 1:
            self.stalls_ms.append(stall)
