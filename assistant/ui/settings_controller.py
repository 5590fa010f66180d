"""The one path by which settings change in the window: the Settings dialog, the model picker, a
profile's default model and the memory switch all hand a new Settings here, which saves it, says
so, and reloads the model when the model or engine settings changed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from assistant.config import PerModelSettings, Settings, model_key, save_settings
from assistant.ui.worker import ChatWorker


class SettingsController(QObject):
    changed = Signal(object)  # the new Settings, after it was saved

    def __init__(self, settings: Settings, worker: ChatWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.worker = worker
        # The model the engine runs: the settings' one, or the active profile's, which is never saved.
        self.loaded_model: Path | None = settings.model.path

    def apply(self, settings: Settings | None) -> None:
        if settings is None:
            return
        reload = settings.model != self.settings.model or settings.engine != self.settings.engine
        reload = reload or self.loaded_model != settings.model.path
        model = settings.model
        settings.per_model[model_key(model.path)] = PerModelSettings(
            n_ctx=model.n_ctx, n_gpu_layers=model.n_gpu_layers, chat_format=model.chat_format
        )
        save_settings(settings)
        self.settings = settings
        self.changed.emit(settings)
        if reload:
            self.loaded_model = settings.model.path
            self.worker.loadRequested.emit(settings)
            self.populate_models()

    def populate_models(self) -> None:
        """Ask the worker for the model list: reading GGUF headers costs ~40 ms a file, not for this thread."""
        self.worker.modelsRequested.emit(self.settings)

    def use_model(self, path: str | Path | None) -> None:
        """Switch to another GGUF file (the picker, or a profile's default model)."""
        from assistant.engine.catalogue import bundled_model_path

        bundled = bundled_model_path()
        # A copy: apply compares old and new to decide whether the model must reload.
        settings = self.settings.model_copy(deep=True)
        settings.model.path = None if path is None or (bundled and str(bundled) == str(path)) else Path(path)
        # The context length, GPU layers and chat format last used with that model come back with it.
        remembered = settings.per_model.get(model_key(settings.model.path))
        if remembered is not None:
            settings.model.n_ctx = remembered.n_ctx
            settings.model.n_gpu_layers = remembered.n_gpu_layers
            settings.model.chat_format = remembered.chat_format
        self.apply(settings)

    def use_profile_model(self, path: str) -> None:
        """Load a profile's model for as long as the profile is active, without writing it into the
        settings; "" goes back to the settings' model."""
        from assistant.engine.catalogue import bundled_model_path

        bundled = bundled_model_path()
        wanted = Path(path) if path and not (bundled and str(bundled) == path) else None
        wanted = wanted if path else self.settings.model.path
        if wanted == self.loaded_model:
            return
        self.loaded_model = wanted
        session = self.settings.model_copy(deep=True)
        session.model.path = wanted
        self.worker.loadRequested.emit(session)
        self.worker.modelsRequested.emit(session)

    def open_dialog(self, parent: QWidget) -> None:
        from assistant.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, parent)
        dialog.setObjectName("settingsDialog")
        dialog.accepted.connect(lambda: self.apply(dialog.result_settings))
        dialog.open()
