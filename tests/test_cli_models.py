"""``hearth models list`` and ``hearth models download``, against a real 127.0.0.1 server serving a real GGUF."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import cli
from assistant.config import models_dir
from assistant.engine.model_catalogue import curated_model
from tests.engine.hub_server import FakeHub, running_hub

REPO, FILE = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture
def hub(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    with running_hub() as server:
        server.add(REPO, FILE, model_path.read_bytes())
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def test_list_shows_the_catalogue_with_a_fit_estimate(hearth_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "list", "--json", "--context", "8192"]) == 0
    rows = json.loads(capsys.readouterr().out)
    bundled = next(r for r in rows if r["source"] == "bundled")
    assert bundled["fit"]["verdict"] in ("fits comfortably", "tight", "will not fit")
    assert bundled["fit"]["n_ctx"] == 8192 and bundled["fit"]["kv_cache_bytes"] > 0
    catalogue = {r["key"]: r for r in rows if r["source"] == "catalogue"}
    assert {"qwen3-4b", "llama-3.2-1b", "gemma-3-4b", "phi-4-mini", "deepseek-r1-qwen-1.5b"} <= set(catalogue)
    qwen = catalogue["qwen3-4b"]
    assert qwen["repo"] == "Qwen/Qwen3-4B-GGUF" and qwen["downloaded"] is False and qwen["path"] is None
    assert "thinking" in qwen["strengths"] and qwen["licence"] == "apache-2.0"
    assert qwen["fit"]["needed_bytes"] > qwen["file_size"]
    assert cli.main(["models", "list"]) == 0
    text = capsys.readouterr().out
    assert "Catalogue" in text and "qwen3-4b" in text and "tokens of context" in text


def test_list_shows_each_models_speed_on_this_machine(hearth_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A two-core machine with a laptop's bandwidth, as a measurement kept in the data folder says.
    from assistant.config import data_dir, load_settings, save_settings
    from assistant.engine.speed import CACHE_NAME, CACHE_VERSION

    record = {"version": CACHE_VERSION, "bandwidth": 8e9, "cpus": os.cpu_count() or 1, "measured_at": time.time()}
    (data_dir() / CACHE_NAME).write_text(json.dumps(record))
    settings = load_settings()
    settings.model.n_threads = 2
    save_settings(settings)
    assert cli.main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    catalogue = {r["key"]: r for r in rows if r["source"] == "catalogue"}
    eight = catalogue["qwen3-8b"]["fit"]["speed"]
    assert eight["usable"] is False and eight["generation_tokens_per_s"] < 3 and eight["prompt_tokens_per_s"] > 0
    assert catalogue["qwen3-0.6b"]["fit"]["speed"]["usable"] is True
    bundled = next(r for r in rows if r["source"] == "bundled")
    assert bundled["fit"]["speed"]["generation_tokens_per_s"] > 20
    assert cli.main(["models", "list"]) == 0
    text = capsys.readouterr().out
    assert "This machine: 2 cores, memory 8.0 GB/s" in text and "slow here" in text
    recommended = text.split("Recommended for this machine: ")[1]
    assert recommended.startswith("Qwen3 0.6B") and "tokens/s" in recommended


def test_download_shows_progress_and_saves_a_verified_file(
    hub: FakeHub, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["models", "download", REPO, FILE]) == 0
    out, err = capsys.readouterr()
    assert "Verified (SHA-256) and saved" in out
    assert "100%" in err and "/s" in err and "verifying SHA-256" in err
    assert (models_dir() / FILE).read_bytes() == model_path.read_bytes()
    assert cli.main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert any(r["source"] == "models folder" and r["path"].endswith(FILE) for r in rows)


def test_download_by_catalogue_key(hub: FakeHub, model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = curated_model("qwen3-0.6b")
    hub.add(model.repo, model.file, model_path.read_bytes())
    assert cli.main(["models", "download", "qwen3-0.6b"]) == 0
    assert (models_dir() / model.file).is_file()
    capsys.readouterr()
    assert cli.main(["models", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert next(r for r in rows if r.get("key") == "qwen3-0.6b")["downloaded"] is True


def test_download_errors_are_one_clear_message(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "download", REPO, "Missing.gguf"]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert cli.main(["models", "download", "not-a-key"]) == 1
    assert "not a catalogue key" in capsys.readouterr().err
    assert not list(models_dir().iterdir())


def test_a_stopped_download_resumes_on_the_next_command(
    hub: FakeHub, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.engine.download import ModelDownloader

    part = ModelDownloader().part_path(REPO, FILE)
    part.parent.mkdir(parents=True, exist_ok=True)
    content = model_path.read_bytes()
    part.write_bytes(content[: len(content) // 2])
    part.with_suffix(".json").write_text(json.dumps({"sha256": hub.files[f"{REPO}/{FILE}"].declared_sha256}))
    assert cli.main(["models", "download", REPO, FILE]) == 0
    assert "Resuming" in capsys.readouterr().err
    assert hub.range_starts == [len(content) // 2] and (models_dir() / FILE).read_bytes() == content


def test_search_and_list_a_repositorys_gguf_files(hub: FakeHub, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models", "search", "smollm2"]) == 0
    assert REPO in capsys.readouterr().out
    assert cli.main(["models", "search", "no-such-thing"]) == 0
    assert "No GGUF repositories" in capsys.readouterr().out
    assert cli.main(["models", "files", REPO]) == 0
    out = capsys.readouterr().out
    assert FILE in out and "93.8 MB" in out and "README.md" not in out
    assert cli.main(["models", "files", "nobody/nothing"]) == 1
    assert "HTTP 404" in capsys.readouterr().err
