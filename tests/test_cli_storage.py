"""The terminal on a full disk: a sentence saying so, the traceback in hearth.log, never on screen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_indexing_onto_a_full_disk_says_the_disk_is_full(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(home)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        folder = tmp_path / "notes"
        folder.mkdir()
        for n in range(40):
            (folder / f"note{n}.txt").write_text(f"The kettle number {n} needs descaling every month. " * 400)
        env = {**os.environ, "HEARTH_HOME": str(home), "PYTHONPATH": str(ROOT)}
        run = subprocess.run(
            [sys.executable, "-m", "assistant", "index", str(folder), "--collection", "home"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 1, run.stdout[-2000:]
        assert "Traceback" not in run.stderr, run.stderr[-3000:]
        assert "the disk is full" in run.stderr and "free some space" in run.stderr.lower()
    finally:
        subprocess.run(["umount", "-l", str(home)], check=False)
