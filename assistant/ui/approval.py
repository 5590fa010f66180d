"""Asking the user whether a tool may run: one non-blocking dialog, its answer handed back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_approval(
    parent: QWidget, tool_name: str, arguments: dict[str, Any], answer: Callable[[str | bool], None]
) -> QMessageBox:
    """Shows the call; ``answer`` gets "once", "always", "never" or False (denied, or closed)."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Allow this tool?",
        f"Hearth wants to use {tool_name} with:\n{json.dumps(arguments, ensure_ascii=False, indent=2)}",
        QMessageBox.StandardButton.Yes
        | QMessageBox.StandardButton.YesToAll
        | QMessageBox.StandardButton.No
        | QMessageBox.StandardButton.NoToAll,
        parent,
    )
    box.button(QMessageBox.StandardButton.Yes).setText("Allow once")
    box.button(QMessageBox.StandardButton.YesToAll).setText("Always allow")
    box.button(QMessageBox.StandardButton.No).setText("Deny")
    box.button(QMessageBox.StandardButton.NoToAll).setText("Never")
    box.setInformativeText(
        "Allow it only if you asked for this; a document can try to trick the model. "
        "Always and Never are remembered for this profile."
    )
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setObjectName("approvalDialog")
    answers = {
        QMessageBox.StandardButton.Yes: "once",
        QMessageBox.StandardButton.YesToAll: "always",
        QMessageBox.StandardButton.NoToAll: "never",
    }
    box.finished.connect(lambda button: answer(answers.get(QMessageBox.StandardButton(button), False)))
    box.open()
    return box
