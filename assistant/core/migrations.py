"""The one way an SQLite file's schema changes: a list of steps and ``PRAGMA user_version``.

A file's ``user_version`` is the number of steps already applied. Opening it applies the rest,
all inside one ``BEGIN IMMEDIATE`` transaction that re-reads the version once it holds the write
lock: two processes opening a new file at the same moment take turns, and the second finds the
work done. A step is SQL (one or more statements) or a function given the connection; a failure
rolls every step of this opening back, leaving the file as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence

Step = str | Callable[[sqlite3.Connection], None]


class SchemaTooNew(Exception):
    def __init__(self, found: int, known: int) -> None:
        super().__init__(f"schema {found}, this Hearth knows up to {known}")
        self.found, self.known = found, known


def statements(sql: str) -> Iterator[str]:
    """Each whole statement of a script (a trigger's body keeps its semicolons)."""
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                yield pending.strip()
            pending = ""
    if pending.strip(" \n\t;"):
        yield pending.strip()


def apply_step(db: sqlite3.Connection, step: Step) -> None:
    if callable(step):
        step(db)
    else:
        for statement in statements(step):
            db.execute(statement)


def version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    db: sqlite3.Connection, steps: Sequence[Step], unversioned: Callable[[sqlite3.Connection], int] | None = None
) -> int:
    """Bring ``db`` (autocommit mode) up to ``len(steps)``; returns the version it had.

    ``unversioned``: for files written before they carried a version, how many steps their
    tables already reflect (asked only when the version is 0)."""
    target = len(steps)
    if version(db) == target:
        return target
    db.execute("BEGIN IMMEDIATE")
    try:
        found = version(db)  # again, now that no other process can be migrating
        if found > target:
            raise SchemaTooNew(found, target)
        start = unversioned(db) if found == 0 and unversioned is not None else found
        for step in steps[start:]:
            apply_step(db, step)
        db.execute(f"PRAGMA user_version = {target}")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return found


def has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def add_column(db: sqlite3.Connection, table: str, definition: str) -> None:
    """``ALTER TABLE … ADD COLUMN`` unless a file from before versions already has it."""
    if definition.split()[0] not in columns(db, table):
        db.execute(f"ALTER TABLE {table} ADD COLUMN {definition}")
