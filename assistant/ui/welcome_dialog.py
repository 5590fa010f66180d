"""The first-run welcome: what the bundled model is, and one click to a better one that fits."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from assistant.config import Settings, models_dir
from assistant.core.units import human_bytes
from assistant.engine.download import DownloadProgress
from assistant.engine.fit import MachineMemory, machine_memory
from assistant.engine.model_catalogue import CuratedModel, recommend
from assistant.engine.speed import MachineSpeed, machine_speed
from assistant.ui.download_worker import DownloadWorker
from assistant.ui.models_dialog import describe_progress, fit_text

WELCOME_MARKER = ".welcome-shown"


def should_welcome(settings: Settings) -> bool:
    """Only on a first run that still chats with the bundled demo model."""
    if settings.engine.backend != "llama" or settings.model.path is not None:
        return False
    folder = models_dir()
    return not (folder.parent / WELCOME_MARKER).exists() and not any(folder.glob("*.gguf"))


def mark_welcomed() -> None:
    (models_dir().parent / WELCOME_MARKER).touch()


class WelcomeDialog(QDialog):
    useModelRequested = Signal(str)
    openModelsRequested = Signal()

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
        self.setWindowTitle("Welcome to Hearth")
        self.setAccessibleName("Welcome to Hearth")
        self.setMinimumWidth(640)
        self.memory = memory or machine_memory()
        self.machine = machine or machine_speed(n_threads=settings.model.n_threads)
        choice = recommend(settings.model.n_ctx, self.memory, self.machine)
        self.model: CuratedModel | None = choice[0] if choice else None
        self.downloading = False
        self.intro = intro = QLabel(
            "<h2>Welcome to Hearth</h2>"
            "<p>Hearth runs a language model on this computer: nothing you write leaves it.</p>"
            "<p>Right now it uses the <b>bundled demo model</b> (SmolLM2, 135 million parameters): tiny, "
            "so that Hearth works offline the moment it is installed, but its answers are often wrong. "
            "For real use, download a better model.</p>"
        )
        intro.setWordWrap(True)
        self.recommendation = QLabel()
        self.recommendation.setWordWrap(True)
        self.download_button = QPushButton()
        self.download_button.clicked.connect(self.download)
        self.use_button = QPushButton()
        self.use_button.setVisible(False)
        self.use_button.clicked.connect(self._use)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setVisible(False)
        self.pause_button.clicked.connect(worker.pause)
        others = QPushButton("See all models…")
        others.clicked.connect(self._open_models)
        keep = QPushButton("Keep the demo model for now")
        keep.clicked.connect(self.reject)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress_label = QLabel("")
        self.progress_label.setWordWrap(True)
        main_buttons = QHBoxLayout()
        for button in (self.download_button, self.use_button, self.pause_button):
            button.setMinimumHeight(36)
            main_buttons.addWidget(button)
        main_buttons.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(others)
        buttons.addWidget(keep)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.recommendation)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_label)
        layout.addLayout(main_buttons)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        worker.progressChanged.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.stopped.connect(self._on_stopped)
        worker.failed.connect(self._on_failed)
        self._show_recommendation(settings.model.n_ctx)

    def _show_recommendation(self, n_ctx: int) -> None:
        free = human_bytes(self.memory.available)
        if self.model is None:
            self.recommendation.setText(
                f"<p>This machine has {free} of memory free: not enough for the catalogue's models. "
                "The demo model is the one that fits; close other programs and look again in Models….</p>"
            )
            self.download_button.setVisible(False)
            return
        model = self.model
        estimate = model.fit(n_ctx, self.memory, machine=self.machine)
        speed = estimate.speed.sentence() if estimate.speed else ""
        why = (
            ""
            if estimate.usable
            else " No model of the catalogue writes at a usable speed on this machine; this one is the fastest."
        )
        self.recommendation.setText(
            f"<p>Recommended for this machine ({free} free, {self.machine.describe()}): <b>{model.name}</b>, "
            f"{human_bytes(model.size)}, licence {model.licence}. {model.summary}<br>"
            f"Good at: {', '.join(model.strengths)}. {fit_text(estimate)}.</p>"
            f"<p>{speed}{why}</p>"
            f"<p><small>From {model.repo} on the Hugging Face hub, checked against its SHA-256.</small></p>"
        )
        self.download_button.setText(f"Download {model.name} ({human_bytes(model.size)})")
        self.use_button.setText(f"Start chatting with {model.name}")
        if model.local_path(models_dir()).is_file():
            self._ready()

    def download(self) -> None:
        if self.model is None:
            return
        self.downloading = True
        self.download_button.setEnabled(False)
        self.pause_button.setVisible(True)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.progress_label.setText("Connecting…")
        self.worker.downloadRequested.emit(self.model.repo, self.model.file, self.model.revision)

    def _on_progress(self, report: DownloadProgress) -> None:
        if report.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * report.done / report.total))
        self.progress_label.setText(describe_progress(report))

    def _on_finished(self, path: str) -> None:
        self.progress_label.setText("Downloaded and verified.")
        self._ready()

    def _ready(self) -> None:
        self.downloading = False
        self.progress.setVisible(False)
        self.pause_button.setVisible(False)
        self.download_button.setVisible(False)
        self.use_button.setVisible(True)
        self.use_button.setDefault(True)

    def _on_stopped(self, paused: bool) -> None:
        self.downloading = False
        self.progress.setVisible(False)
        self.pause_button.setVisible(False)
        self.download_button.setEnabled(True)
        self.download_button.setText("Resume download" if paused else self.download_button.text())
        self.progress_label.setText("Paused: it resumes where it stopped." if paused else "Cancelled.")

    def _on_failed(self, message: str, hint: str) -> None:
        self.downloading = False
        self.progress.setVisible(False)
        self.pause_button.setVisible(False)
        self.download_button.setEnabled(True)
        self.progress_label.setText(f"{message} {hint}")

    def _use(self) -> None:
        if self.model is not None:
            self.useModelRequested.emit(str(self.model.local_path(models_dir())))
        self.accept()

    def _open_models(self) -> None:
        self.openModelsRequested.emit()
        self.reject()

    def done(self, result: int) -> None:
        if self.downloading:
            self.worker.pause()  # nothing runs unseen; Models… resumes it
        for signal, slot in (
            (self.worker.progressChanged, self._on_progress),
            (self.worker.finished, self._on_finished),
            (self.worker.stopped, self._on_stopped),
            (self.worker.failed, self._on_failed),
        ):
            signal.disconnect(slot)
        mark_welcomed()
        super().done(result)
