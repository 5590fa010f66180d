"""The conversation sidebar: search, the date-grouped list, new, rename, export and delete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import QInputDialog, QLineEdit, QListView, QMenu, QMessageBox, QPushButton, QVBoxLayout, QWidget

from assistant.core.store import Conversation, ConversationStore
from assistant.ui.models import ConversationListModel, IdRole
from assistant.ui.operations import OpChanges, Operations, StoreOp


class ConversationSidebar(QWidget):
    conversationActivated = Signal(int)
    newRequested = Signal()
    conversationDeleted = Signal(int)
    forgetRequested = Signal(int)

    def __init__(self, store: ConversationStore, operations: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.operations = operations
        operations.changed.connect(self._on_changed)
        # Called with a conversation and the deletion, which it runs once no reply is written there.
        self.before_removing: Callable[[int, Callable[[], None]], None] = lambda _, remove: remove()
        # Keeps the conversations to list (those of the active profile); all when None.
        self.profile_filter: Callable[[list[Conversation]], list[Conversation]] | None = None
        self.current_id: int | None = None
        self.model = ConversationListModel()
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Search conversations (Ctrl+F)")
        self.search_box.setAccessibleName("Search conversations")
        self.search_box.setClearButtonEnabled(True)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.refresh)
        self.search_box.textChanged.connect(self._search_timer.start)
        self.list_view = QListView()
        self.list_view.setModel(self.model)
        self.list_view.setAccessibleName("Conversations")
        # Long titles end in "…" rather than scroll the list sideways.
        self.list_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list_view.customContextMenuRequested.connect(self._menu)
        self.list_view.selectionModel().currentChanged.connect(self._on_selected)
        new_button = QPushButton("New chat")
        new_button.clicked.connect(self.newRequested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.addWidget(self.search_box)
        layout.addWidget(self.list_view, 1)
        layout.addWidget(new_button)
        self.setMinimumWidth(160)

    def add_header(self, *widgets: QWidget) -> None:
        """Widgets above the search box (the profile picker)."""
        layout = self.layout()
        if isinstance(layout, QVBoxLayout):  # built as a column in __init__
            for position, widget in enumerate(widgets):
                layout.insertWidget(position, widget)

    def refresh(self) -> None:
        query = self.search_box.text().strip()
        conversations = [hit.conversation for hit in self.store.search(query)] if query else self.store.conversations()
        if self.profile_filter is not None:
            conversations = self.profile_filter(conversations)
        self.model.set_conversations(conversations)
        self.select(self.current_id)

    def _on_changed(self, changes: OpChanges, initiator: object) -> None:
        if changes.conversations or changes.profiles:
            self.refresh()

    def select(self, conversation_id: int | None) -> None:
        """Mark the open conversation without re-announcing it."""
        self.current_id = conversation_id
        row = self.model.row_of(conversation_id) if conversation_id is not None else -1
        if row >= 0:
            selection = self.list_view.selectionModel()
            blocked = selection.blockSignals(True)
            selection.setCurrentIndex(self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect)
            selection.blockSignals(blocked)
            self.list_view.viewport().update()  # the view repaints on those signals: it missed them

    def _on_selected(self, current: QModelIndex, previous: QModelIndex) -> None:
        conversation_id = current.data(IdRole) if current.isValid() else None
        if conversation_id is not None and conversation_id != self.current_id:
            self.conversationActivated.emit(conversation_id)

    def rename(self, conversation_id: int) -> None:
        current = self.store.get(conversation_id).title
        title, ok = QInputDialog.getText(self, "Rename conversation", "Title:", text=current)
        if ok and title.strip():
            self.operations.run(
                StoreOp(
                    lambda: self.store.rename(conversation_id, title),
                    OpChanges(conversations=True, conversation_id=conversation_id),
                    "rename the conversation",
                    typed=title,
                )
            )

    def delete(self, conversation_id: int) -> QMessageBox:
        """Asks first (non-blocking); returns the question so tests can answer it."""
        title = self.store.get(conversation_id).title
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete conversation",
            f"Delete “{title}” and all its messages? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Yes:
                op = StoreOp(
                    lambda: self.store.delete(conversation_id),
                    OpChanges(conversations=True, conversation_id=conversation_id, deleted=True),
                    "delete the conversation",
                    on_success=lambda _: self.conversationDeleted.emit(conversation_id),
                )
                self.before_removing(conversation_id, lambda: self.operations.run(op))

        box.finished.connect(answered)
        box.open()
        return box

    def export(self, conversation_id: int, fmt: str, path: Path | None = None) -> Path | None:
        from assistant.ui.export import export_conversation

        return export_conversation(self, self.store, conversation_id, fmt, path)

    def _menu(self, position: QPoint) -> None:
        index = self.list_view.indexAt(position)
        conversation_id = index.data(IdRole) if index.isValid() else None
        if conversation_id is None:
            return
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.rename(conversation_id))
        menu.addAction("Delete…", lambda: self.delete(conversation_id))
        menu.addAction("Export as Markdown…", lambda: self.export(conversation_id, "md"))
        menu.addAction("Export as JSON…", lambda: self.export(conversation_id, "json"))
        menu.addAction("Forget this conversation…", lambda: self.forgetRequested.emit(conversation_id))
        menu.exec(self.list_view.viewport().mapToGlobal(position))
