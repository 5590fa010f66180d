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
