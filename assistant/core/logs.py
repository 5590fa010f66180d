"""Hearth's own log: ``logs/hearth.log`` in the data directory, rotated, and the exception hooks.

A double-clicked app has no terminal: whatever goes wrong must land in a file the user can find,
and an error message can name that file. ``install`` points Python's logging at the rotated file
and replaces ``sys.excepthook`` and ``threading.excepthook`` so an uncaught exception, on any
thread, is written there (and still printed, for those who do run it from a terminal); a front end
may add its own way of telling the user (``on_uncaught``).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

LOG_NAME = "hearth.log"
MAX_BYTES = 1_000_000  # then hearth.log.1 ... hearth.log.3: a few megabytes at most
BACKUPS = 3

log = logging.getLogger("hearth")
_installed: Path | None = None
_handler: logging.Handler | None = None
_listeners: list[Callable[[BaseException], None]] = []
_previous_hooks = (sys.excepthook, threading.excepthook)


def log_file() -> Path | None:
    """The log file in use, or None when none could be opened (a read-only data directory)."""
    return _installed


def where() -> str:
    """A sentence naming the log file, for the end of an error message ('' when there is none)."""
    return f"Details are in {_installed}." if _installed is not None else ""


def install(folder: Path) -> Path | None:
    """Log to ``folder/hearth.log`` (rotated) and catch uncaught exceptions. Calling it again with
    another folder (another data directory) moves the log there; the hooks are set once."""
    global _installed, _handler
    path = folder / LOG_NAME
    if _installed == path:
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        return _installed  # nowhere to write: the messages still say what happened
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    root.addHandler(handler)
    # A log that cannot be written (a full disk) must not print tracebacks of its own.
    logging.raiseExceptions = False
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    if _installed is None:
        _hook_exceptions()
    _installed, _handler = path, handler
    return path


def uninstall() -> None:
    """Undo ``install`` (tests: the next one starts from Python's own hooks and no file)."""
    global _installed, _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
    if _installed is not None:
        sys.excepthook, threading.excepthook = _previous_hooks
    _installed, _handler = None, None
    _listeners.clear()


def on_uncaught(listener: Callable[[BaseException], None]) -> None:
    """Call ``listener`` with each uncaught exception after it is logged (e.g. to show a dialog)."""
    _listeners.append(listener)


def _hook_exceptions() -> None:
    global _previous_hooks
    previous = sys.excepthook
    previous_thread = threading.excepthook
    _previous_hooks = (previous, previous_thread)

    def hook(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            log.critical("uncaught exception", exc_info=(kind, value, trace))
            _tell(value)
        previous(kind, value, trace)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None and not issubclass(args.exc_type, SystemExit):
            name = args.thread.name if args.thread is not None else "?"
            log.critical(
                "uncaught exception in thread %s", name, exc_info=(args.exc_type, args.exc_value, args.exc_traceback)
            )
            _tell(args.exc_value)
        previous_thread(args)

    sys.excepthook = hook
    threading.excepthook = thread_hook


def _tell(value: BaseException) -> None:
    for listener in list(_listeners):
        try:
            listener(value)
        except Exception:  # a broken listener must not hide the first exception
            log.exception("telling the user about an exception failed")
