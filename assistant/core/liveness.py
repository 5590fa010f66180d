"""Is the process that wrote this still running? A lock file held for as long as it lives.

A process that writes a growing reply takes a mark: a file ``run/<mark>.lock`` in the data
directory, locked (``flock`` / ``msvcrt.locking``) and kept open until it exits. The operating
system drops the lock when the process dies, however it dies (``kill -9`` and power loss
included), so another process that can take the lock knows the writer is gone, whatever the age
of what it left; a live writer's lock cannot be taken. Unlike a pid, a mark is never reused.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from pathlib import Path
from typing import IO

_held: dict[Path, tuple[str, IO[bytes]]] = {}
_guard = threading.Lock()


def _folder(data: Path) -> Path:
    return data.resolve() / "run"


def try_lock(handle: IO[bytes]) -> bool:
    """Take the lock without waiting; False when another process (or another handle) holds it."""
    try:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:  # Windows
        import msvcrt

        try:
            handle.seek(0)  # msvcrt locks from the current position: always the first byte
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
    except OSError:
        return False
    return True


def own_mark(data: Path) -> str:
    """This process's mark in the data directory ``data``, taken on first use."""
    folder = _folder(data)
    with _guard:
        if folder in _held:
            return _held[folder][0]
        folder.mkdir(parents=True, exist_ok=True)
        mark = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        # Locked under another name first, then renamed: a sweep never sees it unlocked. (Windows
        # cannot rename an open file, nor delete one, so there it is made under its own name.)
        final = folder / f"{mark}.lock"
        taking = final if os.name == "nt" else folder / f"{mark}.taking"
        handle = open(taking, "wb")  # noqa: SIM115 (held open until the process ends)
        handle.write(b"\0")
        handle.flush()
        if not try_lock(handle):
            handle.close()
            raise OSError(f"cannot lock {taking}")
        if taking != final:
            os.replace(taking, final)
        _held[folder] = (mark, handle)
        return mark


def alive(data: Path, mark: str) -> bool:
    """Whether the process that took ``mark`` in ``data`` still runs. A dead one's file is removed."""
    folder = _folder(data)
    with _guard:
        if folder in _held and _held[folder][0] == mark:
            return True
    path = folder / f"{mark}.lock"
    try:
        handle = open(path, "r+b")  # noqa: SIM115
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell (unreadable): leave its reply alone
    with handle:
        if not try_lock(handle):
            return True
        with contextlib.suppress(OSError):
            path.unlink()  # its writer is gone: nothing will ever hold it again
    return False


def sweep(data: Path) -> None:
    """Remove the marks of processes that are gone (and wrote nothing left to recover)."""
    folder = _folder(data)
    if not folder.is_dir():
        return
    for path in folder.glob("*.lock"):
        alive(data, path.stem)
