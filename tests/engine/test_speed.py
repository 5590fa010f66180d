"""Speed estimates: tokens a second for writing and reading, the measured bandwidth kept, and a
recommendation that prefers a model answering at a usable speed over the largest that fits."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from assistant.engine import speed
from assistant.engine.fit import GIB, MachineMemory
from assistant.engine.model_catalogue import curated_model, recommend
from assistant.engine.speed import USABLE_TOKENS_PER_S, MachineSpeed, estimate_speed, machine_speed

ROOMY = MachineMemory(available=32 * GIB, total=32 * GIB)
TWO_CORES = MachineSpeed(bandwidth=8e9, cores=2)  # a small laptop or VM, CPU only
WORKSTATION = MachineSpeed(bandwidth=60e9, cores=16)


def test_a_two_core_machine_gets_a_small_model_and_the_8b_is_called_slow() -> None:
    choice = recommend(8192, ROOMY, TWO_CORES)
    assert choice is not None
    model, estimate = choice
    assert model.size < 1 * GIB, model.key
    assert estimate.speed is not None and estimate.speed.usable
    eight = curated_model("qwen3-8b").fit(8192, ROOMY, machine=TWO_CORES)
    assert eight.verdict == "fits comfortably" and not eight.usable  # enough memory, too slow
    assert eight.speed is not None and eight.speed.generation < 3
    assert "slow" in eight.speed.short() and "too slow" in eight.summary()
    assert eight.summary().startswith("fits, but slow:")  # not "fits comfortably"
    assert "slow" in eight.speed.sentence()


def test_a_fast_machine_still_gets_the_largest_model_that_fits() -> None:
    choice = recommend(8192, ROOMY, WORKSTATION)
    assert choice is not None and choice[0].key == "qwen3-8b"
    assert choice[1].speed is not None and choice[1].speed.generation >= USABLE_TOKENS_PER_S


def test_where_none_is_fast_enough_the_fastest_that_fits_is_recommended() -> None:
    crawl = MachineSpeed(bandwidth=2e9, cores=1)
    choice = recommend(8192, ROOMY, crawl)
    assert choice is not None and choice[0].key == "qwen3-0.6b"
    assert choice[1].speed is not None and not choice[1].speed.usable


def test_speed_falls_with_size_and_rises_with_cores_and_bandwidth() -> None:
    small, large = curated_model("qwen3-1.7b"), curated_model("qwen3-8b")
    assert (
        estimate_speed(small.size, small.parameters, TWO_CORES).generation
        > estimate_speed(large.size, large.parameters, TWO_CORES).generation
    )
    slow = estimate_speed(large.size, large.parameters, MachineSpeed(20e9, 4))
    assert estimate_speed(large.size, large.parameters, MachineSpeed(20e9, 8)).generation > slow.generation
    assert estimate_speed(large.size, large.parameters, MachineSpeed(80e9, 64)).generation > slow.generation
    assert slow.prompt > slow.generation  # a prompt is read in batches


def test_the_bandwidth_is_measured_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    measured = []

    def measure(size: int = speed.MEASURE_BYTES, repeats: int = 3) -> float:
        measured.append(size)
        return 12e9

    monkeypatch.setattr(speed, "measure_bandwidth", measure)
    first = machine_speed(tmp_path, n_threads=3)
    assert first == MachineSpeed(12e9, 3) and len(measured) == 1
    assert machine_speed(tmp_path).bandwidth == 12e9 and len(measured) == 1  # from the file
    assert machine_speed(tmp_path).cores == (os.cpu_count() or 2)
    record = json.loads((tmp_path / speed.CACHE_NAME).read_text())
    (tmp_path / speed.CACHE_NAME).write_text(json.dumps({**record, "cpus": record["cpus"] + 1}))
    machine_speed(tmp_path)  # another machine (or a resized VM): measured again
    (tmp_path / speed.CACHE_NAME).write_text("{not json")
    machine_speed(tmp_path)
    assert len(measured) == 3
    month_ago = time.time() - (speed.CACHE_DAYS + 1) * 86400
    (tmp_path / speed.CACHE_NAME).write_text(json.dumps({**record, "measured_at": month_ago}))
    machine_speed(tmp_path)
    assert len(measured) == 4


def test_the_real_measurement_is_plausible() -> None:
    bandwidth = speed.measure_bandwidth(32 * 1024 * 1024, repeats=2)
    assert 0.2e9 < bandwidth < 2e12
