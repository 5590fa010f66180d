"""The library worker on its thread: a Stop reaches the running sync and the syncs queued behind it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

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


def test_start_up_indexes_what_changed_while_hearth_was_closed(qtbot, make_library, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The first note.")
    (folder / "b.txt").write_text("A note that will be deleted.")
    (tmp_path / "still").mkdir()
    (tmp_path / "still" / "c.txt").write_text("Nothing here changes.")
    library = make_library()
    library.add("docs", [folder])
    library.add("still", [tmp_path / "still"])
    library.sync("docs")
    library.sync("still")
    library.close()
    # Hearth is closed: an edit, a new file and a deletion.
    (folder / "a.txt").write_text("The first note, edited while Hearth was closed.")
    (folder / "new.txt").write_text("A note about the watering can.")
    (folder / "b.txt").unlink()

    reopened = make_library()
    worker = LibraryWorker(reopened)
    thread = start_library_worker(worker)
    try:
        synced: list[list[str]] = []  # appended on the worker's thread (a waitSignal's timer would be stopped there)
        worker.rescanFinished.connect(synced.append, Qt.ConnectionType.DirectConnection)
        worker.start_watching()
        qtbot.waitUntil(lambda: bool(synced), timeout=60_000)
        assert synced == [["docs"]]  # the unchanged collection was only stat'ed, not synced
        files = reopened.catalog.files(reopened.collection("docs").id)
        assert sorted(Path(p).name for p in files) == ["a.txt", "new.txt"]
        assert all(record.status == "indexed" for record in files.values())
        assert any("watering can" in p.text for p in reopened.search("watering can", ["docs"]))
        assert any("edited while" in p.text for p in reopened.search("edited while Hearth was closed", ["docs"]))
        assert worker.watcher is not None  # and from now on, changes are watched
    finally:
        worker.stop_watching()
        thread.quit()
        thread.wait(10_000)


def test_an_unchanged_library_is_checked_without_opening_the_index(qtbot, make_library, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The first note.")
    library = make_library()
    library.add("docs", [folder])
    library.sync("docs")
    library.close()
    reopened = make_library()
    worker = LibraryWorker(reopened)
    thread = start_library_worker(worker)
    try:
        synced: list[list[str]] = []
        worker.rescanFinished.connect(synced.append, Qt.ConnectionType.DirectConnection)
        worker.start_watching()
        qtbot.waitUntil(lambda: bool(synced), timeout=60_000)
        assert synced == [[]]
        assert reopened._vectors is None  # Chroma was not even opened
    finally:
        worker.stop_watching()
        thread.quit()
        thread.wait(10_000)


def test_watch_off_neither_watches_nor_catches_up(qtbot, make_library, tmp_path) -> None:  # type: ignore[no-untyped-def]
    library = make_library(watch="off")
    worker = LibraryWorker(library)
    with qtbot.assertNotEmitted(worker.rescanRequested):
        worker.start_watching()
    assert worker.watcher is None
