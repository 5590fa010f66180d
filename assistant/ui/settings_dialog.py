"""Settings: model, context, threads, GPU layers, default sampling, thinking modes, theme. Validated before saving."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from assistant.config import Settings, data_dir, models_dir
from assistant.core.errors import HearthError
from assistant.engine.gguf import read_gguf
from assistant.ui.wrapping_label import WrappingLabel


def _spin(low: int, high: int, value: int, special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    if special:
        box.setSpecialValueText(special)
    return box


def _dspin(low: float, high: float, value: float, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(2)
    box.setValue(value)
    return box


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hearth settings")
        self.setAccessibleName("Settings")
        self.original = settings
        self.result_settings: Settings | None = None
        form = QFormLayout()

        self.model_path = QLineEdit(str(settings.model.path or ""))
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

        model = settings.model
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

        sampling = settings.sampling
        self.temperature = _dspin(0.0, 5.0, sampling.temperature, 0.05)
        self.top_p = _dspin(0.0, 1.0, sampling.top_p, 0.01)
        self.top_k = _spin(0, 1000, sampling.top_k)
        self.min_p = _dspin(0.0, 1.0, sampling.min_p, 0.01)
        self.repeat_penalty = _dspin(0.5, 3.0, sampling.repeat_penalty, 0.05)
        self.max_tokens = _spin(1, 32768, sampling.max_tokens)
        self.seed = _spin(-1, 2_000_000_000, -1 if sampling.seed is None else sampling.seed, "Random")
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        form.addRow("Top-k", self.top_k)
        form.addRow("Min-p", self.min_p)
        form.addRow("Repeat penalty", self.repeat_penalty)
        form.addRow("Longest reply (tokens)", self.max_tokens)
        form.addRow("Seed", self.seed)
        self.refine_rounds = _spin(1, 3, settings.reasoning.refine_rounds)
        self.refine_rounds.setToolTip(
            "Refine mode: critique-and-revise rounds at most (it stops early when nothing is wrong)"
        )
        self.votes = _spin(2, 7, settings.reasoning.votes)
        self.votes.setToolTip("Vote mode: independent answers to reconcile")
        form.addRow("Refine rounds", self.refine_rounds)
        form.addRow("Vote samples", self.votes)

        self.theme = QComboBox()
        self.theme.addItems(["system", "light", "dark"])
        self.theme.setCurrentText(settings.ui.theme)
        form.addRow("Theme", self.theme)
        location = QLabel(str(data_dir()))
        location.setToolTip("Conversations, settings and models live here (set HEARTH_HOME to move them).")
        form.addRow("Data directory", location)

        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _update_fit(self) -> None:
        from assistant.engine.catalogue import bundled_model_path
        from assistant.engine.fit import estimate_fit
        from assistant.engine.gguf import GGUFInfo

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
        """The settings as entered; raises HearthError naming what is wrong."""
        raw = self.original.model_dump()
        path = self.model_path.text().strip()
        raw["model"].update(
            path=path or None,
            n_ctx=self.n_ctx.value(),
            n_threads=self.n_threads.value() or None,
            n_gpu_layers=self.n_gpu_layers.value(),
        )
        raw["sampling"].update(
            temperature=self.temperature.value(),
            top_p=self.top_p.value(),
            top_k=self.top_k.value(),
            min_p=self.min_p.value(),
            repeat_penalty=self.repeat_penalty.value(),
            max_tokens=self.max_tokens.value(),
            seed=None if self.seed.value() < 0 else self.seed.value(),
        )
        raw["ui"]["theme"] = self.theme.currentText()
        raw["reasoning"] = {"refine_rounds": self.refine_rounds.value(), "votes": self.votes.value()}
        try:
            settings = Settings.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise HearthError(f"These settings are not valid: {problems}") from exc
        if path:
            read_gguf(Path(path))  # a missing, foreign or truncated file is refused here, with its reason
        return settings

    def accept(self) -> None:
        try:
            self.result_settings = self.collected()
        except HearthError as exc:
            self.error_label.setText(exc.user_text())
            self.error_label.show()
            return
        super().accept()
