"""Read documents in worker processes with time and memory limits (see parse_worker.py).

A ``ParsePool`` keeps a few warm workers; ``load_all`` reads files in order while the next ones
are already being read, so the indexer embeds one file while the workers parse the next. A
worker that runs past its deadline is killed, one that dies is replaced, and either way the file
gets a reason ("took too long to read", "too large to read") instead of taking Hearth down.
Waiting on a worker is waiting on a queue, which leaves the GIL free for the UI.
"""

from __future__ import annotations

import atexit
import itertools
import queue
import sys
import threading
import time
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from assistant.config import data_dir
from assistant.core.worker_client import WorkerDied, WorkerPipe, describe_exit, ended_by_cpu_limit, ended_by_kill
from assistant.knowledge.documents import LoadedDocument, LoadError
from assistant.knowledge.parse_worker import TOO_LARGE, WORKER_FLAG, document_from_json

POOL_SIZE = 2
MEMORY_LIMIT_MIB = 1536  # address space per worker; a 50 MB PDF through PDFium stays well under
BASE_TIMEOUT_S = 60.0  # per file, plus PER_MB_TIMEOUT_S per megabyte: a 350-page book takes seconds
PER_MB_TIMEOUT_S = 6.0
STARTUP_TIMEOUT_S = 30.0
CRASHED = "it crashed the reader"


def reader_log_path() -> Path:
    return data_dir() / "logs" / "readers.log"


def worker_command(memory_mib: int) -> list[str]:
    """``python -m`` from source; in a bundle, the launcher's hidden flag (no ``-m`` there)."""
    limits = ["--memory-mib", str(memory_mib)]
    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_FLAG, *limits]
    return [sys.executable, "-m", "assistant.knowledge.parse_worker", *limits]


def timeout_for(size_bytes: int, base_s: float = BASE_TIMEOUT_S) -> float:
    return base_s + PER_MB_TIMEOUT_S * size_bytes / (1024 * 1024)


class ParseWorker:
    """One worker process; ``load`` is called by one thread at a time (the pool sees to that)."""

    def __init__(
        self, memory_mib: int = MEMORY_LIMIT_MIB, command: list[str] | None = None, log_path: Path | None = None
    ) -> None:
        """``log_path``: where the worker's stderr goes (None: nowhere)."""
        self._pipe = WorkerPipe(command or worker_command(memory_mib), "hearth-parse", log_path)

    def load(self, path: Path, timeout_s: float, page: int | None = None) -> LoadedDocument | LoadError:
        """``page``: of a PDF, only that page is read (what a citation shows)."""
        options: dict[str, object] = {"page": page} if page else {}
        result = self._load(path, timeout_s, options)
        if isinstance(result, LoadError) and CRASHED in result.reason and path.suffix.lower() == ".pdf":
            return self._load(path, timeout_s, {**options, "pdf_reader": "pdfminer"})
        return result

    def _load(self, path: Path, timeout_s: float, options: dict[str, object]) -> LoadedDocument | LoadError:
        for _ in range(2):  # a worker that died while idle gets one fresh replacement
            try:
                self._pipe.spawn()
                self._pipe.wait_ready(STARTUP_TIMEOUT_S)
            except (OSError, TimeoutError, WorkerDied) as exc:
                self.close()
                why = f" ({exc.strerror.lower()})" if isinstance(exc, OSError) and exc.strerror else ""
                return LoadError(path, f"could not be read: the reader process did not start{why}")
            deadline = time.monotonic() + timeout_s
            try:
                request_id = self._pipe.request({"path": str(path), "cpu_seconds": timeout_s, **options}, deadline)
            except WorkerDied:
                self.close()
                continue
            except TimeoutError:
                self.close()
                return LoadError(path, _too_long(timeout_s))
            return self._reply(path, request_id, deadline, timeout_s)
        return LoadError(path, "could not be read: the reader process keeps stopping")

    def _reply(self, path: Path, request_id: int, deadline: float, timeout_s: float) -> LoadedDocument | LoadError:
        try:
            reply = self._pipe.reply(request_id, deadline)
        except TimeoutError:
            self.close()
            return LoadError(path, _too_long(timeout_s))
        except WorkerDied:
            code = self._pipe.stop(wait_s=5.0)  # its stdout closed: wait (not kill) to learn why it ended
            if ended_by_cpu_limit(code):
                return LoadError(path, _too_long(timeout_s))
            if ended_by_kill(code):
                return LoadError(path, f"{TOO_LARGE}: the reader was stopped by the system")
            return LoadError(path, f"could not be read: {CRASHED} ({describe_exit(code)})")
        digest = str(reply.get("sha256") or "")
        if reply.get("ok") is True:
            return document_from_json(path, reply["document"], digest)
        reason = str(reply.get("reason") or "could not be read")
        if TOO_LARGE in reason:
            self.close()  # a fresh worker rather than one that just ran out of memory
        return LoadError(path, reason, digest)

    def close(self) -> None:
        self._pipe.stop()


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

    def load(self, path: Path, page: int | None = None) -> LoadedDocument | LoadError:
        """``page``: of a PDF, only that page is read (what a citation shows)."""
        worker = self._checkout()
        try:
            try:
                size = path.stat().st_size
            except OSError as exc:
                return LoadError(path, f"cannot be read: {exc.strerror or exc}")
            return worker.load(path, timeout_for(size, self.base_timeout_s), page)
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


_shared: ParsePool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> ParsePool:
    """The process-wide reader (one worker, started on first use, stopped when Hearth exits) for
    reads outside indexing: ``files_read`` and the citation viewer. Nothing parses a user's file in
    Hearth's own process."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ParsePool(size=1)
            atexit.register(_shared.close)
        return _shared


def _too_long(timeout_s: float) -> str:
    return f"took too long to read (over {timeout_s:.0f} s); it is tried again when it changes"
