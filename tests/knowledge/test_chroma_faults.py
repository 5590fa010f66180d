"""Two machines sharing a real Chroma server, with a fault-injecting proxy in front of one of them:
a request that fails never deletes anything, a removal that could not finish says so and is
finished later, and a server that stops leaves a chat turn keyword search with a notice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import cli
from assistant.chat.events import TurnNotice
from assistant.chat.session import ChatSession
from assistant.cli import library as cli_library
from assistant.config import KnowledgeSettings, Settings, save_settings
from assistant.core.errors import HearthError
from assistant.core.store import ConversationStore
from assistant.knowledge.library import Library, RemovalPendingError
from assistant.knowledge.vectors import VectorStoreError
from tests.fakes import HashingEmbedder, ScriptedEngine
from tests.knowledge.chroma_faults import FaultProxy, chroma_server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with chroma_server(tmp_path_factory.mktemp("chroma-faults")) as url:
        yield url


@pytest.fixture
def proxy(chroma_url: str) -> Iterator[FaultProxy]:
    front = FaultProxy(chroma_url)
    yield front
    front.stop()


def _machine(home: Path, url: str) -> Library:
    return Library(home, KnowledgeSettings(chroma_url=url), HashingEmbedder())


def _folder(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _shared_house(tmp_path: Path, chroma_url: str, b_url: str) -> tuple[Library, Library, set[str]]:
    """A indexes 'House'; B (through ``b_url``) attaches it and indexes a folder of its own into it."""
    a = _machine(tmp_path / "a", chroma_url)
    a.add("House", [_folder(tmp_path / "a-docs", {"boiler.txt": "The boiler is serviced by Priya Nair."})])
    a.sync("House")
    b = _machine(tmp_path / "b", b_url)
    b.attach(a.collection("House").uid, "House")  # by id: the module's server holds other tests' 'House'
    b.add("House", [_folder(tmp_path / "b-docs", {"garden.txt": "Plant the tomatoes in May."})])
    assert b.sync("House").added == 1
    house = a.collection("House")
    return a, b, a.vectors.ids(house.vector_name, house.embedder, house.dimension, writer=a.catalog.writer)


@pytest.mark.parametrize("kind", ["500", "drop"])
def test_a_failed_request_never_deletes_another_machines_vectors(
    tmp_path: Path, chroma_url: str, proxy: FaultProxy, kind: str
) -> None:
    a, b, a_ids = _shared_house(tmp_path, chroma_url, proxy.url)
    house = a.collection("House")
    key = (house.vector_name, house.embedder, house.dimension)
    assert a_ids

    # The one request that asks the server for the collection fails: B must not conclude "nobody
    # else wrote to it" and drop the whole collection.
    proxy.fail("GET", f"/collections/{house.vector_name}", kind)
    with pytest.raises(RemovalPendingError) as raised:
        b.remove("House")
    assert proxy.injected
    assert "could not be deleted yet" in raised.value.message and "removing" in raised.value.hint
    assert a.vectors.ids(*key, writer=a.catalog.writer) == a_ids  # A's passages are all still there
    assert "House" not in [c.name for c in b.collections()]  # hidden on B meanwhile
    assert b.pending_removals() == 1
    b.close()

    # B's next start finishes the removal: its own passages go, A's stay.
    again = _machine(tmp_path / "b", proxy.url)
    _ = again.vectors
    assert again.pending_removals() == 0
    assert a.vectors.ids(*key) == a_ids
    assert "Priya Nair" in a.search("who services the boiler", ["House"])[0].text
    again.close()
    a.close()


def test_a_removal_whose_requests_fail_stays_removing_and_is_finished_at_the_next_sync(
    tmp_path: Path, chroma_url: str, proxy: FaultProxy
) -> None:
    b = _machine(tmp_path / "b", proxy.url)
    b.add("Private", [_folder(tmp_path / "docs", {"bank.txt": "The sort code is on the blue card."})])
    b.add("Other", [_folder(tmp_path / "other", {"cat.txt": "The cat is called Miso."})])
    b.sync("Private")
    b.sync("Other")
    private = b.collection("Private")
    proxy.fail("DELETE", f"/collections/{private.vector_name}", "500", times=10)
    with pytest.raises(HearthError, match="could not be deleted yet"):
        b.remove("Private")
    assert b.vectors.exists(private.vector_name)  # still on the server: not reported as removed
    assert b.pending_removals() == 1
    proxy.heal()
    b.sync("Other")  # the next sync finishes it
    assert not b.vectors.exists(private.vector_name)
    assert b.pending_removals() == 0
    b.close()


def test_a_server_that_stops_mid_index_is_a_plain_error(tmp_path: Path, proxy: FaultProxy) -> None:
    files = {f"note{i}.txt": f"Note number {i} about the garden shed." for i in range(3)}
    stopped: list[str] = []

    def stop_at(step: str) -> None:
        if step == "file.chunks_written" and not stopped:
            stopped.append(step)
            proxy.stop()

    library = Library(tmp_path / "home", KnowledgeSettings(chroma_url=proxy.url), HashingEmbedder(), stop_at)
    library.add("Shed", [_folder(tmp_path / "docs", files)])
    with pytest.raises(VectorStoreError) as raised:
        library.sync("Shed")
    assert stopped
    assert isinstance(raised.value, HearthError)
    assert "The vector store at" in raised.value.message and "Nothing was deleted" in raised.value.hint
    library.close()


def test_a_server_that_stops_during_a_chat_leaves_keyword_search_with_a_notice(
    tmp_path: Path, chroma_url: str, proxy: FaultProxy
) -> None:
    library = _machine(tmp_path / "home", proxy.url)
    library.add("Shed", [_folder(tmp_path / "docs", {"shed.txt": "The shed key hangs behind the kitchen door."})])
    library.sync("Shed")
    uid = library.collection("Shed").uid
    assert library.retrieve("where is the shed key", [uid]).notices == []
    proxy.stop()
    found = library.retrieve("where is the shed key", [uid])
    assert found.passages and "kitchen door" in found.passages[0].text  # by its words
    assert len(found.notices) == 1 and "keyword search only" in found.notices[0]

    # In a chat turn: a notice event (the window and the CLI show it), and the passage still cited.
    store = ConversationStore(tmp_path / "conversations.db")
    engine = ScriptedEngine(["Behind the kitchen door [1]."])
    session = ChatSession(store, engine, Settings(), retrieve=lambda refs, q: library.retrieve(q, refs))
    conversation = store.create()
    store.set_options(conversation.id, {"collections": [uid]})
    events = list(session.send(conversation.id, "Where is the shed key?"))
    notices = [e.text for e in events if isinstance(e, TurnNotice)]
    assert len(notices) == 1 and "keyword search only" in notices[0]
    assert "kitchen door" in engine.history[0][-1].content
    library.close()


def test_the_terminal_says_plainly_what_failed_and_what_waits(
    tmp_path: Path,
    proxy: FaultProxy,
    hearth_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before: 'Removed …' while the vectors stayed; raw InternalError and httpx.ConnectError tracebacks."""
    opened = cli_library.open_library
    monkeypatch.setattr(
        cli_library, "open_library", lambda settings, embedder=None: opened(settings, HashingEmbedder())
    )
    settings = Settings()
    settings.knowledge.chroma_url = proxy.url
    save_settings(settings)
    docs = _folder(tmp_path / "docs", {"shed.txt": "The shed key hangs behind the kitchen door."})
    assert cli.main(["index", str(docs), "--collection", "Shed"]) == 0
    capsys.readouterr()

    proxy.fail("DELETE", "/collections/", "500", times=10)
    assert cli.main(["collections", "remove", "Shed"]) == 1
    out, err = capsys.readouterr()
    assert "Removed" not in out and "Traceback" not in err
    assert err.startswith("hearth: Collection 'Shed' is hidden and being removed, but its passages on")
    assert cli.main(["collections", "list"]) == 0
    assert "1 removed collection is still removing" in capsys.readouterr().out

    proxy.stop()
    assert cli.main(["index", str(docs), "--collection", "Other"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"hearth: The vector store at {proxy.url} cannot be opened") and "Traceback" not in err
