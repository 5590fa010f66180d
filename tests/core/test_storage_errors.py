"""Full disk, read-only folder, lock, damage: each told apart, each with what to do, never raw.

Real files on real file systems: a 1 MiB tmpfs fills up for the full disk; a tmpfs remounted
read-only stands for a read-only folder (the tests run as root, whom chmod does not stop, so the
mount flag is what refuses the writes). Both skip where ``mount`` is not allowed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.core.database import Database
from assistant.core.errors import (
    StorageDamagedError,
    StorageFullError,
    StorageLockedError,
    StorageReadOnlyError,
)
from assistant.core.storage_errors import kind_of
from assistant.core.store import ConversationStore
from assistant.knowledge.library_index import LibraryIndex

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a small tmpfs (``size`` like "1m"); unmounted after the test."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def _read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)


def test_a_full_disk_says_the_disk_is_full_and_keeps_what_was_saved(tmpfs: Callable[[str], Path]) -> None:
    home = tmpfs("1m")
    store = ConversationStore(home / "conversations.db")
    conversation = store.create()
    store.add_message(conversation.id, "user", "kept")
    with pytest.raises(StorageFullError, match="the disk is full") as raised:
        for _ in range(200):
            store.add_message(conversation.id, "assistant", os.urandom(16_000).hex())
    assert "free some space" in raised.value.hint and "move" not in raised.value.hint.lower()
    assert store.messages(conversation.id)[0].content == "kept"
    store.close()


def test_a_full_disk_while_indexing_is_a_plain_message(tmpfs: Callable[[str], Path]) -> None:
    home = tmpfs("1m")
    catalog = LibraryIndex(home / "library.db")
    collection = catalog.create_collection("home", "e", 8)
    with pytest.raises(StorageFullError):
        for n in range(2000):
            catalog.begin_file(collection.id, f"/{'x' * 2000}/{n}.txt")
    catalog.close()


def test_a_read_only_folder_is_not_called_damaged(tmpfs: Callable[[str], Path]) -> None:
    home = tmpfs("4m")
    store = ConversationStore(home / "conversations.db")
    store.add_message(store.create().id, "user", "hello")
    store.close()
    LibraryIndex(home / "library.db").close()
    _read_only(home)
    with pytest.raises(StorageReadOnlyError, match="read-only") as raised:
        ConversationStore(home / "conversations.db")
    assert "writable" in raised.value.hint and "do not move it" in raised.value.hint
    with pytest.raises(StorageReadOnlyError):
        ConversationStore(home / "new.db")  # a new file cannot be made there either


def test_terminal_commands_in_a_read_only_folder_print_a_sentence_not_a_traceback(
    tmpfs: Callable[[str], Path],
) -> None:
    home = tmpfs("4m")
    env = {**os.environ, "HEARTH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    hearth = [sys.executable, "-m", "assistant"]
    subprocess.run([*hearth, "collections", "list"], env=env, check=True, capture_output=True, timeout=120)
    _read_only(home)
    for command in (["collections", "list"], ["search", "kettle", "--collection", "home"], ["conversations", "list"]):
        run = subprocess.run([*hearth, *command], env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 1, (command, run.stdout, run.stderr)
        assert "Traceback" not in run.stderr and "sqlite3" not in run.stderr, run.stderr
        assert "read-only" in run.stderr and "damaged" not in run.stderr


def test_a_locked_database_says_another_program_holds_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    store = ConversationStore(tmp_path / "conversations.db")
    holder = sqlite3.connect(tmp_path / "conversations.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(Database, "timeout_s", 0.1)
    store._db.execute("PRAGMA busy_timeout = 100")
    with pytest.raises(StorageLockedError, match="locked") as raised:
        store.create()
    assert "try again" in raised.value.hint
    holder.execute("ROLLBACK")
    holder.close()
    store.create()  # once the other program lets go, it works
    store.close()


def _filled(path: Path, conversations: int = 30, messages: int = 20) -> None:
    store = ConversationStore(path)
    for c in range(conversations):
        conversation = store.create(f"Conversation {c}")
        for m in range(messages):
            store.add_message(conversation.id, "user" if m % 2 == 0 else "assistant", f"message {c}.{m} " + "x" * 300)
    store.close()


def test_a_database_with_a_damaged_page_is_called_damaged(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    _filled(path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 4096 // 2 * 4096
    data[middle : middle + 4096] = b"\xde\xad" * 2048
    path.write_bytes(bytes(data))
    with pytest.raises(StorageDamagedError, match="damaged") as raised:
        ConversationStore(path)
    assert "salvage" in raised.value.hint


def test_a_truncated_database_is_called_damaged_at_once(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    _filled(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageDamagedError, match="cut short"):
        ConversationStore(path)


def test_program_errors_are_not_dressed_up_as_storage_problems(tmp_path: Path) -> None:
    import sqlite3

    assert kind_of(sqlite3.IntegrityError("UNIQUE constraint failed"), tmp_path / "x.db") is None
    assert kind_of(sqlite3.OperationalError("no such column: nope"), tmp_path / "x.db") is None
