"""The Library window: each file with its status and reason, one folder removed, patterns applied, 20,000 rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from assistant.knowledge.file_status import FAILED, INDEXED, PENDING, SKIPPED, FileStatus
from assistant.knowledge.library import Library
from assistant.ui.library_dialog import LibraryDialog
from assistant.ui.library_worker import LibraryWorker, start_library_worker
from tests.knowledge.conftest import write_image_pdf, write_pdf

WAIT_MS = 60_000


@pytest.fixture
def open_dialog(qtbot, make_library) -> Iterator[object]:  # type: ignore[no-untyped-def]
    opened: list[tuple[LibraryWorker, object]] = []

    def make(library: Library) -> LibraryDialog:
        worker = LibraryWorker(library)
        thread = start_library_worker(worker)
        dialog = LibraryDialog(worker)
        qtbot.addWidget(dialog)
        dialog.show()
        opened.append((worker, thread))
        return dialog

    yield make
    for worker, thread in opened:
        worker.cancel()
        worker.stop_watching()
        thread.quit()  # type: ignore[attr-defined]
        thread.wait(10_000)  # type: ignore[attr-defined]


def statuses(dialog: LibraryDialog) -> dict[str, str]:
    return {Path(row.path).name: row.status for row in dialog.file_model.rows()}


def make_folder(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    folder = (tmp_path / name).resolve()
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return folder


def test_each_file_is_listed_with_its_status_and_why(
    qtbot, qtmodeltester, open_dialog, make_library, tmp_path: Path, screenshot
) -> None:  # type: ignore[no-untyped-def]
    folder = make_folder(tmp_path, "manuals", {"kettle.txt": "Descale the kettle every 90 days.", "empty.md": ""})
    write_pdf(folder / "toaster.pdf", ["Crumb tray: empty it weekly.", "Never use a knife."])
    write_image_pdf(folder / "scan.pdf", 2)  # pages that are only images: a scan
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense")
    library = make_library()
    dialog = open_dialog(library)
    dialog.worker.addRequested.emit("Manuals", [folder])
    qtbot.waitUntil(lambda: "done" in dialog.report.toPlainText(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(statuses(dialog)) == 5 and PENDING not in statuses(dialog).values(), timeout=WAIT_MS)
    assert statuses(dialog) == {
        "kettle.txt": INDEXED,
        "toaster.pdf": INDEXED,
        "empty.md": SKIPPED,
        "scan.pdf": FAILED,
        "broken.pdf": FAILED,
    }
    why = {Path(row.path).name: row.reason for row in dialog.file_model.rows()}
    assert why["empty.md"] == "empty file" and "corrupt PDF" in why["broken.pdf"]
    assert "scanned" in why["scan.pdf"]
    assert dialog.scanned_note.isVisible() and "no OCR" in dialog.scanned_note.text()
    assert "1 scanned PDF " in dialog.scanned_note.text()
    assert "5 files: 2 indexed, 1 skipped, 2 failed" in dialog.title.text()
    qtmodeltester.check(dialog.file_model)
    dialog.status_filter.setCurrentIndex(dialog.status_filter.findData(FAILED))
    assert dialog.filter.rowCount() == 2
    dialog.status_filter.setCurrentIndex(0)
    dialog.search.setText("toast")
    assert dialog.filter.rowCount() == 1
    dialog.search.clear()
    screenshot(dialog, "15-library-files")


def test_one_folder_is_removed_from_a_collection(qtbot, open_dialog, make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keep = make_folder(tmp_path, "keep", {"a.txt": "Stays in the collection."})
    drop = make_folder(tmp_path, "drop", {"b.txt": "Leaves the collection.", "c.md": "Leaves it too."})
    library = make_library()
    library.add("Notes", [keep, drop])
    library.sync("Notes")
    dialog = open_dialog(library)
    qtbot.waitUntil(lambda: len(statuses(dialog)) == 3, timeout=WAIT_MS)
    assert {dialog.folders.item(i).text() for i in range(dialog.folders.count())} == {str(keep), str(drop)}
    dialog.folders.setCurrentRow([dialog.folders.item(i).text() for i in range(2)].index(str(drop)))
    dialog.remove_folder_button.click()
    assert isinstance(dialog.confirm, QMessageBox) and str(drop) in dialog.confirm.text()
    dialog.confirm.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: statuses(dialog) == {"a.txt": INDEXED}, timeout=WAIT_MS)
    assert library.collection("Notes").roots == (str(keep),)
    assert [Path(p).name for p in library.catalog.files(library.collection("Notes").id)] == ["a.txt"]
    assert not library.search("Leaves the collection", ["Notes"]) or all(
        "Leaves" not in p.text for p in library.search("Leaves the collection", ["Notes"])
    )
    assert dialog.folders.count() == 1
    assert drop.exists() and (drop / "b.txt").exists()  # the files themselves are untouched


def test_patterns_are_applied_and_bad_ones_explained(
    qtbot, open_dialog, make_library, tmp_path: Path, screenshot
) -> None:  # type: ignore[no-untyped-def]
    folder = make_folder(
        tmp_path, "notes", {"a.md": "Kept.", "b.txt": "Not Markdown.", "drafts/c.md": "A draft.", "x/d.md": "Kept too."}
    )
    library = make_library()
    library.add("Notes", [folder])
    library.sync("Notes")
    dialog = open_dialog(library)
    qtbot.waitUntil(lambda: len(statuses(dialog)) == 4, timeout=WAIT_MS)
    dialog.exclude_edit.setText("../secret/*")
    with qtbot.assertNotEmitted(dialog.worker.patternsRequested):
        dialog.apply_button.click()
    assert dialog.pattern_error.isVisible() and "outside the collection" in dialog.pattern_error.text()
    dialog.include_edit.setText("*.md")
    dialog.exclude_edit.setText("drafts/**")
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: statuses(dialog) == {"a.md": INDEXED, "d.md": INDEXED}, timeout=WAIT_MS)
    collection = library.collection("Notes")
    assert (collection.include, collection.exclude) == (("*.md",), ("drafts/**",))
    assert sorted(Path(p).name for p in library.catalog.files(collection.id)) == ["a.md", "d.md"]
    assert dialog.include_edit.text() == "*.md" and dialog.exclude_edit.text() == "drafts/**"
    screenshot(dialog, "16-library-patterns")


def test_twenty_thousand_files_are_rows_of_one_model_not_widgets(
    qtbot, qtmodeltester, open_dialog, make_library, tmp_path: Path, screenshot
) -> None:  # type: ignore[no-untyped-def]
    folder = make_folder(tmp_path, "big", {"a.txt": "One real file."})
    library = make_library()
    library.add("Archive", [folder])
    dialog = open_dialog(library)
    qtbot.waitUntil(lambda: len(statuses(dialog)) == 1, timeout=WAIT_MS)
    kinds = [INDEXED] * 17_000 + [PENDING] * 1_500 + [SKIPPED] * 1_000 + [FAILED] * 500
    rows = [
        FileStatus(f"{folder}/year-{i % 20}/note-{i:05}.md", status, "" if status == INDEXED else "a reason", 3)
        for i, status in enumerate(kinds)
    ]
    widgets_before = len(dialog.findChildren(QWidget))
    dialog._on_files_listed("Archive", rows)
    assert dialog.filter.rowCount() == 20_000
    assert len(dialog.findChildren(QWidget)) == widgets_before  # not one widget more for 20,000 files
    assert "20000 files: 17000 indexed, 1500 pending, 1000 skipped, 500 failed" in dialog.title.text()
    dialog.status_filter.setCurrentIndex(dialog.status_filter.findData(FAILED))
    assert dialog.filter.rowCount() == 500
    dialog.status_filter.setCurrentIndex(0)
    dialog.files.sortByColumn(0, dialog.files.horizontalHeader().sortIndicatorOrder().DescendingOrder)
    assert dialog.filter.index(0, 0).data() == "note-19999.md"
    dialog.files.scrollToBottom()
    small = type(dialog.file_model)()
    small.set_rows(rows[:300])
    qtmodeltester.check(small)
    screenshot(dialog, "17-library-20000-files")


def test_the_collections_line_counts_the_files_the_list_shows(qtbot, open_dialog, make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = make_folder(
        tmp_path,
        "notes",
        {"a.txt": "Alpha.", "b.txt": "Beta.", "c.md": "# Gamma", "empty.md": "", "more.txt": "Delta."},
    )
    dialog = open_dialog(make_library())
    dialog.worker.addRequested.emit("Notes", [folder])
    qtbot.waitUntil(lambda: "done" in dialog.report.toPlainText(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(statuses(dialog)) == 5 and PENDING not in statuses(dialog).values(), timeout=WAIT_MS)
    rows = dialog.files.model().rowCount()
    assert rows == 5 and "5 files: 4 indexed, 1 skipped" in dialog.title.text()
    qtbot.waitUntil(lambda: "5 files" in dialog.collections.currentItem().text(), timeout=WAIT_MS)
    assert dialog.collections.currentItem().text().startswith("Notes\n5 files · ")


def test_the_file_list_follows_indexing_with_the_real_embedder(
    qtbot, open_dialog, make_library, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QObject, Qt, Slot

    from assistant.knowledge.library import default_embedder

    texts = {f"note-{n}.txt": f"Note {n}: the boiler is serviced in month {n}." for n in range(1, 4)}
    folder = make_folder(tmp_path, "notes", texts)
    dialog = open_dialog(make_library(embedder=default_embedder()))
    monkeypatch.setattr(
        "assistant.ui.library_dialog.QFileDialog.getOpenFileNames",
        lambda *a, **k: ([str(folder / name) for name in texts], ""),
    )
    monkeypatch.setattr("assistant.ui.library_dialog.QInputDialog.getText", lambda *a, **k: ("Notes", True))
    seen: list[tuple[int, int, int, int]] = []  # files done; the bar's value and maximum; rows shown indexed

    class Watcher(QObject):  # on the UI thread, connected after the window: sees what the user sees then
        @Slot(str, object)
        def look(self, name: str, progress: object) -> None:
            indexed = sum(1 for status in statuses(dialog).values() if status == INDEXED)
            seen.append((progress.files_done, dialog.progress.value(), dialog.progress.maximum(), indexed))  # type: ignore[attr-defined]

    watcher = Watcher()
    dialog.worker.progressChanged.connect(watcher.look)
    add_files = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Add files…")
    qtbot.mouseClick(add_files, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "done" in dialog.report.toPlainText(), timeout=WAIT_MS)
    first = next(entry for entry in seen if entry[0] == 1)
    assert first[1:] == (1, 3, 1), seen  # after the first file: the bar at 1 of 3, its row "Indexed"
    assert seen[0][0] == 0 and seen[0][2] == 0, seen  # before the first file: busy, not a bar stuck at 0 %
    assert all(indexed == done for done, _, _, indexed in seen), seen  # the rows turn as the files are done
    assert {done for done, *_ in seen} == {0, 1, 2, 3}
