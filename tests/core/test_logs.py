"""Hearth's own log: a rotated file in the data directory, and exceptions on any thread land in it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(home: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEARTH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=60
    )


def test_uncaught_exceptions_on_the_main_and_other_threads_reach_hearth_log(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = _run(
        home,
        """
        import os, threading
        from pathlib import Path
        from assistant.core import logs
        told = []
        logs.install(Path(os.environ["HEARTH_HOME"]) / "logs")
        logs.on_uncaught(lambda exc: told.append(str(exc)))
        worker = threading.Thread(target=lambda: 1 / 0, name="hearth-worker")
        worker.start()
        worker.join()
        assert told == ["division by zero"], told
        raise RuntimeError("the main thread failed")
        """,
    )
    assert run.returncode == 1
    log = (home / "logs" / "hearth.log").read_text()
    assert "uncaught exception in thread hearth-worker" in log and "ZeroDivisionError" in log
    assert "RuntimeError: the main thread failed" in log
    assert "RuntimeError" in run.stderr  # still printed for whoever runs it in a terminal


def test_the_log_rotates_and_keeps_a_few_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = _run(
        home,
        """
        import logging, os
        from pathlib import Path
        from assistant.core import logs
        logs.install(Path(os.environ["HEARTH_HOME"]) / "logs")
        for n in range(6000):
            logging.getLogger("hearth.test").info("line %d %s", n, "x" * 800)
        """,
    )
    assert run.returncode == 0, run.stderr
    files = sorted(p.name for p in (home / "logs").iterdir())
    assert files == ["hearth.log", "hearth.log.1", "hearth.log.2", "hearth.log.3"]
    assert all(p.stat().st_size <= 1_001_000 for p in (home / "logs").iterdir())


def test_a_terminal_error_is_written_to_the_log_too(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "HEARTH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "conversations", "show", "42"], env=env, capture_output=True, text=True
    )
    assert run.returncode == 1 and "There is no conversation 42" in run.stderr
    assert "There is no conversation 42" in (home / "logs" / "hearth.log").read_text()
