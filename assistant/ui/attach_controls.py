"""Files attached to one conversation: the paperclip, drops on the chat, the chips, and the reader.

A file attached here is not added to any collection: it is read by a limited reader process
(parse_pool.py) on the attach worker's thread, cut into passages, and stored with the
conversation (core/attachment_store.py); each turn of that conversation then draws on it. A chip per
file shows what is attached, with a × to take it off again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from assistant.core.attachment_store import add_attachment, attachments, remove_attachment
from assistant.core.errors import HearthError
from assistant.core.units import counted
from assistant.ui.operations import OpChanges, StoreOp
from assistant.ui.threads import start_on_thread, stop_thread

if TYPE_CHECKING:
    from assistant.core.store import ConversationStore
    from assistant.knowledge.parse_pool import ParsePool
    from assistant.ui.chat_pane import ChatPane
    from assistant.ui.operations import Operations


class AttachHost(Protocol):
    """What attaching needs of the window (the main window provides it)."""

    conversation_id: int | None
    operations: Operations

    def create_conversation(self, then: Callable[[int], None] | None = None) -> None: ...
    def store_for(self, conversation_id: int) -> ConversationStore: ...
    def show_notice(self, text: str) -> None: ...
    def show_error(self, message: str, hint: str = "", parent: QWidget | None = None) -> object: ...
    def request_preview(self) -> None: ...


class AttachWorker(QObject):
    """Reads attached files on its own thread, one at a time, each in a limited reader process."""

    readRequested = Signal(int, str)  # conversation id, path
    read = Signal(int, str, object, object)  # conversation id, path, passages (dicts), warnings
    failed = Signal(int, str, str, str)  # conversation id, path, message, hint

    def __init__(self, max_bytes: Callable[[], int]) -> None:
        """``max_bytes``: read at each file, so a change in Settings applies to the next one."""
        super().__init__()
        self.max_bytes = max_bytes
        self._pool: ParsePool | None = None
        self.readRequested.connect(self._read)

    @Slot(int, str)
    def _read(self, conversation_id: int, path: str) -> None:
        from assistant.knowledge.attached_file import read_attachment
        from assistant.knowledge.parse_pool import ParsePool

        if self._pool is None:
            self._pool = ParsePool(size=1)
        try:
            passages, warnings = read_attachment(Path(path), self._pool, self.max_bytes())
        except HearthError as exc:
            self.failed.emit(conversation_id, path, exc.message, exc.hint)
            return
        self.read.emit(conversation_id, path, [p.to_dict() for p in passages], warnings)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


class AttachmentControls(QObject):
    """Wires the paperclip, drops and chips of the chat pane to the reader and the store."""

    attached = Signal(int, str)  # conversation id, file name (for tests and notices)

    def __init__(self, window: AttachHost, pane: ChatPane, max_bytes: Callable[[], int]) -> None:
        super().__init__(pane)
        self.window = window
        self.pane = pane
        self.max_bytes = max_bytes
        self.worker: AttachWorker | None = None
        self.worker_thread: QThread | None = None
        self._reading: dict[int, list[str]] = {}
        pane.attach_button.clicked.connect(self.choose_files)
        pane.filesDropped.connect(self.attach)
        pane.attachment_bar.removeRequested.connect(self.remove)

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.pane.window(), "Attach files to this conversation")
        if files:
            self.attach([Path(f) for f in files])

    def attach(self, paths: list[Any]) -> None:
        conversation_id = self.window.conversation_id
        if conversation_id is None:
            self.window.create_conversation(then=lambda _: self.attach(paths))  # made off the UI thread
            return
        worker = self._worker()
        for path in paths:
            self._reading.setdefault(conversation_id, []).append(str(path))
            worker.readRequested.emit(conversation_id, str(path))
        self.show_conversation(conversation_id)

    def _worker(self) -> AttachWorker:
        if self.worker is None:
            self.worker = AttachWorker(self.max_bytes)
            self.worker.read.connect(self._on_read)
            self.worker.failed.connect(self._on_failed)
            self.worker_thread = start_on_thread(self.worker, "hearth-attach-worker")
        return self.worker

    def _done_reading(self, conversation_id: int, path: str) -> None:
        reading = self._reading.get(conversation_id, [])
        if path in reading:
            reading.remove(path)

    def _on_read(self, conversation_id: int, path: str, passages: list[dict[str, Any]], warnings: list[str]) -> None:
        self._done_reading(conversation_id, path)
        name = Path(path).name
        store = self.window.store_for(conversation_id)

        def added(_: object) -> None:
            note = f" ({'; '.join(warnings)})" if warnings else ""
            self.window.show_notice(
                f"Attached {name}: {counted(len(passages), 'passage')}, used in this conversation only{note}."
            )
            self.attached.emit(conversation_id, name)
            self._refresh(conversation_id)

        def failed(message: str, hint: str) -> None:
            self.window.show_error(message, hint)
            self._refresh(conversation_id)

        self.window.operations.run(
            StoreOp(
                lambda: add_attachment(store, conversation_id, path, name, passages),
                OpChanges(attachments=True, conversation_id=conversation_id),
                "attach the file",
                added,
                failed,
            )
        )

    def _on_failed(self, conversation_id: int, path: str, message: str, hint: str) -> None:
        self._done_reading(conversation_id, path)
        self.window.show_error(message, hint)
        self._refresh(conversation_id)

    def remove(self, attachment_id: int) -> None:
        conversation_id = self.window.conversation_id
        if conversation_id is not None:
            store = self.window.store_for(conversation_id)
            self.window.operations.run(
                StoreOp(
                    lambda: remove_attachment(store, attachment_id),
                    OpChanges(attachments=True, conversation_id=conversation_id),
                    "remove the file",
                    on_success=lambda _: self._refresh(conversation_id),
                )
            )

    def _refresh(self, conversation_id: int) -> None:
        if conversation_id == self.window.conversation_id:
            self.show_conversation(conversation_id)
        self.window.request_preview()

    def show_conversation(self, conversation_id: int | None) -> None:
        if conversation_id is None:
            self.pane.attachment_bar.show_files([], [])
            return
        try:
            attached = attachments(self.window.store_for(conversation_id), conversation_id, with_passages=False)
        except HearthError:
            attached = []
        self.pane.attachment_bar.show_files(attached, self._reading.get(conversation_id, []))

    def stop(self) -> None:
        if self.worker is not None and self.worker_thread is not None:
            self.worker.close()  # a file still being read is abandoned: its reader process is stopped
            stop_thread(self.worker_thread)
            self.worker = None
            self.worker_thread = None
