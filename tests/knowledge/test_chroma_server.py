"""A library shared through a real Chroma server on 127.0.0.1, started by the test."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.core.errors import HearthError

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("wb")
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(folder / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (folder / "server.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "chroma server did not start"
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(20)
        log.close()


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
    assert library.vectors.count(collection.id, collection.embedder, collection.dimension) == 2


def test_an_unreachable_server_is_a_clear_error(make_library) -> None:  # type: ignore[no-untyped-def]
    library = make_library(chroma_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(HearthError, match="cannot be opened"):
        _ = library.vectors
