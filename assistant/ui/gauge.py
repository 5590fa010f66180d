"""The context-window gauge: how the coming turn shares the model's window."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from assistant.ui.theme import is_dark

PARTS: list[tuple[str, str, str]] = [
    ("system", "#7e57c2", "Instructions: the system prompt"),
    ("profile", "#5c6bc0", "Your profile: instructions and facts about you"),
    ("memories", "#26a69a", "Memories recalled for this message"),
    ("passages", "#66bb6a", "Passages retrieved from your documents"),
    ("tool_results", "#ffa726", "Results of tool calls"),
    ("summary", "#8d6e63", "Summary of older turns, written by the model"),
    ("history", "#42a5f5", "The recent turns of this conversation, word for word"),
    ("reply_reserve", "#bdbdbd", "Kept free for the reply"),
    ("free", "#eeeeee", "Free"),
]
# The light greys drawn on the dark theme: the trough, and the parts kept free.
DARK: dict[str, str] = {"trough": "#3a3a42", "reply_reserve": "#5a5a64", "free": "#2e2e35"}


class ContextGauge(QWidget):
    summaryChanged = Signal(str)  # a one-line text for a label beside the bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.breakdown: dict[str, int] = {}
        self.dropped_note = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(120)
        self.setAccessibleName("Context window gauge")
        self.set_breakdown({})

    def sizeHint(self) -> QSize:
        return QSize(240, 14)

    @property
    def total(self) -> int:
        return sum(self.breakdown.get(name, 0) for name, _, _ in PARTS)

    def set_breakdown(self, breakdown: dict[str, int], summarised: bool = False) -> None:
        self.breakdown = dict(breakdown)
        total = self.total
        if not total:
            self.setToolTip("The context window: how much the model can see at once. Load a model to measure it.")
            self.setAccessibleDescription(self.toolTip())
            self.summaryChanged.emit("Context")
            self.update()
            return
        used = total - self.breakdown.get("free", 0) - self.breakdown.get("reply_reserve", 0)
        note = " · older turns summarised" if summarised or self.breakdown.get("summary") else ""
        self.summaryChanged.emit(f"Context {used:,} / {total:,} tokens{note}")
        lines = [f"<b>Context window: {total:,} tokens</b> — everything the model sees for the next reply.<br>"]
        for name, color, description in PARTS:
            tokens = self.breakdown.get(name, 0)
            if tokens:
                lines.append(f'<span style="color:{color}">■</span> {description}: {tokens:,} ({tokens / total:.0%})')
        if summarised or self.breakdown.get("summary"):
            lines.append("<br><i>Older turns no longer fit word for word: they were summarised by the model.</i>")
        text = "<br>".join(lines)
        self.setToolTip(text)
        self.setAccessibleDescription(text.replace("<br>", ". "))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 2.5, -0.5, -2.5)
        painter.setPen(Qt.PenStyle.NoPen)
        dark = is_dark(self)
        painter.setBrush(QColor(DARK["trough"] if dark else "#e0e0e0"))
        painter.drawRoundedRect(rect, 3, 3)
        total = self.total
        if total:
            x = rect.left()
            for name, color, _ in PARTS:
                width = rect.width() * self.breakdown.get(name, 0) / total
                if width > 0:
                    painter.setBrush(QColor(DARK.get(name, color) if dark else color))
                    painter.drawRect(QRectF(x, rect.top(), width, rect.height()))
                    x += width
        painter.end()
