"""The calculator's worker process, seen from Hearth: start it, send it expressions, stop it.

SymPy can hold the GIL for minutes inside one C-level big-integer operation, and a thread holding
the GIL cannot be timed out from another thread: in-process, a hostile expression froze every
thread, the window and the registry's time-out included. So expressions are evaluated in a separate
interpreter (spawned, not forked: the app has llama.cpp and Qt threads), and this side only waits
on a queue fed from the worker's stdout, which leaves the GIL free.

One warm worker is kept and reused (importing SymPy takes about a second); calls are serialised by
a lock. On a wall-clock time-out the worker is killed; after a time-out, a crash or a limit hit the
next call starts a fresh one. The worker ends when Hearth does: ``close`` runs at exit, and the
worker also exits by itself when its stdin closes.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from assistant.tools.calculator_worker import WORKER_FLAG
from assistant.tools.registry import ToolError

TIMEOUT_S = 3.0  # wall clock per expression, and the worker's CPU budget per expression
STARTUP_TIMEOUT_S = 15.0  # a cold start imports SymPy: about a second, far more on a busy machine
MEMORY_LIMIT_MIB = 512  # address space of the worker; SymPy and Python need about 60 MiB


def worker_command(timeout_s: float = TIMEOUT_S, memory_mib: int = MEMORY_LIMIT_MIB) -> list[str]:
    """How to start a worker: ``python -m`` from source, the launcher's hidden flag in a bundle."""
    limits = ["--cpu-seconds", f"{timeout_s:g}", "--memory-mib", str(memory_mib)]
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG, *limits]
    # -P: the working directory Hearth was started in is not put on the worker's path (a sympy.py
    # lying there must not be imported into it); the package comes from PYTHONPATH below.
    return [sys.executable, "-P", "-m", "assistant.tools.calculator_worker", *limits]


def _environment() -> dict[str, str]:
    """The worker must import this same ``assistant`` (a worktree or checkout may differ from the
    one installed in the virtualenv), so the folder above the package goes first on its path."""
    environment = dict(os.environ)
    if not getattr(sys, "frozen", False):
        root = str(Path(__file__).resolve().parents[2])
        rest = environment.get("PYTHONPATH")
        environment["PYTHONPATH"] = root + (os.pathsep + rest if rest else "")
    return environment


class _Died(Exception):
    """The worker's stdout closed: it exited or was killed."""


class CalculatorWorker:
    """A reusable, resource-limited SymPy worker process; ``evaluate`` is safe from any thread."""

    def __init__(
        self,
        timeout_s: float = TIMEOUT_S,
        memory_mib: int = MEMORY_LIMIT_MIB,
        command: list[str] | None = None,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self.timeout_s = timeout_s
        self.startup_timeout_s = startup_timeout_s
        self._command = command or worker_command(timeout_s, memory_mib)
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._ready = False
        self._closed = False
        self._ids = itertools.count(1)

    # ----- lifecycle ----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The running worker's process id (None before the first call or after a failure)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def start(self) -> None:
        """Start a worker now, without waiting for it, so that the first answer comes warm."""
        with self._lock:
            self._spawn()

    def close(self) -> None:
        """Stop the worker: an idle one is asked to exit (its stdin closes), a busy one is killed.

        No lock: at exit, a call still waiting on the worker must not hold Hearth up; it ends with
        "stopped unexpectedly" instead."""
        self._closed = True
        self._discard(graceful=not self._lock.locked())

    def _spawn(self) -> None:
        if self._closed:
            raise ToolError("The calculator is shutting down.")
        if self._process is not None and self._process.poll() is None:
            return
        self._discard()
        lines: queue.Queue[str | None] = queue.Queue()
        try:
            process = subprocess.Popen(
                self._command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_environment(),
                text=True,
                encoding="utf-8",
                errors="replace",
                # No console window flashing up on Windows for a bundle without one.
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except OSError as exc:
            raise ToolError(f"The calculator could not start: {exc}.") from None
        assert process.stdout is not None
        threading.Thread(
            target=_read, args=(process.stdout, lines), name="hearth-calculator-reader", daemon=True
        ).start()
        self._process, self._lines, self._ready = process, lines, False

    def _discard(self, graceful: bool = False) -> int | None:
        """Stop the current worker, if any; its exit code (negative: the signal that ended it)."""
        process, self._process, self._ready = self._process, None, False
        if process is None:
            return None
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        if graceful:
            with contextlib.suppress(subprocess.TimeoutExpired):
                return process.wait(timeout=1.0)
        process.kill()
        return process.wait()

    # ----- calls --------------------------------------------------------------------------------

    def evaluate(self, expression: str) -> str:
        """The worker's answer to a checked expression; every failure is a ToolError with a reason."""
        with self._lock:
            # A worker that died while idle (killed, say) dies before reading the request: it never
            # says "started", and the request goes once more to a fresh worker.
            for _ in range(2):
                self._spawn()
                self._wait_ready()
                request_id = next(self._ids)
                try:
                    self._send({"id": request_id, "expression": expression})
                    deadline = time.monotonic() + self.timeout_s
                    self._next(request_id, deadline)  # "started"
                except _Died:
                    self._discard()
                    continue
                except TimeoutError:
                    self._discard()
                    raise ToolError(self._too_long()) from None
                return self._result(request_id, deadline)
            raise ToolError("The calculator's worker process keeps stopping before it can start.")

    def _wait_ready(self) -> None:
        if self._ready:
            return
        deadline = time.monotonic() + self.startup_timeout_s
        try:
            while not self._ready:
                message = self._message(deadline)
                self._ready = message.get("ready") is True
        except TimeoutError:
            self._discard()
            raise ToolError(f"The calculator did not start within {self.startup_timeout_s:g} s.") from None
        except _Died:
            code = self._discard()
            raise ToolError(f"The calculator could not start (its process ended with {_how(code)}).") from None

    def _result(self, request_id: int, deadline: float) -> str:
        try:
            reply = self._next(request_id, deadline)
        except TimeoutError:
            self._discard()
            raise ToolError(self._too_long()) from None
        except _Died:
            code = self._discard()
            cpu_limit = getattr(signal, "SIGXCPU", None)
            if cpu_limit is not None and code == -cpu_limit:  # the CPU limit: a time-out by another clock
                raise ToolError(self._too_long()) from None
            raise ToolError(
                f"The calculator stopped unexpectedly ({_how(code)}); the next calculation starts a new one."
            ) from None
        if reply.get("ok") is True:
            return str(reply.get("result", ""))
        if reply.get("kind") == "memory":
            self._discard()  # a fresh worker rather than one that just ran out of memory
            raise ToolError("The calculation needs more memory than the calculator may use.")
        raise ToolError(str(reply.get("error") or "The calculation failed."))

    def _too_long(self) -> str:
        return f"The calculation took too long (over {self.timeout_s:g} s) and was stopped."

    def _send(self, message: dict[str, Any]) -> None:
        process = self._process
        if process is None or process.stdin is None:  # discarded meanwhile (closed at exit)
            raise _Died
        try:
            process.stdin.write(json.dumps(message, ensure_ascii=True) + "\n")
            process.stdin.flush()
        except (OSError, ValueError):  # a broken pipe, or a closed file
            raise _Died from None

    def _next(self, request_id: int, deadline: float) -> dict[str, Any]:
        """The next message about ``request_id`` (older replies, from a call abandoned, are skipped)."""
        while True:
            message = self._message(deadline)
            if message.get("id") == request_id:
                return message

    def _message(self, deadline: float) -> dict[str, Any]:
        """The worker's next message; TimeoutError at the deadline, _Died when its stdout closes.
        Waiting on the queue releases the GIL, so every other thread keeps running."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError from None
            if line is None:
                raise _Died
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not ours (nothing else should write there, but a stray line must not break us)
            if isinstance(message, dict):
                return message


def _read(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """The worker's stdout, line by line, into the queue; None when it closes."""
    with contextlib.suppress(OSError, ValueError):
        for line in stream:
            lines.put(line)
    lines.put(None)


def _how(code: int | None) -> str:
    if code is None:
        return "no exit code"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"exit code {code}"


_default: CalculatorWorker | None = None
_default_lock = threading.Lock()


def default_worker() -> CalculatorWorker:
    """The process-wide worker the calculator tool uses; closed when Hearth exits."""
    global _default
    with _default_lock:
        if _default is None:
            _default = CalculatorWorker()
            atexit.register(_default.close)
        return _default
