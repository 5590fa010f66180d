"""Settings: model, replies (sampling, instructions, thinking modes), memory, documents and tools,
theme. Validated before they apply; OK and Apply hand them to the window's one settings path.

What applies when: everything from the next message of every open conversation, except the Model
page (file, context length, threads, GPU layers), which reloads the model (a few seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.config import Settings, data_dir, models_dir, read_section
from assistant.core.errors import HearthError
from assistant.engine.gguf import read_gguf
from assistant.ui.buttons import on_click
from assistant.ui.settings_pages import DocumentsPage, MemoryPage, RepliesPage
from assistant.ui.settings_pages import spin as _spin
from assistant.ui.wrapping_label import WrappingLabel

RELOAD_NOTE = "Changes on this page load the model again (a few seconds); the other pages apply from the next message."


class SettingsDialog(QDialog):
    applyRequested = Signal(object)  # the valid Settings entered, on OK or Apply

    def __init__(self, settings: Settings | Callable[[], Settings], parent: QWidget | None = None) -> None:
        """``settings``: fixed, or the getter of the live ones (the window's store): what this
        dialog does not show is taken from them as they are when OK or Apply is pressed."""
        super().__init__(parent)
        self.setWindowTitle("Hearth settings")
        self.setAccessibleName("Settings")
        self._source = settings
        shown = read_section(settings)
        self.result_settings: Settings | None = None
        form = QFormLayout()
        note = QLabel(RELOAD_NOTE)
        note.setObjectName("reloadNote")
        note.setWordWrap(True)
        form.addRow(note)

        self.model_path = QLineEdit(str(shown.model.path or ""))
        self.model_path.setPlaceholderText("Bundled model (SmolLM2-135M-Instruct)")
        self.model_path.setAccessibleName("Model file")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder = QPushButton("Models folder")
        folder.setToolTip(str(models_dir()))
        folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(models_dir()))))
        row = QHBoxLayout()
        row.addWidget(self.model_path, 1)
        row.addWidget(browse)
        row.addWidget(folder)
        form.addRow("Model file", row)

        model = shown.model
        self.n_ctx = _spin(256, 262144, model.n_ctx)
        self.n_ctx.setSingleStep(1024)
        self.n_threads = _spin(0, 512, model.n_threads or 0, "All cores")
        self.n_gpu_layers = _spin(-1, 1000, model.n_gpu_layers, "All layers")
        form.addRow("Context length (tokens)", self.n_ctx)
        form.addRow("CPU threads", self.n_threads)
        form.addRow("GPU layers", self.n_gpu_layers)
        # What the chosen model needs at this context, against the memory free now; follows each change.
        self.fit_label = WrappingLabel()  # its lines are never cut off, however narrow the dialog
        self.fit_label.setObjectName("fitLabel")
        form.addRow("On this machine", self.fit_label)
        self._headers: dict[str, object] = {}
        self.n_ctx.valueChanged.connect(self._update_fit)
        self.n_gpu_layers.valueChanged.connect(self._update_fit)
        self.model_path.editingFinished.connect(self._update_fit)
        self._update_fit()

        self.replies = RepliesPage(shown)
        self.memory = MemoryPage(shown)
        self.documents = DocumentsPage(shown)
        # The names tests and older code know the replies' widgets by.
        r = self.replies
        self.temperature, self.top_p, self.top_k, self.min_p = r.temperature, r.top_p, r.top_k, r.min_p
        self.repeat_penalty, self.max_tokens, self.seed = r.repeat_penalty, r.max_tokens, r.seed
        self.refine_rounds, self.votes = r.refine_rounds, r.votes

        self.theme = QComboBox()
        self.theme.addItems(["system", "light", "dark"])
        self.theme.setCurrentText(shown.ui.theme)
        self.theme.setAccessibleName("Theme")
        looks = QFormLayout()
        looks.addRow("Theme", self.theme)
        location = QLabel(str(data_dir()))
        location.setToolTip("Conversations, settings and models live here (set HEARTH_HOME to move them).")
        looks.addRow("Data directory", location)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        for title, page in (
            ("Model", form),
            ("Replies", self.replies),
            ("Memory", self.memory),
            ("Documents and tools", self.documents),
            ("Appearance", looks),
        ):
            if isinstance(page, QFormLayout):
                holder = QWidget()
                holder.setLayout(page)
                self.tabs.addTab(holder, title)
            else:
                self.tabs.addTab(page, title)

        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.hide()
        Button = QDialogButtonBox.StandardButton
        self.buttons = QDialogButtonBox(Button.Ok | Button.Apply | Button.Cancel)
        self.ok_button = self.buttons.button(Button.Ok)
        self.apply_button = self.buttons.button(Button.Apply)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.apply_button.clicked.connect(on_click(self._take))
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _update_fit(self) -> None:
        from assistant.engine.fit import estimate_fit
        from assistant.engine.gguf import GGUFInfo
        from assistant.engine.model_choice import bundled_model_path

        text = self.model_path.text().strip()
        path = Path(text).expanduser() if text else bundled_model_path()
        if path is None:
            self.fit_label.setText("")
            return
        info = self._headers.get(str(path))
        if info is None:
            try:
                info = read_gguf(path)
            except HearthError as exc:
                self.fit_label.setText(exc.message)
                return
            self._headers[str(path)] = info
        assert isinstance(info, GGUFInfo)
        estimate = estimate_fit(
            info.shape(), info.file_size, self.n_ctx.value(), n_gpu_layers=self.n_gpu_layers.value()
        )
        self.fit_label.setText(estimate.summary())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", str(models_dir()), "GGUF models (*.gguf)")
        if path:
            self.model_path.setText(path)
            self._update_fit()

    def collected(self) -> Settings:
        """The settings as entered, over the current ones; raises HearthError naming what is wrong."""
        raw = read_section(self._source).model_dump()
        path = self.model_path.text().strip()
        raw["model"].update(
            path=path or None,
            n_ctx=self.n_ctx.value(),
            n_threads=self.n_threads.value() or None,
            n_gpu_layers=self.n_gpu_layers.value(),
        )
        for page in (self.replies, self.memory, self.documents):
            page.collect(raw)
        raw["ui"]["theme"] = self.theme.currentText()
        try:
            settings = Settings.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise HearthError(f"These settings are not valid: {problems}") from exc
        if path:
            read_gguf(Path(path))  # a missing, foreign or truncated file is refused here, with its reason
        return settings

    def _take(self) -> bool:
        """Collect and hand on what was entered; on a problem, say it here and keep the dialog open."""
        try:
            self.result_settings = self.collected()
        except HearthError as exc:
            self.error_label.setText(exc.user_text())
            self.error_label.show()
            return False
        self.error_label.hide()
        self.applyRequested.emit(self.result_settings)
        return True

    def accept(self) -> None:
        if self._take():
            super().accept()
