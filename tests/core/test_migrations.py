"""One migration mechanism for every SQLite file: each old schema, built here from the file's own
list of steps, opens and is brought up to date; two processes racing on a new file both work."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from assistant.core import migrations
from assistant.core.errors import StorageTooNewError
from assistant.core.messages import MessageStatus
from assistant.core.store import ConversationStore
from assistant.core.store_schema import MIGRATIONS as CONVERSATION_STEPS
from assistant.knowledge import ngrams
from assistant.knowledge.library_index import LibraryIndex
from assistant.knowledge.library_index_schema import MIGRATIONS as CATALOG_STEPS
from assistant.memory.long_term import MemoryDatabase
from assistant.memory.profiles import ProfileStore
from assistant.memory.schema import MIGRATIONS as MEMORY_STEPS

ROOT = Path(__file__).resolve().parents[2]


def _old_file(
    path: Path, steps: Sequence[migrations.Step], version: int, fill: Callable[[sqlite3.Connection], object]
) -> None:
    """A file as Hearth wrote it at ``version``: the first ``version`` steps, then its rows."""
    db = sqlite3.connect(path, isolation_level=None)
    db.create_function("hearth_ngrams", 1, ngrams.index_text, deterministic=True)
    for step in steps[:version]:
        migrations.apply_step(db, step)
    db.execute(f"PRAGMA user_version = {version}")
    fill(db)
    db.close()


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return migrations.columns(db, table)


@pytest.mark.parametrize("version", range(1, len(CONVERSATION_STEPS)))
def test_a_conversation_database_of_each_old_version_opens_with_its_messages(tmp_path: Path, version: int) -> None:
    def fill(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO conversations (uuid, title, created_at, updated_at) VALUES ('u', 'Old', 0, 0)")
        for text, role in (("hello", "user"), ("hi there", "assistant")):
            db.execute(
                "INSERT INTO messages (conversation_id, role, content, created_at, updated_at) VALUES (1, ?, ?, 0, 0)",
                (role, text),
            )
        if "parent_id" in _columns(db, "messages"):  # versions: as Hearth wrote them, each names its parent
            db.execute("UPDATE messages SET parent_id = id - 1 WHERE id > 1")

    path = tmp_path / "conversations.db"
    _old_file(path, CONVERSATION_STEPS, version, fill)
    store = ConversationStore(path)
    assert [m.content for m in store.messages(1)] == ["hello", "hi there"]
    store.add_message(1, "user", "and now?")
    streaming = store.add_message(1, "assistant", "growing", MessageStatus.STREAMING)
    assert store.rows("SELECT writer FROM messages WHERE id = ?", (streaming.id,))[0]["writer"]
    assert store.rows("PRAGMA user_version")[0][0] == len(CONVERSATION_STEPS)
    assert store.search("hello")[0].conversation.title == "Old"
    store.close()


@pytest.mark.parametrize("version", range(1, len(CATALOG_STEPS)))
@pytest.mark.parametrize("versioned", [True, False], ids=["versioned", "from-before-versions"])
def test_a_library_catalogue_of_each_old_version_opens_with_its_passages(
    tmp_path: Path, version: int, versioned: bool
) -> None:
    def fill(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO collections (name, embedder, dimension, created_at) VALUES ('home', 'e', 8, 0)")
        db.execute("INSERT INTO files (collection_id, path, status, updated_at) VALUES (1, '/a.txt', 'indexed', 0)")
        db.execute(
            "INSERT INTO chunks (chunk_id, file_id, collection_id, idx, text, heading, start, end)"
            " VALUES ('c0', 1, 1, 0, '人工智能是计算机科学的一个分支。 The kettle needs descaling.', '', 0, 10)"
        )
        if "uid" in _columns(db, "collections"):  # stable ids: as Hearth wrote them
            db.execute("UPDATE collections SET uid = 'u1', vector_name = 'hearth-u1'")
        if not versioned:
            db.execute("PRAGMA user_version = 0")  # catalogues before this change carried no version

    path = tmp_path / "library.db"
    _old_file(path, CATALOG_STEPS, version, fill)
    catalog = LibraryIndex(path)
    (collection,) = catalog.collections()
    old_name = "hearth-u1" if version >= 3 else f"hearth-{collection.id}"
    assert collection.uid and collection.vector_name == old_name  # keeps its vectors where they are
    assert [f.chunking for f in catalog.files(collection.id).values()] == [""]  # re-chunked at the next sync
    assert catalog.keyword_search([collection.id], "kettle", 5) == ["c0"]
    assert catalog.keyword_search([collection.id], "人工智能", 5) == ["c0"]  # the pair index, built from the text
    assert catalog.rows("PRAGMA user_version")[0][0] == len(CATALOG_STEPS)
    catalog.close()


def test_a_memory_database_from_before_versions_keeps_its_profiles(tmp_path: Path) -> None:
    def fill(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO profiles (name, created_at, updated_at) VALUES ('Work', 0, 0)")
        db.execute("PRAGMA user_version = 0")

    path = tmp_path / "memory.db"
    _old_file(path, MEMORY_STEPS, 1, fill)
    db = MemoryDatabase(path)
    assert [p.name for p in ProfileStore(db).all()] == ["Work"]
    assert db.rows("PRAGMA user_version")[0][0] == len(MEMORY_STEPS)
    db.close()


def test_a_file_from_a_newer_hearth_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    _old_file(path, CONVERSATION_STEPS, len(CONVERSATION_STEPS), lambda db: db.execute("PRAGMA user_version = 99"))
    schema = "SELECT sql FROM sqlite_master ORDER BY name"
    before = sqlite3.connect(path).execute(schema).fetchall()
    with pytest.raises(StorageTooNewError, match="newer Hearth") as raised:
        ConversationStore(path)
    assert "update Hearth" in raised.value.hint
    after = sqlite3.connect(path)
    assert after.execute(schema).fetchall() == before and migrations.version(after) == 99


def test_a_failing_step_leaves_the_file_at_its_old_version(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    steps: list[migrations.Step] = ["CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y; CREATE TABLE a (z)"]
    with pytest.raises(sqlite3.OperationalError):
        migrations.migrate(db, steps)
    assert migrations.version(db) == 0 and not migrations.has_table(db, "a")


def test_a_second_connection_waits_for_the_first_migration_and_finds_it_done(tmp_path: Path) -> None:
    """Deterministic: the first migration holds the write lock inside its step while the second starts."""
    import threading

    inside, release, ran = threading.Event(), threading.Event(), []

    def slow_step(db: sqlite3.Connection) -> None:
        ran.append(threading.current_thread().name)
        inside.set()
        release.wait(10)
        db.execute("CREATE TABLE t (x INTEGER)")

    steps: list[migrations.Step] = [slow_step, "ALTER TABLE t ADD COLUMN y INTEGER"]

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(tmp_path / "x.db", isolation_level=None, timeout=10, check_same_thread=False)

    first = threading.Thread(target=migrations.migrate, args=(connect(), steps), name="first")
    first.start()
    assert inside.wait(10)
    second_result: list[int] = []
    second = threading.Thread(target=lambda: second_result.append(migrations.migrate(connect(), steps)), name="second")
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert ran == ["first"] and second_result == [2]  # it found version 2: nothing ran twice


_RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from assistant.core.store import ConversationStore
    from assistant.knowledge.library_index import LibraryIndex
    from assistant.memory.long_term import MemoryDatabase
    from assistant.memory.profiles import ProfileStore
    home = Path(sys.argv[1])
    while time.time() < float(sys.argv[2]):
        pass
    store = ConversationStore(home / "conversations.db")
    conversation = store.create()
    for n in range(6):
        store.add_message(conversation.id, "user" if n % 2 == 0 else "assistant", f"{sys.argv[3]} {n}")
    LibraryIndex(home / "library.db").create_collection(sys.argv[3], "e", 8)
    ProfileStore(MemoryDatabase(home / "memory.db")).create(sys.argv[3])
    print("done", flush=True)
    """
)


NAMES = ("north", "east", "south", "west")  # on today's main, 2 racers of 5 pairs failed: 4 at once, twice


@pytest.mark.parametrize("attempt", range(2))
def test_two_processes_starting_on_a_new_data_directory_both_store_everything(tmp_path: Path, attempt: int) -> None:
    """The migration re-reads the version inside BEGIN IMMEDIATE: the second waits, then finds it done."""
    import time

    home = tmp_path / "home"
    home.mkdir()
    start = str(time.time() + 1.5)  # both spin until the same moment, then open the new files at once
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(home), start, name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in NAMES
    ]
    results = [racer.communicate(timeout=120) for racer in racers]
    for racer, (out, err) in zip(racers, results, strict=True):
        assert racer.returncode == 0 and out.strip() == "done", err[-2000:]
    store = ConversationStore(home / "conversations.db")
    assert sorted(m.content for c in store.conversations() for m in store.messages(c.id)) == sorted(
        f"{name} {n}" for name in NAMES for n in range(6)
    )
    store.close()
    catalog = LibraryIndex(home / "library.db")
    assert sorted(c.name for c in catalog.collections()) == sorted(NAMES)
    catalog.close()
