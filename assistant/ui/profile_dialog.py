"""Profiles: the picker in the toolbar and the dialog that edits them. Profiles are small SQLite rows,
read on the UI thread; they are written as operations off it (deleting one deletes its memories,
which opens the vector store), and both views refresh on the operations' broadcast."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from assistant.core.errors import HearthError
from assistant.memory.profiles import TOOL_POLICIES, ProfileStore
from assistant.ui.buttons import button_row
from assistant.ui.operations import OpChanges, Operations, StoreOp

PROFILES = OpChanges(profiles=True, conversations=True)  # the list shows the active profile's conversations


class ProfilePicker(QComboBox):
    """One click switches profile: new conversations belong to it, the list shows its conversations."""

    profileChanged = Signal(int)

    def __init__(self, profiles: ProfileStore, operations: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.profiles = profiles
        self.operations = operations
        operations.changed.connect(self._on_changed)
        self.setAccessibleName("Profile")
        self.setMinimumWidth(120)
        self.activated.connect(self._on_activated)
        self.refresh()

    def refresh(self) -> None:
        active = self.profiles.active().id
        blocked = self.blockSignals(True)
        self.clear()
        for profile in self.profiles.all():
            self.addItem(profile.name, profile.id)
            if profile.id == active:
                self.setCurrentIndex(self.count() - 1)
        self.blockSignals(blocked)

    def _on_changed(self, changes: OpChanges, initiator: object) -> None:
        if changes.profiles:
            self.refresh()

    def choose(self, profile_id: int) -> None:
        self.operations.run(
            StoreOp(
                lambda: self.profiles.use(profile_id),
                PROFILES,
                "switch profile",
                on_success=lambda _: self.profileChanged.emit(profile_id),
                parent=self.window(),
            )
        )

    def _on_activated(self, index: int) -> None:
        self.choose(int(self.itemData(index)))


class ProfileDialog(QDialog):
    """Edit the active profile; create and delete profiles."""

    changed = Signal()

    def __init__(
        self,
        profiles: ProfileStore,
        delete_profile: Callable[[int], object],
        operations: Operations,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.profiles = profiles
        self.delete_profile = delete_profile
        self.operations = operations
        self.setWindowTitle("Profiles")
        self.setObjectName("profileDialog")
        self.resize(520, 440)
        self.picker = QComboBox()
        self.picker.currentIndexChanged.connect(self._load)
        self.name = QLineEdit()
        self.instructions = QPlainTextEdit()
        self.instructions.setPlaceholderText("How Hearth should answer in this profile (replaces the default prompt)")
        self.about = QPlainTextEdit()
        self.about.setPlaceholderText("Facts about you, given to the model in every conversation of this profile")
        # A picker of the models on disk, not a typed path: what is offered is what can load.
        self.model = QComboBox()
        self.model.setAccessibleName("Profile model")
        self.model.setToolTip("The model this profile switches to; more in Models…")
        self.collections = QLineEdit()
        self.collections.setPlaceholderText("Collections new conversations use, comma-separated")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(-0.05, 2.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setSpecialValueText("the default")  # the lowest value: no override
        self.temperature.setToolTip("Sampling temperature for this profile's conversations")
        # One row per tool whose approval this profile remembers: allow, ask again, or deny.
        self.approvals = QFormLayout()
        self.approval_boxes: dict[str, QComboBox] = {}
        self.no_approvals = QLabel("none remembered (answer Always or Never to a tool prompt)")
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        form = QFormLayout()
        form.addRow("Profile", self.picker)
        form.addRow("Name", self.name)
        form.addRow("Instructions", self.instructions)
        form.addRow("About me", self.about)
        form.addRow("Model", self.model)
        form.addRow("Collections", self.collections)
        form.addRow("Temperature", self.temperature)
        approvals = QWidget()
        approvals_layout = QVBoxLayout(approvals)
        approvals_layout.setContentsMargins(0, 0, 0, 0)
        approvals_layout.addWidget(self.no_approvals)
        approvals_layout.addLayout(self.approvals)
        form.addRow("Tool choices", approvals)
        buttons = button_row([("New…", self.create_profile), ("Delete", self.delete), ("Save", self.save)], self.accept)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self._fill(self.profiles.active().id)
        operations.changed.connect(self._on_changed)

    def _on_changed(self, changes: OpChanges, initiator: object) -> None:
        # A change made elsewhere: the list follows; what is being typed here stays unless its profile went.
        if not changes.profiles or initiator is self:
            return
        listed = [(self.picker.itemData(i), self.picker.itemText(i)) for i in range(self.picker.count())]
        profiles = self.profiles.all()
        if listed != [(p.id, p.name) for p in profiles]:
            current = self._current_id()
            self._fill(current if current in {p.id for p in profiles} else self.profiles.active().id)

    def _write(self, perform: Callable[[], object], what: str, done: Callable[[object], None]) -> None:
        """A change to the profiles; a refusal (a duplicate name) is shown beside what was typed, which stays."""
        self.operations.run(
            StoreOp(
                perform,
                PROFILES,
                what,
                done,
                on_failure=lambda message, hint: self.error.setText(message),
                parent=self,
                initiator=self,
            )
        )

    def _fill(self, select: int) -> None:
        blocked = self.picker.blockSignals(True)
        self.picker.clear()
        for profile in self.profiles.all():
            self.picker.addItem(profile.name, profile.id)
            if profile.id == select:
                self.picker.setCurrentIndex(self.picker.count() - 1)
        self.picker.blockSignals(blocked)
        self._load()

    def _current_id(self) -> int:
        return int(self.picker.currentData())

    def _load(self) -> None:
        profile = self.profiles.get(self._current_id())
        self.name.setText(profile.name)
        self.instructions.setPlainText(profile.instructions)
        self.about.setPlainText(profile.about_me)
        self.collections.setText(", ".join(profile.collections))
        self._fill_models(profile.model)
        temperature = profile.sampling.get("temperature")
        self.temperature.setValue(float(temperature) if temperature is not None else self.temperature.minimum())
        while self.approvals.rowCount():
            self.approvals.removeRow(0)
        self.approval_boxes = {}
        for tool, policy in sorted(profile.tool_approvals.items()):
            box = QComboBox()
            box.addItems(list(TOOL_POLICIES))
            box.setCurrentText(policy)
            box.setAccessibleName(f"Approval for {tool}")
            self.approvals.addRow(tool, box)
            self.approval_boxes[tool] = box
        self.no_approvals.setVisible(not self.approval_boxes)
        self.error.clear()

    def _fill_models(self, chosen: str | None) -> None:
        from assistant.engine.model_choice import list_models

        self.model.clear()
        self.model.addItem("Keep the model in use", None)
        found = False
        for entry in list_models():
            if entry.info is None:
                continue
            self.model.addItem(f"{entry.path.stem}  [{entry.source}]", str(entry.path))
            if chosen is not None and str(entry.path) == chosen:
                self.model.setCurrentIndex(self.model.count() - 1)
                found = True
        if chosen and not found:
            self.model.addItem(f"{chosen} (not found)", chosen)
            self.model.setCurrentIndex(self.model.count() - 1)

    def _chosen_model(self) -> str | None:
        """The chosen GGUF, read before it is accepted (as the settings' model is); raises if unusable."""
        from assistant.engine.gguf import read_gguf

        chosen = self.model.currentData()
        if not chosen:
            return None
        read_gguf(str(chosen))
        return str(chosen)

    def save(self) -> bool:
        """Checks what was typed and asks for it to be saved; False (with the reason shown) if refused here."""
        collections = [c.strip() for c in self.collections.text().split(",") if c.strip()]
        profile_id = self._current_id()
        sampling = dict(self.profiles.get(profile_id).sampling)
        if self.temperature.value() <= self.temperature.minimum():
            sampling.pop("temperature", None)
        else:
            sampling["temperature"] = round(self.temperature.value(), 2)
        try:
            values = {
                "name": self.name.text(),
                "instructions": self.instructions.toPlainText().strip(),
                "about_me": self.about.toPlainText().strip(),
                "collections": collections,
                "model": self._chosen_model(),
                "sampling": sampling,
            }
        except HearthError as exc:
            self.error.setText(exc.message)
            return False
        chosen = {tool: box.currentText() for tool, box in self.approval_boxes.items()}

        def update() -> object:
            # Over what is stored when written: a tool answered "Always" in a chat meanwhile is kept.
            approvals = {**self.profiles.get(profile_id).tool_approvals, **chosen}
            return self.profiles.update(profile_id, **values, tool_approvals=approvals)

        self._write(update, "save the profile", self._saved)
        return True

    def _saved(self, profile: object) -> None:
        self._fill(profile.id)  # type: ignore[attr-defined]
        self.changed.emit()

    def create_profile(self, name: str | None = None) -> None:
        if not name:
            name, ok = QInputDialog.getText(self, "New profile", "Name:")
            if not ok:
                return
        chosen = name
        self._write(lambda: self.profiles.create(chosen), "create the profile", self._saved)

    def delete(self) -> QMessageBox | None:
        profile = self.profiles.get(self._current_id())
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Delete profile",
            f"Delete profile “{profile.name}” and everything it remembers? Its conversations stay, "
            "under the first profile.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )

        def answered(button: int) -> None:
            if button != QMessageBox.StandardButton.Yes:
                return

            def deleted(_: object) -> None:
                self._fill(self.profiles.active().id)
                self.changed.emit()

            # Off the UI thread: deleting its memories opens the vector store (Chroma).
            self._write(lambda: self.delete_profile(profile.id), "delete the profile", deleted)

        box.finished.connect(answered)
        box.open()
        return box
