"""A cited passage shown in its page or section, highlighted, with a way to open the file.

The file is read by the limited reader process (parse_pool.py), on a thread of its own: a hostile
PDF never reaches PDFium in Hearth's process, and a slow one never freezes the window. The stored
passage shows at once; its page replaces it when read.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QShowEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from assistant.knowledge.documents import LoadedDocument
from assistant.ui.threads import start_on_thread, stop_thread

# Readers still reading for a dialog that may have closed: kept until their thread ends.
_READING: set[QThread] = set()


def stop_readers() -> None:
    """Wait for the citation readers still reading (at exit: a running QThread must not be destroyed)."""
    for thread in list(_READING):
        stop_thread(thread)


def passage_in_context(source: dict[str, Any]) -> str:
    """HTML of the passage's page or section with the passage highlighted (the passage alone if the
    file changed or is gone). Reads the file in the reader process: call it off the UI thread."""
    from assistant.knowledge.parse_pool import shared_pool

    path = Path(str(source.get("path", "")))
    document = shared_pool().load(path, source.get("page") or None) if path.is_file() else None
    return passage_html(source, document)


def passage_html(source: dict[str, Any], document: object = None) -> str:
    """HTML of the passage highlighted in ``document``'s matching section (alone without one)."""
    passage = str(source.get("text", ""))
    context = ""
    if isinstance(document, LoadedDocument):
        for section in document.sections:
            same_place = section.page == (source.get("page") or None) and section.heading == source.get("heading", "")
            if same_place and passage in section.text:
                context = section.text
                break
    mark = f'<span style="background-color: #ffe08a; color: #000;">{html.escape(passage)}</span>'
    if not context:
        return f"<p>{mark}</p>"
    before, _, after = context.partition(passage)
    return "<p style='white-space: pre-wrap;'>" + html.escape(before) + mark + html.escape(after) + "</p>"


def file_url(source: dict[str, Any]) -> QUrl:
    url = QUrl.fromLocalFile(str(source.get("path", "")))
    if source.get("page"):
        url.setFragment(f"page={source['page']}")  # PDF viewers that honour it open at the page
    return url


class ContextReader(QObject):
    """Reads a cited passage's page on its own thread."""

    readRequested = Signal(object)  # the source
    read = Signal(str)  # HTML of the passage in its page

    def __init__(self) -> None:
        super().__init__()
        self.readRequested.connect(self._read)

    @Slot(object)
    def _read(self, source: dict[str, Any]) -> None:
        self.read.emit(passage_in_context(source))


class SourceDialog(QDialog):
    contextShown = Signal()  # the passage's page is shown

    def __init__(self, source: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name = Path(str(source.get("path", ""))).name
        page = f", page {source['page']}" if source.get("page") else ""
        self.setWindowTitle(f"[{source.get('n')}] {name}{page}")
        self.setAccessibleName("Cited passage")
        self.resize(640, 480)
        self.source = source
        where = html.escape(str(source.get("heading") or ""))
        on_disk = Path(str(source.get("path", ""))).is_file()
        if not on_disk:
            # Indexed on another machine sharing the library, or moved since: the stored passage is all there is.
            elsewhere = "indexed on another computer" if source.get("shared") else "no longer there"
            where += f"<br><i>{html.escape(str(source.get('path', '')))}: {elsewhere}. Showing the stored passage.</i>"
        heading = QLabel(f"<b>{html.escape(name)}{page}</b><br>{where}")
        self.text = QTextBrowser()
        self.text.setHtml(passage_html(source))  # at once; its page when read
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        open_button = buttons.addButton("Open file", QDialogButtonBox.ButtonRole.ActionRole)
        open_button.clicked.connect(self.open_file)
        self.open_button = open_button
        self.no_launcher: NoLauncherDialog | None = None
        open_button.setEnabled(on_disk)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self._reading = on_disk  # started when first shown

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._reading:
            self._reading = False
            self._read_context(self.source)

    def _read_context(self, source: dict[str, Any]) -> None:
        reader = ContextReader()
        thread = start_on_thread(reader, "hearth-citation")
        _READING.add(thread)
        reader.read.connect(self._show_context)
        reader.read.connect(thread.quit)
        thread.finished.connect(reader.deleteLater)
        thread.finished.connect(lambda: _READING.discard(thread))
        self._reader = reader  # the dialog's reference; the thread outlives a closed dialog
        reader.readRequested.emit(source)

    @Slot(str)
    def _show_context(self, html_text: str) -> None:
        self.text.setHtml(html_text)
        cursor = self.text.document().find(str(self.source.get("text", ""))[:80])
        if not cursor.isNull():
            cursor.clearSelection()  # scroll to the passage; a selection would hide its highlight
            self.text.setTextCursor(cursor)
            self.text.ensureCursorVisible()
        self.contextShown.emit()

    def open_file(self) -> None:
        """Open the file in the program the desktop chooses; where none opens it, say so and offer
        its path and its folder (Qt alone would only log a line)."""
        if QDesktopServices.openUrl(file_url(self.source)):
            return
        if self.no_launcher is None:  # one, kept: it goes with this dialog
            self.no_launcher = NoLauncherDialog(Path(str(self.source.get("path", ""))), self)
        self.no_launcher.open()


class NoLauncherDialog(QDialog):
    """No program opened the file: where it is, with its path to copy and its folder to open."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noLauncher")
        self.setWindowTitle("Open file")
        self.path = path
        self.message = QLabel(f"No program on this computer opened <b>{html.escape(path.name)}</b>.")
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._say("Copy the path, or open its folder and open the file from there.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy path", QDialogButtonBox.ButtonRole.ActionRole)
        self.folder_button = buttons.addButton("Show folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._copy_path)
        self.folder_button.clicked.connect(self._show_folder)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.where)
        layout.addWidget(buttons)

    def _say(self, advice: str) -> None:
        self.where.setText(f"It is here:\n{self.path}\n\n{advice}")

    def _copy_path(self) -> None:
        QGuiApplication.clipboard().setText(str(self.path))
        self.copy_button.setText("Path copied")

    def _show_folder(self) -> None:
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path.parent))):
            self.accept()
            return
        self.folder_button.setEnabled(False)
        self._say("No program opened its folder either: copy the path and open it from your file manager.")
