"""The downloader against a real HTTP server on 127.0.0.1 that serves the bundled GGUF like the hub."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import models_dir
from assistant.core.cancel import Cancelled, CancelToken
from assistant.core.errors import (
    DiskFullError,
    DownloadError,
    DownloadExistsError,
    DownloadHashError,
    DownloadNotFoundError,
)
from assistant.engine.download import DownloadProgress, ModelDownloader, _Meter, resolve_url
from assistant.engine.gguf import read_gguf
from assistant.engine.model_choice import list_models
from tests.engine.hub_server import FakeHub, running_hub

REPO, FILE = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def gguf_bytes(model_path: Path) -> bytes:
    return model_path.read_bytes()


@pytest.fixture
def hub(gguf_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    with running_hub() as server:
        server.add(REPO, FILE, gguf_bytes)
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        yield server


def downloader(**options: object) -> ModelDownloader:
    return ModelDownloader(backoff_s=0.0, **options)  # type: ignore[arg-type]


def test_a_download_arrives_verified_in_the_models_folder(hub: FakeHub, gguf_bytes: bytes) -> None:
    reports: list[DownloadProgress] = []
    path = downloader().download(REPO, FILE, progress=reports.append)
    assert path == models_dir() / FILE
    assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(gguf_bytes).digest()
    assert read_gguf(path).architecture == "llama"
    assert any(entry.path == path for entry in list_models())
    assert hub.bytes_sent == len(gguf_bytes) and hub.range_starts == [0]
    downloading = [r for r in reports if r.phase == "downloading"]
    assert downloading[-1].done == downloading[-1].total == len(gguf_bytes)
    assert [r.done for r in downloading] == sorted(r.done for r in downloading)
    assert reports[-1].phase == "verifying" and reports[-1].done == len(gguf_bytes)
    assert not list((path.parent.parent / "downloads").glob("*.part"))


def test_the_endpoint_comes_from_hf_endpoint(hub: FakeHub) -> None:
    assert resolve_url(REPO, FILE, "v1.0").startswith(f"{hub.url}/{REPO}/resolve/v1.0/")
    assert downloader().endpoint == hub.url


def test_a_dropped_connection_resumes_without_fetching_a_byte_twice(hub: FakeHub, gguf_bytes: bytes) -> None:
    half = len(gguf_bytes) // 2
    hub.drop_after = half
    attempts: list[int] = []
    path = downloader().download(REPO, FILE, progress=lambda r: attempts.append(r.attempt))
    assert path.read_bytes() == gguf_bytes
    # The second request asked for exactly what the first did not deliver.
    assert hub.range_starts == [0, half]
    assert hub.bytes_sent == len(gguf_bytes)
    assert max(attempts) == 2


def test_a_wrong_hash_is_rejected_and_nothing_is_left(hub: FakeHub, gguf_bytes: bytes) -> None:
    hub.add(REPO, "Tampered.gguf", gguf_bytes, declared_sha256=hashlib.sha256(b"something else").hexdigest())
    loader = downloader()
    with pytest.raises(DownloadHashError, match="damaged") as caught:
        loader.download(REPO, "Tampered.gguf")
    assert "Download it again" in caught.value.user_text()
    assert not list(models_dir().iterdir())
    assert not loader.part_path(REPO, "Tampered.gguf").exists()


def test_a_missing_file_is_a_clear_404(hub: FakeHub) -> None:
    with pytest.raises(DownloadNotFoundError, match="404") as caught:
        downloader().download(REPO, "No-Such-Model.gguf")
    assert "case-sensitive" in caught.value.user_text()
    with pytest.raises(DownloadNotFoundError, match="404"):
        downloader().download("nobody/nothing", FILE)
    assert hub.bytes_sent == 0 and not list(models_dir().iterdir())


def test_a_full_disk_is_refused_before_any_byte_is_fetched(hub: FakeHub) -> None:
    with pytest.raises(DiskFullError, match="Not enough disk space") as caught:
        downloader(free_space=lambda path: 10 * 1024 * 1024).download(REPO, FILE)
    assert "Free some disk space" in caught.value.user_text()
    assert hub.bytes_sent == 0 and not list(models_dir().iterdir())


def test_cancel_keeps_the_part_and_a_restart_resumes_from_it(hub: FakeHub, gguf_bytes: bytes) -> None:
    token = CancelToken()

    def cancel_half_way(report: DownloadProgress) -> None:
        if report.done >= len(gguf_bytes) // 3:
            token.cancel()

    first = downloader()
    with pytest.raises(Cancelled):
        first.download(REPO, FILE, progress=cancel_half_way, cancel=token)
    part = first.part_path(REPO, FILE)
    kept = part.stat().st_size
    assert len(gguf_bytes) // 3 <= kept < len(gguf_bytes)
    assert not (models_dir() / FILE).exists()
    # A new downloader (as after a restart of Hearth) continues where the first stopped.
    path = downloader().download(REPO, FILE)
    assert path.read_bytes() == gguf_bytes
    assert hub.range_starts == [0, kept]
    # Bytes in flight when the cancel came were sent but not kept: at most the socket's buffers.
    assert hub.bytes_sent - len(gguf_bytes) < 8 * 1024 * 1024


def test_a_part_of_another_version_is_not_continued(hub: FakeHub, gguf_bytes: bytes) -> None:
    loader = downloader()
    loader.downloads_folder.mkdir(parents=True, exist_ok=True)
    stale = loader.part_path(REPO, FILE)
    stale.write_bytes(b"bytes of an older upload" * 100)
    loader._meta_path(stale).write_text('{"sha256": "' + "0" * 64 + '"}', encoding="utf-8")
    assert loader.download(REPO, FILE).read_bytes() == gguf_bytes
    assert hub.range_starts == [0]


def test_a_file_already_there_is_not_fetched_again(hub: FakeHub) -> None:
    (models_dir() / FILE).write_bytes(b"GGUF")
    with pytest.raises(DownloadExistsError):
        downloader().download(REPO, FILE)
    assert hub.bytes_sent == 0


@pytest.mark.parametrize(("repo", "filename"), [("no-slash", FILE), (REPO, "../escape.gguf"), (REPO, "notes.txt")])
def test_bad_names_are_refused_without_a_connection(repo: str, filename: str) -> None:
    with pytest.raises(DownloadNotFoundError):
        ModelDownloader(endpoint="http://127.0.0.1:9").download(repo, filename)


def test_an_unreachable_hub_fails_after_its_retries() -> None:
    # Port 9 (discard) on loopback: connection refused at once.
    with pytest.raises(DownloadError, match="Could not reach"):
        ModelDownloader(endpoint="http://127.0.0.1:9", retries=2, backoff_s=0.0).download(REPO, FILE)


def test_speed_and_time_left_are_averaged_over_the_last_five_seconds() -> None:
    """The meter on a scripted clock: the figures follow from the samples, not from how fast this
    machine happens to be."""
    now = [100.0]
    reports: list[DownloadProgress] = []
    meter = _Meter(total=10_000, start=0, report=reports.append, clock=lambda: now[0])
    for seconds, done in ((1.0, 1_000), (2.0, 2_000), (6.0, 4_000), (8.0, 5_000)):
        now[0] = 100.0 + seconds
        meter.advance(done)
    speeds = [round(r.bytes_per_s) for r in reports]
    # 1,000 B/s for two seconds; by 6 s the first sample (t=0) has left the window: (4000-1000)/5
    assert speeds == [1_000, 1_000, 600, 500]
    assert reports[-1].seconds_left == pytest.approx(10.0)  # 5,000 bytes left at 500 B/s
    now[0] = 108.0
    meter.restart()  # a new attempt counts from nothing
    meter.advance(0)
    assert reports[-1].bytes_per_s == 0.0 and reports[-1].seconds_left is None


def test_a_burst_of_chunks_is_reported_per_hundredth_or_tenth_of_a_second_and_the_last_byte_always() -> None:
    """64 KiB chunks come by the thousand a second on a fast line; the window wants a few reports."""
    now = [0.0]
    reports: list[DownloadProgress] = []
    total = 2_000 * 65_536
    meter = _Meter(total=total, start=0, report=reports.append, clock=lambda: now[0])
    for chunk in range(1, 2_001):
        now[0] = chunk * 0.0005  # 2,000 chunks in one second
        meter.advance(chunk * 65_536)
    # A report per hundredth of the file or per tenth of a second (the first at once), and the last
    # byte however soon it came: about a hundred, not two thousand.
    assert 100 <= len(reports) <= 112
    assert reports[-1].done == total
    assert all(later.done > earlier.done for earlier, later in itertools.pairwise(reports))
