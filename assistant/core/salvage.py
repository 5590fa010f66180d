"""Salvage a damaged conversation database: copy every row that can still be read into a new file.

The damaged file is never changed: it is renamed aside (``conversations.db.damaged-<time>``, with
its ``-wal`` and ``-shm``) and a new file holding the readable rows takes its place. Rows are read
table by table in rowid order; where a damaged page stops the reading, it skips ahead past the
damage and goes on, so one bad page costs the rows on it, not the rest of the table.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.core import migrations
from assistant.core.store_schema import MIGRATIONS

# Parents before children, so the foreign keys hold as rows arrive.
_TABLES = ("conversations", "messages", "attachments")


@dataclass(frozen=True)
class Salvaged:
    kept_aside: Path
    rows: dict[str, int]  # table -> rows copied
    lost: dict[str, int]  # table -> rows known to be unreadable or orphaned (a lower bound)

    def summary(self) -> str:
        copied = ", ".join(f"{n} {table}" for table, n in self.rows.items())
        lost = sum(self.lost.values())
        tail = f"; at least {lost} rows could not be read" if lost else ""
        return f"Salvaged {copied}{tail}. The damaged file is kept as {self.kept_aside}."


def _readable_rows(old: sqlite3.Connection, table: str, lost: dict[str, int]) -> Iterator[sqlite3.Row]:
    last = 0
    while True:
        try:
            for row in old.execute(f"SELECT rowid AS _rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid", (last,)):
                last = row["_rowid"]
                yield row
            return
        except sqlite3.DatabaseError:
            skipped = _next_readable(old, table, last)
            if skipped is None:
                lost[table] = lost.get(table, 0) + 1
                return
            lost[table] = lost.get(table, 0) + max(1, skipped - last - 1)
            last = skipped - 1


def _next_readable(old: sqlite3.Connection, table: str, after: int) -> int | None:
    """The first rowid past ``after`` whose row reads, jumping ever further past the damage."""
    step = 1
    while step < 1 << 40:
        try:
            row = old.execute(f"SELECT rowid FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT 1", (after + step,))
            found = row.fetchone()
            return None if found is None else int(found[0])
        except sqlite3.DatabaseError:
            step *= 4
    return None


def _schema_version(old: sqlite3.Connection) -> int:
    try:
        found = migrations.version(old)
    except sqlite3.DatabaseError:
        return len(MIGRATIONS)
    return found if 0 < found <= len(MIGRATIONS) else len(MIGRATIONS)


def salvage(path: Path) -> Salvaged:
    """Copy the readable rows of ``path`` into a new file there; the damaged one is kept aside."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fresh = path.with_name(f"{path.name}.salvage-{stamp}")
    old = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    old.row_factory = sqlite3.Row
    rows: dict[str, int] = {}
    lost: dict[str, int] = {}
    new = sqlite3.connect(fresh, isolation_level=None)
    try:
        version = _schema_version(old)
        migrations.migrate(new, MIGRATIONS[:version])  # the old file's schema, so its columns fit
        new.execute("PRAGMA foreign_keys=ON")
        new.execute("BEGIN")
        for table in _TABLES:
            rows[table] = 0
            try:
                target = migrations.columns(new, table)
            except sqlite3.DatabaseError:
                continue
            for row in _readable_rows(old, table, lost):
                names = [k for k in row.keys() if k in target]  # noqa: SIM118 (sqlite3.Row)
                try:
                    new.execute(
                        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                        [row[k] for k in names],
                    )
                    rows[table] += 1
                except sqlite3.IntegrityError:  # a message whose conversation was lost
                    lost[table] = lost.get(table, 0) + 1
        new.execute("COMMIT")
        migrations.migrate(new, MIGRATIONS)
    except BaseException:
        new.close()
        old.close()
        fresh.unlink(missing_ok=True)
        raise
    new.close()
    old.close()
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").rename(f"{aside}{suffix}")
    fresh.rename(path)
    return Salvaged(aside, rows, lost)
