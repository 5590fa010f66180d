"""Memory files: what is exported comes back, and a bad file names the place that is wrong."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.core.errors import HearthError
from assistant.memory.long_term import LongTermMemory
from assistant.memory.memory_files import export_memory, import_memory


def test_an_export_imports_into_a_new_home_once(make_memory: Callable[..., LongTermMemory], tmp_path: Path) -> None:
    source = make_memory(home=tmp_path / "a")
    work = source.profiles.create("Work", instructions="Answer tersely.")
    source.store.add(work.id, "The user's team meets on Mondays.", "fact")
    path = tmp_path / "memory.json"
    path.write_text(json.dumps(export_memory(source)), encoding="utf-8")
    target = make_memory(home=tmp_path / "b")
    assert import_memory(target, path) == (1, 1)
    assert import_memory(target, path) == (0, 0)
    copied = target.profiles.all()
    assert [p.instructions for p in copied if p.name == "Work"] == ["Answer tersely."]
    assert [m.text for m in target.store.memories()] == ["The user's team meets on Mondays."]


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"memories": [{"uuid": "x", "text": ""}]}, "memory #1, 'text': has no text"),
        ({"memories": [{"uuid": "x", "text": "ok", "kind": "wish"}]}, "memory #1, 'kind': must be 'fact'"),
        ({"memories": [{"text": "ok"}]}, "memory #1, 'uuid': is missing"),
        ({"profiles": [{"name": "  "}]}, "profile #1, 'name': has no name"),
        ({"profiles": "Work"}, "'profiles': must be a list"),
    ],
)
def test_a_bad_file_adds_nothing_and_says_where(
    make_memory: Callable[..., LongTermMemory], tmp_path: Path, document: dict[str, object], says: str
) -> None:
    memory = make_memory()
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "hearth-memory", "version": 1, **document}), encoding="utf-8")
    with pytest.raises(HearthError) as refused:
        import_memory(memory, path)
    assert says in str(refused.value), str(refused.value)
    assert memory.store.memories() == [] and [p.name for p in memory.profiles.all()] == ["Default"]


def test_a_file_that_is_not_json_is_named(make_memory: Callable[..., LongTermMemory], tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text('{"format": "hearth-memory", "memories": [', encoding="utf-8")
    with pytest.raises(HearthError, match=r"is not valid JSON \(line 1"):
        import_memory(make_memory(), path)
