"""The side of a limited worker process that runs in Hearth (the calculator's, the document
readers'): start it, exchange JSON lines with it, learn why it ended. The child side, and the
protocol, are in worker_process.py.

Waiting for a reply is waiting on a queue fed by a reader thread, never a blocking read on the
pipe: that leaves the GIL free for the window, and lets a deadline apply however the worker
misbehaves (silent, flooding, dead).
"""

from __future__ import annotations

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

Message = dict[str, Any]


class WorkerDied(Exception):
    """The worker's stdout closed: it exited or was killed."""


class WorkerPipe:
    """One worker process and its lines; not thread-safe (its owner serialises calls)."""

    def __init__(self, command: list[str], name: str, log_path: Path | None = None) -> None:
        """``log_path``: the file the worker's stderr is appended to (None: discarded)."""
        self.command = command
        self.name = name
        self.log_path = log_path
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._ready = False
        self._ids = itertools.count(1)

    @property
    def pid(self) -> int | None:
        """The running worker's process id (None when none runs)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def spawn(self) -> None:
        """Start a worker unless one runs; OSError when it cannot be started."""
        if self.pid is not None:
            return
        self.stop()
        lines: queue.Queue[str | None] = queue.Queue()
        log = open_log(self.log_path)
        try:
            process = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log if log is not None else subprocess.DEVNULL,
                env=worker_environment(),
                text=True,
                encoding="utf-8",
                errors="replace",
                # No console window flashing up on Windows for a bundle without one.
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        finally:
            if log is not None:
                log.close()  # the worker has its own descriptor
        assert process.stdout is not None
        threading.Thread(target=_read, args=(process.stdout, lines), name=f"{self.name}-reader", daemon=True).start()
        self._process, self._lines, self._ready = process, lines, False

    def wait_ready(self, timeout_s: float) -> None:
        """Until the worker says it is ready: TimeoutError, or WorkerDied if it ends first."""
        deadline = time.monotonic() + timeout_s
        while not self._ready:
            self._ready = self.message(deadline).get("ready") is True

    def request(self, message: Message, deadline: float) -> int:
        """Send a request and wait for the worker to say it started on it; its id.

        WorkerDied here means the worker ended before reading it (it died while idle), so the
        request may safely go to a fresh worker."""
        request_id = next(self._ids)
        self._send({"id": request_id, **message})
        self.reply(request_id, deadline)  # "started"
        return request_id

    def reply(self, request_id: int, deadline: float) -> Message:
        """The next message about ``request_id`` (older replies, from a call abandoned, are skipped)."""
        while True:
            message = self.message(deadline)
            if message.get("id") == request_id:
                return message

    def message(self, deadline: float) -> Message:
        """The worker's next message; TimeoutError at the deadline, WorkerDied when its stdout closes."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError from None
            if line is None:
                raise WorkerDied
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not ours (nothing else should write there, but a stray line must not break us)
            if isinstance(message, dict):
                return message

    def stop(self, wait_s: float | None = None) -> int | None:
        """Stop the worker; its exit code (negative: the signal that ended it), None if none ran.
        ``wait_s``: give it that long to exit by itself (its stdin closes) before it is killed."""
        process, self._process, self._ready = self._process, None, False
        if process is None:
            return None
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        if wait_s is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                return process.wait(timeout=wait_s)
        process.kill()
        return process.wait()

    def _send(self, message: Message) -> None:
        process = self._process
        if process is None or process.stdin is None:  # stopped meanwhile (closed at exit)
            raise WorkerDied
        try:
            process.stdin.write(json.dumps(message, ensure_ascii=True) + "\n")
            process.stdin.flush()
        except (OSError, ValueError):  # a broken pipe, or a closed file
            raise WorkerDied from None


MAX_LOG_BYTES = 5 * 1024 * 1024  # then NAME.log becomes NAME.log.1 and a new one starts


def open_log(path: Path | None) -> IO[bytes] | None:
    """``path`` opened to append (rotated past MAX_LOG_BYTES); None where it cannot be opened."""
    if path is None:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_size > MAX_LOG_BYTES:
                path.replace(path.with_name(path.name + ".1"))
        return path.open("ab")
    except OSError:
        return None


def worker_environment() -> dict[str, str]:
    """The worker must import this same ``assistant`` (a worktree or checkout may differ from the
    one installed in the virtualenv), so the folder above the package goes first on its path."""
    environment = dict(os.environ)
    if not getattr(sys, "frozen", False):
        root = str(Path(__file__).resolve().parents[2])
        rest = environment.get("PYTHONPATH")
        environment["PYTHONPATH"] = root + (os.pathsep + rest if rest else "")
    return environment


def ended_by_cpu_limit(code: int | None) -> bool:
    """The kernel's CPU limit (RLIMIT_CPU) ended it: a time-out by another clock."""
    cpu_limit = getattr(signal, "SIGXCPU", None)
    return cpu_limit is not None and code == -cpu_limit


def ended_by_kill(code: int | None) -> bool:
    """SIGKILL that Hearth did not send: the kernel's OOM killer, most likely."""
    return code == -getattr(signal, "SIGKILL", 9)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "no exit code"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"exit code {code}"


def _read(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """The worker's stdout, line by line, into the queue; None when it closes."""
    with contextlib.suppress(OSError, ValueError):
        for line in stream:
            lines.put(line)
    lines.put(None)
