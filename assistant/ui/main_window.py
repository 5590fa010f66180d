"""The main window: conversations on the left, the chat in the centre, its settings on the right.

The window never waits on the model: it asks the worker through signals and updates its models
when the worker's signals come back. Reads of the conversation store (list, open) happen here; they
take milliseconds. Every change to stored data goes through ``operations`` (off the UI thread), and
its ``changed`` broadcast is what the views refresh from.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QMessageBox,
    QSplitter,
    QWidget,
)

from assistant.config import Settings, SettingsStore
from assistant.core.errors import HearthError
from assistant.core.store import INCOGNITO_FIRST_ID, ConversationStore
from assistant.memory.long_term import LongTermMemory
from assistant.ui.attach_controls import AttachmentControls
from assistant.ui.chat_actions import ChatActions
from assistant.ui.chat_pane import ChatPane
from assistant.ui.conversation_list import ConversationSidebar
from assistant.ui.conversation_settings import ConversationPanel
from assistant.ui.library_worker import LibraryWorker
from assistant.ui.main_toolbar import MainToolbar
from assistant.ui.memory_controls import MemoryControls
from assistant.ui.models import MessageListModel
from assistant.ui.new_conversations import NewConversations
from assistant.ui.operations import OpChanges, Operations, StoreOp
from assistant.ui.resources import app_icon
from assistant.ui.settings_controller import SettingsController
from assistant.ui.window_state import WindowState, default_size
from assistant.ui.worker import ChatWorker


class MainWindow(ChatActions):
    shown = Signal()
    settingsChanged = Signal(object)

    def __init__(
        self,
        store: ConversationStore,
        worker: ChatWorker,
        settings: SettingsStore | Settings,
        library_worker: LibraryWorker | None = None,
        memory: LongTermMemory | None = None,
    ) -> None:
        super().__init__()
        self.memory = memory
        self.memory_controls: MemoryControls | None = None
        self.library_worker = library_worker
        self.store = store
        self.worker = worker
        # The one way the window changes stored data, and the broadcast every view refreshes from.
        self.operations = Operations(self)
        self.operations.failed.connect(self._on_operation_failed)
        self.operations.changed.connect(self._on_changes)
        self.new_conversations = NewConversations(
            self.operations,
            store,
            lambda: worker.incognito_store,
            self._new_conversation_options,
            self._on_conversation_made,
            self.show_error,
        )
        self._turns: dict[int, int] = {}
        self._after_turn: dict[int, list[Callable[[], None]]] = {}
        # The one source of the settings: every part of the window reads it, none keeps a copy.
        self.settings_store = settings if isinstance(settings, SettingsStore) else SettingsStore(settings)
        self.settings_controller = SettingsController(self.settings_store, worker, self)
        self.settings_controller.changed.connect(self._on_settings_changed)
        self.busy = False
        # Requests sent to the worker whose replyDone has not come back: the one source of `busy`.
        self._requests_out = 0
        self.model_state = "loading"
        self.editing_message_id: int | None = None
        self._pending_text = ""
        self.last_error: QMessageBox | None = None
        self.last_approval: QMessageBox | None = None
        self.library_dialog: Any = None  # built on first use (its module is not needed at start-up)
        self.conversation_id: int | None = None
        self._shown_once = False
        self.setWindowTitle("Hearth")
        self.setWindowIcon(app_icon())
        self.messages = MessageListModel()
        self._build()
        if memory is not None:
            controls = MemoryControls(
                self,
                memory,
                store,
                self.sidebar,
                worker,
                self.toolbar,
                settings=lambda: self.settings,
                apply_settings=self.apply_settings,
                operations=self.operations,
            )
            controls.profileChanged.connect(self._on_profile_changed)
            controls.modelWanted.connect(self.settings_controller.use_profile_model)
            controls.notice.connect(self.show_notice)
            controls.forgotten.connect(self._on_conversation_forgotten)
            controls.before_removing = self.after_reply_in
            self.memory_controls = controls
        self._wire_worker()
        self.settings_controller.failed.connect(self.show_error)
        self.attachment_controls = AttachmentControls(
            self, self.centre, lambda: self.settings.knowledge.max_file_mb * 1024 * 1024
        )
        if library_worker is not None:
            library_worker.collectionsChanged.connect(self._on_collections_changed)
            library_worker.failed.connect(self.show_error)
        self._shortcuts()
        self.ui_state = WindowState()
        self._restore_panels()
        self.refresh_conversations()

    # ----- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        toolbar = MainToolbar(self)
        self.addToolBar(toolbar)
        self.toolbar = toolbar
        self.new_action, self.incognito_action = toolbar.new_action, toolbar.incognito_action
        self.model_picker, self.model_state_label = toolbar.model_picker, toolbar.model_state_label
        self.panel_action, self.library_action = toolbar.panel_action, toolbar.library_action
        self.settings_action = toolbar.settings_action
        self.new_action.triggered.connect(self.new_conversation)
        self.incognito_action.triggered.connect(self.new_incognito_conversation)
        self.model_picker.activated.connect(self._on_model_picked)
        self.library_action.triggered.connect(self.open_library)
        self.settings_action.triggered.connect(self.open_settings)

        # left: conversations
        self.sidebar = ConversationSidebar(self.store, self.operations)
        self.sidebar.conversationActivated.connect(self.open_conversation)
        self.sidebar.newRequested.connect(self.new_conversation)
        self.sidebar.conversationDeleted.connect(self._on_conversation_deleted)
        self.sidebar.before_removing = self.after_reply_in
        self.search_box = self.sidebar.search_box
        self.conversation_list = self.sidebar.list_view
        self.conversations = self.sidebar.model

        # centre: chat, composer, status
        self.centre = ChatPane(self.messages)
        self.centre.sendRequested.connect(self.send)
        self.centre.stopRequested.connect(self.stop)
        self.chat_view = self.centre.chat_view
        self.chat_view.editRequested.connect(self.start_edit)
        self.chat_view.regenerateRequested.connect(self.regenerate)
        self.chat_view.continueRequested.connect(self.continue_reply)
        self.chat_view.sourceRequested.connect(self.show_source)
        self.chat_view.versionRequested.connect(self.switch_version)
        self.edit_banner = self.centre.edit_banner
        self.input = self.centre.input
        self.input.textChanged.connect(lambda: self._preview_timer.start())
        self.send_button, self.stop_button = self.centre.send_button, self.centre.stop_button
        self.speed_label, self.gauge, self.gauge_label = (
            self.centre.speed_label,
            self.centre.gauge,
            self.centre.gauge_label,
        )
        self._preview_timer: QTimer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(500)
        self._preview_timer.timeout.connect(self.request_preview)

        # right: per-conversation settings
        self.panel = ConversationPanel(self.settings_store)
        self.panel.changed.connect(self._on_panel_changed)
        self.panel_action.toggled.connect(self.panel.setVisible)
        self.sidebar_action = toolbar.sidebar_action
        self.sidebar_action.toggled.connect(self.sidebar.setVisible)

        self.panel.setMinimumWidth(180)
        self.splitter = QSplitter()
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.centre)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([240, 640, 240])
        self.setCentralWidget(self.splitter)
        self.statusBar()  # made now: one made by the first notice would shift the window's content up
        self.setTabOrder(self.search_box, self.conversation_list)
        self.setTabOrder(self.conversation_list, self.input)
        self.setTabOrder(self.input, self.send_button)
        self.setTabOrder(self.send_button, self.stop_button)
        self.resize(default_size())

    def _shortcuts(self) -> None:
        bindings: list[tuple[str | QKeySequence, Callable[[], Any]]] = [
            ("Ctrl+N", self.new_conversation),
            ("Ctrl+F", self.search_box.setFocus),
            ("Ctrl+L", self.input.setFocus),
            ("Ctrl+,", self.open_settings),
            ("Esc", self._escape),
        ]
        for keys, slot in bindings:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

    def _wire_worker(self) -> None:
        w = self.worker
        w.loadStateChanged.connect(self._on_load_state)
        w.replyDone.connect(self._on_reply_done)
        w.userMessageSaved.connect(self._on_user_message_saved)
        w.replyStarted.connect(self._on_reply_started)
        w.replyTextChanged.connect(self._on_reply_text)
        w.turnFinished.connect(self._on_turn_finished)
        w.replyUpdated.connect(self._on_reply_updated)
        w.historyFolded.connect(self._on_history_folded)
        w.contextPreviewed.connect(self._on_context_previewed)
        w.toolCalled.connect(self._on_tool_called)
        w.modelsListed.connect(self._on_models_listed)
        w.approvalRequested.connect(self.ask_approval)
        w.notice.connect(self.show_notice)
        w.stageChanged.connect(self._on_stage_changed)
        w.failed.connect(self.show_error)

    # ----- conversations ------------------------------------------------------------------------

    def refresh_conversations(self) -> None:
        self.sidebar.refresh()

    def open_conversation(self, conversation_id: int) -> None:
        self.panel.flush()
        store = self.store_for(conversation_id)
        try:
            conversation = store.get(conversation_id)
            messages = store.messages(conversation_id)
        except HearthError as exc:
            self.show_error(exc.message, exc.hint)
            return
        self.conversation_id = conversation_id
        if conversation_id < INCOGNITO_FIRST_ID:  # now, not at close: a crash reopens it too
            self.ui_state.remember("last_conversation", conversation_id)
        self.cancel_edit()
        self.messages.set_messages(conversation_id, messages)
        self.panel.show_conversation(conversation)
        self.sidebar.select(conversation_id)
        self.gauge.set_breakdown({})
        self.speed_label.clear()
        incognito = conversation_id >= INCOGNITO_FIRST_ID
        self.centre.show_conversation(conversation_id, incognito)
        self.attachment_controls.show_conversation(conversation_id)
        self.setWindowTitle("Hearth — incognito: nothing is saved" if incognito else "Hearth")
        if incognito:
            self.show_notice("Incognito: this conversation and anything said in it are gone when Hearth closes.")
        self.request_preview()

    def store_for(self, conversation_id: int) -> ConversationStore:
        """Incognito conversations live in the worker's in-memory store, the rest on disk."""
        return self.worker.incognito_store if conversation_id >= INCOGNITO_FIRST_ID else self.store

    def new_incognito_conversation(self) -> None:
        self.new_conversations.create_incognito()

    def _on_profile_changed(self, profile_id: int) -> None:
        self.refresh_conversations()
        current = self.conversation_id
        if current is not None and current < INCOGNITO_FIRST_ID and self.sidebar.model.row_of(current) < 0:
            self._on_conversation_deleted(current)  # not in this profile: close it

    def new_conversation(self) -> None:
        self.create_conversation()

    def create_conversation(self, then: Callable[[int], None] | None = None) -> None:
        """Start a new conversation (off the UI thread) and open it; ``then`` is called with its id."""
        self.new_conversations.create(then)

    def _on_conversation_made(self, conversation_id: int) -> None:
        if conversation_id < INCOGNITO_FIRST_ID:
            self.search_box.clear()
            self.refresh_conversations()
        self.open_conversation(conversation_id)
        self.input.setFocus()

    def after_reply_in(self, conversation_id: int, callback: Callable[[], None]) -> None:
        """Run ``callback`` once no reply is being written into ``conversation_id``: at once, or after
        stopping it. The chat worker is the one writer of a turn's messages; deleting them under it
        would fail its next write."""
        if not self._turns.get(conversation_id):
            callback()
            return
        self._after_turn.setdefault(conversation_id, []).append(callback)
        self.worker.cancel()

    def _new_conversation_options(self) -> dict[str, Any] | None:
        """A new conversation's options: its profile's, with the collections it starts with ticked."""
        options = self.memory_controls.new_conversation_options() if self.memory_controls is not None else {}
        collections = self._new_collections(options or {})
        if collections:
            options = {**(options or {}), "collections": collections}
        return options or None

    def _new_collections(self, options: dict[str, Any]) -> list[str]:
        """A new conversation's collections: see ``default_collections``. The conversation used last
        is the one open now, else the newest of the list."""
        from assistant.chat.collection_refs import collection_refs, default_collections

        last_id = self.conversation_id
        if last_id is None or last_id >= INCOGNITO_FIRST_ID:
            rows = (self.sidebar.model.conversation_at(row) for row in range(self.sidebar.model.rowCount()))
            newest = next((c for c in rows if c is not None), None)  # date headers have none
            last_id = newest.id if newest is not None else None
        last: list[str] = []
        if last_id is not None:
            with contextlib.suppress(HearthError):  # deleted meanwhile
                last = collection_refs(self.store_for(last_id).get(last_id).options)
        return default_collections(collection_refs(options), last, self.panel.collection_ids())

    def rename_conversation(self, conversation_id: int) -> None:
        self.sidebar.rename(conversation_id)

    def delete_conversation(self, conversation_id: int) -> QMessageBox:
        return self.sidebar.delete(conversation_id)

    def _on_conversation_deleted(self, conversation_id: int) -> None:
        if self.conversation_id == conversation_id:
            self.conversation_id = None
            self.sidebar.select(None)
            self.messages.set_messages(None, [])
            self.panel.show_conversation(None)
            self.centre.show_conversation(None, False)
            self.attachment_controls.show_conversation(None)
            self.gauge.set_breakdown({})  # not the deleted conversation's numbers under an empty window
            self.speed_label.clear()

    def _on_conversation_forgotten(self, conversation_id: int) -> None:
        self._on_conversation_deleted(conversation_id)
        self.refresh_conversations()

    def _on_panel_changed(self, system_prompt: str | None, options: dict[str, Any]) -> None:
        if self.conversation_id is None:
            return
        conversation_id = self.conversation_id
        store = self.store_for(conversation_id)

        def write() -> None:
            keep = {k: v for k, v in store.get(conversation_id).options.items() if k == "profile_id"}
            store.set_system_prompt(conversation_id, system_prompt)
            store.set_options(conversation_id, {**keep, **options})

        self.operations.run(
            StoreOp(
                write,
                OpChanges(options=True, conversation_id=conversation_id),
                "save the conversation's settings",
                on_success=lambda _: self.request_preview(),
                initiator=self.panel,
            )
        )

    def _on_changes(self, changes: OpChanges, initiator: object) -> None:
        """Every view's refresh after a change to stored data; this one keeps the open conversation in step."""
        current = self.conversation_id
        if not changes.about(current) or initiator is self:
            return
        if changes.deleted:
            self._on_conversation_deleted(changes.conversation_id)  # type: ignore[arg-type]
        elif changes.messages and not self.busy:
            self.messages.set_messages(current, self.store_for(current).messages(current))  # type: ignore[arg-type]
        elif changes.options and initiator is not self.panel:
            self.panel.show_conversation(self.store_for(current).get(current))  # type: ignore[arg-type]

    def _on_operation_failed(self, message: str, hint: str, parent: QWidget | None) -> None:
        self.show_error(message, hint, parent)

    # ----- the document library ----------------------------------------------------------------

    def _on_collections_changed(self, collections: list[Any]) -> None:
        self.panel.set_collections(collections)

    def open_library(self) -> None:
        if self.library_worker is None:
            return
        from assistant.ui.library_dialog import LibraryDialog

        # One dialog for the window's lifetime: it follows the worker's signals, so a new one per
        # opening would leave every earlier one alive and connected.
        if self.library_dialog is None:
            self.library_dialog = LibraryDialog(self.library_worker, self)
            self.library_dialog.setObjectName("libraryDialog")
        self.library_dialog.open()
        self.library_dialog.raise_()

    def show_source(self, source: dict[str, Any]) -> None:
        from assistant.ui.sources import SourceDialog

        dialog = SourceDialog(source, self)
        dialog.setObjectName("sourceDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # ----- models and settings: through the one SettingsController ------------------------------

    @property
    def settings(self) -> Settings:
        return self.settings_controller.settings

    def populate_models(self) -> None:
        self.settings_controller.populate_models()

    def _on_models_listed(self, entries: list[Any], current: Path | None) -> None:
        self.toolbar.show_models(entries, current)

    def _on_model_picked(self, index: int) -> None:
        self.use_model(self.model_picker.itemData(index))

    def use_model(self, path: str | Path | None) -> None:
        self.settings_controller.use_model(path)

    def open_settings(self) -> None:
        self.settings_controller.open_dialog(self)

    def apply_settings(self, settings: Settings | None) -> None:
        self.settings_controller.apply(settings)

    def _on_settings_changed(self, settings: Settings) -> None:
        # The panel's values left at the old defaults now show the new ones (an edit still pending
        # is saved first, against the defaults it was made beside).
        self.panel.flush()
        if self.conversation_id is not None:
            with contextlib.suppress(HearthError):
                self.panel.show_conversation(self.store_for(self.conversation_id).get(self.conversation_id))
            self.request_preview()  # the gauge: instructions and the room kept for the reply may have changed
        self.settingsChanged.emit(settings)

    # ----- window state -------------------------------------------------------------------------

    def _restore_panels(self) -> None:
        """The side panels as the user left them: the conversation list open, the chat's
        settings closed at first so the conversation gets the width."""
        self.sidebar_action.setChecked(self.ui_state.flag("sidebar_open", True))
        self.panel_action.setChecked(self.ui_state.flag("panel_open", False))
        self.sidebar.setVisible(self.sidebar_action.isChecked())
        self.panel.setVisible(self.panel_action.isChecked())

    def restore_state(self) -> None:
        self.ui_state.restore(self, self.splitter)
        self._restore_panels()  # the splitter's state may carry an older visibility
        # The conversation a reply was interrupted in (by a crash), else the one open last.
        recovered = self.store.recovered_conversations
        last = recovered[-1] if recovered else self.ui_state.value("last_conversation")
        if last is not None:
            with contextlib.suppress(ValueError, HearthError):
                self.open_conversation(int(str(last)))

    def bring_forward(self) -> None:
        """Another start of Hearth on this data directory asked for this window."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def save_state(self) -> None:
        self.panel.flush()
        self.ui_state.save(
            self,
            self.splitter,
            sidebar_open=self.sidebar_action.isChecked(),
            panel_open=self.panel_action.isChecked(),
            last_conversation=self.conversation_id,
        )

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.shown.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.worker.cancel()
        super().closeEvent(event)
