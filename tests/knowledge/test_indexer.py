"""Incremental, durable indexing on real Chroma and SQLite, with the hashing embedder for speed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.core.cancel import CancelToken
from assistant.knowledge.vectors import EmbedderMismatchError, VectorStore
from tests.fakes import HashingEmbedder
from tests.knowledge.conftest import write_pdf


def _corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "garden.md").write_text("# Garden\n\nPlant tomatoes in May after the last frost.\n")
    (folder / "boiler.txt").write_text("The boiler is serviced every October by Priya Nair.\n")
    write_pdf(folder / "kettle.pdf", ["Unpacking the kettle.", "Descale the kettle every 90 days."])
    return folder


def _consistent(library, name: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    collection = library.collection(name)
    catalog_ids = library.catalog.chunk_ids(collection.id)
    vector_ids = library.vectors.ids(collection.vector_name, collection.embedder, collection.dimension)
    assert catalog_ids == vector_ids, "catalogue and vector store disagree (duplicates or orphans)"
    return len(catalog_ids), collection.files


def test_index_then_resync_touches_only_what_changed(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _corpus(tmp_path / "docs")
    embedder = HashingEmbedder()
    library = make_library(embedder)
    library.add("home", [folder])
    first = library.sync("home")
    assert (first.added, first.failed) == (3, [])
    chunks, files = _consistent(library, "home")
    assert files == 3 and chunks >= 4

    calls = embedder.calls
    again = library.sync("home")
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 3)
    assert embedder.calls == calls  # nothing re-embedded

    os.utime(folder / "garden.md", (time.time() + 5, time.time() + 5))  # touched, same bytes
    assert library.sync("home").unchanged == 3 and embedder.calls == calls

    (folder / "boiler.txt").write_text("The boiler is now serviced every March.\n")
    (folder / "garden.md").unlink()
    (folder / "new.txt").write_text("A brand new note about bees.\n")
    changed = library.sync("home")
    assert (changed.added, changed.updated, changed.removed, changed.unchanged) == (1, 1, 1, 1)
    _consistent(library, "home")
    texts = " ".join(p.text for p in library.search("boiler serviced", ["home"]))
    assert "March" in texts and "October" not in texts


def test_a_killed_indexer_resumes_without_duplicates_or_orphans(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(30):
        (folder / f"note{n:02d}.txt").write_text("\n\n".join(f"Note {n} paragraph {p}. " * 30 for p in range(12)))
    home = tmp_path / "home"
    script = textwrap.dedent(f"""
        import time
        from tests.fakes import HashingEmbedder
        from assistant.knowledge.library import Library
        class Slow(HashingEmbedder):
            def embed(self, texts):
                time.sleep(0.05)
                return super().embed(texts)
        library = Library(__import__("pathlib").Path({str(home)!r}), embedder=Slow())
        library.add("notes", [__import__("pathlib").Path({str(folder)!r})])
        library.sync("notes", progress=lambda p: print(p.files_done, flush=True))
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    while int(process.stdout.readline() or 0) < 8:  # well into the run
        pass
    process.kill()
    process.wait(10)

    library = make_library()
    collection = library.collection("notes")
    statuses = [f.status for f in library.catalog.files(collection.id).values()]
    assert 8 <= statuses.count("indexed") < 30, "the kill should land part-way through the run"
    report = library.sync("notes")
    assert report.failed == []
    chunks, files = _consistent(library, "notes")
    assert files == 30
    assert all(f.status == "indexed" for f in library.catalog.files(collection.id).values())
    expected = sum(f.chunks for f in library.catalog.files(collection.id).values())
    assert chunks == expected


def test_cancel_stops_between_batches_and_the_next_run_finishes(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(10):
        (folder / f"n{n}.txt").write_text(f"Document {n}. " * 400)
    library = make_library()
    library.add("docs", [folder])
    cancel = CancelToken()
    seen = []

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        seen.append(p)
        if p.files_done == 3:
            cancel.cancel()

    report = library.sync("docs", progress, cancel)
    assert report.cancelled and report.added == 3
    assert seen[-1].files_total == 10 and seen[-1].chunks_per_s >= 0
    report = library.sync("docs")
    assert report.added + report.updated == 7 and not report.cancelled  # the file begun at the cancel is redone
    assert _consistent(library, "docs")[1] == 10


def test_problem_files_are_reported_and_the_rest_indexed(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _corpus(tmp_path / "docs")
    (folder / "empty.txt").write_text("")
    (folder / "fake.txt").write_bytes(b"\x00\x01binary\x00" * 50)
    (folder / "big.txt").write_text("x" * (2 * 1024 * 1024))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    os.mkfifo(folder / "pipe.txt")
    (folder / "sub").mkdir()
    (folder / "sub" / "loop").symlink_to(folder)
    (folder / "photo.jpg").write_bytes(b"\xff\xd8")  # unsupported types in a folder are simply not indexed
    library = make_library(max_file_mb=1)
    library.add("docs", [folder])
    report = library.sync("docs")
    reasons = {Path(p.path).name: p.reason for p in report.failed}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["fake.txt"]
    assert "1 MB limit" in reasons["big.txt"]
    assert reasons["broken.pdf"]
    assert "not a regular file" in reasons["pipe.txt"]
    assert "symlink loop" in reasons["loop"]
    assert "photo.jpg" not in reasons
    assert report.added == 5  # the three good ones, plus broken.pdf and fake.txt recorded as failed
    assert library.collection("docs").failed == 2
    names = {Path(p.path).name for p in library.search("tomatoes frost", ["docs"])}
    assert "garden.md" in names


def test_another_embedder_is_detected_and_a_reindex_fixes_it(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _corpus(tmp_path / "docs")
    library = make_library(HashingEmbedder(64, "first"))
    library.add("home", [folder])
    library.sync("home")
    library.close()
    other = make_library(HashingEmbedder(32, "second"))
    with pytest.raises(EmbedderMismatchError) as caught:
        other.search("kettle", ["home"])
    assert "reindex" in caught.value.hint
    other.sync("home", reindex=True)
    assert other.collection("home").embedder == "second"
    assert other.search("descale kettle", ["home"])


def test_remove_and_rename(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from assistant.core.errors import HearthError

    library = make_library()
    library.add("home", [_corpus(tmp_path / "docs")])
    library.sync("home")
    library.rename("home", "house")
    assert [c.name for c in library.collections()] == ["house"]
    removed = library.remove("house")
    assert library.collections() == []
    assert library.vectors._client.list_collections() == [] or all(
        c.name != removed.vector_name for c in library.vectors._client.list_collections()
    )
    with pytest.raises(HearthError, match="no collection"):
        library.search("x", ["house"])


def test_files_chunked_by_an_older_chunker_are_redone_at_the_next_sync(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _corpus(tmp_path / "docs")
    library = make_library()
    library.add("home", [folder])
    library.sync("home")
    collection = library.collection("home")
    current = {f.chunking for f in library.catalog.files(collection.id).values()}
    # One chunker; formats whose reader is past its first version add it (":reader2").
    assert "" not in current and len({c.split(":reader")[0] for c in current}) == 1
    # What a catalogue written before passages were sized in word-pieces looks like.
    with library.catalog.transaction() as db:
        db.execute("UPDATE files SET chunking = ''")
    report = library.sync("home")
    assert (report.updated, report.unchanged) == (3, 0)
    assert {f.chunking for f in library.catalog.files(collection.id).values()} == current
    _consistent(library, "home")
    assert library.sync("home").unchanged == 3


def _notes(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"note{n:02d}.txt").write_text(f"Note {n} is about the allotment, plot {n}.")
    return folder


def test_a_first_index_reads_the_file_rows_once_not_once_per_file(  # type: ignore[no-untyped-def]
    make_library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = make_library()
    library.add("notes", [_notes(tmp_path / "notes", 20)])
    reads = 0
    files = library.catalog.files

    def counted(collection_id: int):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        return files(collection_id)

    monkeypatch.setattr(library.catalog, "files", counted)
    assert library.sync("notes").added == 20
    assert reads == 1


def test_a_first_index_reports_progress_and_can_stop_before_hashing_every_file(  # type: ignore[no-untyped-def]
    make_library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.knowledge.indexer as indexer

    hashed: list[str] = []
    real_hash = indexer.file_hash
    monkeypatch.setattr(indexer, "file_hash", lambda path: hashed.append(path.name) or real_hash(path))
    library = make_library()
    library.add("notes", [_notes(tmp_path / "notes", 20)])
    cancel = CancelToken()
    hashed_at_first_report: list[int] = []

    def progress(p) -> None:  # type: ignore[no-untyped-def]
        if not hashed_at_first_report:
            hashed_at_first_report.append(len(hashed))
            assert p.files_total == 20
        cancel.cancel()

    report = library.sync("notes", progress, cancel)
    assert hashed_at_first_report == [0]
    assert report.cancelled and report.added == 0
    assert library.sync("notes").added == 20  # and the next run does it all
    _consistent(library, "notes")


def test_files_an_older_reader_read_or_failed_on_are_read_again(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _corpus(tmp_path / "docs")
    (folder / "club.csv").write_bytes(b"name,role\rAlice,treasurer\rBob,secretary\r")  # CR-only
    (folder / "notes.json").write_text('{"plot": {"number": 7}}')
    (folder / "broken.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00" * 200)  # binary data named .txt
    library = make_library()
    library.add("home", [folder])
    library.sync("home")
    collection = library.collection("home")
    before = library.catalog.files(collection.id)
    old_identity = before[str(folder / "boiler.txt")].chunking  # plain text's reader is unchanged
    # What a catalogue written by the older readers looks like: no reader version recorded, the
    # CR-only CSV failed ("new-line character seen in unquoted field..."), and so did the binary .txt.
    with library.catalog.transaction() as db:
        db.execute("UPDATE files SET chunking = ? WHERE path LIKE '%.json'", (old_identity,))
        db.execute("UPDATE files SET status = 'failed', chunks = 0 WHERE path LIKE '%.csv'")
        db.execute("DELETE FROM chunks WHERE file_id = ?", (before[str(folder / "club.csv")].id,))
        db.execute("UPDATE files SET chunking = '' WHERE status = 'failed'")
    report = library.sync("home")
    # The JSON and the CSV are read again (their readers changed); the .txt and the rest are left alone.
    assert (report.updated, report.unchanged) == (2, 4)
    assert library.catalog.files(collection.id)[str(folder / "club.csv")].status == "indexed"
    assert [p.path for p in report.failed] == [str(folder / "broken.txt")]
    assert library.catalog.keyword_search([collection.id], "secretary", 5)
    _consistent(library, "home")
    assert library.sync("home").unchanged == 6


def _as_before_stable_ids(library, name: str) -> None:  # type: ignore[no-untyped-def]
    """Turn a library into one written before collections had uids and vectors had writers."""
    collection = library.collection(name)
    chroma = library.vectors._client.get_collection(collection.vector_name)
    ids = chroma.get(include=[])["ids"]
    chroma.update(ids=ids, metadatas=[{"writer": None}] * len(ids))  # None deletes the key
    chroma.modify(name=f"hearth-{collection.id}")
    with library.catalog.transaction() as db:
        for column in ("uid", "vector_name", "state"):
            db.execute(f"ALTER TABLE collections DROP COLUMN {column}")
        db.execute("DELETE FROM meta")
        db.execute("PRAGMA user_version = 0")  # catalogues from then carried no version
    library.close()


def test_a_library_from_before_stable_ids_keeps_its_vectors(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _corpus(tmp_path / "docs")
    library = make_library()
    library.add("home", [folder])
    library.sync("home")
    before = library.vectors.ids(*_key(library.collection("home")))
    _as_before_stable_ids(library, "home")

    embedder = HashingEmbedder()
    migrated = make_library(embedder)
    collection = migrated.collection("home")
    assert collection.vector_name == f"hearth-{collection.id}" and len(collection.uid) == 32
    assert migrated.search("descale kettle", ["home"])  # opening the store renamed it
    collection = migrated.collection("home")
    assert collection.vector_name == f"hearth-{collection.uid}"
    assert migrated.vectors.ids(*_key(collection), writer=migrated.catalog.writer) == before  # all tagged as ours
    assert migrated.sync("home").unchanged == 3
    assert embedder.calls == 1  # the query alone: nothing was embedded again
    _consistent(migrated, "home")


def test_a_library_from_before_stable_ids_whose_vectors_are_gone_is_indexed_again(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = _corpus(tmp_path / "docs")
    library = make_library()
    library.add("home", [folder])
    library.sync("home")
    collection = library.collection("home")
    _as_before_stable_ids(library, "home")
    store = VectorStore(tmp_path / "home" / "vectors")  # the library is closed: its store with it
    store.drop(f"hearth-{collection.id}")
    store.close()

    migrated = make_library()
    report = migrated.sync("home")
    assert report.updated == 3
    _consistent(migrated, "home")


def _key(collection) -> tuple[str, str, int]:  # type: ignore[no-untyped-def]
    return collection.vector_name, collection.embedder, collection.dimension
