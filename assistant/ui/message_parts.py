"""What a message carries besides its text: its versions (‹ 1/2 ›), the tool calls made for it, the
sources it cites, and what memory gave it or took from it. Each part shows itself from the
message's stored stats, so a conversation opened again looks as it did when it was written."""

from __future__ import annotations

import html
import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from assistant.knowledge.citations import cited_numbers
from assistant.ui.flow_layout import FlowLayout

# A result longer than this (or of more lines) starts collapsed to its first line.
COLLAPSE_CHARS = 240
COLLAPSE_LINES = 4
SHOWN_RESULT_CHARS = 4000  # a result is kept whole in the stats; a card shows this much of it
_MUTED = "color: #888;"
CARD_TEXT_WIDTH = 240  # pixels of a source card's text: a longer file name is shortened in the middle


def _row(parent: QWidget | None = None) -> QHBoxLayout:
    row = QHBoxLayout(parent) if parent is not None else QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(4)
    return row


class VersionSwitcher(QWidget):
    """‹ 2/3 ›: which version of a message is shown, and the way to the others."""

    stepRequested = Signal(int)  # -1 the version before, +1 the one after

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = _row(self)
        self.previous = QToolButton()
        self.previous.setText("‹")
        self.previous.setAccessibleName("Previous version")
        self.previous.setToolTip("Show the previous version")
        self.previous.clicked.connect(lambda: self.stepRequested.emit(-1))
        self.label = QLabel()
        self.label.setObjectName("versionLabel")
        self.next = QToolButton()
        self.next.setText("›")
        self.next.setAccessibleName("Next version")
        self.next.setToolTip("Show the next version")
        self.next.clicked.connect(lambda: self.stepRequested.emit(1))
        for widget in (self.previous, self.label, self.next):
            row.addWidget(widget)
        self.hide()

    def show_place(self, version: int, versions: int, enabled: bool = True) -> None:
        self.label.setText(f"{version}/{versions}")
        self.label.setAccessibleName(f"Version {version} of {versions}")
        self.previous.setEnabled(enabled and version > 1)
        self.next.setEnabled(enabled and version < versions)
        self.setVisible(versions > 1)


def arguments_text(arguments: Any) -> str:
    """A call's arguments as ``name: value`` lines (JSON only for values that are not plain)."""
    if not isinstance(arguments, dict):
        return json.dumps(arguments, ensure_ascii=False)
    lines = []
    for name, value in arguments.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{name}: {shown}")
    return "\n".join(lines)


def is_long(result: str) -> bool:
    return len(result) > COLLAPSE_CHARS or result.count("\n") >= COLLAPSE_LINES


class ToolCallCard(QFrame):
    """One call: the tool, its arguments, what it returned, how long it took. A long result starts
    collapsed to its first line, with a toggle for the whole of it."""

    def __init__(self, call: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("toolCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.call = call
        tool = str(call.get("tool", ""))
        ok = bool(call.get("ok"))
        seconds = float(call.get("duration_s") or 0)
        result = str(call.get("result", ""))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        header = _row()
        self.title = QLabel(
            f"<b>{html.escape(tool)}</b> <span style='{_MUTED}'>"
            f"{'returned' if ok else 'failed'} · {seconds:.2f} s</span>"
        )
        self.title.setAccessibleName(f"Tool {tool} {'returned' if ok else 'failed'} in {seconds:.2f} seconds")
        header.addWidget(self.title)
        header.addStretch(1)
        self.toggle = QToolButton()
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setText("Show result")
        self.toggle.setAccessibleName(f"Show the whole result of {tool}")
        self.toggle.toggled.connect(self._show_whole)
        header.addWidget(self.toggle)
        layout.addLayout(header)
        self.arguments = QLabel(arguments_text(call.get("arguments", {})))
        self.arguments.setTextFormat(Qt.TextFormat.PlainText)
        self.arguments.setWordWrap(True)
        self.arguments.setStyleSheet(_MUTED)
        self.arguments.setVisible(bool(self.arguments.text()))
        layout.addWidget(self.arguments)
        self.result = QLabel()
        self.result.setTextFormat(Qt.TextFormat.PlainText)
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result)
        self._whole = (
            result
            if len(result) <= SHOWN_RESULT_CHARS
            else result[:SHOWN_RESULT_CHARS] + (f"\n… ({len(result) - SHOWN_RESULT_CHARS:,} more characters)")
        )
        first_line = " ".join(result.strip().split("\n", 1)[0].split())
        self._summary = first_line[:160] + ("…" if len(first_line) > 160 or is_long(result) else "")
        self.collapsible = is_long(result)
        self.toggle.setVisible(self.collapsible)
        self._show_whole(not self.collapsible)

    def _show_whole(self, whole: bool) -> None:
        self.result.setText(self._whole if whole else self._summary)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if whole else Qt.ArrowType.RightArrow)
        self.toggle.setText("Hide result" if whole else "Show result")

    @property
    def expanded(self) -> bool:
        return self.result.text() == self._whole

    def text(self) -> str:
        return f"{self.call.get('tool')}\n{self.arguments.text()}\n{self._whole}"


class ToolCallCards(QWidget):
    """The cards of a reply's tool calls, above its text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.cards: list[ToolCallCard] = []
        self._shown: list[dict[str, Any]] = []
        self.hide()

    def set_calls(self, calls: list[dict[str, Any]]) -> None:
        if calls == self._shown:
            return  # a streaming update: the cards stay as they are (and as the user opened them)
        self._shown = list(calls)
        for card in self.cards:
            self._layout.removeWidget(card)
            card.deleteLater()
        self.cards = [ToolCallCard(call) for call in calls]
        for card in self.cards:
            self._layout.addWidget(card)
        self.setVisible(bool(calls))

    def text(self) -> str:
        return "\n\n".join(card.text() for card in self.cards)


def source_label(source: dict[str, Any]) -> str:
    page = f" p.{source['page']}" if source.get("page") else ""
    return f"[{source.get('n')}] " + str(source.get("path", "")).rsplit("/", 1)[-1] + page


def card_label(source: dict[str, Any], metrics: QFontMetrics, width: int = CARD_TEXT_WIDTH) -> str:
    """``source_label`` within ``width`` pixels: the name shortened in the middle, its ``[n]``, its
    extension and its page always kept ("[3] Annual-rep…-2024.pdf p.12")."""
    full = source_label(source)
    if metrics.horizontalAdvance(full) <= width:
        return full
    prefix = f"[{source.get('n')}] "
    page = f" p.{source['page']}" if source.get("page") else ""
    name = str(source.get("path", "")).replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 8:
        stem, extension = name, ""
    else:
        extension = "." + extension
    room = width - metrics.horizontalAdvance(prefix + extension + page)
    return prefix + metrics.elidedText(stem, Qt.TextElideMode.ElideMiddle, max(room, 0)) + extension + page


class SourceCards(QWidget):
    """The sources a reply cites, as cards in the order it cites them; passages retrieved for it
    but not cited wait, collapsed, under "Also retrieved": never shown as if they were cited."""

    sourceRequested = Signal(object)  # the source dict

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.cited_row = FlowLayout()
        layout.addLayout(self.cited_row)
        self.also_toggle = QToolButton()
        self.also_toggle.setObjectName("alsoRetrieved")
        self.also_toggle.setCheckable(True)
        self.also_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.also_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.also_toggle.setToolTip("Passages found for this question that the answer does not cite")
        self.also_toggle.toggled.connect(self._show_also)
        layout.addWidget(self.also_toggle)
        self.also_box = QWidget()
        self.also_row = FlowLayout(self.also_box)
        self.also_box.hide()
        layout.addWidget(self.also_box)
        self.cited: list[QPushButton] = []
        self.also: list[QPushButton] = []
        self._key: tuple[Any, ...] = ()
        self.hide()

    @property
    def buttons(self) -> list[QPushButton]:
        return [*self.cited, *self.also]

    def set_sources(self, sources: list[dict[str, Any]], text: str) -> None:
        numbers = {int(s["n"]) for s in sources if isinstance(s.get("n"), int)}
        cited = cited_numbers(text, numbers)
        key = (tuple(sorted(numbers)), tuple(cited), tuple(str(s.get("path")) for s in sources))
        if key == self._key:
            return
        self._key = key
        for button in self.buttons:
            button.deleteLater()
        by_number = {int(s["n"]): s for s in sources if isinstance(s.get("n"), int)}
        self.cited = [self._card(by_number[n], self.cited_row, "sourceCard") for n in cited]
        self.also = [self._card(s, self.also_row, "alsoRetrievedCard") for n, s in by_number.items() if n not in cited]
        if self.also:
            what = "Also retrieved, not cited" if self.cited else "Retrieved, not cited"
            self.also_toggle.setText(f"{what} ({len(self.also)})")
        self.also_toggle.setVisible(bool(self.also))
        self.setVisible(bool(sources))

    def _card(self, source: dict[str, Any], row: FlowLayout, name: str) -> QPushButton:
        label = source_label(source)
        button = QPushButton()
        button.setObjectName(name)
        button.setText(card_label(source, button.fontMetrics()))
        passage = " ".join(str(source.get("text", "")).split())[:300]
        button.setToolTip(f"{label}\n{source.get('path', '')}\n\n{passage}")
        cited = name == "sourceCard"
        button.setAccessibleName(f"{'Source' if cited else 'Retrieved, not cited'}: {label}")
        button.clicked.connect(lambda _=False, s=source: self.sourceRequested.emit(s))
        row.addWidget(button)
        return button

    def _show_also(self, shown: bool) -> None:
        self.also_box.setVisible(shown)
        self.also_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)


def used_from_memory(memories: list[dict[str, Any]]) -> tuple[str, str]:
    """One line for what memory gave the reply, and the whole of it for a tooltip. Facts are quoted
    (the first two); earlier conversations are named by their title, not by their digests."""
    facts = [" ".join(str(m.get("text", "")).split()) for m in memories if "conversation_id" not in m]
    talks = [str(m.get("title") or str(m.get("text", "")).split(":", 1)[0]) for m in memories if "conversation_id" in m]
    parts = [html.escape(f[:120] + ("…" if len(f) > 120 else "")) for f in facts[:2]]
    if len(facts) > 2:
        parts.append(f"{len(facts) - 2} more")
    if talks:
        names = ", ".join(f"“{html.escape(t[:60])}”" for t in talks[:2]) + (" and others" if len(talks) > 2 else "")
        parts.append(f"earlier conversation{'s' if len(talks) > 1 else ''} {names}")
    line = f"<span style='{_MUTED}'>Used from memory:</span> " + "; ".join(parts) if parts else ""
    tip = "\n".join([*(f"• {f}" for f in facts), *(f"• An earlier conversation: {t}" for t in talks)])
    return line, tip + "\n(Memory… in the toolbar to see or edit)"


LEARNED_VERBS = {"added": "Remembered", "updated": "Updated", "replaced": "Updated"}


def learned_line(learned: list[dict[str, Any]]) -> str:
    """What memory kept from the exchange, in one line: "Remembered: …", then "Updated: …"."""
    parts: dict[str, list[str]] = {}
    for change in learned:
        verb = LEARNED_VERBS.get(str(change.get("action")), "Remembered")
        parts.setdefault(verb, []).append(" ".join(str(change.get("text", "")).split())[:160])
    return " · ".join(f"{verb}: {'; '.join(texts)}" for verb, texts in parts.items())
