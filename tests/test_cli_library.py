"""``hearth collections patterns`` and ``remove-folder``: the Library window's controls from a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import cli
from assistant.cli import library as cli_library
from assistant.knowledge.library import Library
from tests.fakes import HashingEmbedder


@pytest.fixture(autouse=True)
def _hashing_embedder(monkeypatch: pytest.MonkeyPatch, hearth_home: Path) -> None:
    opened = cli_library.open_library
    monkeypatch.setattr(
        cli_library, "open_library", lambda settings, embedder=None: opened(settings, HashingEmbedder())
    )


def test_patterns_and_removing_a_folder_from_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes, extra = tmp_path / "notes", tmp_path / "extra"
    for path, text in {
        notes / "a.md": "Kept.",
        notes / "b.txt": "Text.",
        notes / "drafts" / "c.md": "Draft.",
        extra / "d.md": "Extra.",
    }.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert cli.main(["index", str(notes), str(extra), "--collection", "Notes"]) == 0
    assert cli.main(["collections", "patterns", "Notes", "--include", "*.md", "--exclude", "drafts/**"]) == 0
    out = capsys.readouterr().out
    assert "Include: *.md" in out and "Exclude: drafts/**" in out and "2 removed" in out
    library = Library(Path(cli_library.data_dir()), embedder=HashingEmbedder())
    try:
        collection = library.collection("Notes")
        assert sorted(Path(p).name for p in library.catalog.files(collection.id)) == ["a.md", "d.md"]
    finally:
        library.close()
    assert cli.main(["collections", "remove-folder", "Notes", str(extra)]) == 0
    assert cli.main(["collections", "patterns", "Notes", "--exclude", "../x"]) == 1
    assert "outside the collection" in capsys.readouterr().err
    library = Library(Path(cli_library.data_dir()), embedder=HashingEmbedder())
    try:
        collection = library.collection("Notes")
        assert collection.roots == (str(notes.resolve()),) and collection.include == ("*.md",)
        assert [Path(p).name for p in library.catalog.files(collection.id)] == ["a.md"]
    finally:
        library.close()
