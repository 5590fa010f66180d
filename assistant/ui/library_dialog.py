"""The Library window: collections on the left; the selected one's folders, patterns and files on the right.

Every file is listed with its status (indexed, pending, skipped, failed) and, for the last two,
why in plain words. Folders can be added and removed one at a time, and include/exclude patterns
decide which of their files belong. Changes go to the library worker as requests; the window
only shows what its signals report, so it stays responsive while a collection indexes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from assistant.knowledge.file_status import STATUSES, FileStatus
from assistant.knowledge.indexer import IndexReport, Progress
from assistant.knowledge.library_index import CollectionInfo
from assistant.knowledge.patterns import parse_patterns, pattern_problem
from assistant.ui.library_files import STATUS_WORDS, FileFilter, FileListModel, is_scanned
from assistant.ui.library_progress import progress_text, report_text
from assistant.ui.library_worker import LibraryWorker

NameRole = Qt.ItemDataRole.UserRole
SCANNED_NOTE = (
    "{n} scanned PDF{s} (pictures of pages, with no text in them): Hearth cannot read {them}, because it "
    "does not recognise text in images (no OCR). To include {them}, make {them} searchable first with an OCR "
    "tool (OCRmyPDF, or your scanner's software), then press Sync now."
)


class LibraryDialog(QDialog):
    def __init__(self, worker: LibraryWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.confirm: QMessageBox | None = None
        self.setWindowTitle("Document library")
        self.setAccessibleName("Document library")
        self.resize(1040, 740)
        self._collections: dict[str, CollectionInfo] = {}
        self._listed: dict[str, int] = {}  # each collection's files as last listed
        self.collections = QListWidget()
        self.collections.setAccessibleName("Collections")
        self.collections.currentItemChanged.connect(lambda *_: self._show_selected())
        self._build_buttons()
        details = self._build_details()
        splitter = QSplitter()
        splitter.addWidget(self._column(QLabel("Collections"), self.collections))
        splitter.addWidget(details)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 740])
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Indexing progress")
        self.progress_label = QLabel("")
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setAccessibleName("Index report")
        self.report.setMaximumHeight(72)
        self.report.setPlaceholderText("The last sync's report appears here: what was added, and why any file was not.")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Collections are searched when you tick them in a conversation's settings."))
        layout.addWidget(splitter, 1)
        layout.addLayout(self.buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.report)
        worker.collectionsChanged.connect(self.show_collections)
        worker.progressChanged.connect(self.show_progress)
        worker.syncFinished.connect(self.show_report)
        worker.busyChanged.connect(self._on_busy)
        worker.filesListed.connect(self._on_files_listed)
        self.show_collections(worker.library.collections())

    # ----- construction -------------------------------------------------------------------------

    @staticmethod
    def _column(*widgets: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            layout.addWidget(widget, 1 if isinstance(widget, QListWidget | QTableView) else 0)
        return box

    def _build_buttons(self) -> None:
        add = QPushButton("Add folder…")
        add.clicked.connect(self.add_folder)
        add_files = QPushButton("Add files…")
        add_files.clicked.connect(self.add_files)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.clicked.connect(self.sync_selected)
        self.reindex_button = QPushButton("Re-index")
        self.reindex_button.setToolTip("Rebuild this collection's index, e.g. after the embedding model changed")
        self.reindex_button.clicked.connect(self.reindex_selected)
        self.remove_button = QPushButton("Remove collection…")
        self.remove_button.clicked.connect(self.remove_selected)
        self.cancel_button = QPushButton("Stop indexing")
        self.cancel_button.clicked.connect(self.worker.cancel)
        self.cancel_button.setEnabled(False)
        self.buttons = QHBoxLayout()
        for button in (add, add_files, self.sync_button, self.reindex_button, self.remove_button):
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.cancel_button)

    def _build_details(self) -> QWidget:
        self.title = QLabel("Add a folder to make your first collection.")
        self.title.setObjectName("libraryTitle")
        self.title.setWordWrap(True)
        self.folders = QListWidget()
        self.folders.setAccessibleName("Folders of the collection")
        self.folders.setMaximumHeight(64)
        self.remove_folder_button = QPushButton("Remove folder…")
        self.remove_folder_button.setToolTip("Take this folder out of the collection; its files leave the index")
        self.remove_folder_button.clicked.connect(self.remove_selected_folder)
        self.include_edit = QLineEdit()
        self.include_edit.setAccessibleName("Only files matching")
        self.include_edit.setPlaceholderText("e.g. *.md, *.pdf  (empty: every supported file)")
        self.exclude_edit = QLineEdit()
        self.exclude_edit.setAccessibleName("Leave out")
        self.exclude_edit.setPlaceholderText("e.g. drafts/**, *.tmp.md, old")
        for edit in (self.include_edit, self.exclude_edit):
            edit.returnPressed.connect(self.apply_patterns)
            edit.textEdited.connect(lambda _text: self.pattern_error.hide())
        self.apply_button = QPushButton("Apply patterns")
        self.apply_button.clicked.connect(self.apply_patterns)
        self.pattern_error: QLabel = QLabel()
        self.pattern_error.setObjectName("patternError")
        self.pattern_error.setStyleSheet("color: #c0392b;")
        self.pattern_error.setWordWrap(True)
        self.pattern_error.hide()
        patterns = QFormLayout()
        patterns.addRow("Only files matching:", self.include_edit)
        patterns.addRow("Leave out:", self.exclude_edit)
        pattern_help = QLabel(
            "Comma-separated globs. A name pattern (*.md) matches at any depth; one with a slash "
            "(drafts/**) is relative to the collection's folders. Case is ignored."
        )
        pattern_help.setWordWrap(True)
        pattern_help.setStyleSheet("color: palette(placeholder-text);")
        self.scanned_note = QLabel()
        self.scanned_note.setObjectName("scannedNote")
        self.scanned_note.setWordWrap(True)
        self.scanned_note.setStyleSheet("background: #fff4d6; color: #5c4400; padding: 6px; border-radius: 4px;")
        self.scanned_note.hide()
        self.status_filter = QComboBox()
        self.status_filter.setAccessibleName("Show files")
        self.status_filter.addItem("All files", "")
        for status in STATUSES:
            self.status_filter.addItem(STATUS_WORDS[status], status)
        self.status_filter.currentIndexChanged.connect(
            lambda _i: self.filter.set_status(self.status_filter.currentData())
        )
        self.search = QLineEdit()
        self.search.setAccessibleName("Find a file")
        self.search.setPlaceholderText("Find a file or a reason…")
        self.search.setClearButtonEnabled(True)
        self.file_model = FileListModel(self)
        self.filter: FileFilter = FileFilter(self)
        self.filter.setSourceModel(self.file_model)
        self.search.textChanged.connect(self.filter.set_text)
        self.files = self._build_table()
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folders, 1)
        folder_row.addWidget(self.remove_folder_button, 0, Qt.AlignmentFlag.AlignTop)
        pattern_row = QHBoxLayout()
        pattern_row.addLayout(patterns, 1)
        pattern_row.addWidget(self.apply_button, 0, Qt.AlignmentFlag.AlignBottom)
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.status_filter)
        filter_row.addWidget(self.search, 1)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(folder_row)
        layout.addLayout(pattern_row)
        layout.addWidget(pattern_help)
        layout.addWidget(self.pattern_error)
        layout.addWidget(self.scanned_note)
        layout.addLayout(filter_row)
        layout.addWidget(self.files, 1)
        return box

    def _build_table(self) -> QTableView:
        table = QTableView()
        table.setAccessibleName("Files of the collection")
        table.setModel(self.filter)
        table.setSortingEnabled(True)
        table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setWordWrap(False)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        # Uniform rows: the view never asks the other 19,980 rows how tall they are.
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in ((0, 220), (1, 70), (2, 70), (3, 260)):
            table.setColumnWidth(column, width)
        header.setStretchLastSection(True)
        return table

    # ----- collections --------------------------------------------------------------------------

    def show_collections(self, collections: list[CollectionInfo]) -> None:
        selected = self.selected_name()
        self._collections = {c.name: c for c in collections}
        self.collections.blockSignals(True)
        self.collections.clear()
        current = None
        for collection in collections:
            item = QListWidgetItem(self._collection_text(collection))
            item.setData(NameRole, collection.name)
            item.setToolTip("\n".join(collection.roots))
            self.collections.addItem(item)
            if collection.name == selected or current is None:
                current = item
        if current is not None:
            self.collections.setCurrentItem(current)
        self.collections.blockSignals(False)
        self._show_selected()
        for collection in collections:  # the others' counts too, so every line counts the same way
            if collection.name != self.selected_name():
                self.worker.list_files(collection.name)

    def _collection_text(self, collection: CollectionInfo) -> str:
        """Its files as the file list counts them once listed (skipped ones included, so the count
        is the list's rows and the heading's); until then, the catalogue's."""
        files = self._listed.get(collection.name, collection.files)
        text = f"{collection.name}\n{files} files · {collection.chunks} passages"
        return text + (f" · {collection.failed} unreadable" if collection.failed else "")

    def selected_name(self) -> str | None:
        item = self.collections.currentItem()
        return item.data(NameRole) if item else None

    def _show_selected(self) -> None:
        collection = self._collections.get(self.selected_name() or "")
        self.folders.clear()
        for widget in (self.folders, self.remove_folder_button, self.include_edit, self.exclude_edit):
            widget.setEnabled(collection is not None)
        self.apply_button.setEnabled(collection is not None)
        if collection is None:
            self.title.setText("Add a folder to make your first collection.")
            self.file_model.set_rows([])
            self._show_counts()
            return
        for root in collection.roots:
            self.folders.addItem(root)
        if self.folders.count():
            self.folders.setCurrentRow(0)
        if not self.include_edit.hasFocus() and not self.exclude_edit.hasFocus():
            self.include_edit.setText(", ".join(collection.include))
            self.exclude_edit.setText(", ".join(collection.exclude))
        if self.file_model.property("collection") != collection.name:
            self.file_model.setProperty("collection", collection.name)
            self.file_model.set_rows([])
        self._show_counts()
        self.worker.list_files(collection.name)

    def _on_files_listed(self, name: str, rows: list[FileStatus]) -> None:
        self._listed[name] = len(rows)
        for row in range(self.collections.count()):
            item = self.collections.item(row)
            if item.data(NameRole) == name and name in self._collections:
                item.setText(self._collection_text(self._collections[name]))
        if name == self.selected_name():
            self.file_model.set_rows(rows)
            self._show_counts()

    def _show_counts(self) -> None:
        name = self.selected_name()
        if name is None:
            self.scanned_note.hide()
            return
        counts = self.file_model.counts()
        parts = [f"{counts[s]} {STATUS_WORDS[s].lower()}" for s in STATUSES if counts[s] or s == "indexed"]
        self.title.setText(f"<b>{name}</b> — {sum(counts.values())} files: {', '.join(parts)}")
        scanned = sum(1 for row in self.file_model.rows() if is_scanned(row))
        one = scanned == 1
        self.scanned_note.setText(SCANNED_NOTE.format(n=scanned, s="" if one else "s", them="it" if one else "them"))
        self.scanned_note.setVisible(scanned > 0)

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
        name = self.selected_name()
        if name:
            self._confirm(
                "Remove collection",
                f"Remove '{name}' and its index? Your files are not touched.",
                lambda: self.worker.removeRequested.emit(name),
            )

    def remove_selected_folder(self) -> None:
        name, item = self.selected_name(), self.folders.currentItem()
        if name and item is not None:
            folder = item.text()
            self._confirm(
                "Remove folder",
                f"Take {folder} out of '{name}'? Its files leave the index; the files themselves are not touched.",
                lambda: self.worker.removeFolderRequested.emit(name, folder),
            )

    def _confirm(self, title: str, text: str, then: object) -> None:
        """A question that does not block the window (``self.confirm`` until answered)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton, self)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setObjectName("libraryConfirm")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(result: int) -> None:
            self.confirm = None
            if result == QMessageBox.StandardButton.Yes and callable(then):
                then()

        box.finished.connect(answered)
        self.confirm = box
        box.open()

    def apply_patterns(self) -> None:
        name = self.selected_name()
        if not name:
            return
        include, exclude = parse_patterns(self.include_edit.text()), parse_patterns(self.exclude_edit.text())
        problems = [problem for p in (*include, *exclude) if (problem := pattern_problem(p))]
        if problems:
            self.pattern_error.setText("Not applied: " + "; ".join(problems) + ".")
            self.pattern_error.show()
            return
        self.pattern_error.hide()
        self.worker.patternsRequested.emit(name, include, exclude)

    # ----- indexing -----------------------------------------------------------------------------

    def show_progress(self, name: str, progress: Progress) -> None:
        if progress.files_total and not progress.files_done:
            self.progress.setRange(0, 0)  # busy: the embedder loads before the first file is written
        else:
            self.progress.setRange(0, max(progress.files_total, 1))
            self.progress.setValue(progress.files_done if progress.files_total else 1)  # nothing to do: done
        self.progress_label.setText(progress_text(name, progress))
        finished = (progress.finished, progress.finished_status, progress.finished_passages)
        if progress.finished and name == self.selected_name() and self.file_model.mark_finished(*finished):
            self._show_counts()

    def show_report(self, name: str, report: IndexReport) -> None:
        self.report.setPlainText(report_text(name, report))
        if name == self.selected_name():
            self.worker.list_files(name)

    def _on_busy(self, busy: bool) -> None:
        if not busy and self.progress.maximum() == 0:  # stopped before the first file: no endless busy bar
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
        self.cancel_button.setEnabled(busy)
        self.sync_button.setEnabled(not busy)
        self.reindex_button.setEnabled(not busy)
