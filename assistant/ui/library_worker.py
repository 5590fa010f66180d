"""The library worker: indexing on a thread of its own, so the window and the chat stay free.

Same pattern as the chat worker: ``*Requested`` signals in, progress and results out, ``cancel()``
the one direct call. The folder watcher's callbacks (on its own thread) become sync requests.
A cancel stops the running sync and the syncs already queued behind it (``QueuedCancels``).

Listing a collection's files (``list_files``) runs on a small thread of its own: it must not
wait for a long sync to end, and it only reads (a stat per file and the catalogue).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from assistant.core import logs
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
    removeFolderRequested = Signal(str, str)  # collection name, one of its folders
    patternsRequested = Signal(str, object, object)  # collection name, include and exclude patterns
    rescanRequested = Signal()  # at start-up: sync every collection whose folders changed meanwhile

    collectionsChanged = Signal(object)  # list[CollectionInfo]
    progressChanged = Signal(str, object)  # collection name, Progress
    syncFinished = Signal(str, object)  # collection name, IndexReport
    rescanFinished = Signal(object)  # the names of the collections that needed a sync
    filesListed = Signal(str, object)  # collection name, list[FileStatus]
    busyChanged = Signal(bool)
    failed = Signal(str, str)

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        self._cancels = QueuedCancels()
        self.watcher: FolderWatcher | None = None
        self._watch_lock = threading.Lock()
        self._closed = False
        self._lister: ThreadPoolExecutor | None = None
        for requested, slot in (
            (self.addRequested, self._add),
            (self.syncRequested, self._sync),
            (self.reindexRequested, self._reindex),
            (self.removeFolderRequested, self._remove_folder),
            (self.patternsRequested, self._set_patterns),
            (self.rescanRequested, self._rescan),
        ):
            # Counted on the thread that queues the job (UI or watcher), so a cancel knows what waits.
            requested.connect(lambda *_: self._cancels.submitted(), Qt.ConnectionType.DirectConnection)
            requested.connect(slot)
        self.removeRequested.connect(self._remove)

    def cancel(self) -> None:
        self._cancels.cancel()

    def start_watching(self) -> None:
        """Watch the collections' folders and catch up with what changed while Hearth was closed
        (neither when the settings say ``watch: off``). Returns at once: both are a job on this
        worker's thread (setting up the watches walks the folders)."""
        if self.library.settings.watch != "off":
            self.rescanRequested.emit()

    def stop_watching(self) -> None:
        with self._watch_lock:
            self._closed = True
            watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.stop()
        if self._lister is not None:
            self._lister.shutdown(wait=True, cancel_futures=True)
            self._lister = None

    def _start_watcher(self) -> None:
        with self._watch_lock:
            if self._closed or self.watcher is not None:
                return
            mode: Literal["auto", "poll"] = "poll" if self.library.settings.watch == "poll" else "auto"
            self.watcher = FolderWatcher(
                self.library.catalog, self.syncRequested.emit, mode=mode, ignore=(self.library.home,)
            )
            self.watcher.start()

    def list_files(self, name: str) -> None:
        """Each file of the collection with its status; answered by ``filesListed``."""
        if self._lister is None:
            self._lister = ThreadPoolExecutor(1, thread_name_prefix="hearth-library-lister")
        self._lister.submit(self._list_files, name)

    def _list_files(self, name: str) -> None:
        try:
            self.filesListed.emit(name, self.library.file_statuses(name))
        except HearthError:
            self.filesListed.emit(name, [])  # removed meanwhile
        except Exception:
            log.exception("listing the files of %s failed", name)

    def _changed(self) -> None:
        collections = self.library.collections()
        if self.watcher is not None:
            self.watcher.refresh(collections)
        self.collectionsChanged.emit(collections)

    @Slot(str, object)
    def _add(self, name: str, paths: list[Path]) -> None:
        cancel = self._cancels.start()
        try:
            self.library.add(name, paths)
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)
            return
        self._changed()
        self._index(name, cancel)

    @Slot(str, str)
    def _remove_folder(self, name: str, folder: str) -> None:
        cancel = self._cancels.start()
        try:
            self.library.remove_folder(name, Path(folder))
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)
            return
        self._changed()
        self._index(name, cancel)  # its files leave the index

    @Slot(str, object, object)
    def _set_patterns(self, name: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> None:
        cancel = self._cancels.start()
        try:
            self.library.set_patterns(name, tuple(include), tuple(exclude))
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)
            return
        self._changed()
        self._index(name, cancel)  # files now left out leave the index, files now let in join it

    @Slot()
    def _rescan(self) -> None:
        cancel = self._cancels.start()
        self._start_watcher()  # first, so a change made during the catching up is not missed
        synced = []
        for collection in self.library.collections():
            if cancel.cancelled:
                break
            try:
                if not self.library.needs_sync(collection.name):
                    continue
            except (HearthError, OSError):
                continue
            synced.append(collection.name)
            self._index(collection.name, cancel)
        self.rescanFinished.emit(synced)

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
            hint = f"What was indexed before is kept; try again. {logs.where()}".strip()
            self.failed.emit(f"Indexing '{name}' failed: {exc}", hint)
        finally:
            self.busyChanged.emit(False)
            self.collectionsChanged.emit(self.library.collections())

    @Slot(str)
    def _remove(self, name: str) -> None:
        try:
            self.library.remove(name)
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)
        self._changed()


def start_library_worker(worker: LibraryWorker) -> QThread:
    return start_on_thread(worker, "hearth-library-worker")
