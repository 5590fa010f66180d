"""The file tools stay inside the allowed folders, whatever path they are given."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.tools.files import MAX_READ_BYTES, PAGE_CHARS, AllowedFolders, FileAccess
from assistant.tools.registry import ToolError
from tests.knowledge.conftest import write_pdf, write_stream_bomb_pdf


@pytest.fixture
def access(tmp_path: Path) -> FileAccess:
    allowed = tmp_path / "allowed"
    (allowed / "sub").mkdir(parents=True)
    (allowed / "notes.txt").write_text("The spare key is under the blue pot.")
    (allowed / "sub" / "plan.md").write_text("# Plan\n\nPaint the fence in June.")
    write_pdf(allowed / "manual.pdf", ["Page one.", "Page two.", "Page three."])
    (tmp_path / "secret.txt").write_text("outside")
    return FileAccess([allowed])


def test_reading_and_searching_inside(access: FileAccess) -> None:
    assert "blue pot" in access.read("notes.txt")
    assert "Paint the fence" in access.read(str(access.roots[0] / "sub" / "plan.md"))
    assert access.read("manual.pdf", 2, 3) == "[page 2]\nPage two.\n\n[page 3]\nPage three."
    assert access.search("*.md").endswith("plan.md")
    assert "notes.txt" in access.search("*", contains="SPARE KEY")
    assert access.search("*.xls") == "No file matches."


def test_documents_are_parsed_in_the_reader_process_not_in_hearths_own(
    access: FileAccess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PDFium on a hostile PDF inside Hearth's process could take it down: the limited reader reads it."""

    def in_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a PDF was parsed in Hearth's own process")

    monkeypatch.setattr("assistant.knowledge.documents.read_pdf", in_process)
    assert access.read("manual.pdf", 2, 3) == "[page 2]\nPage two.\n\n[page 3]\nPage three."
    bomb = write_stream_bomb_pdf(tmp_path / "allowed" / "bomb.pdf")
    with pytest.raises(ToolError, match="decompression bomb"):
        access.read(str(bomb))


@pytest.mark.parametrize("path", ["../secret.txt", "../../etc/passwd", "/etc/passwd", "sub/../../secret.txt"])
def test_paths_outside_are_refused(access: FileAccess, path: str) -> None:
    with pytest.raises(ToolError, match=r"outside the folders|does not exist"):
        access.read(path)


def test_a_symlink_pointing_outside_is_refused(access: FileAccess, tmp_path: Path) -> None:
    (access.roots[0] / "link.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ToolError, match="outside the folders"):
        access.read("link.txt")
    assert "link.txt" not in access.search("*")


def test_devices_fifos_nul_bytes_and_binary_files(access: FileAccess, tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="outside the folders"):
        access.read("/dev/zero")
    (access.roots[0] / "zero").symlink_to("/dev/zero")
    with pytest.raises(ToolError, match="outside the folders"):
        access.read("zero")
    os.mkfifo(access.roots[0] / "pipe")
    with pytest.raises(ToolError, match="not a regular file"):
        access.read("pipe")
    with pytest.raises(ToolError, match="NUL"):
        access.read("notes.txt\x00.png")
    (access.roots[0] / "image.bin").write_bytes(b"\x89PNG\x00\x00binary")
    with pytest.raises(ToolError, match="binary"):
        access.read("image.bin")


def test_a_huge_file_is_capped(access: FileAccess) -> None:
    huge = access.roots[0] / "huge.log"
    with huge.open("wb") as handle:  # 2 GB, sparse past its text: cheap to make, costly to read whole
        handle.write(b"start of the log\n" + b"a line of the log\n" * 20_000)
        handle.truncate(2 * 1024**3)
    assert huge.stat().st_size == 2 * 1024**3
    first = access.read("huge.log")
    assert first.startswith("start of the log") and len(first) < PAGE_CHARS + 100
    pages = -(-(MAX_READ_BYTES + 90) // PAGE_CHARS)
    assert first.endswith(f"[page 1 of {pages} of this file's text. Call files_read with page=2 for more.]")
    last = access.read("huge.log", page=pages)
    assert f"only that much can be read]\n[page {pages} of {pages}" in last
    with pytest.raises(ToolError, match=f"ask for page 1 to {pages}"):
        access.read("huge.log", page=pages + 1)


def test_no_allowed_folders_means_no_access(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="No folders are allowed"):
        FileAccess([]).read(str(tmp_path / "x.txt"))


@pytest.fixture
def swap_after_check(access: FileAccess, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Runs the queued swap right after the path was checked and before it is opened: the race a
    hostile process (or a document-processing tool) could win."""
    swaps: list[object] = []
    checked = FileAccess.resolve

    def resolve_then_swap(self: FileAccess, path: str) -> Path:
        resolved = checked(self, path)
        while swaps:
            swaps.pop()()  # type: ignore[operator]
        return resolved

    monkeypatch.setattr(FileAccess, "resolve", resolve_then_swap)
    return swaps


def test_a_file_swapped_for_a_symlink_after_the_check_is_refused(
    access: FileAccess, tmp_path: Path, swap_after_check: list[object]
) -> None:
    notes = access.roots[0] / "notes.txt"

    def swap() -> None:
        notes.unlink()
        notes.symlink_to(tmp_path / "secret.txt")

    swap_after_check.append(swap)
    with pytest.raises(ToolError, match="cannot be opened"):
        access.read("notes.txt")


def test_a_file_swapped_for_a_fifo_after_the_check_does_not_hang(
    access: FileAccess, swap_after_check: list[object]
) -> None:
    notes = access.roots[0] / "notes.txt"

    def swap() -> None:
        notes.unlink()
        os.mkfifo(notes)

    swap_after_check.append(swap)
    with pytest.raises(ToolError, match="not a regular file"):
        access.read("notes.txt")


def test_a_folder_swapped_for_a_symlink_after_the_check_is_refused(
    access: FileAccess, tmp_path: Path, swap_after_check: list[object]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "plan.md").write_text("someone else's plan")
    sub = access.roots[0] / "sub"

    def swap() -> None:
        sub.rename(tmp_path / "moved-away")
        sub.symlink_to(outside)

    swap_after_check.append(swap)
    with pytest.raises(ToolError, match="changed while it was being opened"):
        access.read("sub/plan.md")


def test_the_allowed_folders_follow_their_changes(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "a.txt").write_text(f"in {folder.name}")
    folders = AllowedFolders([first])
    access = FileAccess(folders)
    assert access.read(str(first / "a.txt")) == "in first"
    folders.set([second])  # a collection was removed and another added
    with pytest.raises(ToolError, match="outside the folders"):
        access.read(str(first / "a.txt"))
    assert access.read(str(second / "a.txt")) == "in second"


def test_searching_contents_does_not_follow_a_swap_nor_hang_on_a_fifo(
    access: FileAccess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """files_search(contains=...) read files by name after its own symlink check: a swap right
    after that check turned it into a yes/no oracle on files outside, and a FIFO hung it."""
    notes = access.roots[0] / "notes.txt"
    swaps: list[object] = []
    checked = Path.is_symlink

    def is_symlink_then_swap(self: Path) -> bool:
        answer = checked(self)
        if self.name == "notes.txt":
            while swaps:
                swaps.pop()()  # type: ignore[operator]
        return answer

    monkeypatch.setattr(Path, "is_symlink", is_symlink_then_swap)

    def swap_for_link() -> None:
        notes.unlink()
        notes.symlink_to(tmp_path / "secret.txt")

    swaps.append(swap_for_link)
    assert "notes.txt" not in access.search("*.txt", contains="outside")
    notes.unlink()
    notes.write_text("The spare key is under the blue pot.")

    def swap_for_fifo() -> None:
        notes.unlink()
        os.mkfifo(notes)

    swaps.append(swap_for_fifo)
    assert "notes.txt" not in access.search("*.txt", contains="spare key")
