"""The memory panel: browse, search, add, edit and delete what Hearth remembers; pause memory;
export and import memories and profiles. Reads are SQLite (instant); writes embed text, so they
run as operations off the UI thread, and the list refreshes on their broadcast (as on memories
learned after a reply)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from assistant.core.units import counted
from assistant.memory.extraction import Candidate
from assistant.memory.long_term import LongTermMemory
from assistant.ui.buttons import button_row
from assistant.ui.operations import OpChanges, Operations, StoreOp


class MemoryDialog(QDialog):
    pausedChanged = Signal(bool)

    def __init__(self, memory: LongTermMemory, operations: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.memory = memory
        self.operations = operations
        self.setWindowTitle("Memory")
        self.setObjectName("memoryDialog")
        self.resize(620, 460)
        self.profile_label = QLabel()
        self.pause = QCheckBox("Pause memory (recall nothing, save nothing)")
        self.pause.setChecked(not memory.settings.enabled)
        self.pause.toggled.connect(self._on_pause)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search memories")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.list = QListWidget()
        self.list.setAccessibleName("Memories")
        self.list.setWordWrap(True)
        self.list.itemDoubleClicked.connect(lambda item: self.edit_selected())
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        buttons = button_row(
            [
                ("Add…", self.add),
                ("Edit…", self.edit_selected),
                ("Delete", self.delete_selected),
                ("Export…", self.export),
                ("Import…", self.import_file),
            ],
            self.accept,
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.profile_label)
        layout.addWidget(self.pause)
        layout.addWidget(self.problem)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        operations.changed.connect(self._on_changed)
        self.refresh()

    def _on_changed(self, changes: OpChanges, initiator: object) -> None:
        if changes.memory or changes.profiles:
            self.refresh()

    def _write(self, perform: Callable[[], object], what: str, typed: str = "") -> None:
        self.operations.run(StoreOp(perform, OpChanges(memory=True), what, parent=self, initiator=self, typed=typed))

    def refresh(self) -> None:
        profile = self.memory.profiles.active()
        self.profile_label.setText(f"What Hearth remembers in profile <b>{profile.name}</b>:")
        self.problem.setText(self.memory.problem or "")
        self.problem.setVisible(bool(self.memory.problem))
        selected = self._selected_id()
        self.list.clear()
        for memory in self.memory.store.memories(profile.id, self.search.text()):
            when = datetime.fromtimestamp(memory.updated_at).strftime("%d %b %Y")
            replaced = f" · replaced {len(memory.history)}×" if memory.history else ""
            item = QListWidgetItem(f"{memory.text}\n[{memory.kind} · {when}{replaced}]")
            item.setData(Qt.ItemDataRole.UserRole, memory.id)
            if memory.history:
                item.setToolTip("Earlier: " + " → ".join(h["text"] for h in memory.history))
            self.list.addItem(item)
            if memory.id == selected:
                self.list.setCurrentItem(item)

    def _selected_id(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def add(self, text: str | None = None) -> None:
        if not text:
            text, ok = QInputDialog.getText(self, "Add a memory", "Something Hearth should remember about you:")
            if not ok or not text.strip():
                return
        profile_id = self.memory.profiles.active().id
        self._write(lambda: self.memory.remember(profile_id, Candidate(text.strip())), "add the memory", text.strip())

    def edit_selected(self, text: str | None = None) -> None:
        memory_id = self._selected_id()
        if memory_id is None:
            return
        if text is None:
            current = self.memory.store.get(memory_id).text
            text, ok = QInputDialog.getText(self, "Edit memory", "Memory:", text=current)
            if not ok or not text.strip():
                return
        self._write(lambda: self.memory.store.update(memory_id, text), "change the memory", text)

    def delete_selected(self) -> None:
        """Asks first (No is the default); then the selected memory is deleted."""
        memory_id = self._selected_id()
        if memory_id is None:
            return
        text = self.memory.store.get(memory_id).text
        answer = QMessageBox.question(
            self,
            "Delete memory",
            f"Delete this memory? Hearth will no longer remember:\n\n{text}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._write(lambda: self.memory.store.delete([memory_id]), "delete the memory")

    def _on_pause(self, paused: bool) -> None:
        # Saved through the window's settings (MemoryControls), which memory reads at each turn.
        self.pausedChanged.emit(paused)

    def export(self, path: Path | None = None) -> None:
        from assistant.memory.memory_files import export_memory

        if path is None:
            suggestion = str(Path.home() / "hearth-memory.json")  # not the folder Hearth was started from
            chosen, _ = QFileDialog.getSaveFileName(self, "Export memory", suggestion, "JSON (*.json)")
            if not chosen:
                return
            path = Path(chosen)
        try:
            path.write_text(json.dumps(export_memory(self.memory), ensure_ascii=False, indent=2), encoding="utf-8")
        except OSError as exc:
            box = QMessageBox(
                QMessageBox.Icon.Warning, "Memory", f"The memories could not be exported: {exc}", parent=self
            )
            box.setInformativeText("Choose another folder or file name.")
            box.setObjectName("memoryExportError")
            box.open()

    def import_file(self, path: Path | None = None) -> None:
        from assistant.memory.memory_files import import_memory

        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self, "Import memory", "", "JSON (*.json)")
            if not chosen:
                return
            path = Path(chosen)
        target = path

        def imported(counts: tuple[int, int]) -> None:
            QMessageBox.information(
                self,
                "Memory",
                f"Imported {counted(counts[1], 'memory', 'memories')} and {counted(counts[0], 'profile')}.",
            )

        self.operations.run(
            StoreOp(
                lambda: import_memory(self.memory, target),
                OpChanges(memory=True, profiles=True),
                "import the memories",
                imported,
                parent=self,
                initiator=self,
            )
        )
