"""A dialog's row of action buttons, with Close at the far end."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QHBoxLayout, QPushButton


def on_click(slot: Callable[[], object]) -> Callable[..., None]:
    """``slot`` called with no arguments whatever the signal carries.

    ``QPushButton.clicked`` and ``QAction.triggered`` carry ``checked`` (False); PySide passes it to
    a slot that can take an argument, so a method such as ``edit(self, text=None)`` connected
    directly would receive ``False`` as its text.
    """

    def call(*_signal_args: object) -> None:
        slot()

    return call


def button_row(actions: Sequence[tuple[str, Callable[[], object]]], close: Callable[[], object]) -> QHBoxLayout:
    row = QHBoxLayout()
    for text, slot in actions:
        button = QPushButton(text)
        button.clicked.connect(on_click(slot))
        row.addWidget(button)
    row.addStretch(1)
    closing = QPushButton("Close")
    closing.clicked.connect(on_click(close))
    row.addWidget(closing)
    return row
