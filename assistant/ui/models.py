"""View-models: Qt list models over the conversation store. Mutated only on the UI thread."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from assistant.core.messages import MessageStatus
from assistant.core.store import Conversation, StoredMessage

_Index = QModelIndex | QPersistentModelIndex

IdRole = Qt.ItemDataRole.UserRole + 1
KindRole = Qt.ItemDataRole.UserRole + 2
RoleRole = Qt.ItemDataRole.UserRole + 3
StatusRole = Qt.ItemDataRole.UserRole + 4
MessageRole = Qt.ItemDataRole.UserRole + 5


def date_group(timestamp: float, today: date | None = None) -> str:
    today = today or date.today()
    day = datetime.fromtimestamp(timestamp).date()
    if day >= today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    if day > today - timedelta(days=7):
        return "Previous 7 days"
    if day > today - timedelta(days=30):
        return "Previous 30 days"
    return "Older"


class ConversationListModel(QAbstractListModel):
    """Conversations, newest first, with a header row before each date group."""

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[tuple[str, Conversation | None]] = []

    def set_conversations(self, conversations: list[Conversation]) -> None:
        self.beginResetModel()
        self._rows = []
        current = None
        for conversation in conversations:
            group = date_group(conversation.updated_at)
            if group != current:
                self._rows.append((group, None))
                current = group
            self._rows.append((conversation.title, conversation))
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        text, conversation = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return text
        if role == Qt.ItemDataRole.ToolTipRole and conversation is not None:
            return f"{conversation.title}\n{conversation.message_count} messages"
        if role == IdRole:
            return conversation.id if conversation else None
        if role == KindRole:
            return "conversation" if conversation else "header"
        if role == Qt.ItemDataRole.FontRole and conversation is None:
            from PySide6.QtGui import QGuiApplication

            font = QGuiApplication.font()
            font.setBold(True)
            if font.pointSizeF() > 0:  # a pixel-sized font reports -1
                font.setPointSizeF(font.pointSizeF() * 0.85)
            return font
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if self._rows[index.row()][1] is None:
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def row_of(self, conversation_id: int) -> int:
        for row, (_, conversation) in enumerate(self._rows):
            if conversation is not None and conversation.id == conversation_id:
                return row
        return -1

    def conversation_at(self, row: int) -> Conversation | None:
        return self._rows[row][1] if 0 <= row < len(self._rows) else None


class MessageListModel(QAbstractListModel):
    """The messages of the open conversation. Streaming updates touch one row only."""

    def __init__(self) -> None:
        super().__init__()
        self.conversation_id: int | None = None
        self._messages: list[StoredMessage] = []
        self._rows_by_id: dict[int, int] = {}

    def set_messages(self, conversation_id: int | None, messages: list[StoredMessage]) -> None:
        self.beginResetModel()
        self.conversation_id = conversation_id
        self._messages = list(messages)
        self._rows_by_id = {m.id: row for row, m in enumerate(self._messages)}
        self.endResetModel()

    def append(self, message: StoredMessage) -> None:
        if message.id in self._rows_by_id:
            self.replace(message)
            return
        row = len(self._messages)
        self.beginInsertRows(QModelIndex(), row, row)
        self._messages.append(message)
        self._rows_by_id[message.id] = row
        self.endInsertRows()

    def replace(self, message: StoredMessage) -> None:
        row = self._rows_by_id.get(message.id)
        if row is None:
            self.append(message)
            return
        self._messages[row] = message
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def update_if_shown(self, message: StoredMessage) -> None:
        """A newer state of a message, if it is shown (it may have been set aside since)."""
        if message.id in self._rows_by_id:
            self.replace(message)

    def set_content(self, message_id: int, content: str, status: MessageStatus | None = None) -> None:
        row = self._rows_by_id.get(message_id)
        if row is None:
            return
        old = self._messages[row]
        self._messages[row] = dataclasses.replace(old, content=content, status=status or old.status)
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def remove_from(self, message_id: int) -> None:
        row = self._rows_by_id.get(message_id)
        if row is None:
            return
        last = len(self._messages) - 1
        self.beginRemoveRows(QModelIndex(), row, last)
        del self._messages[row:]
        self._rows_by_id = {m.id: r for r, m in enumerate(self._messages)}
        self.endRemoveRows()

    def message(self, row: int) -> StoredMessage:
        return self._messages[row]

    def messages(self) -> list[StoredMessage]:
        return list(self._messages)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._messages)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._messages):
            return None
        message = self._messages[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return message.content
        if role == IdRole:
            return message.id
        if role == RoleRole:
            return message.role
        if role == StatusRole:
            return message.status.value
        if role == MessageRole:
            return message
        return None
