"""Each file's status as the Library window lists it, and the cheap "does this collection need a sync"."""

from __future__ import annotations

import os
from pathlib import Path

from assistant.knowledge.file_status import FAILED, INDEXED, PENDING, SKIPPED


def test_every_file_gets_a_status_and_a_plain_reason(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("A note about the kettle.")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense")
    (folder / "empty.md").write_text("")
    (folder / "gone.txt").write_text("Deleted after indexing.")
    library = make_library()
    library.add("docs", [folder])
    library.sync("docs")
    assert not library.needs_sync("docs")
    (folder / "gone.txt").unlink()
    (folder / "new.txt").write_text("Added after indexing.")
    (folder / "good.txt").write_text("A note about the kettle, edited.")
    os.utime(folder / "good.txt", (1, 1))
    assert library.needs_sync("docs")
    rows = {Path(row.path).name: row for row in library.file_statuses("docs")}
    assert {name: row.status for name, row in rows.items()} == {
        "good.txt": PENDING,
        "broken.pdf": FAILED,
        "empty.md": SKIPPED,
        "gone.txt": PENDING,
        "new.txt": PENDING,
    }
    assert "corrupt PDF" in rows["broken.pdf"].reason
    assert rows["empty.md"].reason == "empty file"
    assert "changed since" in rows["good.txt"].reason and "new" in rows["new.txt"].reason
    assert "gone from its folder" in rows["gone.txt"].reason
    library.sync("docs")
    assert not library.needs_sync("docs")
    statuses = {Path(row.path).name: row.status for row in library.file_statuses("docs")}
    assert statuses == {"good.txt": INDEXED, "new.txt": INDEXED, "broken.pdf": FAILED, "empty.md": SKIPPED}
    assert all(row.passages > 0 for row in library.file_statuses("docs") if row.status == INDEXED)
