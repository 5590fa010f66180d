"""Read documents in worker processes with time and memory limits (see parse_worker.py).

A ``ParsePool`` keeps a few warm workers; ``load_all`` reads files in order while the next ones
are already being read, so the indexer embeds one file while the workers parse the next. A
worker that runs past its deadline is killed, one that dies is replaced, and either way the file
gets a reason ("took too long to read", "too large to read") instead of taking Hearth down.
Waiting on a worker is waiting on a queue, which leaves the GIL free for the UI.
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
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from assistant.config import data_dir
from assistant.knowledge.documents import LoadedDocument, LoadError
from assistant.knowledge.parse_worker import TOO_LARGE, WORKER_FLAG, document_from_json

POOL_SIZE = 2
MEMORY_LIMIT_MIB = 1536  # address space per worker; a 50 MB PDF through pypdf stays well under
BASE_TIMEOUT_S = 60.0  # per file, plus PER_MB_TIMEOUT_S per megabyte: a 350-page book takes seconds
PER_MB_TIMEOUT_S = 6.0
CRASHED = "it crashed the reader"
STARTUP_TIMEOUT_S = 30.0
MAX_LOG_BYTES = 5 * 1024 * 1024  # then readers.log becomes readers.log.1 and a new one starts


def reader_log_path() -> Path:
    return data_dir() / "logs" / "readers.log"


def _open_log(path: Path | None) -> IO[bytes] | None:
    """The log file, appended to (rotated past MAX_LOG_BYTES); None where it cannot be opened."""
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


def worker_command(memory_mib: int) -> list[str]:
    """``python -m`` from source; in a bundle, the launcher's hidden flag (no ``-m`` there)."""
    limits = ["--memory-mib", str(memory_mib)]
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG, *limits]
    return [sys.executable, "-m", "assistant.knowledge.parse_worker", *limits]


def _environment() -> dict[str, str]:
    """The worker must import this same ``assistant`` (a worktree may differ from the installed one)."""
    environment = dict(os.environ)
    if not getattr(sys, "frozen", False):
        root = str(Path(__file__).resolve().parents[2])
        rest = environment.get("PYTHONPATH")
        environment["PYTHONPATH"] = root + (os.pathsep + rest if rest else "")
    return environment


def timeout_for(size_bytes: int, base_s: float = BASE_TIMEOUT_S) -> float:
    return base_s + PER_MB_TIMEOUT_S * size_bytes / (1024 * 1024)


class _Died(Exception):
    pass


class ParseWorker:
    """One worker process; ``load`` is called by one thread at a time (the pool sees to that)."""

    def __init__(
        self, memory_mib: int = MEMORY_LIMIT_MIB, command: list[str] | None = None, log_path: Path | None = None
    ) -> None:
        """``log_path``: where the worker's stderr goes (None: nowhere)."""
        self._command = command or worker_command(memory_mib)
        self._log_path = log_path
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._ready = False
        self._ids = itertools.count(1)

    def load(self, path: Path, timeout_s: float) -> LoadedDocument | LoadError:
        result = self._load(path, timeout_s, {})
        if isinstance(result, LoadError) and CRASHED in result.reason and path.suffix.lower() == ".pdf":
            return self._load(path, timeout_s, {"pdf_reader": "pdfminer"})
        return result

    def _load(self, path: Path, timeout_s: float, options: dict[str, str]) -> LoadedDocument | LoadError:
        for _ in range(2):  # a worker that died while idle gets one fresh replacement
            try:
                self._spawn()
                self._wait_ready()
            except (OSError, TimeoutError, _Died) as exc:
                self.close()
                return LoadError(path, f"could not be read: the reader process did not start ({exc or 'no reply'})")
            request_id = next(self._ids)
            deadline = time.monotonic() + timeout_s
            try:
                self._send({"id": request_id, "path": str(path), "cpu_seconds": timeout_s, **options})
                self._next(request_id, deadline)  # "started"
            except _Died:
                self.close()
                continue
            except TimeoutError:
                self.close()
                return LoadError(path, _too_long(timeout_s))
            return self._reply(path, request_id, deadline, timeout_s)
        return LoadError(path, "could not be read: the reader process keeps stopping")

    def _reply(self, path: Path, request_id: int, deadline: float, timeout_s: float) -> LoadedDocument | LoadError:
        try:
            reply = self._next(request_id, deadline)
        except TimeoutError:
            self.close()
            return LoadError(path, _too_long(timeout_s))
        except _Died:
            code = self.close(died=True)
            cpu_limit = getattr(signal, "SIGXCPU", None)
            if cpu_limit is not None and code == -cpu_limit:
                return LoadError(path, _too_long(timeout_s))
            if code == -getattr(signal, "SIGKILL", 9):  # the kernel's OOM killer, most likely
                return LoadError(path, f"{TOO_LARGE}: the reader was stopped by the system")
            return LoadError(path, f"could not be read: {CRASHED} ({_how(code)})")
        digest = str(reply.get("sha256") or "")
        if reply.get("ok") is True:
            return document_from_json(path, reply["document"], digest)
        reason = str(reply.get("reason") or "could not be read")
        if TOO_LARGE in reason:
            self.close()  # a fresh worker rather than one that just ran out of memory
        return LoadError(path, reason, digest)

    def _spawn(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        self.close()
        lines: queue.Queue[str | None] = queue.Queue()
        log = _open_log(self._log_path)
        try:
            process = self._popen(log)
        finally:
            if log is not None:
                log.close()  # the worker has its own descriptor
        assert process.stdout is not None
        threading.Thread(target=_read, args=(process.stdout, lines), name="hearth-parse-reader", daemon=True).start()
        self._process, self._lines, self._ready = process, lines, False

    def _popen(self, log: IO[bytes] | None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log if log is not None else subprocess.DEVNULL,
            env=_environment(),
            text=True,
            encoding="utf-8",
            errors="replace",
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._ready:
            self._ready = self._message(deadline).get("ready") is True

    def close(self, died: bool = False) -> int | None:
        """Stop the worker; its exit code (negative: the signal that ended it). ``died``: its
        stdout has closed, so it is waited for (not killed) to learn why it ended."""
        process, self._process, self._ready = self._process, None, False
        if process is None:
            return None
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        if died:
            with contextlib.suppress(subprocess.TimeoutExpired):
                return process.wait(timeout=5.0)
        process.kill()
        return process.wait()

    def _send(self, message: dict[str, Any]) -> None:
        process = self._process
        assert process is not None and process.stdin is not None
        try:
            process.stdin.write(json.dumps(message, ensure_ascii=True) + "\n")
            process.stdin.flush()
        except (OSError, ValueError):
            raise _Died from None

    def _next(self, request_id: int, deadline: float) -> dict[str, Any]:
        while True:
            message = self._message(deadline)
            if message.get("id") == request_id:
                return message

    def _message(self, deadline: float) -> dict[str, Any]:
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
                continue
            if isinstance(message, dict):
                return message


class ParsePool:
    """A few ``ParseWorker``s, started on first use and stopped by ``close``."""

    def __init__(
        self,
        size: int = POOL_SIZE,
        memory_mib: int = MEMORY_LIMIT_MIB,
        base_timeout_s: float = BASE_TIMEOUT_S,
        log_path: Path | None = None,
    ) -> None:
        """``log_path``: the readers' log (default: ``reader_log_path()``)."""
        self.size = max(1, size)
        self.log_path = log_path or reader_log_path()
        self.memory_mib = memory_mib
        self.base_timeout_s = base_timeout_s
        self._idle: queue.Queue[ParseWorker] = queue.Queue()
        self._all: list[ParseWorker] = []
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def load(self, path: Path) -> LoadedDocument | LoadError:
        worker = self._checkout()
        try:
            try:
                size = path.stat().st_size
            except OSError as exc:
                return LoadError(path, f"cannot be read: {exc.strerror or exc}")
            return worker.load(path, timeout_for(size, self.base_timeout_s))
        finally:
            self._idle.put(worker)

    def load_all(self, paths: list[Path]) -> Generator[LoadedDocument | LoadError, None, None]:
        """Each file's result in order, with up to ``size`` files being read ahead."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="hearth-parse")
            executor = self._executor
        pending: list[Future[LoadedDocument | LoadError]] = []
        upcoming = iter(paths)
        try:
            for path in itertools.islice(upcoming, self.size):
                pending.append(executor.submit(self.load, path))
            while pending:
                result = pending.pop(0).result()
                for path in itertools.islice(upcoming, 1):
                    pending.append(executor.submit(self.load, path))
                yield result
        finally:
            for future in pending:
                future.cancel()

    def _checkout(self) -> ParseWorker:
        with self._lock:
            if self._idle.empty() and len(self._all) < self.size:
                worker = ParseWorker(self.memory_mib, log_path=self.log_path)
                self._all.append(worker)
                return worker
        return self._idle.get()

    def close(self) -> None:
        """Stop every worker; a file still being read is abandoned (its worker is killed)."""
        with self._lock:
            workers, self._all = self._all, []
            executor, self._executor = self._executor, None
        for worker in workers:
            worker.close()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


def _too_long(timeout_s: float) -> str:
    return f"took too long to read (over {timeout_s:.0f} s); it is tried again when it changes"


def _read(stream: IO[str], lines: queue.Queue[str | None]) -> None:
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
