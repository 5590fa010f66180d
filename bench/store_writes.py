"""How long changes to stored data asked for in the window hold up its event loop (offscreen, one process).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/store_writes.py [--busy-ms 1000]

Three cases, each timed with the window's StallMeter (the longest late tick of a 5 ms timer on the
UI thread) from the click until the change is in the store:
- rename a conversation, while another connection (a `hearth` command in a terminal, say) holds a
  write transaction on conversations.db for ``--busy-ms`` (SQLite then waits for the lock);
- delete a profile with memories, in a freshly opened memory (its vector store, Chroma, not yet open);
- 20 new chats, one after another.
Before the operations layer these writes ran on the UI thread; now on the store-writer thread.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busy-ms", type=int, default=1000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="hearth-bench-writes-"))
    os.environ["HEARTH_HOME"] = str(home)

    from PySide6.QtWidgets import QApplication, QMessageBox

    from assistant.app import Hearth
    from assistant.config import MemorySettings, Settings, database_path
    from assistant.memory.long_term import LongTermMemory
    from assistant.ui.stall import StallMeter
    from tests.fakes import HashingEmbedder, ScriptedEngine

    app = QApplication.instance() or QApplication([])
    embedder = HashingEmbedder(dimension=256)
    setup = LongTermMemory(home, MemorySettings(), lambda: embedder)
    work = setup.profiles.create("Work")
    for i in range(20):
        setup.store.add(work.id, f"Work fact number {i}")
    setup.close()
    memory = LongTermMemory(home, MemorySettings(enabled=False), lambda: embedder)
    settings = Settings()
    settings.memory.enabled = False
    engine = ScriptedEngine()
    hearth = Hearth(settings, engine_factory=lambda s: engine, memory=memory)
    hearth.show()
    window = hearth.window

    def until(condition: Callable[[], bool], timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError
            app.processEvents()
            time.sleep(0.001)

    def timed(action: Callable[[], None], done: Callable[[], bool]) -> tuple[float, float]:
        meter = StallMeter()
        meter.start()
        started = time.perf_counter()
        action()
        until(done)
        until(lambda: getattr(getattr(window, "operations", None), "pending", 0) == 0)
        stored = (time.perf_counter() - started) * 1000
        settle = time.monotonic() + 0.05  # a write that held the UI thread shows as the next tick's lateness
        until(lambda: time.monotonic() > settle)
        return meter.stop(), stored

    until(lambda: window.model_state == "ready")

    def query(path: Path, sql: str) -> list[tuple[object, ...]]:
        """Read on a connection of its own: the bench's polling must not wait on the window's connection."""
        connection = sqlite3.connect(path, timeout=30)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()

    conversations_db, memory_db = database_path(), home / "memory.db"
    rows: list[tuple[str, float, float]] = []

    # Rename while another connection holds the write lock.
    conversation = hearth.store.create("Tomatoes")
    window.refresh_conversations()
    from PySide6.QtWidgets import QInputDialog

    QInputDialog.getText = staticmethod(lambda *a, **k: ("Garden", True))  # type: ignore[method-assign]
    locked = threading.Event()

    def hold_lock() -> None:
        other = sqlite3.connect(database_path(), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(args.busy_ms / 1000)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait()
    rows.append(
        (
            f"rename, database busy {args.busy_ms} ms",
            *timed(
                lambda: window.sidebar.rename(conversation.id),
                lambda: (
                    query(conversations_db, f"SELECT title FROM conversations WHERE id = {conversation.id}")
                    == [("Garden",)]
                ),
            ),
        )
    )
    holder.join()

    # Delete a profile with memories (Chroma opened for the first time by the deletion).
    controls = window.memory_controls
    assert controls is not None
    dialog = controls.open_profiles()
    dialog.picker.setCurrentIndex(dialog.picker.findText("Work"))

    def delete() -> None:
        box = dialog.delete()
        assert box is not None
        box.button(QMessageBox.StandardButton.Yes).click()

    profiles_left = lambda: len(query(memory_db, "SELECT id FROM profiles"))  # noqa: E731
    rows.append(("delete a profile with 20 memories", *timed(delete, lambda: profiles_left() == 1)))
    dialog.accept()

    # Twenty new chats.
    def conversations() -> int:
        return int(str(query(conversations_db, "SELECT COUNT(*) FROM conversations")[0][0]))

    before = conversations()

    def twenty() -> None:
        for _ in range(20):
            window.new_action.trigger()
            until(lambda: not getattr(getattr(window, "new_conversations", None), "pending", False))

    rows.append(("20 new chats", *timed(twenty, lambda: conversations() >= before + 20)))

    print(f"{'case':40} {'longest UI stall ms':>20} {'until stored ms':>16}")
    for name, stall, total in rows:
        print(f"{name:40} {stall:20.1f} {total:16.1f}")
    window.close()
    hearth.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
