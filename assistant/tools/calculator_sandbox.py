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
import sys
import threading
import time

from assistant.core.worker_client import WorkerDied, WorkerPipe, describe_exit, ended_by_cpu_limit
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
        self._pipe = WorkerPipe(command or worker_command(timeout_s, memory_mib), "hearth-calculator")
        self._lock = threading.Lock()
        self._closed = False

    # ----- lifecycle ----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The running worker's process id (None before the first call or after a failure)."""
        return self._pipe.pid

    def start(self) -> None:
        """Start a worker now, without waiting for it, so that the first answer comes warm."""
        with self._lock:
            self._spawn()

    def close(self) -> None:
        """Stop the worker: an idle one is asked to exit (its stdin closes), a busy one is killed.

        No lock: at exit, a call still waiting on the worker must not hold Hearth up; it ends with
        "stopped unexpectedly" instead."""
        self._closed = True
        self._pipe.stop(wait_s=None if self._lock.locked() else 1.0)

    def _spawn(self) -> None:
        if self._closed:
            raise ToolError("The calculator is shutting down.")
        try:
            self._pipe.spawn()
        except OSError as exc:
            raise ToolError(f"The calculator could not start: {exc}.") from None

    # ----- calls --------------------------------------------------------------------------------

    def evaluate(self, expression: str) -> str:
        """The worker's answer to a checked expression; every failure is a ToolError with a reason."""
        with self._lock:
            # A worker that died while idle (killed, say) dies before reading the request: it never
            # says "started", and the request goes once more to a fresh worker.
            for _ in range(2):
                self._spawn()
                self._wait_ready()
                deadline = time.monotonic() + self.timeout_s
                try:
                    request_id = self._pipe.request({"expression": expression}, deadline)
                except WorkerDied:
                    self._pipe.stop()
                    continue
                except TimeoutError:
                    self._pipe.stop()
                    raise ToolError(self._too_long()) from None
                return self._result(request_id, deadline)
            raise ToolError("The calculator's worker process keeps stopping before it can start.")

    def _wait_ready(self) -> None:
        try:
            self._pipe.wait_ready(self.startup_timeout_s)
        except TimeoutError:
            self._pipe.stop()
            raise ToolError(f"The calculator did not start within {self.startup_timeout_s:g} s.") from None
        except WorkerDied:
            code = self._pipe.stop()
            raise ToolError(f"The calculator could not start (its process ended with {describe_exit(code)}).") from None

    def _result(self, request_id: int, deadline: float) -> str:
        try:
            reply = self._pipe.reply(request_id, deadline)
        except TimeoutError:
            self._pipe.stop()
            raise ToolError(self._too_long()) from None
        except WorkerDied:
            code = self._pipe.stop()
            if ended_by_cpu_limit(code):  # the CPU limit: a time-out by another clock
                raise ToolError(self._too_long()) from None
            raise ToolError(
                f"The calculator stopped unexpectedly ({describe_exit(code)}); the next calculation starts a new one."
            ) from None
        if reply.get("ok") is True:
            return str(reply.get("result", ""))
        if reply.get("kind") == "memory":
            self._pipe.stop()  # a fresh worker rather than one that just ran out of memory
            raise ToolError("The calculation needs more memory than the calculator may use.")
        raise ToolError(str(reply.get("error") or "The calculation failed."))

    def _too_long(self) -> str:
        return f"The calculation took too long (over {self.timeout_s:g} s) and was stopped."


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
