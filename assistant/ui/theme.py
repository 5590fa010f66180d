"""The window's colours and icons, for light and dark: one style sheet, two sets of colours.

``resources/styles/hearth.qss`` names colours as ``@token@``; ``style_sheet`` fills them in from
``COLORS`` for the palette in use. Icons are monochrome SVGs drawn with ``currentColor`` in
``resources/icons/ui``; ``icon`` paints one in the theme's text colour, so it stays visible on both.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QWidget

from assistant.ui.resources import resource_path

COLORS: dict[str, dict[str, str]] = {
    "light": {
        "canvas": "#f4f5f7",  # behind the messages
        "text": "#1f2328",
        "muted": "#6b7280",
        "border": "#dfe1e6",
        "card": "#ffffff",  # an assistant reply
        "user": "#dbe8fd",  # a message of the user's: the accent, light
        "user_border": "#c3d6f7",
        "accent": "#2f6fde",
        "accent_text": "#ffffff",
        "link": "#2f6fde",  # a link in a label's rich text (its colour is fixed when the text is set)
        "hover": "#e8eaee",
        "icon": "#3c4150",
        "banner": "#fff4d6",
        "banner_text": "#5c4400",
        "incognito": "#5b3d8a",
        "check_bg": "#ffffff",
        "check_border": "#8a8f99",
        "chevron": "chevron-dark",
    },
    "dark": {
        "canvas": "#1a1a1e",
        "text": "#e8e8ec",
        "muted": "#9a9aa6",
        "border": "#34343c",
        "card": "#26262c",
        "user": "#2b3f5f",
        "user_border": "#3b5580",
        "accent": "#4a7fd6",
        "accent_text": "#ffffff",
        "link": "#8ab4f8",
        "hover": "#33333b",
        "icon": "#d6d6de",
        "banner": "#4a3c12",
        "banner_text": "#ffe7a8",
        "incognito": "#6e4ba6",
        "check_bg": "#18181b",
        "check_border": "#8a8a94",
        "chevron": "chevron-light",
    },
}


def is_dark(widget: QWidget | None = None) -> bool:
    """Whether the palette in use (the widget's, or the application's) is a dark one."""
    palette = widget.palette() if widget is not None else QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def colors(dark: bool) -> dict[str, str]:
    return COLORS["dark" if dark else "light"]


def style_sheet(dark: bool) -> str:
    """The application's style sheet, laid over Fusion, in the light or the dark colours."""
    text = resource_path("styles", "hearth.qss").read_text(encoding="utf-8")
    text = text.replace("@ICONS@", resource_path("icons").as_posix())
    for token, value in colors(dark).items():
        text = text.replace(f"@{token}@", value)
    return text


@cache
def _svg(name: str) -> str:
    return resource_path("icons", "ui", f"{name}.svg").read_text(encoding="utf-8")


@cache
def _icon(name: str, color: str) -> QIcon:
    renderer = QSvgRenderer(QByteArray(_svg(name).replace("currentColor", color).encode()))
    icon = QIcon()
    for size in (16, 20, 24, 32, 48):
        pixmap = QPixmap(QSize(size, size))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def icon(name: str, dark: bool | None = None, color: str | None = None) -> QIcon:
    """One of Hearth's line icons, in the theme's icon colour (or ``color``)."""
    return _icon(name, color or colors(is_dark() if dark is None else dark)["icon"])
