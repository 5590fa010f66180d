"""One SQLite connection shared by threads: WAL, a lock, and short explicit transactions.

WAL lets another process (the CLI while the window is open) read during a write; the lock makes
one connection safe to share between the UI thread and the workers. Every SQLite problem a user
can act on (full disk, read-only folder, lock, damage, a newer schema) leaves here as a
``StorageError`` saying which it is, never as a raw ``sqlite3`` error.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.core import migrations
from assistant.core.errors import StorageDamagedError, StorageError, StorageTooNewError
from assistant.core.storage_errors import storage_error


class Database:
    what = "The database"  # how messages name the file ("The conversation database")
    damaged_hint = ""  # what to do with a damaged file of this kind, where there is more to say
    timeout_s = 10.0  # how long a write waits for another process's before the file is "locked"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        with self.errors_told():
            if str(path) != ":memory:":
                path.parent.mkdir(parents=True, exist_ok=True)
                self._check_length()
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=self.timeout_s)
            self._db.row_factory = sqlite3.Row
            self._use_wal()
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")

    def _use_wal(self) -> None:
        """Switch to write-ahead logging. The switch takes an exclusive lock and, on a new file that
        another process is creating at the same moment, SQLite answers "locked" at once rather than
        through its busy handler: so it is retried here, up to the same timeout as a write."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _check_length(self) -> None:
        """A file shorter than its header says was cut (a copy or a disk that stopped): damaged,
        even where the missing pages would only be read later. Asked only with no WAL beside it,
        whose pages may legitimately lie beyond the file's end."""
        if str(self.path) == ":memory:" or not self.path.exists():
            return
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return
        with self.path.open("rb") as file:
            header = file.read(100)
        if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
            return  # SQLite itself says what is wrong with it
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(header[28:32], "big")
        valid = header[24:28] == header[92:96]  # the header's page count is current (SQLite's rule)
        length = self.path.stat().st_size
        if valid and length < pages * page_size:
            raise sqlite3.DatabaseError(f"database disk image is malformed (cut short at {length} bytes)")

    @contextmanager
    def errors_told(self) -> Iterator[None]:
        """Turn an SQLite or file-system error into the ``StorageError`` a user can act on."""
        try:
            yield
        except StorageError:
            raise
        except (sqlite3.Error, OSError) as exc:
            told = storage_error(exc, self.path, self.what)
            if told is None:
                raise
            if isinstance(told, StorageDamagedError) and self.damaged_hint:
                told.hint = self.damaged_hint
            raise told from exc

    def migrate(
        self, steps: Sequence[migrations.Step], unversioned: Callable[[sqlite3.Connection], int] | None = None
    ) -> int:
        """Apply the schema steps this file lacks (``core/migrations.py``); returns its old version."""
        with self._lock, self.errors_told():
            try:
                return migrations.migrate(self._db, steps, unversioned)
            except migrations.SchemaTooNew as exc:
                raise StorageTooNewError(f"{self.what} {self.path} was written by a newer Hearth ({exc}).") from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self.errors_told():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock, self.errors_told():
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()
