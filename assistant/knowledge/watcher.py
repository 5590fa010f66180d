"""Notice changes in collections' folders while the app runs.

Polling rather than OS notifications: it works the same on every platform, on network drives and
through symlinks, and a stat of each file every few seconds is cheap for a personal library.
(Very large trees would want inotify/FSEvents; see the README's notes.)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

from assistant.knowledge.catalog import Catalog
from assistant.knowledge.indexer import scan

Fingerprint = frozenset[tuple[str, int, float]]


class FolderWatcher:
    def __init__(self, catalog: Catalog, on_change: Callable[[str], None], interval_s: float = 3.0) -> None:
        self.catalog = catalog
        self.on_change = on_change
        self.interval_s = interval_s
        self._seen: dict[str, Fingerprint] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def fingerprint(self, roots: tuple[str, ...]) -> Fingerprint:
        found, problems = scan([Path(r) for r in roots], sys.maxsize)
        return frozenset(
            [(path, info.st_size, info.st_mtime) for path, info in found.items()]
            + [(problem.path, -1, 0.0) for problem in problems]
        )

    def poll(self) -> list[str]:
        """Names of collections whose folders changed since the last poll (none on the first)."""
        changed = []
        for collection in self.catalog.collections():
            current = self.fingerprint(collection.roots)
            previous = self._seen.get(collection.name)
            self._seen[collection.name] = current
            if previous is not None and previous != current:
                changed.append(collection.name)
        return changed

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hearth-folder-watcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            for name in self.poll():
                self.on_change(name)
            self._stop.wait(self.interval_s)
