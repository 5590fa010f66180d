"""The window's toolbar: new and incognito chats, the model picker and its state, the panels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QToolBar, QWidget


class MainToolbar(QToolBar):
    def __init__(self, parent: QWidget) -> None:
        super().__init__("Main", parent)
        self.setObjectName("mainToolbar")
        self.setMovable(False)
        self.new_action = self._action("New chat", "New chat (Ctrl+N)")
        self.incognito_action = self._action(
            "Incognito", "A conversation that stores nothing: no messages, no memories"
        )
        self.addSeparator()
        self.addWidget(QLabel(" Model: "))
        self.model_picker = QComboBox()
        self.model_picker.setAccessibleName("Model")
        self.model_picker.setMinimumWidth(220)
        self.addWidget(self.model_picker)
        self.model_state_label = QLabel(" Loading model… ")
        self.model_state_label.setAccessibleName("Model state")
        self.addWidget(self.model_state_label)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(spacer)
        self.panel_action = self._action("Conversation settings", "")
        self.panel_action.setCheckable(True)
        self.panel_action.setChecked(True)
        self.models_action = self._action("Models…", "Models on this computer, and better ones to download")
        self.library_action = self._action("Library…", "Document collections to answer from")
        self.settings_action = self._action("Settings", "Settings (Ctrl+,)")

    def _action(self, text: str, tip: str) -> QAction:
        action = QAction(text, self)
        if tip:
            action.setToolTip(tip)
        self.addAction(action)
        return action

    def show_model_state(self, state: str, detail: str) -> None:
        text = {"loading": "Loading model…", "ready": f"Ready: {detail}", "failed": "Model failed to load"}[state]
        self.model_state_label.setText(f" {text} ")
        self.model_state_label.setToolTip(detail)

    def show_models(self, entries: list[Any], current: Path | None) -> None:
        self.model_picker.clear()
        for entry in entries:
            label = entry.info.name if entry.info else f"{entry.path.name} (unusable)"
            self.model_picker.addItem(f"{label} [{entry.source}]", str(entry.path))
            if current is not None and entry.path.resolve() == current.resolve():
                self.model_picker.setCurrentIndex(self.model_picker.count() - 1)
