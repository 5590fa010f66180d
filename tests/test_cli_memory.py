"""``hearth ask --profile/--incognito``, ``hearth memory`` and ``hearth profiles``, on the real model and store."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings, save_settings
from assistant.core.store import INCOGNITO_FIRST_ID


def _hearth(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    settings = Settings()
    settings.sampling.max_tokens = 40
    settings.sampling.temperature = 0.0
    save_settings(settings)
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )


def _ask(*args: str) -> dict[str, object]:
    run = _hearth("ask", "--json", *args)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


@pytest.mark.real_model
def test_what_was_said_in_one_conversation_is_recalled_in_another(hearth_home: Path) -> None:
    first = _ask("My daughter is called Mira.")
    second = _ask("What is my daughter's name?")
    assert second["conversation_id"] != first["conversation_id"]
    memories = second["memories"]
    assert isinstance(memories, list) and any("Mira" in m["text"] for m in memories), memories
    assert second["stats"]["context"]["memories"] > 0  # type: ignore[index]
    listed = json.loads(_hearth("memory", "list", "--json").stdout)
    assert all(m["profile_id"] == 1 for m in listed)


@pytest.mark.real_model
def test_incognito_leaves_no_row_and_no_vector(hearth_home: Path) -> None:
    _ask("Remember that I keep a diary.")  # a saved memory, so the stores exist to be checked
    before = _hearth("memory", "list", "--json")
    answer = _ask("--incognito", "Remember that my daughter is called Mira. My cat is called Tom.")
    assert answer["conversation_id"] >= INCOGNITO_FIRST_ID
    with sqlite3.connect(hearth_home / "conversations.db") as db:
        assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 1
        assert not db.execute("SELECT 1 FROM messages WHERE content LIKE '%Mira%'").fetchall()
    with sqlite3.connect(hearth_home / "memory.db") as db:
        assert not db.execute("SELECT 1 FROM memories WHERE text LIKE '%Mira%' OR text LIKE '%Tom%'").fetchall()
        assert db.execute("SELECT count(*) FROM conversation_digests").fetchone()[0] == 1
    assert _hearth("memory", "list", "--json").stdout == before.stdout
    import chromadb

    client = chromadb.PersistentClient(path=str(hearth_home / "vectors"))
    collection = client.get_collection("hearth-memories")
    assert sorted(collection.get()["ids"]) == ["c1", "m1"], "only the saved conversation's vectors"
    assert _hearth("ask", "--incognito", "--conversation", "1", "hi").returncode == 1


def test_memory_commands(hearth_home: Path, tmp_path: Path) -> None:
    added = _hearth("memory", "add", "The user's daughter is called Mira.")
    assert added.returncode == 0 and "added" in added.stdout, added.stderr
    restated = _hearth("memory", "add", "The user's daughter is called Mira!")
    assert "updated" in restated.stdout, "a near-duplicate updates the memory (to the newer wording)"
    _hearth("memory", "add", "The user prefers metric units.", "--kind", "preference")
    listed = json.loads(_hearth("memory", "list", "--json").stdout)
    assert [m["text"] for m in listed] == ["The user prefers metric units.", "The user's daughter is called Mira!"]
    assert listed[1]["history"][0]["text"] == "The user's daughter is called Mira."
    found = json.loads(_hearth("memory", "search", "--json", "what is my daughter's name").stdout)
    assert found[0]["text"] == "The user's daughter is called Mira!"
    mira = next(m for m in listed if "Mira" in m["text"])
    assert _hearth("memory", "edit", str(mira["id"]), "The user's daughter is called Mira Rose.").returncode == 0
    edited = json.loads(_hearth("memory", "list", "--json").stdout)
    assert next(m for m in edited if m["id"] == mira["id"])["history"][-1]["text"] == mira["text"]

    export = tmp_path / "memory.json"
    assert _hearth("memory", "export", "-o", str(export)).returncode == 0
    assert _hearth("memory", "forget", str(mira["id"])).returncode == 0
    assert len(json.loads(_hearth("memory", "list", "--json").stdout)) == 1
    assert "Imported 1 memory" in _hearth("memory", "import", str(export)).stdout
    assert "Imported 0 memories" in _hearth("memory", "import", str(export)).stdout, "import is idempotent"
    refused = _hearth("memory", "clear")
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert _hearth("memory", "clear", "--yes").returncode == 0
    assert json.loads(_hearth("memory", "list", "--json").stdout) == []
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "hearth-memory", "memories": [{"uuid": "x", "text": ""}]}')
    failed = _hearth("memory", "import", str(broken))
    assert failed.returncode == 1 and "memory #1, 'text': has no text" in failed.stderr


def test_profile_commands(hearth_home: Path) -> None:
    created = _hearth("profiles", "create", "Work", "--instructions", "Answer tersely.", "--about", "I am a nurse.")
    assert created.returncode == 0, created.stderr
    assert _hearth("profiles", "create", "work").returncode == 1, "names are unique regardless of case"
    assert _hearth("profiles", "edit", "Work", "--temperature", "0.2").returncode == 0
    bad = _hearth("profiles", "edit", "Work", "--tool", "files_read", "sometimes")
    assert bad.returncode == 1 and "allow, ask, deny" in bad.stderr
    _hearth("profiles", "edit", "Work", "--tool", "files_read", "allow")
    assert _hearth("profiles", "use", "Work").returncode == 0
    profiles = json.loads(_hearth("profiles", "list", "--json").stdout)
    work = next(p for p in profiles if p["name"] == "Work")
    assert (
        work["active"]
        and work["sampling"] == {"temperature": 0.2}
        and work["tool_approvals"] == {"files_read": "allow"}
    )
    missing = _hearth("ask", "--profile", "Nope", "hi")
    assert missing.returncode == 1 and "Profiles: Default, Work" in missing.stderr
    assert _hearth("profiles", "delete", "Default").returncode == 0
    last = _hearth("profiles", "delete", "Work")
    assert last.returncode == 1 and "last profile" in last.stderr


@pytest.mark.real_model
def test_ask_in_a_profile_uses_its_instructions_and_about_me(hearth_home: Path) -> None:
    _hearth(
        "profiles",
        "create",
        "Home",
        "--instructions",
        "You are Ember, a cheerful helper.",
        "--about",
        "I live in Lyon.",
    )
    answer = _ask("--profile", "Home", "Where do I live?")
    context = answer["stats"]["context"]  # type: ignore[index]
    assert context["profile"] > 0
    show = json.loads(_hearth("conversations", "show", "--json", str(answer["conversation_id"])).stdout)
    assert show["options"]["profile_id"] == 2
