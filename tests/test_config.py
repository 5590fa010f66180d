from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import load_settings
from assistant.core.errors import SettingsError


def test_a_version_1_settings_file_loads_with_no_per_model_values(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 1, "model": {"n_ctx": 2048}}), encoding="utf-8")
    settings = load_settings(path)
    assert settings.schema_version == 2 and settings.model.n_ctx == 2048 and settings.per_model == {}


def test_a_newer_settings_file_is_named_as_newer(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"schema_version": 3}), encoding="utf-8")
    with pytest.raises(SettingsError, match="newer Hearth"):
        load_settings(path)


# ----- SettingsStore: the one current Settings of a running Hearth ---------------------------------


def test_the_store_saves_a_change_and_tells_each_subscriber_before_and_after(tmp_path: Path) -> None:
    from assistant.config import Settings, SettingsStore

    path = tmp_path / "settings.json"
    store = SettingsStore(Settings(), path)
    heard: list[tuple[float, float]] = []
    unsubscribe = store.subscribe(
        lambda before, after: heard.append((before.sampling.temperature, after.sampling.temperature))
    )
    first = store.current
    store.edit(lambda s: setattr(s.sampling, "temperature", 0.0))
    assert heard == [(0.7, 0.0)] and store.current.sampling.temperature == 0.0
    assert first.sampling.temperature == 0.7, "the settings a reader holds are replaced, never changed under it"
    assert load_settings(path).sampling.temperature == 0.0
    assert store().sampling.temperature == 0.0  # the store is its own getter
    unsubscribe()
    store.edit(lambda s: setattr(s.sampling, "max_tokens", 20))
    assert heard == [(0.7, 0.0)]


def test_a_value_out_of_bounds_changes_nothing(tmp_path: Path) -> None:
    from assistant.config import Settings, SettingsStore

    path = tmp_path / "settings.json"
    store = SettingsStore(Settings(), path)
    heard: list[object] = []
    store.subscribe(lambda before, after: heard.append(after))
    wrong = Settings()
    wrong.sampling.__dict__["max_tokens"] = 0  # past the checks on assignment, as a hand-edited value would be
    with pytest.raises(SettingsError, match="max_tokens"):
        store.update(wrong)
    assert heard == [] and not path.exists() and store.current.sampling.max_tokens == 512


def test_a_failing_subscriber_does_not_keep_the_change_from_the_others(tmp_path: Path) -> None:
    from assistant.config import Settings, SettingsStore

    store = SettingsStore(Settings(), tmp_path / "settings.json")
    heard: list[int] = []

    def broken(before: Settings, after: Settings) -> None:
        raise RuntimeError("broken subscriber")

    store.subscribe(broken)
    store.subscribe(lambda before, after: heard.append(after.sampling.max_tokens))
    store.edit(lambda s: setattr(s.sampling, "max_tokens", 20))
    assert heard == [20]


def test_settings_that_cannot_be_saved_apply_and_say_so(tmp_path: Path) -> None:
    from assistant.config import Settings, SettingsStore

    store = SettingsStore(Settings(), tmp_path / "missing folder" / "settings.json")
    with pytest.raises(SettingsError, match="could not be saved"):
        store.edit(lambda s: setattr(s.sampling, "max_tokens", 20))
    assert store.current.sampling.max_tokens == 20


def test_the_store_remembers_what_each_model_used(tmp_path: Path) -> None:
    from assistant.config import Settings, SettingsStore

    store = SettingsStore(Settings(), tmp_path / "settings.json")
    store.edit(lambda s: setattr(s.model, "n_ctx", 2048))
    assert store.current.per_model["bundled"].n_ctx == 2048
