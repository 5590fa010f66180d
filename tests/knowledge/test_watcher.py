"""The folder watcher on real file-system notifications: what it reports, what it ignores, how it debounces.

No test sleeps to let the watcher "catch up". Each waits for an event: the collection reported, or
the watcher's own notification of a sentinel file written last (notifications of one folder arrive
in order, so once the sentinel's has arrived, every earlier change has been seen).
"""

from __future__ import annotations

import errno
import os
import queue
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from watchdog.observers import Observer

from assistant.knowledge.library import Library
from assistant.knowledge.watcher import FolderWatcher

WAIT_S = 60


class Watching:
    """A started watcher with its reports and its raw notifications in queues."""

    def __init__(self, library: Library, on_change: Callable[[str], None] | None = None, **options: object) -> None:
        self.reports: queue.Queue[str] = queue.Queue()
        self.events: queue.Queue[str] = queue.Queue()
        self.on_change = on_change
        self.watcher = FolderWatcher(library.catalog, self._report, on_event=self.events.put, **options)  # type: ignore[arg-type]

    def _report(self, name: str) -> None:
        if self.on_change is not None:
            self.on_change(name)
        self.reports.put(name)

    def settle(self, folder: Path) -> None:
        """Write a sentinel the watcher ignores (.bin) and wait until its notification has come and
        every change noticed before it has been reported."""
        sentinel = folder / f"sentinel-{os.urandom(4).hex()}.bin"
        sentinel.write_bytes(b"x")
        while self.events.get(timeout=WAIT_S) != str(sentinel):
            pass
        assert self.watcher.wait_idle(WAIT_S)

    def drained(self) -> list[str]:
        names = []
        while not self.reports.empty():
            names.append(self.reports.get_nowait())
        return names


@pytest.fixture
def watching(make_library) -> Iterator[Callable[..., Watching]]:  # type: ignore[no-untyped-def]
    started: list[Watching] = []

    def start(library: Library, **options: object) -> Watching:
        watching = Watching(library, **options)
        watching.watcher.start()
        started.append(watching)
        return watching

    yield start
    for watching in started:
        watching.watcher.stop()


def docs(make_library, tmp_path: Path, *files: str) -> tuple[Library, Path]:  # type: ignore[no-untyped-def]
    folder = (tmp_path / "docs").resolve()
    folder.mkdir()
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"Notes in {name}.")
    library = make_library()
    library.add("docs", [folder])
    return library, folder


def test_a_new_file_is_reported_through_the_systems_notifications(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library, folder = docs(make_library, tmp_path, "a.txt")
    library.sync("docs")
    watched = watching(library, quiet_s=0.1)
    (folder / "b.txt").write_text("A note about the watering can.")
    assert watched.reports.get(timeout=WAIT_S) == "docs"
    assert watched.watcher.polled == set()  # native notifications, no polling
    assert library.sync("docs").added == 1


def test_edits_deletions_moves_and_new_folders_are_reported(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library, folder = docs(make_library, tmp_path, "a.txt", "b.md")
    watched = watching(library, quiet_s=0.05)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "c.txt").write_text("moved in")
    for change in (
        lambda: (folder / "a.txt").write_text("changed"),
        lambda: (folder / "b.md").unlink(),
        lambda: (outside / "c.txt").rename(folder / "c.txt"),
        lambda: (folder / "c.txt").rename(outside / "c2.txt"),
        lambda: (folder / "new").mkdir(),
    ):
        change()
        assert watched.reports.get(timeout=WAIT_S) == "docs"


def test_reading_and_indexing_the_files_reports_nothing(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library, folder = docs(make_library, tmp_path, "a.txt", "sub/b.txt")
    watched = watching(library, quiet_s=0.05)
    assert library.sync("docs").added == 2  # reads and hashes every file: opened, closed unwritten, atime
    (folder / "a.txt").read_bytes()
    os.chmod(folder / "a.txt", 0o600)
    watched.settle(folder)
    assert watched.drained() == []


def test_hidden_unsupported_and_excluded_files_are_ignored(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library, folder = docs(make_library, tmp_path, "a.txt")
    library.set_patterns("docs", (), ("drafts/**", "*.tmp.md"))
    watched = watching(library, quiet_s=0.05)
    (folder / ".git").mkdir()
    (folder / ".git" / "index.txt").write_text("hidden folder")
    (folder / ".a.txt.swp").write_text("an editor's swap file")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8")
    (folder / "drafts").mkdir()
    (folder / "drafts" / "idea.md").write_text("left out by a pattern")
    (folder / "x.tmp.md").write_text("left out by a pattern")
    watched.settle(folder)
    assert watched.drained() == []
    (folder / "kept.md").write_text("this one counts")
    assert watched.reports.get(timeout=WAIT_S) == "docs"


def test_a_file_saved_in_several_writes_is_reported_once_when_whole(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library, folder = docs(make_library, tmp_path, "a.txt")
    target = folder / "big.txt"
    seen_sizes: list[int] = []
    watched = watching(library, quiet_s=1.5, on_change=lambda name: seen_sizes.append(target.stat().st_size))
    with target.open("wb") as handle:
        for _ in range(8):
            handle.write(b"a line of the report\n" * 500)
            handle.flush()
            os.fsync(handle.fileno())
    watched.settle(folder)
    assert watched.drained() == ["docs"]
    assert seen_sizes == [target.stat().st_size]  # reported after the last write, not in between


def test_a_thousand_files_copied_in_are_a_few_reports_not_thousands(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library, folder = docs(make_library, tmp_path, "a.txt")
    source = tmp_path / "export"
    source.mkdir()
    for i in range(1000):
        (source / f"note-{i:04}.md").write_text(f"Note number {i}.")
    counted: list[int] = []
    notifications: list[str] = []
    watched = watching(library, quiet_s=1.5, on_change=lambda name: counted.append(len(os.listdir(folder / "export"))))
    watched.watcher._on_event = lambda path: (notifications.append(path), watched.events.put(path))  # type: ignore[assignment]
    shutil.copytree(source, folder / "export")
    watched.settle(folder)
    reports = watched.drained()
    assert len([p for p in notifications if p.endswith(".md")]) >= 1000
    assert 1 <= len(reports) <= 3, reports  # debounced: a burst is one report (a stalled machine may split it)
    assert counted[-1] == 1000  # the last report came after the last file
    assert library.sync("docs").added == 1001


def test_a_folder_the_system_cannot_watch_is_polled(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    class OutOfWatches(Observer):  # type: ignore[misc,valid-type]
        def schedule(self, *args: object, **kwargs: object) -> object:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    library, folder = docs(make_library, tmp_path, "a.txt")
    watched = watching(library, quiet_s=0.05, poll_interval_s=0.2, native=OutOfWatches)
    assert watched.watcher.polled == {str(folder)}
    (folder / "b.txt").write_text("noticed by polling")
    assert watched.reports.get(timeout=WAIT_S) == "docs"


def test_poll_mode_watches_by_polling(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library, folder = docs(make_library, tmp_path, "a.txt")
    watched = watching(library, quiet_s=0.05, poll_interval_s=0.2, mode="poll")
    assert watched.watcher.polled == {str(folder)}
    (folder / "a.txt").write_text("an edit, longer than before")
    assert watched.reports.get(timeout=WAIT_S) == "docs"


def test_folders_added_and_removed_are_followed(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library, folder = docs(make_library, tmp_path, "a.txt")
    watched = watching(library, quiet_s=0.05)
    other = (tmp_path / "other").resolve()
    other.mkdir()
    single = (tmp_path / "loose" / "single.md").resolve()
    single.parent.mkdir()
    single.write_text("a file added by itself")
    library.add("more", [other, single])
    watched.watcher.refresh()
    (other / "x.txt").write_text("in the new folder")
    assert watched.reports.get(timeout=WAIT_S) == "more"
    (single.parent / "neighbour.md").write_text("next to the file, not in the collection")
    single.write_text("the file itself, edited")
    assert watched.reports.get(timeout=WAIT_S) == "more"
    watched.settle(single.parent)
    assert watched.drained() == []
    library.remove_folder("docs", folder)
    watched.watcher.refresh()
    assert str(folder) not in {key[0] for key in watched.watcher._watches}


def test_hearths_own_data_directory_is_never_reported(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library = make_library()
    library.add("everything", [tmp_path.resolve()])  # a collection that holds the data directory
    watched = watching(library, quiet_s=0.05, ignore=(library.home,))
    (library.home / "notes.txt").write_text("written by Hearth itself")
    watched.settle(tmp_path.resolve())
    assert watched.drained() == []


def test_a_symlink_loop_in_a_watched_folder_is_not_followed(make_library, watching, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    library, folder = docs(make_library, tmp_path, "a.txt", "sub/b.txt")
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        watched = watching(library, quiet_s=0.05)  # following it, watchdog warns once per folder it re-enters
    assert not caught, [str(w.message)[:200] for w in caught]
    (folder / "sub" / "c.txt").write_text("still noticed")
    assert watched.reports.get(timeout=WAIT_S) == "docs"
