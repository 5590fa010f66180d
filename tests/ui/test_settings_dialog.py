from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from assistant.config import Settings, load_settings, settings_path
from assistant.ui.settings_dialog import SettingsDialog


def test_a_model_that_is_not_gguf_is_refused_with_its_reason(qtbot, tmp_path: Path, screenshot) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    notes = tmp_path / "notes.gguf"
    notes.write_text("not a model")
    dialog.model_path.setText(str(notes))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.result_settings is None
    assert "not a GGUF" in dialog.error_label.text()
    screenshot(dialog, "08-settings-error")
    dialog.model_path.setText(str(tmp_path / "missing.gguf"))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "not found" in dialog.error_label.text()


def test_valid_settings_are_collected(qtbot, model_path: Path, screenshot) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    screenshot(dialog, "09-settings")
    dialog.model_path.setText(str(model_path))
    dialog.n_ctx.setValue(2048)
    dialog.temperature.setValue(0.3)
    dialog.seed.setValue(7)
    dialog.theme.setCurrentText("dark")
    dialog.refine_rounds.setValue(2)
    dialog.votes.setValue(5)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    result = dialog.result_settings
    assert result is not None
    assert (result.reasoning.refine_rounds, result.reasoning.votes) == (2, 5)
    assert result.model.path == model_path and result.model.n_ctx == 2048
    assert result.sampling.temperature == 0.3 and result.sampling.seed == 7 and result.ui.theme == "dark"


def test_applying_settings_saves_them_and_reloads_the_model(qtbot, make_hearth, model_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes import ScriptedEngine

    loads = []

    def factory(settings: Settings) -> ScriptedEngine:
        loads.append(settings.model.n_ctx)
        return ScriptedEngine(n_ctx=settings.model.n_ctx)

    hearth = make_hearth(factory)
    changed = hearth.settings.model_copy(deep=True)
    changed.model.n_ctx = 1024
    with qtbot.waitSignal(hearth.window.modelStateChanged, check_params_cb=lambda s: s == "ready", timeout=10_000):
        hearth.window.apply_settings(changed)
    assert loads == [4096, 1024]
    assert settings_path().exists() and load_settings().model.n_ctx == 1024
    sampling_only = changed.model_copy(deep=True)
    sampling_only.sampling.temperature = 0.1
    hearth.window.apply_settings(sampling_only)
    assert loads == [4096, 1024]  # sampling changes need no reload


def test_the_fit_estimate_follows_the_context_length(qtbot, tmp_path: Path, screenshot) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.n_ctx.setValue(2048)
    assert "2,048 tokens" in dialog.fit_label.text() and "KV cache 45.0 MB" in dialog.fit_label.text()
    dialog.n_ctx.setValue(8192)
    assert "8,192 tokens" in dialog.fit_label.text() and "KV cache 180.0 MB" in dialog.fit_label.text()
    screenshot(dialog, "34-settings-fit")
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF-but-not-really")
    dialog.model_path.setText(str(broken))
    dialog.model_path.editingFinished.emit()
    assert "broken.gguf" in dialog.fit_label.text()


def test_each_model_gets_back_its_own_context_and_gpu_layers(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, hearth_home: Path, model_path: Path
) -> None:
    import shutil

    from tests.fakes import ScriptedEngine

    other = hearth_home / "models" / "Other.gguf"
    other.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_path, other)
    loads: list[tuple[object, int, int]] = []

    def factory(settings: Settings) -> ScriptedEngine:
        loads.append((settings.model.path, settings.model.n_ctx, settings.model.n_gpu_layers))
        return ScriptedEngine(n_ctx=settings.model.n_ctx)

    hearth = make_hearth(factory)
    window = hearth.window

    def apply(n_ctx: int, gpu: int) -> None:
        changed = window.settings.model_copy(deep=True)
        changed.model.n_ctx, changed.model.n_gpu_layers = n_ctx, gpu
        with qtbot.waitSignal(window.modelStateChanged, check_params_cb=lambda s: s == "ready", timeout=10_000):
            window.apply_settings(changed)

    def use(path: Path | None) -> None:
        with qtbot.waitSignal(window.modelStateChanged, check_params_cb=lambda s: s == "ready", timeout=10_000):
            window.use_model(path)

    apply(2048, 0)  # the bundled model at 2048
    use(other)  # a model never used before keeps the values in use
    assert loads[-1] == (other, 2048, 0)
    apply(8192, 12)
    use(None)
    assert loads[-1] == (None, 2048, 0)
    use(other)
    assert loads[-1] == (other, 8192, 12)
    assert load_settings().per_model["Other.gguf"].n_gpu_layers == 12
