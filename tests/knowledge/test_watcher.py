from __future__ import annotations

import threading
import time
from pathlib import Path

from assistant.knowledge.watcher import FolderWatcher


def test_changes_are_noticed_within_seconds(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("first")
    library = make_library()
    library.add("docs", [folder])
    library.sync("docs")
    changed: list[str] = []
    noticed = threading.Event()

    def on_change(name: str) -> None:
        changed.append(name)
        noticed.set()

    watcher = FolderWatcher(library.catalog, on_change, interval_s=0.2)
    watcher.start()
    try:
        time.sleep(0.5)
        assert changed == []  # nothing changed yet
        (folder / "b.txt").write_text("a new file")
        assert noticed.wait(60), "the new file was not noticed"
        assert changed == ["docs"]
        assert library.sync("docs").added == 1
    finally:
        watcher.stop()


def test_poll_reports_edits_and_deletions(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("first")
    library = make_library()
    library.add("docs", [folder])
    watcher = FolderWatcher(library.catalog, lambda name: None)
    assert watcher.poll() == []
    assert watcher.poll() == []
    (folder / "a.txt").write_text("changed and longer")
    assert watcher.poll() == ["docs"]
    (folder / "a.txt").unlink()
    assert watcher.poll() == ["docs"]
