"""What watching a 20,000-file library costs, and how quick the Library window's file list is.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/library_watch.py [--files 20000]

(a) The old watcher re-walked and stat'ed the whole tree every 3 s on a Python thread: one such
    poll (scan + fingerprint), timed. The new one waits for the system's notifications: the CPU
    time the process spends over 6 s of an idle, watched library, and the time to set the watches up.
(b) From a file written to the collection reported: the debounce (quiet_s, 1 s) plus delivery.
(c) The start-up check (``needs_sync``) of the unchanged library: a stat per file, no embedder.
(d) The Library window: listing every file's status (scan + catalogue), loading the rows into the
    table model, sorting by name, filtering to one status.
"""

from __future__ import annotations

import argparse
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.knowledge.file_status import FAILED, file_statuses, needs_sync
from assistant.knowledge.indexer import scan
from assistant.knowledge.library_index import LibraryIndex
from assistant.knowledge.watcher import FolderWatcher


def make_tree(root: Path, files: int, per_folder: int = 20) -> list[Path]:
    paths = []
    for i in range(files):
        folder = root / f"year-{i // 2000}" / f"month-{(i // per_folder) % 100}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"note-{i:05}.md"
        path.write_text(f"Note {i}.")
        paths.append(path)
    return paths


def record_as_indexed(catalog: LibraryIndex, collection_id: int, paths: list[Path]) -> None:
    for path in paths:
        info = path.stat()
        file_id = catalog.begin_file(collection_id, str(path))
        catalog.finish_file(file_id, "indexed", hash="x", mtime=info.st_mtime, size=info.st_size, chunks=1)


def old_poll(roots: tuple[str, ...]) -> float:
    started = time.perf_counter()
    found, problems = scan([Path(r) for r in roots], sys.maxsize)
    frozenset(
        [(path, info.st_size, info.st_mtime) for path, info in found.items()]
        + [(problem.path, -1, 0.0) for problem in problems]
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "library"
        made = time.perf_counter()
        paths = make_tree(root, args.files)
        catalog = LibraryIndex(Path(tmp) / "library.db")
        collection = catalog.create_collection("Archive", "bench", 8)
        catalog.add_roots(collection.id, [root])
        record_as_indexed(catalog, collection.id, paths)
        collection = catalog.collection("Archive")
        print(
            f"{args.files} files in {len({p.parent for p in paths})} folders,"
            f" made in {time.perf_counter() - made:.1f} s"
        )

        polls = sorted(old_poll(collection.roots) for _ in range(3))
        poll_s = polls[1]
        print(
            f"(a) old watcher: one poll {1000 * poll_s:.0f} ms, every 3 s = {100 * poll_s / 3:.1f}% of a core, always"
        )

        reports: queue.Queue[str] = queue.Queue()
        watcher = FolderWatcher(catalog, reports.put)
        started = time.perf_counter()
        watcher.start()
        setup_s = time.perf_counter() - started
        before = time.process_time()
        threading.Event().wait(6.0)
        idle_cpu = time.process_time() - before
        print(
            f"    new watcher: set up in {1000 * setup_s:.0f} ms (once),"
            f" then {1000 * idle_cpu:.1f} ms of CPU in 6 s idle"
            f" = {100 * idle_cpu / 6:.2f}% of a core (ratio to the old poll's CPU: {idle_cpu / (2 * poll_s):.3f})"
        )
        written = time.perf_counter()
        (root / "year-0" / "month-0" / "new.md").write_text("A new note.")
        reports.get(timeout=60)
        print(
            f"(b) a new file reported after {1000 * (time.perf_counter() - written):.0f} ms"
            f" (debounce {watcher.quiet_s} s)"
        )
        watcher.stop()
        (root / "year-0" / "month-0" / "new.md").unlink()

        started = time.perf_counter()
        changed = needs_sync(catalog, collection)
        print(
            f"(c) start-up check of the unchanged library: {1000 * (time.perf_counter() - started):.0f} ms,"
            f" sync needed: {changed}"
        )

        from PySide6.QtWidgets import QApplication

        from assistant.ui.library_files import FileFilter, FileListModel

        app = QApplication.instance() or QApplication([])
        started = time.perf_counter()
        rows = file_statuses(catalog, collection)
        listed_s = time.perf_counter() - started
        model, proxy = FileListModel(), FileFilter()
        proxy.setSourceModel(model)
        started = time.perf_counter()
        model.set_rows(rows)
        loaded_s = time.perf_counter() - started
        started = time.perf_counter()
        proxy.sort(0)
        model.sort(0)
        sorted_s = time.perf_counter() - started
        started = time.perf_counter()
        proxy.set_status(FAILED)
        filtered_s = time.perf_counter() - started
        print(
            f"(d) file list of {len(rows)} files: status {1000 * listed_s:.0f} ms (worker thread), into the model"
            f" {1000 * loaded_s:.0f} ms, sort {1000 * sorted_s:.0f} ms, filter {1000 * filtered_s:.0f} ms (UI thread)"
        )
        del app
        catalog.close()


if __name__ == "__main__":
    main()
