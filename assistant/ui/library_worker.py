"""The library worker: indexing on a thread of its own, so the window and the chat stay free.

Same pattern as the chat worker: ``*Requested`` signals in, progress and results out, ``cancel()``
the one direct call. The folder watcher's callbacks (on its own thread) become sync requests.
A cancel stops the running sync and the syncs already queued behind it (``QueuedCancels``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from assistant.core.cancel import CancelToken, QueuedCancels
from assistant.core.errors import HearthError
from assistant.knowledge.library import Library
from assistant.knowledge.watcher import FolderWatcher
from assistant.ui.threads import start_on_thread

log = logging.getLogger(__name__)


class LibraryWorker(QObject):
    addRequested = Signal(str, object)  # collection name, list of paths
    syncRequested = Signal(str)
    reindexRequested = Signal(str)  # drop and rebuild, e.g. after the embedder changed
    removeRequested = Signal(str)

    collectionsChanged = Signal(object)  # list[CollectionInfo]
    progressChanged = Signal(str, object)  # collection name, Progress
    syncFinished = Signal(str, object)  # collection name, IndexReport
    busyChanged = Signal(bool)
    failed = Signal(str, str)

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        self._cancels = QueuedCancels()
        self._watcher = FolderWatcher(library.catalog, self.syncRequested.emit)
        for requested, slot in (
            (self.addRequested, self._add),
            (self.syncRequested, self._sync),
            (self.reindexRequested, self._reindex),
        ):
            # Counted on the thread that queues the job (UI or watcher), so a cancel knows what waits.
            requested.connect(lambda *_: self._cancels.submitted(), Qt.ConnectionType.DirectConnection)
            requested.connect(slot)
        self.removeRequested.connect(self._remove)

    def cancel(self) -> None:
        self._cancels.cancel()

    def start_watching(self) -> None:
        self._watcher.start()

    def stop_watching(self) -> None:
        self._watcher.stop()

    @Slot(str, object)
    def _add(self, name: str, paths: list[Path]) -> None:
        cancel = self._cancels.start()
        try:
            self.library.add(name, paths)
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)
            return
        self.collectionsChanged.emit(self.library.collections())
        self._index(name, cancel)

    @Slot(str)
    def _reindex(self, name: str) -> None:
        self._index(name, self._cancels.start(), reindex=True)

    @Slot(str)
    def _sync(self, name: str) -> None:
        self._index(name, self._cancels.start())

    def _index(self, name: str, cancel: CancelToken, reindex: bool = False) -> None:
        if cancel.cancelled:  # stopped while it waited: a re-index must not even drop the old index
            return
        self.busyChanged.emit(True)
        try:
            report = self.library.sync(name, lambda p: self.progressChanged.emit(name, p), cancel, reindex=reindex)
            self.syncFinished.emit(name, report)
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)
        except Exception as exc:
            log.exception("indexing failed")
            self.failed.emit(f"Indexing '{name}' failed: {exc}", "What was indexed before is kept; try again.")
        finally:
            self.busyChanged.emit(False)
            self.collectionsChanged.emit(self.library.collections())

    @Slot(str)
    def _remove(self, name: str) -> None:
        try:
            self.library.remove(name)
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)
        self.collectionsChanged.emit(self.library.collections())


def start_library_worker(worker: LibraryWorker) -> QThread:
    return start_on_thread(worker, "hearth-library-worker")
