"""Notice changes in collections' folders while the app runs, and say which collections to sync.

The operating system's notifications (watchdog: inotify, FSEvents, ReadDirectoryChangesW), so an
idle library costs nothing: no thread walks and stats the tree on a timer. A folder the native
watcher cannot take (inotify's watch limit reached, say) falls back to watchdog's polling
observer, and ``mode="poll"`` forces polling for every folder (network drives, whose changes on
another machine send no notification here).

Bursts are debounced per collection: a sync is asked for once the collection's folders have been
quiet for ``quiet_s`` (a file saved in several writes, a folder of a thousand files copied in),
and at the latest ``max_delay_s`` after the burst began, so a folder that never stops changing
is still indexed. Events are filtered as ``scan`` filters files (hidden names, unsupported
types, the collection's include/exclude patterns), and reads (opened, closed without writing,
attribute changes) are ignored, so indexing a file never triggers another sync of it.

What changed while Hearth was closed is not this module's job: the library worker checks every
collection once at start-up (``Library.needs_sync``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from assistant.knowledge.documents import SUPPORTED_SUFFIXES
from assistant.knowledge.library_index import CollectionInfo, LibraryIndex
from assistant.knowledge.patterns import FilePatterns

log = logging.getLogger(__name__)

WatchMode = Literal["auto", "poll"]
WATCHED_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


@dataclass(frozen=True)
class _Root:
    collection: str
    path: str
    is_file: bool
    patterns: FilePatterns


class FolderWatcher:
    def __init__(
        self,
        catalog: LibraryIndex,
        on_change: Callable[[str], None],
        quiet_s: float = 1.0,
        max_delay_s: float = 10.0,
        mode: WatchMode = "auto",
        poll_interval_s: float = 5.0,
        ignore: tuple[Path, ...] = (),
        native: Callable[[], BaseObserver] = Observer,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        """``ignore``: folders whose changes are never reported (Hearth's own data directory, in
        case a collection holds it). ``native``: the platform's observer. ``on_event``: told the
        path of every change notification received, relevant or not (for tests and diagnostics)."""
        self.catalog = catalog
        self.on_change = on_change
        self.quiet_s = quiet_s
        self.max_delay_s = max_delay_s
        self.mode = mode
        self.poll_interval_s = poll_interval_s
        self._ignore = tuple(str(p.resolve()) for p in ignore)
        self._native_factory = native
        self._on_event = on_event
        self._reporting = 0
        self._native: BaseObserver | None = None
        self._polling: BaseObserver | None = None
        self._handler = _Handler(self)
        self._roots: list[_Root] = []
        self._watches: dict[tuple[str, bool], tuple[BaseObserver, ObservedWatch]] = {}
        self.polled: set[str] = set()  # the folders watched by polling (a fallback, or mode "poll")
        self._due: dict[str, float] = {}  # collection -> when to report it
        self._burst_began: dict[str, float] = {}
        self._wake = threading.Condition()
        self._stopping = False
        self._dispatcher: threading.Thread | None = None
        self._refresh_lock = threading.Lock()

    # ----- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._dispatcher is not None:
            return
        self._stopping = False
        self._dispatcher = threading.Thread(target=self._dispatch, name="hearth-folder-watcher", daemon=True)
        self._dispatcher.start()
        self.refresh()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        with self._refresh_lock:
            for observer in (self._native, self._polling):
                if observer is not None:
                    observer.stop()
            for observer in (self._native, self._polling):
                if observer is not None and observer.is_alive():
                    observer.join(timeout=10)
            self._native = self._polling = None
            self._watches.clear()
            self.polled.clear()
        if self._dispatcher is not None:
            self._dispatcher.join(timeout=10)
            self._dispatcher = None

    def refresh(self, collections: list[CollectionInfo] | None = None) -> None:
        """Follow the catalogue: watch new folders, drop removed ones, take up changed patterns."""
        with self._refresh_lock:
            if self._stopping or self._dispatcher is None:
                return
            collections = self.catalog.collections() if collections is None else collections
            roots = [
                _Root(c.name, root, Path(root).is_file(), c.patterns)
                for c in collections
                for root in c.roots
                if Path(root).exists()
            ]
            self._roots = roots
            # A file given by itself is watched through its folder, without descending.
            wanted = {(str(Path(r.path).parent), False) if r.is_file else (r.path, True) for r in roots}
            for key in list(self._watches):
                if key not in wanted:
                    observer, watch = self._watches.pop(key)
                    with contextlib.suppress(KeyError, OSError):
                        observer.unschedule(watch)
                    self.polled.discard(key[0])
            for key in sorted(wanted - set(self._watches)):
                self._schedule(*key)

    def _schedule(self, folder: str, recursive: bool) -> None:
        if self.mode == "auto":
            try:
                observer = self._observer(native=True)
                self._watches[(folder, recursive)] = (observer, self._watch(observer, folder, recursive))
                return
            except OSError as exc:  # inotify's limits, a file system that has no notifications
                log.warning("watching %s by polling: %s", folder, exc)
        try:
            observer = self._observer(native=False)
            self._watches[(folder, recursive)] = (observer, self._watch(observer, folder, recursive))
            self.polled.add(folder)
        except OSError as exc:
            log.warning("cannot watch %s: %s", folder, exc)

    def _watch(self, observer: BaseObserver, folder: str, recursive: bool) -> ObservedWatch:
        # Symlinked folders are not followed: watchdog would follow a symlink loop down to the
        # longest path the system allows. What changes behind a link is caught at the next start.
        return observer.schedule(self._handler, folder, recursive=recursive, event_filter=WATCHED_EVENTS)

    def _observer(self, native: bool) -> BaseObserver:
        current = self._native if native else self._polling
        if current is None:
            current = self._native_factory() if native else PollingObserver(timeout=self.poll_interval_s)
            current.name = "hearth-watch-native" if native else "hearth-watch-polling"
            current.daemon = True
            current.start()
            if native:
                self._native = current
            else:
                self._polling = current
        return current

    # ----- events -------------------------------------------------------------------------------

    def notice(self, path: str, is_directory: bool) -> None:
        """A change at ``path``: mark the collections it belongs to (called on watchdog's thread)."""
        if self._on_event is not None:
            self._on_event(path)
        if any(path == ignored or path.startswith(ignored + os.sep) for ignored in self._ignore):
            return
        names = {root.collection for root in self._roots if _concerns(root, path, is_directory)}
        if not names:
            return
        now = time.monotonic()
        with self._wake:
            for name in names:
                began = self._burst_began.setdefault(name, now)
                self._due[name] = min(now + self.quiet_s, began + self.max_delay_s)
            self._wake.notify_all()

    def _dispatch(self) -> None:
        while True:
            with self._wake:
                while not self._stopping:
                    if not self._due:
                        self._wake.wait()
                        continue
                    name, due = min(self._due.items(), key=lambda item: item[1])
                    wait = due - time.monotonic()
                    if wait <= 0:
                        del self._due[name]
                        del self._burst_began[name]
                        self._reporting += 1
                        break
                    self._wake.wait(wait)
                if self._stopping:
                    return
            try:
                self.on_change(name)
            except Exception:
                log.exception("reporting a change in %s failed", name)
            finally:
                with self._wake:
                    self._reporting -= 1
                    self._wake.notify_all()

    def pending(self) -> set[str]:
        """The collections with changes not reported yet."""
        with self._wake:
            return set(self._due)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every change noticed so far has been reported; False on time-out."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while self._due or self._reporting:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(remaining)
            return True


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, tuple(WATCHED_EVENTS)):  # the observers filter too; this is the guarantee
            for raw in (event.src_path, event.dest_path):
                if raw:
                    self.watcher.notice(os.fsdecode(raw), event.is_directory)


def _concerns(root: _Root, path: str, is_directory: bool) -> bool:
    """Whether a change at ``path`` can matter to the collection that has ``root``."""
    if root.is_file:
        return path == root.path
    if path == root.path:
        return is_directory
    if not path.startswith(root.path.rstrip(os.sep) + os.sep):
        return False
    relative = os.path.relpath(path, root.path)
    if any(part.startswith(".") for part in Path(relative).parts):
        return False
    if is_directory:
        return not root.patterns.prunes(relative)
    return Path(path).suffix.lower() in SUPPORTED_SUFFIXES and root.patterns.allows(relative)
