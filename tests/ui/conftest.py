"""Fixtures for the window: a running Hearth on a scripted or the real engine, and screenshots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from assistant.app import Hearth, apply_theme
from assistant.config import Settings
from assistant.engine.base import Engine
from tests.fakes import ScriptedEngine

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def screenshot() -> Callable[[object, str], Path]:
    def save(widget: object, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        assert widget.grab().save(str(path))  # type: ignore[attr-defined]
        return path

    return save


@pytest.fixture
def scripted() -> ScriptedEngine:
    return ScriptedEngine(token_delay_s=0.002)


@pytest.fixture
def make_hearth(qtbot, hearth_home: Path) -> Iterator[Callable[..., Hearth]]:  # type: ignore[no-untyped-def]
    apps: list[Hearth] = []

    def make(
        engine_factory: Callable[[Settings], Engine] | None = None,
        wait_ready: bool = True,
        settings: Settings | None = None,
        **extra: object,
    ) -> Hearth:
        kwargs = {"engine_factory": engine_factory} if engine_factory else {}
        if settings is None:
            # Memory would ask the scripted engine for an extraction after each reply; the memory
            # tests turn it on, the other window tests leave their scripts to the chat alone.
            settings = Settings()
            settings.memory.enabled = False
        hearth = Hearth(settings, **kwargs, **extra)  # type: ignore[arg-type]
        apps.append(hearth)
        qtbot.addWidget(hearth.window)
        if wait_ready:
            with qtbot.waitSignal(
                hearth.window.modelStateChanged,
                timeout=60_000,
                check_params_cb=lambda state: state in ("ready", "failed"),
            ):
                hearth.show()
        else:
            hearth.show()
        return hearth

    yield make
    for hearth in apps:
        hearth.window.close()
        hearth.shutdown()


@pytest.fixture
def hearth(make_hearth, scripted: ScriptedEngine) -> Hearth:  # type: ignore[no-untyped-def]
    return make_hearth(lambda settings: scripted)


@pytest.fixture
def dark_then_light(qapp: QApplication) -> Iterator[QApplication]:
    """The application as it is; set back to the light theme after the test."""
    yield qapp
    apply_theme(qapp, "light")
