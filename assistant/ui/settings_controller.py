"""The window's side of the one settings path. The Settings dialog, the model picker, a profile's
default model and the memory switch all hand a new Settings to ``apply``, which puts it in the
``SettingsStore`` (saved there, and read from there by every part at its next turn). This
controller, a subscriber of the store, says so on the UI thread (``changed``) and reloads the model
when the change needs it: the model file, its context length, threads, GPU layers, or the engine."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from assistant.config import Settings, SettingsStore, model_key, needs_reload
from assistant.core.errors import HearthError
from assistant.ui.worker import ChatWorker


class SettingsController(QObject):
    changed = Signal(object)  # the new Settings, once it is the current one (and saved)
    failed = Signal(str, str)  # message, hint: settings refused or not saved

    def __init__(self, store: SettingsStore, worker: ChatWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.worker = worker
        # The active profile's model, loaded instead of the settings' one and never saved ("" for none).
        self.profile_model: Path | str | None = ""
        # What the engine was last loaded with: a change reloads only when it differs from this.
        self.loaded: Settings = store.current
        self.unsubscribe = store.subscribe(self._on_store_changed)

    @property
    def settings(self) -> Settings:
        return self.store.current

    @property
    def loaded_model(self) -> Path | None:
        return self.loaded.model.path

    def apply(self, settings: Settings | None) -> None:
        if settings is None:
            return
        try:
            self.store.update(settings)
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)

    def _on_store_changed(self, before: Settings, after: Settings) -> None:
        self.changed.emit(after)
        wanted = self.engine_settings(after)
        if needs_reload(self.loaded, wanted):
            self._load(wanted)
            self.populate_models()

    def engine_settings(self, settings: Settings | None = None) -> Settings:
        """The settings the engine is built with: the current ones, with the profile's model if any."""
        settings = settings or self.store.current
        if self.profile_model == "":
            return settings
        chosen = settings.model_copy(deep=True)
        chosen.model.path = self.profile_model if isinstance(self.profile_model, Path) else None
        return chosen

    def load(self) -> None:
        """Load the model the settings (or the active profile) name: at start-up."""
        self._load(self.engine_settings())

    def _load(self, settings: Settings) -> None:
        self.loaded = settings
        self.worker.loadRequested.emit(settings)

    def populate_models(self) -> None:
        """Ask the worker for the model list: reading GGUF headers costs ~40 ms a file, not for this thread."""
        self.worker.modelsRequested.emit(self.engine_settings())

    def use_model(self, path: str | Path | None) -> None:
        """Switch to another GGUF file (the picker): saved as the settings' model, and loaded even
        while a profile's own model was in use."""
        from assistant.engine.model_choice import bundled_model_path

        bundled = bundled_model_path()
        self.profile_model = ""
        chosen = None if path is None or (bundled and str(bundled) == str(path)) else Path(path)

        def switch(settings: Settings) -> None:
            settings.model.path = chosen
            # The context length, GPU layers and chat format last used with that model come back with it.
            remembered = settings.per_model.get(model_key(chosen))
            if remembered is not None:
                settings.model.n_ctx = remembered.n_ctx
                settings.model.n_gpu_layers = remembered.n_gpu_layers
                settings.model.chat_format = remembered.chat_format

        try:
            self.store.edit(switch)
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)
        if needs_reload(self.loaded, self.engine_settings()):  # the settings' own model, back from a profile's
            self._load(self.engine_settings())

    def use_profile_model(self, path: str) -> None:
        """Load a profile's model for as long as the profile is active, without writing it into the
        settings; "" goes back to the settings' model."""
        from assistant.engine.model_choice import bundled_model_path

        bundled = bundled_model_path()
        self.profile_model = "" if not path else None if bundled and str(bundled) == path else Path(path)
        wanted = self.engine_settings()
        if not needs_reload(self.loaded, wanted):
            return
        self._load(wanted)
        self.worker.modelsRequested.emit(wanted)

    def open_dialog(self, parent: QWidget) -> QWidget:
        from assistant.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.store, parent)
        dialog.setObjectName("settingsDialog")
        dialog.applyRequested.connect(self.apply)
        dialog.open()
        return dialog
