"""A word-wrapped label that is never squeezed into fewer lines than its text needs."""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget


class WrappingLabel(QLabel):
    """Word-wrapped, with its minimum height kept at what its text needs at its width.

    A layout asks a wrapped QLabel for its height at the width it is first given; a window made
    narrower, or a longer text set later, is not asked again, and the last lines are cut off (the
    Settings' "On this machine" line was). Its minimum height carries the need up the layouts, so
    the dialog grows to show it.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self.width() <= 0:
            return
        needed = self.heightForWidth(self.width())
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)
