"""A library shared through a real Chroma server on 127.0.0.1, started by the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import KnowledgeSettings
from assistant.core.errors import HearthError
from assistant.knowledge.library import Library
from assistant.knowledge.vectors import EmbedderMismatchError
from tests.fakes import HashingEmbedder
from tests.knowledge.chroma_faults import chroma_server, free_port

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


def test_index_and_search_through_the_server(make_library, tmp_path: Path, chroma_url: str) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "boiler.txt").write_text("The boiler is serviced every October by Priya Nair.")
    (folder / "garden.md").write_text("# Garden\n\nPlant tomatoes in May.")
    library = make_library(chroma_url=chroma_url)
    library.add("shared", [folder])
    assert library.sync("shared").added == 2
    passages = library.search("who services the boiler", ["shared"])
    assert passages and Path(passages[0].path).name == "boiler.txt"
    collection = library.collection("shared")
    assert library.vectors.count(collection.vector_name, collection.embedder, collection.dimension) == 2


def test_an_unreachable_server_is_a_clear_error(make_library) -> None:  # type: ignore[no-untyped-def]
    library = make_library(chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(HearthError, match="cannot be opened"):
        _ = library.vectors


def _machine(home: Path, chroma_url: str) -> Library:
    return Library(home, KnowledgeSettings(chroma_url=chroma_url), HashingEmbedder())


def _folder(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def test_two_machines_share_one_library_and_never_delete_each_others_passages(tmp_path: Path, chroma_url: str) -> None:
    """Two data directories on one server: each one's first collection, one shared collection
    written by both, removals on one machine, and an interrupted sync's orphan sweep."""
    a = _machine(tmp_path / "a", chroma_url)
    b = _machine(tmp_path / "b", chroma_url)
    a_docs = _folder(tmp_path / "a-docs", {"boiler.txt": "The boiler is serviced every October by Priya Nair."})
    b_docs = _folder(tmp_path / "b-docs", {"garden.txt": "Plant the tomatoes in May, after the frost."})
    b_private = _folder(tmp_path / "b-private", {"bank.txt": "The bank sort code is on the blue card."})
    a.add("House", [a_docs])
    assert a.sync("House").added == 1
    b.add("Private", [b_private])  # B's first collection: it once shared A's Chroma name
    assert b.sync("Private").added == 1
    house = a.collection("House")
    key = (house.vector_name, house.embedder, house.dimension)
    a_ids = a.vectors.ids(*key)
    assert a_ids and a_ids == a.catalog.chunk_ids(house.id)

    # B finds A's collection on the server, attaches it, and searches and cites it without the file.
    listed = {s.name: s for s in b.shared_collections()}
    assert "House" in listed and "Private" not in listed and listed["House"].uid == house.uid
    attached = b.attach("House")
    assert attached.uid == house.uid and attached.roots == ()
    [passage] = b.search("who services the boiler", ["House"])
    assert passage.shared and passage.path == str(a_docs / "boiler.txt")
    assert "Priya Nair" in passage.text

    # B indexes its own folder into the shared collection; A sees B's passages too.
    b.add("House", [b_docs])
    assert b.sync("House").added == 1
    found = a.search("when to plant tomatoes", ["House"])
    assert found and found[0].shared and "tomatoes" in found[0].text
    assert not a.search("who services the boiler", ["House"])[0].shared  # A's own, from A's catalogue

    # An interrupted sync on B sweeps B's orphans, never A's vectors.
    with b.catalog.transaction() as db:
        db.execute("UPDATE files SET status = 'indexing'")
    b.sync("House")
    assert a_ids <= a.vectors.ids(*key)

    # Removing on B: B's own collection goes; of the shared one, only B's passages go.
    b.remove("Private")
    b.remove("House")
    assert a.vectors.ids(*key) == a_ids
    assert not any("tomatoes" in p.text for p in a.search("when to plant tomatoes", ["House"]))
    assert "Priya Nair" in a.search("who services the boiler", ["House"])[0].text
    a.sync("House")
    assert a.vectors.ids(*key) == a.catalog.chunk_ids(house.id)
    a.close()
    b.close()


def test_attaching_needs_the_same_embedder_and_an_existing_collection(tmp_path: Path, chroma_url: str) -> None:
    a = _machine(tmp_path / "a", chroma_url)
    a.add("Manuals", [_folder(tmp_path / "docs", {"kettle.txt": "Descale the kettle every 90 days."})])
    assert a.search("kettle", ["Manuals"]) == []  # before any sync: creates nothing on the server
    a.sync("Manuals")
    other = Library(tmp_path / "b", KnowledgeSettings(chroma_url=chroma_url), HashingEmbedder(32, "other"))
    with pytest.raises(EmbedderMismatchError, match="hashing-test"):
        other.attach("Manuals")  # listed by its name: the first write labelled it
    with pytest.raises(HearthError, match="no collection 'Nothing'"):
        other.attach("Nothing")
    a.close()
    other.close()


@pytest.mark.slow
def test_the_cli_lists_attaches_and_searches_a_collection_another_machine_indexed(
    tmp_path: Path, chroma_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two data directories (HEARTH_HOME), the real embedder, the commands a user types."""
    from assistant.config import Settings, save_settings

    docs = _folder(tmp_path / "docs", {"kettle.txt": "Descale the kettle every 90 days with citric acid."})

    def hearth(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HEARTH_HOME": str(home)}
        return subprocess.run(
            [sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=300, env=env
        )

    homes = tmp_path / "machine-a", tmp_path / "machine-b"
    for home in homes:
        monkeypatch.setenv("HEARTH_HOME", str(home))
        settings = Settings()
        settings.knowledge.chroma_url = chroma_url
        save_settings(settings)
    a, b = homes
    indexed = hearth(a, "index", str(docs), "--collection", "Kitchen manuals")
    assert indexed.returncode == 0, indexed.stderr
    listed = hearth(b, "collections", "shared", "--json")
    assert listed.returncode == 0, listed.stderr
    kitchen = next(s for s in json.loads(listed.stdout) if s["name"] == "Kitchen manuals")
    assert kitchen["passages"] == 1
    attached = hearth(b, "collections", "attach", kitchen["uid"], "--as", "Kitchen")
    assert attached.returncode == 0 and "Attached 'Kitchen'" in attached.stdout, attached.stderr
    found = hearth(b, "search", "how often to descale", "--collection", "Kitchen", "--json")
    assert found.returncode == 0, found.stderr
    [passage] = json.loads(found.stdout)
    assert passage["shared"] and passage["path"] == str(docs / "kettle.txt") and "citric acid" in passage["text"]
