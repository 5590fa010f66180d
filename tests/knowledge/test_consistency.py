"""A crash at every step boundary of indexing, re-indexing and removal, and the next run recovers.

The library calls a checkpoint after each step (indexer.STEPS, library.REINDEX_STEPS,
library.REMOVE_STEPS); these tests raise there, or kill -9 the process there, and then check the
three things that must agree: the files on disk, the catalogue's rows, and Chroma's vector ids.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.config import KnowledgeSettings
from assistant.knowledge.indexer import STEPS
from assistant.knowledge.library import REINDEX_STEPS, REMOVE_STEPS, Library
from tests.fakes import HashingEmbedder
from tests.knowledge.conftest import write_pdf


class Crash(BaseException):
    """Not an Exception: nothing on the way up may catch it, as nothing catches a power cut."""


def _crash_at(step: str, nth: int = 1) -> Callable[[str], None]:
    seen: Counter[str] = Counter()

    def checkpoint(name: str) -> None:
        assert name in STEPS + REINDEX_STEPS + REMOVE_STEPS, name
        seen[name] += 1
        if name == step and seen[name] == nth:
            raise Crash(step)

    return checkpoint


def _corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "garden.md").write_text("# Garden\n\nPlant tomatoes in May after the last frost.\n")
    (folder / "boiler.txt").write_text("The boiler is serviced every October by Priya Nair.\n")
    write_pdf(folder / "kettle.pdf", ["Unpacking the kettle.", "Descale the kettle every 90 days."])
    # Long enough for several embedding batches: a crash can land between two of them.
    (folder / "long.txt").write_text("\n\n".join(f"Paragraph {n} about the allotment shed." * 3 for n in range(150)))
    return folder


def _change(folder: Path) -> None:
    (folder / "boiler.txt").write_text("The boiler is now serviced every March.\n")
    (folder / "garden.md").unlink()
    (folder / "bees.txt").write_text("A brand new note about bees.\n")


def _library(home: Path, embedder: HashingEmbedder, checkpoint: Callable[[str], None] | None = None) -> Library:
    if checkpoint is None:
        return Library(home, KnowledgeSettings(), embedder)
    return Library(home, KnowledgeSettings(), embedder, checkpoint)


def _passages(library: Library, name: str) -> Counter[tuple[str, int | None, str]]:
    """What the collection holds, as (file name, page, text): equal for two indexes of one folder."""
    collection = library.collection(name)
    rows = library.catalog.chunks_by_id(sorted(library.catalog.chunk_ids(collection.id)))
    return Counter((Path(c.path).name, c.page, c.text) for c in rows.values())


def _check(library: Library, name: str, folder: Path, embedder: HashingEmbedder, tmp_path: Path) -> None:
    """Files on disk = catalogue rows = Chroma ids, every file indexed, and the same passages as a
    clean index of the same folder (nothing missing, nothing twice)."""
    collection = library.collection(name)
    files = library.catalog.files(collection.id)
    on_disk = {str(p) for p in folder.iterdir() if p.is_file()}
    assert set(files) == on_disk
    assert {f.status for f in files.values()} == {"indexed"}
    chunk_ids = library.catalog.chunk_ids(collection.id)
    assert sum(f.chunks for f in files.values()) == len(chunk_ids)
    key = (collection.vector_name, collection.embedder, collection.dimension)
    assert library.vectors.ids(*key) == chunk_ids, "Chroma and the catalogue disagree (orphans or gaps)"
    assert library.vectors.count(*key) == len(chunk_ids)
    clean = _library(tmp_path / "clean", embedder)
    clean.add("reference", [folder])
    clean.sync("reference")
    assert _passages(library, name) == _passages(clean, "reference")
    clean.close()


def _indexed(home: Path, folder: Path, embedder: HashingEmbedder) -> None:
    library = _library(home, embedder)
    library.add("home", [folder])
    library.sync("home")
    library.close()


SCENARIOS: dict[str, tuple[str, ...]] = {
    "first index": ("file.marked", "file.chunks_written", "file.vectors_written", "file.finished"),
    "changes": STEPS,  # a file changed, one gone, one new
    "re-index": REINDEX_STEPS + STEPS[3:],
}
CASES = [(scenario, step, nth) for scenario, steps in SCENARIOS.items() for step in steps for nth in ("first", "last")]


def _run(scenario: str, home: Path, folder: Path, embedder: HashingEmbedder, checkpoint: Callable[[str], None]) -> None:
    if scenario != "first index":
        _indexed(home, folder, embedder)
    if scenario == "changes":
        _change(folder)
    library = _library(home, embedder, checkpoint)
    library.add("home", [folder])
    try:
        library.sync("home", reindex=scenario == "re-index")
    finally:
        library.close()


def _steps_seen(scenario: str, tmp_path: Path) -> Counter[str]:
    seen: Counter[str] = Counter()
    _run(
        scenario,
        tmp_path / "dry-home",
        _corpus(tmp_path / "dry-docs"),
        HashingEmbedder(),
        lambda name: seen.update([name]),
    )
    return seen


@pytest.mark.parametrize(("scenario", "step", "nth"), CASES, ids=[f"{s}-{t}-{n}" for s, t, n in CASES])
def test_a_crash_at_each_step_of_a_sync_is_recovered_by_the_next(
    tmp_path: Path, scenario: str, step: str, nth: str
) -> None:
    """At the first and at the last time the sync passes ``step`` (the last batch of the last file)."""
    seen = _steps_seen(scenario, tmp_path)
    assert seen[step] >= 1, f"{scenario} never passes {step}"
    folder = _corpus(tmp_path / "docs")
    home = tmp_path / "home"
    embedder = HashingEmbedder()
    with pytest.raises(Crash):
        _run(scenario, home, folder, embedder, _crash_at(step, 1 if nth == "first" else seen[step]))

    library = _library(home, embedder)
    report = library.sync("home")
    assert report.failed == []
    _check(library, "home", folder, embedder, tmp_path)
    assert library.sync("home").unchanged == len(list(folder.iterdir()))  # and settled: nothing redone
    library.close()


@pytest.mark.parametrize("step", ["gone.marked", "gone.vectors_deleted"])
def test_a_file_that_comes_back_after_a_crash_while_removing_it_is_indexed_again(tmp_path: Path, step: str) -> None:
    """A folder on a disk that was unplugged during a sync, and plugged in again before the next."""
    folder = _corpus(tmp_path / "docs")
    home = tmp_path / "home"
    embedder = HashingEmbedder()
    _indexed(home, folder, embedder)
    boiler = (folder / "boiler.txt").read_bytes()
    stat = (folder / "boiler.txt").stat()
    (folder / "boiler.txt").unlink()
    crashing = _library(home, embedder, _crash_at(step))
    with pytest.raises(Crash):
        crashing.sync("home")
    crashing.close()
    (folder / "boiler.txt").write_bytes(boiler)
    os.utime(folder / "boiler.txt", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # exactly as it was

    library = _library(home, embedder)
    library.sync("home")
    _check(library, "home", folder, embedder, tmp_path)
    library.close()


@pytest.mark.parametrize("step", REINDEX_STEPS)
def test_a_crash_while_changing_the_embedder_is_finished_at_the_next_start(tmp_path: Path, step: str) -> None:
    folder = _corpus(tmp_path / "docs")
    home = tmp_path / "home"
    _indexed(home, folder, HashingEmbedder(64, "first"))
    second = HashingEmbedder(32, "second")
    crashing = _library(home, second, _crash_at(step))
    with pytest.raises(Crash):
        crashing.sync("home", reindex=True)
    crashing.close()

    library = _library(home, second)
    library.sync("home")  # a plain sync: the re-index decided before the crash is finished
    assert library.collection("home").embedder == "second"
    _check(library, "home", folder, second, tmp_path)
    library.close()


@pytest.mark.parametrize("step", REMOVE_STEPS)
def test_a_crash_while_removing_a_collection_is_finished_at_the_next_start(tmp_path: Path, step: str) -> None:
    folder = _corpus(tmp_path / "docs")
    home = tmp_path / "home"
    embedder = HashingEmbedder()
    _indexed(home, folder, embedder)
    crashing = _library(home, embedder, _crash_at(step))
    removed = crashing.collection("home")
    with pytest.raises(Crash):
        crashing.remove("home")
    assert crashing.collections() == []  # gone from view from the first step
    crashing.close()

    library = _library(home, embedder)
    assert library.collections() == []
    _ = library.vectors  # opening the store finishes the removal
    assert not library.vectors.exists(removed.vector_name)
    assert library.catalog.rows("SELECT COUNT(*) AS n FROM files")[0]["n"] == 0
    assert library.catalog.rows("SELECT COUNT(*) AS n FROM chunks")[0]["n"] == 0
    library.add("home", [folder])  # the name is free again, and a new index is whole
    library.sync("home")
    _check(library, "home", folder, embedder, tmp_path)
    library.close()


_KILLED = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from assistant.config import KnowledgeSettings
    from assistant.knowledge.library import Library
    from tests.fakes import HashingEmbedder

    home, folder, step, action = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]

    def checkpoint(name):
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)

    library = Library(home, KnowledgeSettings(), HashingEmbedder(), checkpoint)
    library.add("home", [folder])
    if action == "remove":
        library.remove("home")
    else:
        library.sync("home", reindex=action == "reindex")
    sys.exit(3)  # the step was never reached
""")


@pytest.mark.parametrize(
    ("action", "step"),
    [("sync", "file.chunks_written"), ("reindex", "reindex.marked"), ("remove", "remove.vectors_dropped")],
)
def test_kill_9_at_a_step_boundary_is_recovered(tmp_path: Path, action: str, step: str) -> None:
    folder = _corpus(tmp_path / "docs")
    home = tmp_path / "home"
    embedder = HashingEmbedder()
    if action != "sync":
        _indexed(home, folder, embedder)
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED, str(home), str(folder), step, action],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]

    library = _library(home, embedder)
    if action == "remove":
        assert library.collections() == []
        library.add("home", [folder])
    library.sync("home")
    _check(library, "home", folder, embedder, tmp_path)
    library.close()
