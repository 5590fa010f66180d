"""Documents are read in worker processes with time and memory limits: a hostile file costs its
own reason, never Hearth's process, and is not read again until it changes.

The limits in these tests are far below what the hostile files need (seconds against tens of
seconds of CPU, 256 MB against gigabytes), so a loaded machine only makes them fail sooner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.knowledge.documents import LoadedDocument, LoadError
from assistant.knowledge.indexer import Indexer
from assistant.knowledge.library_index import LibraryIndex
from assistant.knowledge.parse_pool import ParsePool, ParseWorker, worker_command
from assistant.knowledge.parse_worker import WORKER_FLAG
from assistant.knowledge.vectors import VectorStore
from tests.fakes import HashingEmbedder
from tests.knowledge.conftest import (
    write_memory_hog_json,
    write_pdf,
    write_slow_pdf,
    write_stream_bomb_pdf,
    write_truncated_pdf,
)

ROOT = Path(__file__).resolve().parents[2]


class CountingPool(ParsePool):
    """The real pool, counting what it is asked to read."""

    def __init__(self) -> None:
        super().__init__(size=2, memory_mib=256, base_timeout_s=2.0)
        self.read: list[str] = []

    def load(self, path: Path) -> LoadedDocument | LoadError:
        self.read.append(path.name)
        return super().load(path)


@pytest.fixture
def pool():  # type: ignore[no-untyped-def]
    pool = CountingPool()
    yield pool
    pool.close()


def _reason(result: LoadedDocument | LoadError) -> str:
    assert isinstance(result, LoadError), result
    return result.reason


def test_a_file_that_takes_too_long_is_stopped(pool: CountingPool, tmp_path: Path) -> None:
    assert "took too long to read" in _reason(pool.load(write_slow_pdf(tmp_path / "slow.pdf")))
    # The worker was killed and replaced: the next file is read normally.
    document = pool.load(write_pdf(tmp_path / "fine.pdf", ["Still reading."]))
    assert isinstance(document, LoadedDocument) and document.sections[0].text == "Still reading."


def test_a_file_that_needs_too_much_memory_is_too_large_to_read(pool: CountingPool, tmp_path: Path) -> None:
    assert "too large to read" in _reason(pool.load(write_memory_hog_json(tmp_path / "hog.json")))


def test_a_decompression_bomb_is_refused_as_such_not_called_scanned(pool: CountingPool, tmp_path: Path) -> None:
    # PDFium aborts (SIGABRT) under the worker's memory limit; the second reading, in pure Python
    # with pdfminer.six, counts the inflated bytes and names the page.
    reason = _reason(pool.load(write_stream_bomb_pdf(tmp_path / "bomb.pdf")))
    assert "page 1 would inflate beyond a safe size (a decompression bomb?)" in reason
    assert "scanned" not in reason and "crashed" not in reason


def test_a_crashed_reader_is_a_reason(tmp_path: Path) -> None:
    crash = [sys.executable, "-c", "import json; print(json.dumps({'ready': True}), flush=True); input(); exit(3)"]
    worker = ParseWorker(command=crash)
    try:
        reason = _reason(worker.load(tmp_path / "any.txt", 30.0))
    finally:
        worker.close()
    assert "could not be read" in reason


def test_a_folder_of_hostile_files_is_indexed_and_failures_wait_for_a_change(
    pool: CountingPool, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_slow_pdf(folder / "slow.pdf")
    write_memory_hog_json(folder / "hog.json")
    write_stream_bomb_pdf(folder / "bomb.pdf")
    write_truncated_pdf(folder / "truncated.pdf")
    (folder / "good.txt").write_text("The boiler is serviced every October.")
    catalog = LibraryIndex(tmp_path / "library.db")
    vectors = VectorStore(tmp_path / "vectors")
    embedder = HashingEmbedder()
    collection = catalog.create_collection("docs", embedder.name, embedder.dimension)
    catalog.add_roots(collection.id, [folder])
    collection = catalog.collection("docs")
    indexer = Indexer(catalog, vectors, embedder, parser=pool)

    report = indexer.sync(collection)
    reasons = {Path(p.path).name: p.reason for p in report.failed}
    assert "took too long" in reasons["slow.pdf"]
    assert "too large to read" in reasons["hog.json"]
    assert "decompression bomb" in reasons["bomb.pdf"] and "scanned" not in reasons["bomb.pdf"]
    assert "corrupt" in reasons["truncated.pdf"]
    statuses = {Path(f.path).name: f.status for f in catalog.files(collection.id).values()}
    assert statuses == {
        "slow.pdf": "failed",
        "hog.json": "failed",
        "bomb.pdf": "failed",
        "truncated.pdf": "failed",
        "good.txt": "indexed",
    }

    pool.read.clear()
    later = time.time() + 10
    for name in ("slow.pdf", "hog.json"):
        os.utime(folder / name, (later, later))  # touched, same bytes: not worth another try
    again = indexer.sync(collection)
    assert pool.read == []
    assert {Path(p.path).name for p in again.failed} == {"slow.pdf", "hog.json", "bomb.pdf", "truncated.pdf"}

    write_pdf(folder / "slow.pdf", ["Fixed now."])  # changed: read again
    indexer.sync(collection)
    assert pool.read == ["slow.pdf"]
    assert catalog.files(collection.id)[str(folder / "slow.pdf")].status == "indexed"
    catalog.close()


def test_the_bundle_launcher_runs_the_reader_for_its_hidden_flag(tmp_path: Path) -> None:
    command = [sys.executable, str(ROOT / "packaging" / "launch.py"), WORKER_FLAG, "--memory-mib", "512"]
    (tmp_path / "note.txt").write_text("Read by the bundle's own executable.")
    worker = ParseWorker(command=command)
    try:
        document = worker.load(tmp_path / "note.txt", 60.0)
    finally:
        worker.close()
    assert isinstance(document, LoadedDocument)
    assert document.sections[0].text == "Read by the bundle's own executable."


def test_a_frozen_app_starts_the_reader_through_its_own_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert worker_command(512)[:2] == [sys.executable, WORKER_FLAG]
    monkeypatch.setattr(sys, "frozen", False)
    assert worker_command(512)[:3] == [sys.executable, "-m", "assistant.knowledge.parse_worker"]


def test_the_reader_exits_when_hearth_closes_its_pipe() -> None:
    process = subprocess.Popen(
        worker_command(512), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert process.stdin is not None and process.stdout is not None
    assert json.loads(process.stdout.readline()) == {"ready": True}
    process.stdin.close()
    assert process.wait(timeout=60) == 0


def test_a_reader_that_cannot_start_gets_a_plain_reason(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("text")
    worker = ParseWorker(command=[str(tmp_path / "no-such-python"), "-m", "assistant.knowledge.parse_worker"])
    result = worker.load(path, 5.0)
    assert isinstance(result, LoadError), result
    assert result.reason == "could not be read: the reader process did not start (no such file or directory)"


NOISY_READER = """
import logging, os, sys, warnings
import assistant.knowledge.parse_worker as worker
real_load = worker.load

def noisy_load(path, **options):
    # A reader library's three ways of talking: the logging module, warnings.warn, and C code
    # writing to file descriptor 2 (PDFium).
    logging.getLogger("pdfminer.pdffont").warning("noisy: FontBBox of %s", path.name)
    warnings.warn("noisy: a python warning")
    os.write(2, b"noisy: straight to fd 2\\n")
    return real_load(path, **options)

worker.load = noisy_load
sys.exit(worker.main(sys.argv[1:]))
"""


def test_the_readers_warnings_go_to_the_log_file_not_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Whatever a reader says, by any route, lands in readers.log after the file's name. The
    reader's noise is made by the test: which warnings a pdfminer.six release prints changes
    between releases."""
    log = tmp_path / "logs" / "readers.log"
    script = tmp_path / "noisy_worker.py"
    script.write_text(NOISY_READER)
    worker = ParseWorker(command=[sys.executable, str(script)], log_path=log)
    path = tmp_path / "a.txt"
    path.write_text("plain words")
    try:
        document = worker.load(path, 30.0)
    finally:
        worker.close()
    assert isinstance(document, LoadedDocument) and "plain words" in document.sections[0].text
    written = log.read_text()
    assert "reading " in written and "a.txt" in written
    for said in ("noisy: FontBBox of a.txt", "noisy: a python warning", "noisy: straight to fd 2"):
        assert said in written
    assert "noisy" not in capfd.readouterr().err


def test_a_real_pdf_with_an_unembedded_font_is_read_quietly(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # simple3.pdf's Japanese font is not embedded: PDFium cannot map it, pdfminer.six can.
    log = tmp_path / "logs" / "readers.log"
    pool = ParsePool(size=1, log_path=log)
    try:
        document = pool.load(ROOT / "tests" / "data" / "pdf" / "simple3.pdf")
    finally:
        pool.close()
    assert isinstance(document, LoadedDocument) and "あいうえお" in document.sections[0].text
    assert "simple3.pdf" in log.read_text()
    assert capfd.readouterr().err == ""
