"""The window's chat: sending, editing, regenerating and stopping replies, and what the worker
reports back about them (text, stages, tools, notices, errors) shown in the window.

A part of MainWindow, kept apart for length: it works on the window's widgets and models, which
MainWindow builds (``centre``, ``messages``, ``worker``, the status bar).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from assistant.core.messages import GenerationStats, MessageStatus
from assistant.core.store import StoredMessage
from assistant.reasoning.reply import TurnStyle
from assistant.ui.approval import ask_approval
from assistant.ui.operations import OpChanges, StoreOp

if TYPE_CHECKING:
    from assistant.ui.new_conversations import NewConversations
    from assistant.ui.operations import Operations


class ChatActions(QMainWindow):
    """Sending and the worker's replies; MainWindow's base, so the window keeps one interface."""

    # State changes, emitted on the UI thread (for the app's own wiring and for tests).
    modelStateChanged = Signal(str)
    busyChanged = Signal(bool)
    replyShown = Signal(int)  # message id whose text was updated
    errorShown = Signal(str)

    busy: bool
    _requests_out: int
    editing_message_id: int | None
    _pending_text: str
    conversation_id: int | None
    model_state: str
    last_error: QMessageBox | None
    last_approval: QMessageBox | None
    operations: Operations
    new_conversations: NewConversations
    _turns: dict[int, int]  # conversation id: requests sent to the worker and not done
    _after_turn: dict[int, list[Callable[[], None]]]

    # ----- chatting -----------------------------------------------------------------------------

    def send(self, text: str) -> None:
        if not text.strip() or self.busy:
            return
        if self.conversation_id is None or self.new_conversations.pending:
            # Sent once the new conversation exists (made off the UI thread), into it.
            self.create_conversation(then=lambda _: self.send(text))
            return
        conversation_id = self.conversation_id
        self.panel.flush()
        style, editing = self._turn_style(), self.editing_message_id
        if editing is not None:
            self.messages.remove_from(editing)
            self.cancel_edit()

        def request() -> None:
            self.worker.styleRequested.emit(style)
            if editing is not None:
                self.worker.editRequested.emit(conversation_id, editing, text)
            else:
                self.worker.sendRequested.emit(conversation_id, text)

        # The worker reads the conversation's settings the panel has just asked to be written.
        self.operations.after_writes(request)
        # The input is cleared once the worker has committed the message: a message refused
        # (too long for the model, no model loaded) stays where the user typed it.
        self._pending_text = text
        self._request_sent()

    def _turn_style(self) -> TurnStyle:
        reasoning = self.settings.reasoning
        return self.centre.turn_style(reasoning.refine_rounds, reasoning.votes)

    def regenerate(self) -> None:
        if self.busy or self.conversation_id is None:
            return
        messages = self.messages.messages()
        if messages and messages[-1].role == "assistant":
            self.messages.remove_from(messages[-1].id)
            style, conversation_id = self._turn_style(), self.conversation_id
            self.operations.after_writes(
                lambda: (self.worker.styleRequested.emit(style), self.worker.regenerateRequested.emit(conversation_id))
            )
            self._request_sent()

    def switch_version(self, message_id: int, step: int) -> None:
        """‹ ›: show another version of a message, and the messages that follow that version."""
        if self.busy or self.conversation_id is None:
            return
        conversation_id = self.conversation_id
        store = self.store_for(conversation_id)
        other = store.version_beside(message_id, step)
        if other is None:
            return
        self.cancel_edit()

        def chosen(_: object) -> None:
            if self.conversation_id == conversation_id:
                self.messages.set_messages(conversation_id, store.messages(conversation_id))
                self.request_preview()

        self.operations.run(
            StoreOp(
                lambda: store.choose_version(other),
                OpChanges(messages=True, conversation_id=conversation_id),
                "show that version",
                on_success=chosen,
                initiator=self,
            )
        )

    def continue_reply(self) -> None:
        if not self.busy and self.conversation_id is not None:
            conversation_id = self.conversation_id
            self.operations.after_writes(lambda: self.worker.continueRequested.emit(conversation_id))
            self._request_sent()

    def start_edit(self, message_id: int) -> None:
        if self.busy:
            return
        assert self.conversation_id is not None
        message = self.store_for(self.conversation_id).message(message_id)
        self.editing_message_id = message_id
        self.input.setPlainText(message.content)
        self.edit_banner.setText(
            "Editing an earlier message: Enter sends it as a new version (‹ › on it switches back), Esc cancels."
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
        if self.conversation_id is not None:
            self._turns[self.conversation_id] = self._turns.get(self.conversation_id, 0) + 1
        self.speed_label.clear()  # the numbers shown belong to the reply being replaced
        self._on_busy(True)

    def _on_reply_done(self, conversation_id: int, finished: bool) -> None:
        self._requests_out = max(0, self._requests_out - 1)
        self._turns[conversation_id] = self._turns.get(conversation_id, 1) - 1
        if self._turns[conversation_id] <= 0:
            del self._turns[conversation_id]
            for callback in self._after_turn.pop(conversation_id, []):
                callback()  # a change that waited for this conversation's reply to stop (a delete)
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

    def _on_reply_updated(self, conversation_id: int, reply: StoredMessage) -> None:
        if conversation_id == self.conversation_id:
            self.messages.update_if_shown(reply)

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

    def show_error(self, message: str, hint: str = "", parent: QWidget | None = None) -> QMessageBox:
        """One non-blocking dialog per error; the window stays usable behind it. ``parent`` puts it
        over the dialog the error belongs to."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Hearth", message, QMessageBox.StandardButton.Ok, parent or self)
        if hint:
            box.setInformativeText(hint)
        box.setObjectName("errorDialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.last_error = box
        self.errorShown.emit(message)
        return box
