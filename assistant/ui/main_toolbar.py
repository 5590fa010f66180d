"""The window's toolbar: new and incognito chats, the model picker and its state, the panels and
the dialogs, each with an icon.

Nothing hides behind the overflow chevron: when the labels do not fit, the buttons show their
icons only (their names stay in the tooltips), and the model picker narrows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction, QActionEvent, QResizeEvent
from PySide6.QtWidgets import QComboBox, QLabel, QSizePolicy, QToolBar, QWidget

from assistant.ui.theme import icon

ICON_PROPERTY = "hearthIcon"  # the name of an action's icon in resources/icons/ui


class MainToolbar(QToolBar):
    def __init__(self, parent: QWidget) -> None:
        super().__init__("Main", parent)
        self.setObjectName("mainToolbar")
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._full_width = 0  # the width the toolbar needs with its labels shown
        self.sidebar_action = self._action("sidebar-left", "Chats", "Show or hide the list of conversations")
        self.sidebar_action.setCheckable(True)
        self.sidebar_action.setChecked(True)
        self.new_action = self._action("new-chat", "New chat", "New chat (Ctrl+N)")
        self.incognito_action = self._action(
            "incognito", "Incognito", "A conversation that stores nothing: no messages, no memories"
        )
        self.addSeparator()
        self.model_picker = QComboBox()
        self.model_picker.setAccessibleName("Model")
        self.model_picker.setToolTip("The model that answers")
        self.model_picker.setMinimumWidth(140)
        self.model_picker.setMaximumWidth(260)
        self.model_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_picker.setMinimumContentsLength(16)
        self.addWidget(self.model_picker)
        self.model_state_label = QLabel(" Loading… ")
        self.model_state_label.setAccessibleName("Model state")
        self.addWidget(self.model_state_label)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(spacer)
        self.library_action = self._action("library", "Library…", "Document collections to answer from")
        self.models_action = self._action("model", "Models…", "Models on this computer, and better ones to download")
        self._tools_end = self.addSeparator()  # Profiles… and Memory… go before it (add_tool)
        self.panel_action = self._action("panel-right", "Chat settings", "Show or hide this conversation's settings")
        self.panel_action.setCheckable(True)
        self.panel_action.setChecked(True)
        self.settings_action = self._action("settings", "Settings", "Settings (Ctrl+,)")

    def _action(self, icon_name: str, text: str, tip: str) -> QAction:
        action = QAction(text, self)
        action.setProperty(ICON_PROPERTY, icon_name)
        if tip:
            action.setToolTip(tip)
        self.addAction(action)
        return action

    def add_tool(self, action: QAction, icon_name: str) -> None:
        """A dialog's button from elsewhere (Profiles…, Memory…), with the Library and Models."""
        action.setProperty(ICON_PROPERTY, icon_name)
        self.insertAction(self._tools_end, action)

    def actionEvent(self, event: QActionEvent) -> None:
        super().actionEvent(event)
        if event.type() in (QEvent.Type.ActionAdded, QEvent.Type.ActionChanged):
            name = event.action().property(ICON_PROPERTY)
            if name and event.type() == QEvent.Type.ActionAdded:
                event.action().setIcon(icon(str(name)))
            self._full_width = 0

    def restyle(self) -> None:
        """The icons again, in the colours of the theme now in use."""
        for action in self.actions():
            name = action.property(ICON_PROPERTY)
            if name:
                action.setIcon(icon(str(name)))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.restyle()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def fit(self) -> None:
        """Labels beside the icons where they fit, icons alone where they do not."""
        wide = Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        if self.toolButtonStyle() == wide or not self._full_width:
            current = self.toolButtonStyle()
            self.setToolButtonStyle(wide)
            layout = self.layout()
            self._full_width = layout.sizeHint().width() if layout is not None else self.sizeHint().width()
            self.setToolButtonStyle(current)
        style = wide if self.width() >= self._full_width else Qt.ToolButtonStyle.ToolButtonIconOnly
        if style != self.toolButtonStyle():
            self.setToolButtonStyle(style)

    def show_model_state(self, state: str, detail: str) -> None:
        text = {"loading": "Loading…", "ready": "Ready", "failed": "Failed to load"}[state]
        self.model_state_label.setText(f" {text} ")
        self.model_state_label.setToolTip(f"Ready: {detail}" if state == "ready" else detail)
        self._full_width = 0
        self.fit()

    def show_models(self, entries: list[Any], current: Path | None) -> None:
        self.model_picker.clear()
        for entry in entries:
            label = entry.info.name if entry.info else f"{entry.path.name} (unusable)"
            self.model_picker.addItem(f"{label} [{entry.source}]", str(entry.path))
            self.model_picker.setItemData(self.model_picker.count() - 1, str(entry.path), Qt.ItemDataRole.ToolTipRole)
            if current is not None and entry.path.resolve() == current.resolve():
                self.model_picker.setCurrentIndex(self.model_picker.count() - 1)
        self._full_width = 0
        self.fit()
