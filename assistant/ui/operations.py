"""Changes to stored data that the window asks for, made off the UI thread.

Modelled on anki's ``CollectionOp`` and ``OpChanges``: a view asks ``operations.run(StoreOp(...))``;
``perform`` runs on the one store-writer thread, in the order asked, so each row the window changes
has one writer; its result comes back on the UI thread to ``on_success``; then ``changed`` tells
every view which kinds of data changed, and each view refreshes what it shows of them (the view
that asked is named as the initiator, so it may skip what it already shows). A failure shows one
plain message and changes nothing: each store write is one transaction.

Writes made elsewhere (the chat worker's messages, memory learned after a reply) are announced
with ``notify`` so the same views follow them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from assistant.ui.jobs import JobRunner

T = TypeVar("T")


@dataclass(frozen=True)
class OpChanges:
    """Which kinds of stored data an operation changed."""

    conversations: bool = False  # the list: created, renamed, deleted, moved to another profile
    messages: bool = False  # a conversation's messages or the versions chosen
    options: bool = False  # a conversation's options or system prompt
    attachments: bool = False  # files attached to a conversation
    memory: bool = False  # memories and conversation digests
    profiles: bool = False  # profiles and the active one
    conversation_id: int | None = None  # the one conversation concerned, when there is one
    deleted: bool = False  # that conversation is gone

    def about(self, conversation_id: int | None) -> bool:
        """Whether this change concerns ``conversation_id`` (a change to no conversation in particular does not)."""
        return conversation_id is not None and self.conversation_id == conversation_id


@dataclass
class StoreOp(Generic[T]):
    """One change to stored data: what to do (off the UI thread), and what it changes."""

    perform: Callable[[], T]
    changes: OpChanges
    what: str  # for the message if it fails: "rename the conversation"
    on_success: Callable[[T], None] | None = None
    # Instead of the message box, for a dialog that shows the problem beside what the user typed.
    on_failure: Callable[[str, str], None] | None = None
    parent: QWidget | None = None  # the window the message box belongs to; the main window if None
    initiator: object | None = None
    typed: str = ""  # what the user typed for it, given back in the message if it fails (so it is not lost)


class Operations(QObject):
    """The window's one way to change stored data, and the hub every view listens to."""

    changed = Signal(object, object)  # OpChanges, initiator (or None)
    failed = Signal(str, str, object)  # message, hint, the parent widget for the message box (or None)
    idle = Signal()  # every operation asked for has finished

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs = JobRunner(self, "hearth-store-writer")
        self._jobs.idle.connect(self._on_idle)
        self._after: list[Callable[[], object]] = []

    def run(self, op: StoreOp[Any]) -> None:
        def done(result: Any) -> None:
            if op.on_success is not None:
                op.on_success(result)
            self.changed.emit(op.changes, op.initiator)

        def failed(message: str, hint: str) -> None:
            if op.on_failure is not None:
                op.on_failure(message, hint)
            else:
                hint = hint or "Nothing was changed."
                if op.typed:
                    hint += f"\n\nWhat you typed: {op.typed}"
                self.failed.emit(f"Could not {op.what}. {message}", hint, op.parent)

        self._jobs.submit(op.perform, done, failed)

    def notify(self, changes: OpChanges, initiator: object | None = None) -> None:
        """Tell the views about a change made elsewhere (the chat worker's writes)."""
        self.changed.emit(changes, initiator)

    @property
    def pending(self) -> int:
        return self._jobs.pending

    def on_writer_thread(self) -> bool:
        return self._jobs.on_thread()

    def after_writes(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once the writes asked for so far are done: at once if none is pending.
        A request to the chat worker goes this way, so the worker reads what the window wrote."""
        if self._jobs.pending == 0:
            callback()
        else:
            self._after.append(callback)

    def _on_idle(self) -> None:
        waiting, self._after = self._after, []
        for callback in waiting:
            callback()
        if self._jobs.pending == 0:
            self.idle.emit()

    def stop(self) -> None:
        """Finish the writes asked for, then end the writer thread (at shutdown, before the stores close)."""
        self._jobs.stop()
