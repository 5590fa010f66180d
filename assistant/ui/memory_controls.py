"""The window's memory and profile controls: the profile picker, the Profiles and Memory dialogs,
"forget this conversation", and what memory reports after each reply.

It is handed what it works with (the sidebar, the worker, the store, the settings and the one way to
change them) and tells the window what happened through its own signals; it knows nothing of the
window itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from assistant.config import Settings
from assistant.core.store import Conversation, ConversationStore
from assistant.memory.long_term import LongTermMemory
from assistant.memory.profiles import ProfileStore
from assistant.ui.conversation_list import ConversationSidebar
from assistant.ui.main_toolbar import MainToolbar
from assistant.ui.memory_dialog import MemoryDialog
from assistant.ui.operations import OpChanges, Operations, StoreOp
from assistant.ui.profile_dialog import ProfileDialog, ProfilePicker
from assistant.ui.worker import ChatWorker


def profile_filter(profiles: ProfileStore) -> Callable[[list[Conversation]], list[Conversation]]:
    """The active profile's conversations, with two queries per refresh however long the list."""

    def keep(conversations: list[Conversation]) -> list[Conversation]:
        active = profiles.active().id
        known = {p.id for p in profiles.all()}
        first = min(known)

        def owner(conversation: Conversation) -> int:
            owner_id = conversation.options.get("profile_id")
            return owner_id if owner_id in known else first  # as ProfileStore.for_conversation decides

        return [c for c in conversations if owner(c) == active]

    return keep


class MemoryControls(QObject):
    profileChanged = Signal(int)
    forgotten = Signal(int)  # conversation id, once it and its memories are gone
    modelWanted = Signal(str)  # the newly chosen profile's model; "" for the settings' model
    notice = Signal(str)

    def __init__(
        self,
        parent: QWidget,
        memory: LongTermMemory,
        store: ConversationStore,
        sidebar: ConversationSidebar,
        worker: ChatWorker,
        toolbar: MainToolbar,
        settings: Callable[[], Settings],
        apply_settings: Callable[[Settings], None],
        operations: Operations,
    ) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.memory = memory
        self.store = store
        self.settings = settings
        self.apply_settings = apply_settings
        self.operations = operations
        # As the sidebar's: the window stops a reply being written into a conversation before it goes.
        self.before_removing: Callable[[int, Callable[[], None]], None] = lambda _, remove: remove()
        # The picker sits above the conversation list it filters.
        self.picker = ProfilePicker(memory.profiles, operations)
        self.picker.setToolTip("Profile: its instructions, facts about you, memories and conversations")
        self.picker.profileChanged.connect(self._on_profile_changed)
        sidebar.add_header(QLabel("Profile"), self.picker)
        self.profiles_action = QAction("Profiles…", self)
        self.profiles_action.setToolTip("Your instructions and facts about you, per profile")
        self.profiles_action.triggered.connect(self.open_profiles)
        toolbar.add_tool(self.profiles_action, "profiles")
        self.memory_action = QAction("Memory…", self)
        self.memory_action.setToolTip("What Hearth remembers about you")
        self.memory_action.triggered.connect(self.open_memory)
        toolbar.add_tool(self.memory_action, "memory")
        self.memory_dialog: MemoryDialog | None = None
        self.profile_dialog: ProfileDialog | None = None
        sidebar.profile_filter = profile_filter(memory.profiles)
        sidebar.forgetRequested.connect(self.forget_conversation)
        sidebar.conversationDeleted.connect(self._forget_digest)
        worker.memoriesSaved.connect(self._on_memories_saved)

    def new_conversation_options(self) -> dict[str, Any]:
        return self.memory.profiles.active().new_conversation_options()

    def _on_profile_changed(self, profile_id: int) -> None:
        profile = self.memory.profiles.get(profile_id)
        self.notice.emit(f"Profile: {profile.name}")
        # Every switch says which model the profile wants ("" for the settings' own): leaving a profile
        # with a model of its own goes back to the settings' model.
        self.modelWanted.emit(profile.model or "")
        self.profileChanged.emit(profile_id)

    def open_profiles(self) -> ProfileDialog:
        dialog = ProfileDialog(self.memory.profiles, self.memory.delete_profile, self.operations, self.parent_widget)
        dialog.changed.connect(self._on_profiles_edited)
        dialog.open()
        self.profile_dialog = dialog
        return dialog

    def _on_profiles_edited(self) -> None:
        self.picker.refresh()
        self.profileChanged.emit(self.memory.profiles.active().id)

    def open_memory(self) -> MemoryDialog:
        dialog = MemoryDialog(self.memory, self.operations, self.parent_widget)
        dialog.pausedChanged.connect(self._on_paused)
        dialog.open()
        self.memory_dialog = dialog
        return dialog

    def _on_paused(self, paused: bool) -> None:
        settings = self.settings().model_copy(deep=True)
        settings.memory.enabled = not paused
        self.apply_settings(settings)
        self.notice.emit("Memory paused: nothing is recalled or saved." if paused else "Memory is on.")

    def forget_conversation(self, conversation_id: int) -> QMessageBox:
        """Asks first; then the conversation and every memory drawn from it are deleted."""
        title = self.store.get(conversation_id).title
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Forget conversation",
            f"Delete “{title}” and everything Hearth remembered from it? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self.parent_widget,
        )
        box.setObjectName("forgetDialog")

        def answered(button: int) -> None:
            if button != QMessageBox.StandardButton.Yes:
                return

            def forget() -> int:
                count = self.memory.forget_conversation(conversation_id)
                self.store.delete(conversation_id)
                return count

            def done(count: int) -> None:
                self.forgotten.emit(conversation_id)
                self.notice.emit(f"Forgot the conversation and {count} memories from it.")

            op = StoreOp(
                forget,
                OpChanges(conversations=True, memory=True, conversation_id=conversation_id, deleted=True),
                "forget the conversation",
                on_success=done,
            )
            self.before_removing(conversation_id, lambda: self.operations.run(op))

        box.finished.connect(answered)
        box.open()
        return box

    def _forget_digest(self, conversation_id: int) -> None:
        if self.memory.store.digest(conversation_id) is not None:
            self.operations.run(
                StoreOp(
                    lambda: self.memory.store.forget_digest(conversation_id),
                    OpChanges(memory=True),
                    "forget what Hearth noted about the conversation",
                )
            )

    def _on_memories_saved(self, conversation_id: int, changes: list[tuple[str, str]], notice: str | None) -> None:
        if notice:
            self.notice.emit(notice)
        # The open conversation shows it under the reply (stored with it: see replyUpdated); another
        # conversation's learning is said in the status bar.
        shown = getattr(self.parent_widget, "conversation_id", None) == conversation_id
        if changes and not shown:
            self.notice.emit("Remembered: " + "; ".join(text for _, text in changes))
        self.operations.notify(OpChanges(memory=True))  # the memory window follows (and its problem line)
