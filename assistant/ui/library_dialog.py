"""Manage document collections: add folders, sync, remove; watch progress and read the index report."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.knowledge.catalog import CollectionInfo
from assistant.knowledge.indexer import IndexReport, Progress
from assistant.ui.library_worker import LibraryWorker


class LibraryDialog(QDialog):
    def __init__(self, worker: LibraryWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.setWindowTitle("Document library")
        self.setAccessibleName("Document library")
        self.resize(640, 480)
        self.collections = QListWidget()
        self.collections.setAccessibleName("Collections")
        add = QPushButton("Add folder…")
        add.clicked.connect(self.add_folder)
        add_files = QPushButton("Add files…")
        add_files.clicked.connect(self.add_files)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.clicked.connect(self.sync_selected)
        self.reindex_button = QPushButton("Re-index")
        self.reindex_button.setToolTip("Rebuild this collection's index, e.g. after the embedding model changed")
        self.reindex_button.clicked.connect(self.reindex_selected)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.clicked.connect(self.remove_selected)
        self.cancel_button = QPushButton("Stop indexing")
        self.cancel_button.clicked.connect(worker.cancel)
        self.cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        for button in (add, add_files, self.sync_button, self.reindex_button, self.remove_button, self.cancel_button):
            buttons.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Indexing progress")
        self.progress_label = QLabel("")
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setAccessibleName("Index report")
        self.report.setPlaceholderText("The index report appears here: what was added, and why any file was not.")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Collections are searched when you tick them in a conversation's settings."))
        layout.addWidget(self.collections, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.report, 1)
        worker.collectionsChanged.connect(self.show_collections)
        worker.progressChanged.connect(self.show_progress)
        worker.syncFinished.connect(self.show_report)
        worker.busyChanged.connect(self._on_busy)
        self.show_collections(worker.library.collections())

    def show_collections(self, collections: list[CollectionInfo]) -> None:
        selected = self.selected_name()
        self.collections.clear()
        for collection in collections:
            text = f"{collection.name} — {collection.files} files, {collection.chunks} passages"
            if collection.failed:
                text += f", {collection.failed} unreadable"
            item = QListWidgetItem(f"{text}\n    {', '.join(collection.roots)}")
            item.setData(256, collection.name)
            self.collections.addItem(item)
            if collection.name == selected:
                self.collections.setCurrentItem(item)

    def selected_name(self) -> str | None:
        item = self.collections.currentItem()
        return item.data(256) if item else None

    def _ask_collection(self) -> str | None:
        suggestion = self.selected_name() or "Documents"
        name, ok = QInputDialog.getText(self, "Collection", "Add to the collection named:", text=suggestion)
        return name.strip() if ok and name.strip() else None

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder to index")
        name = self._ask_collection() if folder else None
        if folder and name:
            self.worker.addRequested.emit(name, [Path(folder)])

    def add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Choose documents to index")
        name = self._ask_collection() if files else None
        if files and name:
            self.worker.addRequested.emit(name, [Path(f) for f in files])

    def sync_selected(self) -> None:
        name = self.selected_name()
        if name:
            self.worker.syncRequested.emit(name)

    def reindex_selected(self) -> None:
        name = self.selected_name()
        if name:
            self.worker.reindexRequested.emit(name)

    def remove_selected(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        name = self.selected_name()
        if not name:
            return
        answer = QMessageBox.question(
            self, "Remove collection", f"Remove '{name}' and its index? Your files are not touched."
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.worker.removeRequested.emit(name)

    def show_progress(self, name: str, progress: Progress) -> None:
        self.progress.setMaximum(max(progress.files_total, 1))
        self.progress.setValue(progress.files_done)
        eta = f" · about {int(progress.eta_s)} s left" if progress.eta_s else ""
        self.progress_label.setText(
            f"{name}: {progress.files_done}/{progress.files_total} files · {progress.chunks} passages · "
            f"{progress.chunks_per_s:.1f}/s{eta}  {Path(progress.current).name}"
        )

    def show_report(self, name: str, report: IndexReport) -> None:
        lines = [
            f"{name}: {'stopped (sync again to resume)' if report.cancelled else 'done'} — {report.added} added, "
            f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged, "
            f"{report.chunks} passages in {report.seconds:.1f} s."
        ]
        lines += [f"Not indexed: {p.path} — {p.reason}" for p in report.failed]
        lines += [f"Note: {p.path} — {p.reason}" for p in report.warnings]
        self.report.setPlainText("\n".join(lines))

    def _on_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.sync_button.setEnabled(not busy)
        self.reindex_button.setEnabled(not busy)
