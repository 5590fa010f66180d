"""The chips of the files attached to a conversation, and which dropped files can be attached."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStyle, QToolButton, QWidget

from assistant.core.attachment_store import Attachment


def dropped_files(mime: QMimeData) -> list[Path]:
    """The local files a drag carries; none when any is not local, or is a model (.gguf: the
    model drop handler takes those)."""
    if not mime.hasUrls():
        return []
    urls = mime.urls()
    paths = [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]
    if not paths or len(paths) != len(urls) or any(p.suffix.lower() == ".gguf" for p in paths):
        return []
    return paths


class AttachmentBar(QWidget):
    """One chip per attached file (and per file being read), above the message input."""

    removeRequested = Signal(int)  # attachment id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentBar")
        self.setAccessibleName("Attached files")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.chips: list[QWidget] = []
        self.hide()

    def show_files(self, attached: list[Attachment], reading: list[str]) -> None:
        for chip in self.chips:
            self._layout.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        for item in attached:
            chip = QToolButton()
            chip.setObjectName("attachmentChip")
            chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            chip.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))
            chip.setText(f"{item.name}  ×")
            chip.setToolTip(f"{item.path}\nUsed in this conversation only. Click to take it off.")
            chip.setAccessibleName(f"Attached: {item.name}. Remove")
            chip.setProperty("attachment_id", item.id)
            chip.clicked.connect(lambda _=False, i=item.id: self.removeRequested.emit(i))
            self.chips.append(chip)
        for path in reading:
            label = QLabel(f"Reading {Path(path).name}…")
            label.setObjectName("attachmentReading")
            self.chips.append(label)
        while self._layout.count():
            self._layout.takeAt(0)
        for chip in self.chips:
            self._layout.addWidget(chip)
            chip.show()  # now, not when the layout gets round to it
        self._layout.addStretch(1)
        self.setVisible(bool(self.chips))
