"""The file tools stay inside the allowed folders, whatever path they are given."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.tools.files import MAX_READ_BYTES, FileAccess
from assistant.tools.registry import ToolError
from tests.knowledge.conftest import write_pdf


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
    text = access.read("huge.log")
    assert text.startswith("start of the log") and len(text) < MAX_READ_BYTES + 100
    assert text.endswith(f"[… cut at {MAX_READ_BYTES:,} characters]")


def test_no_allowed_folders_means_no_access(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="No folders are allowed"):
        FileAccess([]).read(str(tmp_path / "x.txt"))
