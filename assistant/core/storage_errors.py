"""What an SQLite error means for the user: full disk, read-only, locked, damaged or too new.

SQLite's result code says most of it; where it is vague (an I/O error, a file that cannot be
opened) the file system is asked: a disk with no room left is full, a folder that refuses writes
is read-only. Errors that are the program's own (a constraint, a mistake in SQL) are not turned
into advice: they stay what they are.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from assistant.core.errors import (
    StorageDamagedError,
    StorageError,
    StorageFullError,
    StorageLockedError,
    StorageReadOnlyError,
)

# SQLite's primary result codes (the low byte of an extended code).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26
# Below this much free space an I/O error is a full disk.
NEARLY_FULL_BYTES = 1 << 20


def free_bytes(folder: Path) -> int | None:
    """Free space for this user where ``folder`` lies (None when it cannot be told)."""
    try:
        stat = os.statvfs(_existing(folder))
    except (OSError, AttributeError):  # AttributeError: Windows has no statvfs
        return None
    return stat.f_bavail * stat.f_frsize


def writable(folder: Path) -> bool:
    """False for a read-only mount or a folder this user may not write (root included: the mount
    flag is checked, not only the permission bits)."""
    folder = _existing(folder)
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return False
    except (OSError, AttributeError):
        pass
    return os.access(folder, os.W_OK)


def _folder_of(path: Path) -> Path:
    return path if path.is_dir() else path.parent


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def kind_of(exc: BaseException, path: Path) -> type[StorageError] | None:
    """The kind of storage problem ``exc`` is, or None when it is not one a user can act on."""
    folder = path.parent
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return StorageFullError
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return StorageReadOnlyError
        return None
    if not isinstance(exc, sqlite3.Error):
        # Another library's wrapping of the same causes (Chroma's Rust core reports SQLite's text).
        text = str(exc).lower()
        if "disk is full" in text or "no space left" in text:
            return StorageFullError
        if "readonly database" in text or "read-only file system" in text:
            return StorageReadOnlyError
        return None
    if not isinstance(exc, (sqlite3.OperationalError, sqlite3.DatabaseError)) or isinstance(
        exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)
    ):
        return None
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    text = str(exc).lower()
    if code == _FULL or "database or disk is full" in text:
        return StorageFullError
    if code == _READONLY or "readonly database" in text:
        return StorageReadOnlyError
    if code in (_BUSY, _LOCKED) or "database is locked" in text:
        return StorageLockedError
    if code in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return StorageDamagedError
    if code in (_IOERR, _CANTOPEN) or "disk i/o error" in text or "unable to open" in text:
        free = free_bytes(folder)
        if free is not None and free < NEARLY_FULL_BYTES:
            return StorageFullError
        if not writable(folder):
            return StorageReadOnlyError
        return StorageError
    return None


def storage_error(exc: BaseException, path: Path, what: str) -> StorageError | None:
    """The user-facing error for ``exc`` met while using ``what`` (e.g. "The conversation
    database") at ``path``; None when ``exc`` is not a storage problem."""
    kind = kind_of(exc, path)
    if kind is None:
        return None
    sentence = {
        StorageFullError: f"{what} {path} cannot be saved: the disk is full.",
        StorageReadOnlyError: f"{what} {path} cannot be written: {_folder_of(path)} is read-only.",
        StorageLockedError: f"{what} {path} is locked by another program.",
        StorageDamagedError: f"{what} {path} is damaged ({exc}).",
    }.get(kind, f"{what} {path} cannot be used: {exc}.")
    return kind(sentence)
