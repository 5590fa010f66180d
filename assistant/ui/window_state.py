"""What the window remembers between runs (ui.ini next to the data): its geometry, the splitter,
which side panels are open and the last conversation; and the size it opens at the first time.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSplitter, QWidget

from assistant.config import data_dir

# The first window takes this share of the screen's free area, within these bounds.
SCREEN_SHARE = 0.85
SMALLEST = QSize(800, 600)
LARGEST = QSize(1440, 960)


def default_size(available: QSize | None = None) -> QSize:
    """A size that fits the screen: a share of its free area, clamped, never larger than the area."""
    if available is None:
        screen = QGuiApplication.primaryScreen()
        available = screen.availableGeometry().size() if screen is not None else LARGEST
    width = min(max(int(available.width() * SCREEN_SHARE), SMALLEST.width()), LARGEST.width(), available.width())
    height = min(max(int(available.height() * SCREEN_SHARE), SMALLEST.height()), LARGEST.height(), available.height())
    return QSize(width, height)


class WindowState:
    def __init__(self) -> None:
        self.settings = QSettings(str(data_dir() / "ui.ini"), QSettings.Format.IniFormat)

    def value(self, key: str) -> object:
        return self.settings.value(key)

    def flag(self, key: str, default: bool) -> bool:
        """A remembered on/off (QSettings reads booleans back from INI files as strings)."""
        value = self.settings.value(key)
        return default if value is None else str(value).lower() in ("true", "1")

    def restore(self, window: QWidget, splitter: QSplitter) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            window.restoreGeometry(geometry)
        state = self.settings.value("splitter")
        if isinstance(state, QByteArray):
            splitter.restoreState(state)

    def remember(self, key: str, value: object) -> None:
        """Saved at once (what a crash must not lose), not only when the window closes."""
        self.settings.setValue(key, value)
        self.settings.sync()

    def save(self, window: QWidget, splitter: QSplitter, **values: object) -> None:
        self.settings.setValue("geometry", window.saveGeometry())
        self.settings.setValue("splitter", splitter.saveState())
        for key, value in values.items():
            if value is not None:
                self.settings.setValue(key, value)
        self.settings.sync()
