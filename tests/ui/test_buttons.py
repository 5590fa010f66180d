"""Buttons call their slots with nothing: ``clicked(bool)`` never lands in an optional parameter."""

from __future__ import annotations

import ast
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget

import assistant.ui
from assistant.ui.buttons import button_row, on_click

UI = Path(assistant.ui.__file__).parent
SIGNALS = ("clicked", "triggered")  # both carry ``checked``: PySide passes it to a slot that takes one


def test_a_button_row_calls_a_method_with_an_optional_parameter_with_nothing(qtbot) -> None:  # type: ignore[no-untyped-def]
    received: list[object] = []

    def edit(text: str | None = None) -> None:
        received.append(text)

    parent = QWidget()
    qtbot.addWidget(parent)
    parent.setLayout(button_row([("Edit…", edit)], lambda: received.append("closed")))
    buttons = {b.text(): b for b in parent.findChildren(QPushButton)}
    qtbot.mouseClick(buttons["Edit…"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(buttons["Close"], Qt.MouseButton.LeftButton)
    assert received == [None, "closed"]
    direct = QPushButton()
    direct.clicked.connect(on_click(edit))
    direct.click()
    assert received[-1] is None


def _methods(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_no_button_or_action_is_connected_to_a_method_that_takes_an_argument() -> None:
    """``button.clicked.connect(self.edit)`` with ``def edit(self, text=None)`` receives False as
    its text: every such connection in assistant/ui goes through a slot without parameters."""
    wrong = []
    for path in sorted(UI.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        methods = _methods(tree)
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect"
            ):
                continue
            signal = node.func.value
            if not (isinstance(signal, ast.Attribute) and signal.attr in SIGNALS and node.args):
                continue
            target = node.args[0]
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                method = methods.get(target.attr)
                if method is not None and len(method.args.args) + len(method.args.kwonlyargs) > 1:
                    wrong.append(f"{path.name}:{node.lineno} {signal.attr} → {target.attr}({ast.unparse(method.args)})")
    assert not wrong, "connect through on_click() or a slot without parameters:\n" + "\n".join(wrong)
