"""``hearth conversations salvage``: the damaged file kept aside, the readable rows in a new one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from assistant.core.store import ConversationStore

ROOT = Path(__file__).resolve().parents[1]


def test_salvage_from_the_terminal_after_the_damage_was_reported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    path = home / "conversations.db"
    store = ConversationStore(path)
    for c in range(30):
        conversation = store.create(f"Conversation {c}")
        for m in range(20):
            store.add_message(conversation.id, "user", f"message {c}.{m} " + "x" * 300)
    store.close()
    data = bytearray(path.read_bytes())
    middle = len(data) // 4096 // 2 * 4096
    data[middle : middle + 4096] = b"\xde\xad" * 2048
    path.write_bytes(bytes(data))
    env = {**os.environ, "HEARTH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    hearth = [sys.executable, "-m", "assistant", "conversations"]
    listed = subprocess.run([*hearth, "list"], env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 1 and "is damaged" in listed.stderr and "hearth conversations salvage" in listed.stderr
    assert "Traceback" not in listed.stderr
    salvaged = subprocess.run([*hearth, "salvage"], env=env, capture_output=True, text=True, timeout=60)
    assert salvaged.returncode == 0 and salvaged.stdout.startswith("Salvaged 30 conversations"), salvaged.stderr
    listed = subprocess.run([*hearth, "list"], env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "Conversation 29" in listed.stdout
    kept = [p for p in home.glob("conversations.db.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and kept[0].read_bytes()[:4096] == bytes(data[:4096])
