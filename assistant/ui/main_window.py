"""The main window: conversations on the left, the chat in the centre, its settings on the right.

The window never waits on the model: it asks the worker through signals and updates its models
when the worker's signals come back. Reads and small writes of the conversation store (list,
rename, delete, open) happen here; they take milliseconds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QSplitter,
)

from assistant.config import Settings, data_dir
from assistant.core.errors import HearthError
from assistant.core.messages import GenerationStats, MessageStatus
from assistant.core.store import INCOGNITO_FIRST_ID, ConversationStore, StoredMessage
from assistant.memory.long_term import LongTermMemory
from assistant.reasoning.reply import TurnStyle
from assistant.ui.approval import ask_approval
from assistant.ui.chat_pane import ChatPane
from assistant.ui.library_worker import LibraryWorker
from assistant.ui.main_toolbar import MainToolbar
from assistant.ui.memory_controls import MemoryControls
from assistant.ui.models import MessageListModel
from assistant.ui.resources import app_icon
from assistant.ui.settings_controller import SettingsController
from assistant.ui.side_panel import ConversationPanel
from assistant.ui.sidebar import ConversationSidebar
from assistant.ui.worker import ChatWorker


class MainWindow(QMainWindow):
    shown = Signal()
    settingsChanged = Signal(object)
    # State changes, emitted on the UI thread (for the app's own wiring and for tests).
    modelStateChanged = Signal(str)
    busyChanged = Signal(bool)
    replyShown = Signal(int)  # message id whose text was updated
    errorShown = Signal(str)

    def __init__(
        self,
        store: ConversationStore,
        worker: ChatWorker,
        settings: Settings,
        library_worker: LibraryWorker | None = None,
        memory: LongTermMemory | None = None,
    ) -> None:
        super().__init__()
        self.memory = memory
        self.memory_controls: MemoryControls | None = None
        self.library_worker = library_worker
        self.store = store
        self.worker = worker
        self.settings_controller = SettingsController(settings, worker, self)
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
            )
            controls.profileChanged.connect(self._on_profile_changed)
            controls.modelWanted.connect(self.settings_controller.use_profile_model)
            controls.notice.connect(self.show_notice)
            controls.forgotten.connect(self._on_conversation_forgotten)
            self.memory_controls = controls
        self._wire_worker()
        if library_worker is not None:
            library_worker.collectionsChanged.connect(self._on_collections_changed)
            library_worker.failed.connect(self.show_error)
        self._shortcuts()
        self.ui_state = QSettings(str(data_dir() / "ui.ini"), QSettings.Format.IniFormat)
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
        self.sidebar = ConversationSidebar(self.store)
        self.sidebar.conversationActivated.connect(self.open_conversation)
        self.sidebar.newRequested.connect(self.new_conversation)
        self.sidebar.conversationDeleted.connect(self._on_conversation_deleted)
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
        self.edit_banner = self.centre.edit_banner
        self.input = self.centre.input
        self.input.textChanged.connect(lambda: self._preview_timer.start())
        self.send_button, self.stop_button = self.centre.send_button, self.centre.stop_button
        self.speed_label, self.gauge, self.gauge_label = (
            self.centre.speed_label,
            self.centre.gauge,
            self.centre.gauge_label,
        )
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(500)
        self._preview_timer.timeout.connect(self.request_preview)

        # right: per-conversation settings
        self.panel = ConversationPanel(self.settings)
        self.panel.changed.connect(self._on_panel_changed)
        self.panel_action.toggled.connect(self.panel.setVisible)

        self.panel.setMinimumWidth(200)
        self.splitter = QSplitter()
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(self.centre)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([240, 640, 240])
        self.setCentralWidget(self.splitter)
        self.setTabOrder(self.search_box, self.conversation_list)
        self.setTabOrder(self.conversation_list, self.input)
        self.setTabOrder(self.input, self.send_button)
        self.setTabOrder(self.send_button, self.stop_button)
        self.resize(1100, 720)

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
        self.cancel_edit()
        self.messages.set_messages(conversation_id, messages)
        self.panel.show_conversation(conversation)
        self.sidebar.select(conversation_id)
        self.gauge.set_breakdown({})
        self.speed_label.clear()
        incognito = conversation_id >= INCOGNITO_FIRST_ID
        self.centre.show_conversation(conversation_id, incognito)
        self.setWindowTitle("Hearth — incognito: nothing is saved" if incognito else "Hearth")
        if incognito:
            self.show_notice("Incognito: this conversation and anything said in it are gone when Hearth closes.")
        self.request_preview()

    def store_for(self, conversation_id: int) -> ConversationStore:
        """Incognito conversations live in the worker's in-memory store, the rest on disk."""
        return self.worker.incognito_store if conversation_id >= INCOGNITO_FIRST_ID else self.store

    def new_incognito_conversation(self) -> None:
        conversation = self.worker.incognito_store.create("Incognito")
        self.open_conversation(conversation.id)
        self.input.setFocus()

    def _on_profile_changed(self, profile_id: int) -> None:
        self.refresh_conversations()
        current = self.conversation_id
        if current is not None and current < INCOGNITO_FIRST_ID and self.sidebar.model.row_of(current) < 0:
            self._on_conversation_deleted(current)  # not in this profile: close it

    def new_conversation(self) -> None:
        conversation = self.store.create()
        if self.memory_controls is not None:
            self.store.set_options(conversation.id, self.memory_controls.new_conversation_options())
        self.search_box.clear()
        self.refresh_conversations()
        self.open_conversation(conversation.id)
        self.input.setFocus()

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

    def _on_conversation_forgotten(self, conversation_id: int) -> None:
        self._on_conversation_deleted(conversation_id)
        self.refresh_conversations()

    def _on_panel_changed(self, system_prompt: str | None, options: dict[str, Any]) -> None:
        if self.conversation_id is None:
            return
        store = self.store_for(self.conversation_id)
        keep = {k: v for k, v in store.get(self.conversation_id).options.items() if k == "profile_id"}
        store.set_system_prompt(self.conversation_id, system_prompt)
        store.set_options(self.conversation_id, {**keep, **options})
        self.request_preview()

    # ----- chatting -----------------------------------------------------------------------------

    def send(self, text: str) -> None:
        if not text.strip() or self.busy:
            return
        if self.conversation_id is None:
            self.new_conversation()
        assert self.conversation_id is not None
        self.panel.flush()
        if self.editing_message_id is not None:
            self.messages.remove_from(self.editing_message_id)
            self.worker.styleRequested.emit(self._turn_style())
            self.worker.editRequested.emit(self.conversation_id, self.editing_message_id, text)
            self.cancel_edit()
        else:
            self.worker.styleRequested.emit(self._turn_style())
            self.worker.sendRequested.emit(self.conversation_id, text)
        # The input is cleared once the worker has committed the message: a message refused
        # (too long for the model, no model loaded) stays where the user typed it.
        self._pending_text = text
        self._request_sent()

    def _turn_style(self) -> TurnStyle:
        reasoning = self.settings.reasoning
        return self.centre.style(reasoning.refine_rounds, reasoning.votes)

    def regenerate(self) -> None:
        if self.busy or self.conversation_id is None:
            return
        messages = self.messages.messages()
        if messages and messages[-1].role == "assistant":
            self.messages.remove_from(messages[-1].id)
            self.worker.styleRequested.emit(self._turn_style())
            self.worker.regenerateRequested.emit(self.conversation_id)
            self._request_sent()

    def continue_reply(self) -> None:
        if not self.busy and self.conversation_id is not None:
            self.worker.continueRequested.emit(self.conversation_id)
            self._request_sent()

    def start_edit(self, message_id: int) -> None:
        if self.busy:
            return
        assert self.conversation_id is not None
        message = self.store_for(self.conversation_id).message(message_id)
        self.editing_message_id = message_id
        self.input.setPlainText(message.content)
        self.edit_banner.setText(
            "Editing an earlier message: Enter sends it again (later replies are replaced), Esc cancels."
        )
        self.edit_banner.show()
        self.input.setFocus()

    def cancel_edit(self) -> None:
        self.editing_message_id = None
        self.edit_banner.hide()

    def stop(self) -> None:
        self.worker.cancel()

    def _escape(self) -> None:
        if self.busy:
            self.stop()
        elif self.editing_message_id is not None:
            self.cancel_edit()
            self.input.clear()

    def request_preview(self) -> None:
        if self.conversation_id is not None and not self.busy and self.model_state == "ready":
            self.worker.previewRequested.emit(self.conversation_id, self.input.toPlainText())

    # ----- worker signals -----------------------------------------------------------------------

    def _on_load_state(self, state: str, detail: str) -> None:
        self.model_state = state
        self.toolbar.show_model_state(state, detail)
        if state == "ready":
            self.request_preview()
        self.modelStateChanged.emit(state)

    def _request_sent(self) -> None:
        self._requests_out += 1
        self.speed_label.clear()  # the numbers shown belong to the reply being replaced
        self._on_busy(True)

    def _on_reply_done(self, conversation_id: int, finished: bool) -> None:
        self._requests_out = max(0, self._requests_out - 1)
        if not finished and conversation_id == self.conversation_id:
            # Show what the store really holds (a failed reply keeps its partial text there; a
            # regenerate that never began keeps the reply it would have replaced).
            self.messages.set_messages(conversation_id, self.store_for(conversation_id).messages(conversation_id))
        if self._requests_out == 0:
            self._on_busy(False)

    def _on_busy(self, busy: bool) -> None:
        changed = busy != self.busy
        self.busy = busy
        self.centre.set_busy(busy)
        if changed:
            self.busyChanged.emit(busy)

    def _on_user_message_saved(self, conversation_id: int, message: StoredMessage) -> None:
        if self.input.toPlainText() == self._pending_text:
            self.input.clear()
        if conversation_id == self.conversation_id:
            self.messages.append(message)
        self.refresh_conversations()

    def _on_reply_started(self, conversation_id: int, message: StoredMessage, breakdown: dict[str, int]) -> None:
        if conversation_id == self.conversation_id:
            self.messages.append(message)
            self.gauge.set_breakdown(breakdown)

    def _on_reply_text(self, conversation_id: int, message_id: int, text: str) -> None:
        if conversation_id == self.conversation_id:
            self.messages.set_content(message_id, text, MessageStatus.STREAMING)
            self.replyShown.emit(message_id)

    def _on_turn_finished(self, conversation_id: int, reply: StoredMessage, stats: GenerationStats) -> None:
        if self.statusBar().currentMessage().startswith("Working:"):
            self.statusBar().clearMessage()
        if conversation_id == self.conversation_id:
            self.messages.replace(reply)
            self.gauge.set_breakdown(stats.context)
        if stats.tokens_per_s and conversation_id == self.conversation_id:
            self.speed_label.setText(
                f"{stats.tokens_per_s:.1f} tokens/s · {stats.completion_tokens} tokens · "
                f"first token {1000 * (stats.ttft_s or 0):.0f} ms"
            )
        self.refresh_conversations()
        QTimer.singleShot(0, self.request_preview)

    def _on_tool_called(self, conversation_id: int, call: dict[str, Any]) -> None:
        state = "returned" if call.get("ok") else "failed"
        self.statusBar().showMessage(f"Tool {call.get('tool')} {state}: {str(call.get('result'))[:120]}", 8000)

    def ask_approval(self, tool_name: str, arguments: dict[str, Any]) -> QMessageBox:
        """The model wants a tool that needs approval: ask, without blocking the window."""
        self.last_approval = ask_approval(self, tool_name, arguments, self.worker.answer_approval)
        return self.last_approval

    def _on_stage_changed(self, conversation_id: int, name: str, finished: bool) -> None:
        if conversation_id == self.conversation_id and not finished:
            self.statusBar().showMessage(f"Working: {name}…", 60000)

    def show_notice(self, text: str) -> None:
        """Worth knowing, not worth a dialog: shown in the status bar for a while."""
        self.statusBar().showMessage(text, 15000)

    def _on_history_folded(self, conversation_id: int, folded: int) -> None:
        self.statusBar().showMessage(f"{folded} older messages were summarised to fit the context window", 8000)

    def _on_context_previewed(self, conversation_id: int, breakdown: dict[str, int]) -> None:
        if conversation_id == self.conversation_id and not self.busy:
            self.gauge.set_breakdown(breakdown)

    def show_error(self, message: str, hint: str = "") -> QMessageBox:
        """One non-blocking dialog per error; the window stays usable behind it."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Hearth", message, QMessageBox.StandardButton.Ok, self)
        if hint:
            box.setInformativeText(hint)
        box.setObjectName("errorDialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_error = box
        self.errorShown.emit(message)
        return box

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
        self.panel.defaults = settings
        self.settingsChanged.emit(settings)

    # ----- window state -------------------------------------------------------------------------

    def restore_state(self) -> None:
        geometry = self.ui_state.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        splitter = self.ui_state.value("splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        last = self.ui_state.value("last_conversation")
        if last is not None:
            with contextlib.suppress(ValueError, HearthError):
                self.open_conversation(int(str(last)))

    def save_state(self) -> None:
        self.panel.flush()
        self.ui_state.setValue("geometry", self.saveGeometry())
        self.ui_state.setValue("splitter", self.splitter.saveState())
        if self.conversation_id is not None:
            self.ui_state.setValue("last_conversation", self.conversation_id)
        self.ui_state.sync()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.shown.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.worker.cancel()
        super().closeEvent(event)
