"""The Models window: models on disk and the catalogue, each with a fit estimate for this machine,
and downloads with progress, pause and cancel (run by the app's DownloadWorker on its own thread)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assistant.config import Settings, models_dir
from assistant.core.units import human_bytes
from assistant.engine.download import DownloadProgress
from assistant.engine.fit import FitEstimate, MachineMemory, estimate_fit, machine_memory
from assistant.engine.model_catalogue import CURATED_MODELS, CuratedModel
from assistant.engine.model_choice import list_models
from assistant.engine.speed import USABLE_TOKENS_PER_S, MachineSpeed, machine_speed
from assistant.ui.download_worker import DownloadWorker

VERDICT_MARK = {"fits comfortably": "✓ fits comfortably", "tight": "⚠ tight", "will not fit": "✗ will not fit"}
COLUMNS = ("Model", "Size", "Licence", "Good at", "On this machine", "Speed here", "")


def describe_progress(report: DownloadProgress) -> str:
    if report.phase == "verifying":
        return f"Verifying SHA-256… {human_bytes(report.done)} of {human_bytes(report.total)}"
    left = f", {_duration(report.seconds_left)} left" if report.seconds_left is not None else ""
    retry = f" (try {report.attempt})" if report.attempt > 1 else ""
    return (
        f"{human_bytes(report.done)} of {human_bytes(report.total)}, {human_bytes(report.bytes_per_s)}/s{left}{retry}"
    )


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def fit_text(estimate: FitEstimate) -> str:
    mark = VERDICT_MARK[estimate.verdict]
    if estimate.verdict == "fits comfortably" and estimate.speed is not None and not estimate.speed.usable:
        mark = "⚠ fits, but slow"
    return f"{mark} · {estimate.n_ctx:,} tokens · ~{human_bytes(estimate.need.total)}"


def speed_text(estimate: FitEstimate) -> str:
    if estimate.speed is None:
        return ""
    speed = estimate.speed
    slow = "" if speed.usable else "slow: "
    return f"{slow}~{speed.generation:,.{0 if speed.generation >= 10 else 1}f} tokens/s · reads ~{speed.prompt:,.0f}/s"


class ModelsDialog(QDialog):
    useModelRequested = Signal(str)  # a GGUF path to chat with

    def __init__(
        self,
        worker: DownloadWorker,
        settings: Settings,
        parent: QWidget | None = None,
        memory: MachineMemory | None = None,
        machine: MachineSpeed | None = None,
    ) -> None:
        super().__init__(parent)
        self.worker = worker
        self.settings = settings
        self.memory = memory or machine_memory()
        self.machine = machine or machine_speed(n_threads=settings.model.n_threads)
        self.downloading: CuratedModel | None = None
        self.setWindowTitle("Models")
        self.setAccessibleName("Models")
        self.resize(1280, 560)
        self.machine_label = QLabel()
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Models")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self.use_selected())
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download_selected)
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(worker.pause)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(worker.cancel)
        self.use_button = QPushButton("Chat with this model")
        self.use_button.clicked.connect(self.use_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.pause_button, self.cancel_button, self.use_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Download progress")
        self.progress.setVisible(False)
        self.progress_label = QLabel("")
        note = QLabel(
            "Downloads come from the Hugging Face hub (or HF_ENDPOINT) only when you press Download; "
            "each file is checked against its SHA-256 before it is added. A paused or interrupted "
            "download resumes where it stopped."
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.machine_label)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addLayout(buttons)
        layout.addWidget(note)
        worker.progressChanged.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.stopped.connect(self._on_stopped)
        worker.failed.connect(self._on_failed)
        self.refresh()

    def refresh(self) -> None:
        wanted = self.settings.model.n_ctx
        gpu = self.settings.model.n_gpu_layers
        self.machine_label.setText(
            f"This machine: {human_bytes(self.memory.available)} of {human_bytes(self.memory.total)} RAM free. "
            f"Estimates are for up to {wanted:,} tokens of context (Settings → context length), "
            f"{gpu} GPU layers. Speeds are for the CPU ({self.machine.describe()}); below "
            f"{USABLE_TOKENS_PER_S:.0f} tokens a second a reply is a wait."
        )
        self.machine_label.setWordWrap(True)
        self.tree.clear()
        local_group = self._group("On this machine")
        for entry in list_models(self.settings):
            if entry.info is None:
                item = QTreeWidgetItem(
                    [entry.path.name, "", "", "", f"unusable: {entry.error.message if entry.error else ''}", "", ""]
                )
            else:
                info = entry.info
                estimate = estimate_fit(
                    info.shape(), info.file_size, wanted, self.memory, gpu, self.machine, info.parameter_count
                )
                license_name = str(info.get("general.license", "") or "")
                strengths = "a tiny demo, for trying Hearth" if entry.source == "bundled" else ""
                item = QTreeWidgetItem(
                    [
                        f"{entry.path.stem}  [{entry.source}]",
                        human_bytes(info.file_size),
                        license_name,
                        strengths,
                        fit_text(estimate),
                        speed_text(estimate),
                        "on disk",
                    ]
                )
                item.setToolTip(4, estimate.summary())
                item.setToolTip(5, estimate.speed.sentence() if estimate.speed else "")
                item.setData(0, Qt.ItemDataRole.UserRole, ("local", str(entry.path)))
            item.setToolTip(0, str(entry.path))
            local_group.addChild(item)
        catalogue_group = self._group("Catalogue")
        for model in CURATED_MODELS:
            estimate = model.fit(wanted, self.memory, gpu, self.machine)
            present = model.local_path(models_dir()).is_file()
            item = QTreeWidgetItem(
                [
                    model.name,
                    human_bytes(model.size),
                    model.licence,
                    ", ".join(model.strengths),
                    fit_text(estimate),
                    speed_text(estimate),
                    "downloaded" if present else "",
                ]
            )
            item.setToolTip(0, f"{model.summary}\n{model.repo} / {model.file}")
            item.setToolTip(4, estimate.summary())
            item.setToolTip(5, estimate.speed.sentence() if estimate.speed else "")
            item.setData(0, Qt.ItemDataRole.UserRole, ("catalogue", model.key))
            catalogue_group.addChild(item)
        self.tree.expandAll()
        for column, width in enumerate((250, 75, 85, 220, 300, 230)):
            self.tree.setColumnWidth(column, width)
        self._update_buttons()

    def _group(self, title: str) -> QTreeWidgetItem:
        group = QTreeWidgetItem([title])
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.tree.addTopLevelItem(group)
        group.setFirstColumnSpanned(True)
        return group

    def select(self, kind: str, value: str) -> None:
        for group_index in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(group_index)
            if group is None:
                continue
            for index in range(group.childCount()):
                item = group.child(index)
                if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == (kind, value):
                    self.tree.setCurrentItem(item)
                    return

    def _selected(self) -> tuple[str, str] | None:
        item = self.tree.currentItem()
        data = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return (str(data[0]), str(data[1])) if data else None

    def _selected_model(self) -> CuratedModel | None:
        selected = self._selected()
        if not selected or selected[0] != "catalogue":
            return None
        return next(m for m in CURATED_MODELS if m.key == selected[1])

    def _update_buttons(self) -> None:
        busy = self.downloading is not None
        model = self._selected_model()
        present = model is not None and model.local_path(models_dir()).is_file()
        self.download_button.setEnabled(not busy and model is not None and not present)
        self.pause_button.setEnabled(busy)
        self.cancel_button.setEnabled(busy)
        self.use_button.setEnabled(self._selected() is not None and (model is None or present))

    def download_selected(self) -> None:
        model = self._selected_model()
        if model is None or self.downloading is not None:
            return
        self.downloading = model
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.progress_label.setText(f"Connecting for {model.name}…")
        self._update_buttons()
        self.worker.downloadRequested.emit(model.repo, model.file, model.revision)

    def use_selected(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        if selected[0] == "local":
            self.useModelRequested.emit(selected[1])
            return
        model = self._selected_model()
        if model is not None and model.local_path(models_dir()).is_file():
            self.useModelRequested.emit(str(model.local_path(models_dir())))

    def _on_progress(self, report: DownloadProgress) -> None:
        if report.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * report.done / report.total))
        name = self.downloading.name if self.downloading else ""
        self.progress_label.setText(f"{name}: {describe_progress(report)}")

    def _on_finished(self, path: str) -> None:
        name = self.downloading.name if self.downloading else path
        key = self.downloading.key if self.downloading else ""
        self.downloading = None
        self.progress.setVisible(False)
        self.progress_label.setText(f"{name} is downloaded and verified. Select it and press “Chat with this model”.")
        self.refresh()
        if key:
            self.select("catalogue", key)

    def _on_stopped(self, paused: bool) -> None:
        name = self.downloading.name if self.downloading else ""
        self.downloading = None
        self.progress.setVisible(False)
        self.progress_label.setText(
            f"{name}: paused. Press Download to resume where it stopped."
            if paused
            else f"{name}: download cancelled; the partial file was deleted."
        )
        self._update_buttons()

    def _on_failed(self, message: str, hint: str) -> QMessageBox | None:
        if self.downloading is None:
            return None
        self.downloading = None
        self.progress.setVisible(False)
        self.progress_label.setText(message)
        self._update_buttons()
        box = QMessageBox(QMessageBox.Icon.Warning, "Download failed", message, parent=self)
        box.setInformativeText(hint)
        box.open()
        return box

    def done(self, result: int) -> None:
        # Closing the window pauses a download: nothing runs unseen, and the next Download resumes it.
        if self.downloading is not None:
            self.worker.pause()
        for signal, slot in (
            (self.worker.progressChanged, self._on_progress),
            (self.worker.finished, self._on_finished),
            (self.worker.stopped, self._on_stopped),
            (self.worker.failed, self._on_failed),
        ):
            signal.disconnect(slot)
        super().done(result)


def open_models_dialog(worker: DownloadWorker, settings: Settings, parent: QWidget, **extra: Any) -> ModelsDialog:
    dialog = ModelsDialog(worker, settings, parent, **extra)
    dialog.setObjectName("modelsDialog")
    dialog.open()
    return dialog
