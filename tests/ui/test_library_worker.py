"""The library worker on its thread: a Stop reaches the running sync and the syncs queued behind it."""

from __future__ import annotations

import threading
from typing import Any

from assistant.core.cancel import CancelToken
from assistant.knowledge.indexer import IndexReport
from assistant.ui.library_worker import LibraryWorker, start_library_worker


class SlowLibrary:
    """Syncs that run until cancelled, recording what each was asked to do."""

    catalog = None

    def __init__(self) -> None:
        self.syncs: list[tuple[str, bool]] = []
        self.started = threading.Event()

    def collections(self) -> list[Any]:
        return []

    def sync(self, name: str, progress: Any, cancel: CancelToken, reindex: bool = False) -> IndexReport:
        self.syncs.append((name, cancel.cancelled))
        self.started.set()
        while not cancel.wait(0.01) and name == "big":
            pass
        return IndexReport(name, cancelled=cancel.cancelled)


def test_stop_reaches_the_syncs_waiting_behind_the_running_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    library = SlowLibrary()
    worker = LibraryWorker(library)  # type: ignore[arg-type]
    thread = start_library_worker(worker)
    try:
        worker.syncRequested.emit("big")
        assert library.started.wait(5)
        worker.reindexRequested.emit("waiting")  # queued: must not drop its index after the Stop
        worker.cancel()
        worker.syncRequested.emit("after")  # asked for after the Stop: runs
        qtbot.waitUntil(lambda: [name for name, _ in library.syncs] == ["big", "after"], timeout=5_000)
        assert library.syncs == [("big", False), ("after", False)]
    finally:
        worker.cancel()
        thread.quit()
        thread.wait(5_000)
