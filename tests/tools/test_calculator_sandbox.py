"""The calculator's worker process: other threads run while it works, it is replaced when it dies,
its limits hold, it ends with Hearth, and the bundle's launcher can start it. No wall-clock
assertions: each test checks what happened, not how fast."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.tools.calculator_sandbox import CalculatorWorker, worker_command
from assistant.tools.calculator_worker import WORKER_FLAG
from assistant.tools.registry import ToolError

ROOT = Path(__file__).resolve().parents[2]
# Runs far past any time-out, in SymPy's Python code (in-process, it held the GIL for its whole run
# whenever Python did not switch threads).
SLOW = "integrate(exp(x**2)*sin(x)**50, x)"
POSIX_LIMITS = pytest.mark.skipif(sys.platform == "win32", reason="no resource module: only the wall clock applies")


@pytest.fixture
def worker() -> Iterator[CalculatorWorker]:
    started = CalculatorWorker()
    yield started
    started.close()


def test_other_threads_keep_running_while_an_expression_is_evaluated(worker: CalculatorWorker) -> None:
    assert worker.evaluate("1 + 1") == "2"  # warm, so what follows is the evaluation itself
    in_flight, ran = threading.Event(), threading.Event()
    counter = 0

    def count() -> None:
        nonlocal counter
        in_flight.wait()
        for _ in range(1000):
            counter += 1
        ran.set()

    other = threading.Thread(target=count, daemon=True)
    previous = sys.getswitchinterval()
    # No forced hand-over of the GIL: the other thread runs only if the evaluating one lets go of
    # it by waiting. SymPy computing SLOW in this process never does (checked: once its lazy imports
    # are done, the counter stays at 0 until the computation ends); waiting on the worker's pipe does.
    sys.setswitchinterval(1000.0)
    try:
        other.start()
        in_flight.set()
        with pytest.raises(ToolError, match="took too long"):
            worker.evaluate(SLOW)
        ran_during_evaluation = ran.is_set()
    finally:
        sys.setswitchinterval(previous)
    other.join()
    assert ran_during_evaluation and counter == 1000


def test_a_killed_worker_is_replaced_on_the_next_call(worker: CalculatorWorker) -> None:
    assert worker.evaluate("2**10") == "1024"
    first = worker.pid
    assert first is not None
    os.kill(first, getattr(signal, "SIGKILL", signal.SIGTERM))
    assert worker.evaluate("2**11") == "2048"
    assert worker.pid not in (None, first)


def test_after_a_time_out_the_next_call_gets_a_fresh_worker(worker: CalculatorWorker) -> None:
    assert worker.evaluate("1 + 1") == "2"
    first = worker.pid
    with pytest.raises(ToolError, match=r"took too long \(over 3 s\) and was stopped"):
        worker.evaluate(SLOW)
    assert worker.pid is None  # killed, not left computing
    assert worker.evaluate("sqrt(8)") == "2*sqrt(2) ≈ 2.82842712474619"
    assert worker.pid not in (None, first)


@POSIX_LIMITS
def test_the_cpu_limit_stops_the_worker_by_itself() -> None:
    # A wall clock far away: only the worker's own RLIMIT_CPU (1 s) can stop this.
    worker = CalculatorWorker(timeout_s=600, command=worker_command(timeout_s=1))
    try:
        with pytest.raises(ToolError, match="took too long"):
            worker.evaluate(SLOW)
        assert worker.evaluate("2 + 2") == "4"
    finally:
        worker.close()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the worker's size from /proc")
def test_the_memory_limit_is_reported_as_such() -> None:
    probe = CalculatorWorker()
    try:
        probe.evaluate("1")
        status = Path(f"/proc/{probe.pid}/status").read_text()
    finally:
        probe.close()
    size_mib = int(next(line for line in status.splitlines() if line.startswith("VmSize")).split()[1]) // 1024
    # expand((x+1)^3000) needs about 18 MiB more than a warm worker; allow it 8.
    worker = CalculatorWorker(command=worker_command(memory_mib=size_mib + 8))
    try:
        with pytest.raises(ToolError, match="needs more memory than the calculator may use"):
            worker.evaluate("expand((x+1)**3000)")
        assert worker.evaluate("2 + 3") == "5"
    finally:
        worker.close()


def test_close_ends_the_worker(worker: CalculatorWorker) -> None:
    assert worker.evaluate("1 + 1") == "2"
    pid = worker.pid
    assert pid is not None
    worker.close()
    assert worker.pid is None
    if sys.platform != "win32":
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # reaped by close(), not left as a zombie or an orphan


def test_the_worker_exits_when_its_stdin_closes() -> None:
    process = subprocess.Popen(
        worker_command(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdin is not None and process.stdout is not None
    assert json.loads(process.stdout.readline()) == {"ready": True}
    process.stdin.close()  # what Hearth's exit, or its crash, does to the pipe
    assert process.wait(timeout=60) == 0


def test_the_bundle_launcher_runs_the_worker_for_its_hidden_flag() -> None:
    command = [sys.executable, str(ROOT / "packaging" / "launch.py"), WORKER_FLAG, "--cpu-seconds", "3"]
    worker = CalculatorWorker(command=command)
    try:
        assert worker.evaluate("2**64") == "18446744073709551616"
    finally:
        worker.close()


def test_a_frozen_app_starts_the_worker_through_its_own_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert worker_command()[:2] == [sys.executable, WORKER_FLAG]
    monkeypatch.setattr(sys, "frozen", False)
    assert worker_command()[:4] == [sys.executable, "-P", "-m", "assistant.tools.calculator_worker"]


# A stand-in worker that speaks the protocol and misbehaves on request, for the parent's side.
FAKE = textwrap.dedent(
    """
    import json, os, sys, time
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        print(json.dumps({"id": request["id"], "started": True}), flush=True)
        expression = request["expression"]
        if expression == "crash":
            os._exit(3)
        if expression == "memory":
            reply = {"ok": False, "kind": "memory", "error": "MemoryError"}
        elif expression == "hang":
            time.sleep(3600)
        else:
            reply = {"ok": True, "result": expression.upper()}
        print(json.dumps({"id": request["id"], **reply}), flush=True)
    """
)


@pytest.fixture
def fake() -> Iterator[CalculatorWorker]:
    started = CalculatorWorker(timeout_s=1, command=[sys.executable, "-c", FAKE])
    yield started
    started.close()


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("crash", r"stopped unexpectedly \(exit code 3\)"),
        ("memory", "needs more memory than the calculator may use"),
        ("hang", r"took too long \(over 1 s\) and was stopped"),
    ],
)
def test_each_failure_of_the_worker_is_a_plain_tool_error(fake: CalculatorWorker, expression: str, reason: str) -> None:
    assert fake.evaluate("ok") == "OK"
    first = fake.pid
    with pytest.raises(ToolError, match=reason):
        fake.evaluate(expression)
    assert fake.evaluate("again") == "AGAIN"
    assert fake.pid not in (None, first)


def test_calls_from_many_threads_are_answered_one_at_a_time(fake: CalculatorWorker) -> None:
    answers: dict[int, str] = {}

    def ask(n: int) -> None:
        answers[n] = fake.evaluate(f"n{n}")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {n: f"N{n}" for n in range(8)}


def test_a_closed_calculator_starts_no_worker_and_ignores_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sympy.py in the folder Hearth was started from is not imported into the worker, and a call
    racing the exit does not start a worker after close()."""
    (tmp_path / "sympy.py").write_text("raise SystemExit('the wrong sympy was imported')\n")
    monkeypatch.chdir(tmp_path)
    worker = CalculatorWorker()
    try:
        assert worker.evaluate("2 + 2") == "4"
    finally:
        worker.close()
    with pytest.raises(ToolError, match="shutting down"):
        worker.evaluate("1 + 1")


def test_an_allocation_failure_that_lost_its_memory_error_is_told_as_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPython sometimes reports a failed allocation as SystemError ("returned NULL without setting
    an exception"); under the worker's memory limit that is the limit, not a calculator fault."""
    from assistant.tools import calculator_eval, calculator_worker

    def lost(expression: str) -> str:
        raise SystemError("<function Expr._expand_hint at 0x7f> returned NULL without setting an exception")

    monkeypatch.setattr(calculator_eval, "evaluate", lost)
    assert calculator_worker.answer({"expression": "expand((x+1)**3000)"}) == {
        "ok": False,
        "kind": "memory",
        "error": "MemoryError",
    }
