"""A dialog's row of action buttons, with Close at the far end."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QHBoxLayout, QPushButton


def button_row(actions: Sequence[tuple[str, Callable[[], object]]], close: Callable[[], object]) -> QHBoxLayout:
    row = QHBoxLayout()
    for text, slot in actions:
        button = QPushButton(text)
        button.clicked.connect(slot)
        row.addWidget(button)
    row.addStretch(1)
    closing = QPushButton("Close")
    closing.clicked.connect(close)
    row.addWidget(closing)
    return row
