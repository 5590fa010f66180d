"""A vector store that lost its vectors (``vectors/chroma.sqlite3`` deleted): found by the check
against the catalogue, announced, and rebuilt from the stored passages without reading a file."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from assistant.config import KnowledgeSettings, MemorySettings
from assistant.knowledge.library import Library
from assistant.memory.extraction import Candidate
from assistant.memory.long_term import LongTermMemory
from tests.fakes import HashingEmbedder


def _lose_the_vectors(home: Path) -> None:
    (home / "vectors" / "chroma.sqlite3").unlink()


def test_a_lost_vector_store_is_found_announced_and_rebuilt_from_the_stored_passages(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "boiler.txt").write_text("The boiler is serviced every October by Priya Nair.")
    (docs / "garden.txt").write_text("Plant the tomatoes in May, after the last frost.")
    home = tmp_path / "home"
    library = Library(home, KnowledgeSettings(), HashingEmbedder())
    library.add("House", [docs])
    assert library.sync("House").added == 2
    library.close()
    _lose_the_vectors(home)
    reopened = Library(home, KnowledgeSettings(), HashingEmbedder())
    house = reopened.collection("House")
    _ = reopened.vectors
    assert reopened.short[house.uid].found == 0 and reopened.short[house.uid].expected == 2
    assert "lost all of its passages' vectors for 'House'" in reopened.short[house.uid].notice()
    report = reopened.sync("House")
    assert report.rebuilt == 2 and report.updated == 0 and report.unchanged == 2  # no file read again
    key = (house.vector_name, house.embedder, house.dimension)
    assert reopened.vectors.ids(*key) == reopened.catalog.chunk_ids(house.id)
    [hit] = reopened.vectors.query(*key, HashingEmbedder().embed(["boiler serviced October"])[0], 1)
    assert "Priya Nair" in hit.text and hit.metadata["path"] == str(docs / "boiler.txt")
    assert reopened.sync("House").rebuilt == 0
    reopened.close()


def test_a_chat_turn_rebuilds_a_collection_found_short_and_says_so(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "shed.txt").write_text("The shed key hangs behind the kitchen door.")
    home = tmp_path / "home"
    library = Library(home, KnowledgeSettings(), HashingEmbedder())
    library.add("Shed", [docs])
    library.sync("Shed")
    uid = library.collection("Shed").uid
    library.close()
    _lose_the_vectors(home)
    reopened = Library(home, KnowledgeSettings(), HashingEmbedder())
    found = reopened.retrieve("where does the shed key hang", [uid])
    assert len(found.notices) == 1 and "'Shed'" in found.notices[0] and "rebuilt" in found.notices[0]
    assert found.passages and found.passages[0].similarity is not None  # found by its vector again
    assert reopened.retrieve("where does the shed key hang", [uid]).notices == []
    reopened.close()


def test_a_large_rebuild_waits_for_the_next_sync_and_the_turn_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "shed.txt").write_text("The shed key hangs behind the kitchen door.")
    home = tmp_path / "home"
    library = Library(home, KnowledgeSettings(), HashingEmbedder())
    library.add("Shed", [docs])
    library.sync("Shed")
    uid = library.collection("Shed").uid
    library.close()
    _lose_the_vectors(home)
    monkeypatch.setattr("assistant.knowledge.library.REBUILD_IN_TURN", 0)  # as if the collection were large
    reopened = Library(home, KnowledgeSettings(), HashingEmbedder())
    found = reopened.retrieve("where does the shed key hang", [uid])
    assert len(found.notices) == 1 and "at its next sync" in found.notices[0]
    assert found.passages and found.passages[0].similarity is None  # by its words only
    assert reopened.sync("Shed").rebuilt == 1
    assert reopened.retrieve("where does the shed key hang", [uid]).notices == []
    reopened.close()


def test_a_sync_finds_this_machines_lost_vectors_even_among_other_machines(tmp_path: Path) -> None:
    """On a shared collection, another machine's vectors can make the count look whole."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "shed.txt").write_text("The shed key hangs behind the kitchen door.")
    library = Library(tmp_path / "home", KnowledgeSettings(), HashingEmbedder())
    library.add("Shed", [docs])
    library.sync("Shed")
    shed = library.collection("Shed")
    key = (shed.vector_name, shed.embedder, shed.dimension)
    others = ["other-1", "other-2"]
    vectors = HashingEmbedder().embed(["a", "b"])
    library.vectors.upsert(*key, others, vectors, ["a", "b"], [{"writer": "someone-else"}] * 2)
    library.vectors.delete_written_by(shed.vector_name, library.catalog.writer)
    assert library.sync("Shed").rebuilt == 1
    assert library.vectors.ids(*key, writer=library.catalog.writer) == library.catalog.chunk_ids(shed.id)
    library.close()


def test_memories_whose_vectors_were_lost_are_recalled_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    embedder = HashingEmbedder(dimension=256)
    memory = LongTermMemory(home, MemorySettings(), lambda: embedder)
    profile = memory.profiles.all()[0].id
    memory.remember(profile, Candidate("The cat is called Miso", "fact"))
    assert memory.recall(profile, "what is the cat called", len).memories
    memory.close()
    _lose_the_vectors(home)

    again = LongTermMemory(home, MemorySettings(), lambda: embedder)
    recalled = again.recall(profile, "what is the cat called", len)
    assert [m.text for m in recalled.memories] == ["The cat is called Miso"]
    notice = again.take_notice()
    assert notice is not None and "rebuilt" in notice
    again.close()


def _descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow
def test_opening_and_closing_a_library_200_times_leaves_no_descriptor_or_thread(tmp_path: Path) -> None:
    """Each time another data directory (as tests, or a user switching profiles, do): Chroma keeps
    a store per directory until its last client is closed."""
    embedder = HashingEmbedder(dimension=256)

    def open_and_close(home: Path) -> None:
        library = Library(home, KnowledgeSettings(), HashingEmbedder())
        library.add("A", [docs])
        library.sync("A")
        assert library.search("words", ["A"])
        library.close()
        memory = LongTermMemory(home, MemorySettings(), lambda: embedder)
        memory.remember(memory.profiles.all()[0].id, Candidate("The cat is called Miso"))
        memory.close()

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Some words to index.")
    open_and_close(tmp_path / "warm")  # chromadb's one-off imports and pools
    fds, threads = _descriptors(), threading.active_count()
    for n in range(200):
        open_and_close(tmp_path / f"home{n}")
    assert _descriptors() <= fds + 3
    assert threading.active_count() <= threads + 2
