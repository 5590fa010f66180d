"""llama.cpp's own log lines go to Hearth's log file (``<data dir>/logs/llama.log``), never to the terminal.

llama-cpp-python installs a log callback that prints to stderr whatever its logger's level lets
through, and with ``verbose=False`` that is meant to be errors only. But it maps ggml's levels with
an old numbering (ggml now counts NONE, DEBUG, INFO, WARN, ERROR, CONT from 0), so every warning is
taken for an error and printed: a model run with more context than it was trained for, for one,
writes "n_ctx_seq (…) > n_ctx_train (…)" under a command's output. Hearth replaces the callback.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from typing import Any

from assistant.config import data_dir

# ggml_log_level as ggml.h numbers it today.
_LEVELS = {0: logging.INFO, 1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
_CONTINUED = 5

log = logging.getLogger("hearth.llama_cpp")
_lock = threading.Lock()
_installed: Any = None  # the ctypes callback, kept alive for as long as llama.cpp may call it


class _Pending:
    level = logging.INFO
    line = ""


_pending = _Pending()


def route_llama_log() -> None:
    """Install the callback (once per process): call it after importing llama_cpp, before loading."""
    global _installed
    with _lock:
        if _installed is not None:
            return
        import llama_cpp

        _attach_file()

        @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
        def callback(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
            _receive(level, text)

        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
        _installed = callback


def _attach_file() -> None:
    """The log file; nothing from this logger reaches the root's handlers (or Python's last-resort
    printing to stderr)."""
    log.propagate = False
    log.setLevel(logging.INFO)
    if log.handlers:
        return
    try:
        folder = data_dir() / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(folder / "llama.log", encoding="utf-8", delay=True)
    except OSError:
        handler = logging.NullHandler()  # a read-only data dir loses the lines, not the model
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)


def _receive(level: int, text: bytes) -> None:
    """llama.cpp writes lines in pieces (CONT continues the last one): one record per whole line."""
    piece = text.decode("utf-8", errors="replace")
    with _lock:
        if level != _CONTINUED:
            _pending.level = _LEVELS.get(level, logging.INFO)
        _pending.line += piece
        if not _pending.line.endswith("\n"):
            return
        line, severity, _pending.line = _pending.line.rstrip(), _pending.level, ""
    if line:
        log.log(severity, "%s", line)
