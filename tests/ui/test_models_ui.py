"""The Models window and the first-run welcome, downloading from a real 127.0.0.1 server that answers like the hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QPushButton

from assistant.config import models_dir
from assistant.engine.download import ModelDownloader
from assistant.engine.fit import GIB, MachineMemory
from assistant.engine.model_catalogue import curated_model
from assistant.engine.speed import MachineSpeed
from tests.engine.hub_server import FakeHub, running_hub


@pytest.fixture
def hub(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    """The hub serves the bundled GGUF's bytes under the catalogue's names (no test reaches the internet)."""
    content = model_path.read_bytes()
    with running_hub() as server:
        for key in ("qwen3-0.6b", "llama-3.2-1b", "qwen3-1.7b"):
            model = curated_model(key)
            server.add(model.repo, model.file, content)
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def test_models_window_lists_the_catalogue_with_fit_and_downloads(  # type: ignore[no-untyped-def]
    make_hearth, scripted, hub: FakeHub, qtbot, screenshot
) -> None:
    hearth = make_hearth(lambda settings: scripted)
    hearth.window.toolbar.models_action.trigger()
    dialog = hearth.window.findChild(QDialog, "modelsDialog")
    assert dialog is not None and dialog.isVisible()
    local, catalogue = dialog.tree.topLevelItem(0), dialog.tree.topLevelItem(1)
    assert local.childCount() == 1 and "[bundled]" in local.child(0).text(0)
    assert "fits comfortably" in local.child(0).text(4)
    names = [catalogue.child(i).text(0) for i in range(catalogue.childCount())]
    assert "Qwen3 4B" in names and "Gemma 3 4B" in names and "Phi-4-mini Instruct" in names
    assert all("tokens" in catalogue.child(i).text(4) for i in range(catalogue.childCount()))
    screenshot(dialog, "30-models-window")

    model = curated_model("qwen3-0.6b")
    dialog.select("catalogue", model.key)
    assert dialog.download_button.isEnabled() and not dialog.use_button.isEnabled()
    # Worker signals are waited for through what the window shows: a wait on the worker's own signal
    # would be stopped from the worker's thread.
    dialog.download_button.click()
    qtbot.waitUntil(lambda: "verified" in dialog.progress_label.text(), timeout=60_000)
    assert (models_dir() / model.file).is_file()
    assert dialog.tree.currentItem().text(6) == "downloaded" and dialog.use_button.isEnabled()
    screenshot(dialog, "31-models-window-downloaded")
    with qtbot.waitSignal(hearth.window.modelStateChanged, timeout=10_000):
        dialog.use_button.click()
    assert hearth.window.settings.model.path == models_dir() / model.file
    dialog.done(0)


def test_pause_resumes_from_the_part_and_cancel_deletes_it(  # type: ignore[no-untyped-def]
    make_hearth, scripted, hub: FakeHub, qtbot
) -> None:
    hearth = make_hearth(lambda settings: scripted)
    dialog = hearth.open_models()
    worker = hearth.download_worker
    model = curated_model("llama-3.2-1b")
    dialog.select("catalogue", model.key)

    # Pause on the first progress report (a direct connection: it runs on the worker's thread, mid-download).
    def pause(report: object) -> None:
        worker.pause()

    worker.progressChanged.connect(pause, type=Qt.ConnectionType.DirectConnection)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: "paused" in dialog.progress_label.text(), timeout=60_000)
    part = ModelDownloader().part_path(model.repo, model.file)
    kept = part.stat().st_size
    assert 0 < kept < len(hub.files[f"{model.repo}/{model.file}"].content)
    worker.progressChanged.disconnect(pause)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: "verified" in dialog.progress_label.text(), timeout=60_000)
    assert hub.range_starts == [0, kept] and not part.exists()

    other = curated_model("qwen3-1.7b")
    dialog.select("catalogue", other.key)

    def cancel(report: object) -> None:
        worker.cancel()

    worker.progressChanged.connect(cancel, type=Qt.ConnectionType.DirectConnection)
    dialog.download_button.click()
    qtbot.waitUntil(lambda: "cancelled" in dialog.progress_label.text(), timeout=60_000)
    assert not ModelDownloader().part_path(other.repo, other.file).exists()
    assert not (models_dir() / other.file).exists()
    worker.progressChanged.disconnect(cancel)
    dialog.done(0)


def test_first_run_welcome_recommends_a_fitting_model_and_gets_it_in_one_click(  # type: ignore[no-untyped-def]
    make_hearth, scripted, hub: FakeHub, qtbot, screenshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 4 GB laptop with 3 GB free: the welcome should not recommend the 8B model.
    monkeypatch.setattr("assistant.ui.welcome_dialog.machine_memory", lambda: MachineMemory(3 * GIB, 4 * GIB))
    hearth = make_hearth(lambda settings: scripted, welcome=True)
    qtbot.waitUntil(lambda: hearth.window.findChild(QDialog, "welcomeDialog") is not None, timeout=10_000)
    welcome = hearth.window.findChild(QDialog, "welcomeDialog")
    assert welcome.isVisible() and "demo model" in welcome.intro.text()
    assert welcome.model is not None and welcome.model.size < 3 * GIB
    assert welcome.model.key in {"qwen3-1.7b", "llama-3.2-1b", "qwen3-0.6b"}
    screenshot(welcome, "32-welcome")
    welcome.download_button.click()
    qtbot.waitUntil(lambda: welcome.use_button.isVisible(), timeout=60_000)
    assert "verified" in welcome.progress_label.text()
    screenshot(welcome, "33-welcome-downloaded")
    with qtbot.waitSignal(hearth.window.modelStateChanged, timeout=10_000):
        welcome.use_button.click()
    assert hearth.window.settings.model.path == models_dir() / welcome.model.file
    # Shown once: a second start does not greet again.
    from assistant.ui.welcome_dialog import should_welcome

    assert not should_welcome(hearth.window.settings)


def test_the_machine_is_measured_off_the_ui_thread_before_the_welcome_opens(  # type: ignore[no-untyped-def]
    make_hearth, scripted, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bandwidth copy takes up to seconds on a busy machine: never on the UI thread."""
    import threading

    measured_on: list[str] = []

    def measure(*args: object, **kwargs: object) -> float:
        measured_on.append(threading.current_thread().name)
        return 10e9

    monkeypatch.setattr("assistant.engine.speed.measure_bandwidth", measure)
    hearth = make_hearth(lambda settings: scripted, welcome=True)
    qtbot.waitUntil(lambda: hearth.window.findChild(QDialog, "welcomeDialog") is not None, timeout=10_000)
    assert measured_on == ["hearth-machine-speed"]  # once, on its own thread; the welcome read the result
    assert "10.0 GB/s" in hearth.window.findChild(QDialog, "welcomeDialog").recommendation.text()


def test_no_welcome_once_a_model_is_chosen(make_hearth, scripted, qtbot) -> None:  # type: ignore[no-untyped-def]
    (models_dir() / "mine.gguf").write_bytes(b"GGUF")
    hearth = make_hearth(lambda settings: scripted, welcome=True)
    qtbot.wait(50)
    assert hearth.window.findChild(QDialog, "welcomeDialog") is None


def test_welcome_and_models_window_show_the_speed_and_a_two_core_machine_gets_a_usable_model(  # type: ignore[no-untyped-def]
    make_hearth, scripted, qtbot, screenshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Memory for everything, but two cores and a laptop's bandwidth: the 8B model would write a
    # word or two a second, so the welcome recommends a small one and says how fast it is.
    two_cores = MachineSpeed(bandwidth=8e9, cores=2)
    monkeypatch.setattr("assistant.ui.welcome_dialog.machine_memory", lambda: MachineMemory(28 * GIB, 32 * GIB))
    monkeypatch.setattr("assistant.ui.models_dialog.machine_memory", lambda: MachineMemory(28 * GIB, 32 * GIB))
    monkeypatch.setattr("assistant.ui.welcome_dialog.machine_speed", lambda **_: two_cores)
    monkeypatch.setattr("assistant.ui.models_dialog.machine_speed", lambda **_: two_cores)
    hearth = make_hearth(lambda settings: scripted, welcome=True)
    qtbot.waitUntil(lambda: hearth.window.findChild(QDialog, "welcomeDialog") is not None, timeout=10_000)
    welcome = hearth.window.findChild(QDialog, "welcomeDialog")
    text = welcome.recommendation.text()
    assert welcome.model is not None and welcome.model.key != "qwen3-8b" and welcome.model.size < GIB
    assert "tokens a second" in text and "2 cores" in text
    assert "slow" not in text.split("</b>")[1]  # the recommended model is not slow
    screenshot(welcome, "34-welcome-speed")
    see_all = next(b for b in welcome.findChildren(QPushButton) if b.text() == "See all models…")
    qtbot.mouseClick(see_all, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: hearth.window.findChild(QDialog, "modelsDialog") is not None, timeout=10_000)
    dialog = hearth.window.findChild(QDialog, "modelsDialog")
    catalogue = dialog.tree.topLevelItem(1)
    rows = {catalogue.child(i).text(0): catalogue.child(i) for i in range(catalogue.childCount())}
    eight = rows["Qwen3 8B"]
    assert "slow" in eight.text(4) and "fits comfortably" not in eight.text(4)
    assert eight.text(5).startswith("slow: ~1.") and "tokens/s" in eight.text(5)
    assert "slow" not in rows[welcome.model.name].text(5)
    assert "tokens/s" in dialog.tree.topLevelItem(0).child(0).text(5)  # the bundled model too
    screenshot(dialog, "35-models-speed")
    dialog.done(0)
