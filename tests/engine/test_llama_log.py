"""Nothing llama.cpp logs reaches the terminal: its lines go to Hearth's log file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.tiny_gguf import write_tiny_qwen2

pytest.importorskip("gguf")
pytestmark = pytest.mark.real_model

ROOT = Path(__file__).resolve().parents[2]
# Load, generate, close, as the CLI and the window do, in a process of its own whose stderr is read.
SCRIPT = """
import sys
from assistant.config import ModelSettings
from assistant.core.messages import ChatMessage
from assistant.engine.base import SamplingOptions, complete
from assistant.engine.llama import LlamaEngine

engine = LlamaEngine(sys.argv[1], ModelSettings(n_ctx=int(sys.argv[2]), n_threads=2))
engine.wait_until_loaded(120)
complete(engine, [ChatMessage("user", "Hello")], SamplingOptions(max_tokens=3, seed=0))
engine.close()
print("done")
"""


def _run(model: Path, n_ctx: int, home: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "HEARTH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(model), str(n_ctx)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=280,
        check=False,
    )


def test_a_llama_cpp_warning_goes_to_the_log_file_not_stderr(model_path: Path, tmp_path: Path) -> None:
    """More context than the model was trained for: llama.cpp warns (llama-cpp-python's stale level
    numbering printed it to stderr as an error)."""
    tiny = tmp_path / "tiny.gguf"
    write_tiny_qwen2(tiny, model_path)  # trained context: 1,024 tokens
    run = _run(tiny, 2048, tmp_path / "home")
    assert run.returncode == 0 and run.stdout.strip() == "done", run.stderr
    assert run.stderr == ""
    logged = (tmp_path / "home" / "logs" / "llama.log").read_text(encoding="utf-8")
    assert "n_ctx_train (1024)" in logged and "WARNING" in logged
