"""Download a GGUF from a Hugging Face hub (or any mirror of it), resumable and verified.

Only ever called on the user's explicit request. The hub's conventions: a file lives at
``{endpoint}/{repo}/resolve/{revision}/{file}``; for LFS files a HEAD there answers with a
redirect whose ``X-Linked-Etag`` is the file's SHA-256 and ``X-Linked-Size`` its size. Bytes go
to ``downloads/NAME.part`` in the data directory (same filesystem as ``models/``), resumed with
``Range`` after a dropped connection, a cancel or a restart; the whole file is hashed before it
is renamed into ``models/``, so a damaged file never appears there.

``huggingface_hub.hf_hub_download`` was not used: it writes into the hub's cache layout (blobs
and symlinks) rather than a folder of plain files, reports progress only through tqdm, has no
cancel, does not check the SHA-256 of what it received, and refuses under ``HF_HUB_OFFLINE``,
which Hearth sets for every other library. The stdlib does the job in a page.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.config import data_dir, models_dir
from assistant.core.cancel import Cancelled, CancelToken
from assistant.core.errors import (
    DiskFullError,
    DownloadError,
    DownloadExistsError,
    DownloadHashError,
    DownloadNotFoundError,
    DownloadRefusedError,
)

DEFAULT_ENDPOINT = "https://huggingface.co"
CHUNK = 64 * 1024
SPACE_MARGIN = 64 * 1024 * 1024  # left free on the disk besides the file
_REPO = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RETRYABLE = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, OSError)

Phase = Literal["downloading", "verifying"]


@dataclass(frozen=True)
class DownloadProgress:
    phase: Phase
    done: int
    total: int
    bytes_per_s: float
    seconds_left: float | None
    attempt: int = 1


@dataclass(frozen=True)
class RemoteFile:
    url: str
    size: int
    sha256: str
    commit: str | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Stop at the first redirect: the hub puts the file's hash on the redirect, not on the CDN's answer."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def resolve_url(repo: str, filename: str, revision: str = "main", endpoint: str | None = None) -> str:
    quoted = urllib.parse.quote(filename)
    return f"{endpoint or hub_endpoint()}/{repo}/resolve/{urllib.parse.quote(revision, safe='')}/{quoted}"


class ModelDownloader:
    """One download at a time per instance; every method blocks, so run it on a worker thread."""

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        models_folder: Path | None = None,
        downloads_folder: Path | None = None,
        retries: int = 5,
        backoff_s: float = 1.0,
        timeout_s: float = 30.0,
        free_space: Callable[[Path], int] | None = None,
    ) -> None:
        self.endpoint = (endpoint or hub_endpoint()).rstrip("/")
        self.models_folder = models_folder or models_dir()
        self.downloads_folder = downloads_folder or data_dir() / "downloads"
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.free_space = free_space or (lambda path: shutil.disk_usage(path).free)
        token = os.environ.get("HF_TOKEN", "").strip()
        self._auth = {"Authorization": f"Bearer {token}"} if token else {}

    def part_path(self, repo: str, filename: str, revision: str = "main") -> Path:
        safe = re.sub(r"[^\w.-]+", "_", f"{repo}--{revision}--{filename}")
        return self.downloads_folder / f"{safe}.part"

    def download(
        self,
        repo: str,
        filename: str,
        revision: str = "main",
        progress: Callable[[DownloadProgress], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> Path:
        """Fetch ``filename`` of ``repo`` into the models folder and return its path.

        Raises Cancelled when ``cancel`` is set (the .part stays, so the next call resumes), and a
        DownloadError subclass naming what went wrong otherwise.
        """
        _check_names(repo, filename)
        cancel = cancel or CancelToken()
        target = self.models_folder / Path(filename).name
        if target.exists():
            raise DownloadExistsError(f"{target.name} is already in the models folder ({target.parent}).")
        remote = self._with_retries(lambda: self.remote_file(repo, filename, revision), cancel)
        self.downloads_folder.mkdir(parents=True, exist_ok=True)
        part = self.part_path(repo, filename, revision)
        self._forget_part_of_another_version(part, remote)
        have = part.stat().st_size if part.exists() else 0
        self._check_space(remote.size - have, target.name)
        meter = _Meter(remote.size, have, progress)
        attempt = 0
        while have < remote.size:
            if cancel.cancelled:
                raise Cancelled()
            before = have
            try:
                have = self._fetch_rest(remote, part, have, meter, cancel)
            except _RETRYABLE as exc:
                if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                    raise DiskFullError(f"The disk filled up while downloading {target.name} ({part.parent}).") from exc
                have = part.stat().st_size if part.exists() else 0
                # A failure after progress starts a fresh run of retries: only failures in a row count.
                attempt = 1 if have > before else attempt + 1
                if attempt > self.retries:
                    raise DownloadError(
                        f"The download of {target.name} failed {attempt} times in a row "
                        f"({have:,} of {remote.size:,} bytes kept): {_describe(exc)}."
                    ) from exc
                meter.attempt = attempt + 1
                if cancel.wait(min(self.backoff_s * 2 ** (attempt - 1), 30.0)):
                    raise Cancelled() from exc
        return self._verify_and_install(part, remote, target, meter, cancel)

    def remote_file(self, repo: str, filename: str, revision: str = "main") -> RemoteFile:
        """HEAD the resolve URL without following the hub's redirect, to read the declared hash and size."""
        url = resolve_url(repo, filename, revision, self.endpoint)
        opener = urllib.request.build_opener(_NoRedirect)
        for _ in range(5):
            request = urllib.request.Request(url, method="HEAD", headers={"Accept-Encoding": "identity"})
            for name, value in self._auth.items():
                request.add_unredirected_header(name, value)
            try:
                with opener.open(request, timeout=self.timeout_s) as response:
                    headers, status = response.headers, response.status
            except urllib.error.HTTPError as exc:
                headers, status = exc.headers, exc.code
                self._raise_for_status(status, repo, filename, revision)
            linked = _etag(headers.get("X-Linked-Etag"))
            if 300 <= status < 400 and not linked and headers.get("Location", "").startswith("/"):
                # A renamed repository: the hub redirects to the new name on its own host.
                url = urllib.parse.urljoin(url, headers["Location"])
                continue
            sha = linked or _etag(headers.get("ETag"))
            size = headers.get("X-Linked-Size") or headers.get("Content-Length")
            if not sha or not _SHA256.match(sha):
                raise DownloadError(
                    f"The hub did not declare a SHA-256 for {filename}, so the download could not be verified.",
                    "Model files on the hub are LFS files with a hash: check the name, or use another mirror.",
                )
            if not size or not size.isdigit():
                raise DownloadError(f"The hub did not say how large {filename} is.")
            return RemoteFile(url=url, size=int(size), sha256=sha, commit=headers.get("X-Repo-Commit"))
        raise DownloadError(f"The hub redirected {repo} too many times.")

    def _raise_for_status(self, status: int, repo: str, filename: str, revision: str) -> None:
        if 300 <= status < 400:
            return
        if status == 404:
            raise DownloadNotFoundError(f"{repo} has no file {filename} at revision {revision} (HTTP 404).")
        if status in (401, 403):
            raise DownloadRefusedError(f"The hub refused {repo}/{filename} (HTTP {status}).")
        if 400 <= status < 500:
            raise DownloadError(
                f"The hub answered HTTP {status} for {repo}/{filename}.", "Check the names and try again."
            )
        raise urllib.error.URLError(f"the server answered HTTP {status}")

    def _fetch_rest(self, remote: RemoteFile, part: Path, have: int, meter: _Meter, cancel: CancelToken) -> int:
        """Append what is missing to ``part`` with one ranged GET; returns how many bytes it holds."""
        request = urllib.request.Request(remote.url, headers={"Accept-Encoding": "identity"})
        for name, value in self._auth.items():
            request.add_unredirected_header(name, value)
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout_s)
        except urllib.error.HTTPError as exc:
            if exc.code == 416:  # asked from beyond the end: what we hold is not this file
                part.unlink(missing_ok=True)
                return 0
            if exc.code >= 500 or exc.code == 429:
                raise
            if exc.code == 404:
                raise DownloadNotFoundError(f"The file disappeared from {remote.url} (HTTP 404).") from exc
            raise DownloadRefusedError(f"The hub refused {remote.url} (HTTP {exc.code}).") from exc
        with response, part.open("ab") as out:
            if have and response.status != 206:  # the server ignored the range: start over
                out.truncate(0)
                have = 0
                meter.restart()
            while True:
                if cancel.cancelled:
                    raise Cancelled()
                try:
                    chunk = response.read(CHUNK)
                except http.client.IncompleteRead as exc:
                    # Keep what did arrive, so the retry asks only for what did not.
                    out.write(exc.partial)
                    raise
                if not chunk:
                    break
                out.write(chunk)
                have += len(chunk)
                meter.advance(have)
        if have < remote.size:
            raise ConnectionError(f"the connection closed after {have:,} of {remote.size:,} bytes")
        return have

    def _verify_and_install(
        self, part: Path, remote: RemoteFile, target: Path, meter: _Meter, cancel: CancelToken
    ) -> Path:
        digest = hashlib.sha256()
        done = 0
        with part.open("rb") as handle:
            while block := handle.read(4 * 1024 * 1024):
                if cancel.cancelled:
                    raise Cancelled()
                digest.update(block)
                done += len(block)
                meter.verifying(done)
        received = part.stat().st_size
        if received != remote.size or digest.hexdigest() != remote.sha256:
            part.unlink(missing_ok=True)
            self._meta_path(part).unlink(missing_ok=True)
            raise DownloadHashError(
                f"{target.name} arrived damaged: its SHA-256 is {digest.hexdigest()[:16]}… "
                f"({received:,} bytes) where the hub declared {remote.sha256[:16]}… ({remote.size:,} bytes)."
            )
        self.models_folder.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)
        self._meta_path(part).unlink(missing_ok=True)
        return target

    def _forget_part_of_another_version(self, part: Path, remote: RemoteFile) -> None:
        """A .part of an older version of the file cannot be continued with the new one's bytes."""
        meta = self._meta_path(part)
        try:
            recorded = json.loads(meta.read_text(encoding="utf-8")).get("sha256")
        except (OSError, ValueError, AttributeError):
            recorded = None
        if part.exists() and (recorded != remote.sha256 or part.stat().st_size > remote.size):
            part.unlink()
        meta.write_text(json.dumps({"sha256": remote.sha256, "size": remote.size, "url": remote.url}), encoding="utf-8")

    @staticmethod
    def _meta_path(part: Path) -> Path:
        return part.with_suffix(".json")

    def _check_space(self, needed: int, name: str) -> None:
        free = self.free_space(self.downloads_folder)
        if needed + SPACE_MARGIN > free:
            from assistant.core.units import human_bytes

            raise DiskFullError(
                f"Not enough disk space for {name}: it needs {human_bytes(needed)} more, "
                f"{human_bytes(free)} is free in {self.downloads_folder}."
            )

    def _with_retries(self, call: Callable[[], RemoteFile], cancel: CancelToken) -> RemoteFile:
        for attempt in range(1, self.retries + 1):
            try:
                return call()
            except DownloadError:
                raise
            except _RETRYABLE as exc:
                if attempt == self.retries:
                    raise DownloadError(
                        f"Could not reach {self.endpoint}: {_describe(exc)}.",
                        "Check the network connection (or HF_ENDPOINT), then try again.",
                    ) from exc
                if cancel.wait(min(self.backoff_s * 2 ** (attempt - 1), 30.0)):
                    raise Cancelled() from exc
        raise AssertionError("unreachable")


class _Meter:
    """Turns byte counts into progress reports with speed and time left (averaged over a few seconds).

    Chunks arrive every 64 KiB, thousands a second on a fast line: the meter reports when
    ``REPORT_EVERY_S`` has passed or another ``REPORT_EVERY_FRACTION`` of the file has come (and
    always the last byte), so the window gets at most a hundred reports a file plus ten a second,
    rather than one per chunk; a fast download still reports (and can be stopped) part way."""

    REPORT_EVERY_S = 0.1
    REPORT_EVERY_FRACTION = 0.01
    WINDOW_S = 5.0

    def __init__(
        self,
        total: int,
        start: int,
        report: Callable[[DownloadProgress], None] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.report = report
        self.attempt = 1
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque([(clock(), start)])
        self._reported_at: float | None = None
        self._reported_done = start

    def restart(self) -> None:
        self._samples = deque([(self._clock(), 0)])
        self._reported_at = None
        self._reported_done = 0

    def advance(self, done: int) -> None:
        now = self._clock()
        due = (
            self._reported_at is None
            or now - self._reported_at >= self.REPORT_EVERY_S
            or done - self._reported_done >= self.total * self.REPORT_EVERY_FRACTION
        )
        if not due and done < self.total:
            return
        self._reported_at, self._reported_done = now, done
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.WINDOW_S:
            self._samples.popleft()
        if self.report is None:
            return
        (first_time, first_done) = self._samples[0]
        elapsed = now - first_time
        speed = (done - first_done) / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / speed if speed > 0 else None
        self.report(DownloadProgress("downloading", done, self.total, speed, left, self.attempt))

    def verifying(self, done: int) -> None:
        if self.report is not None:
            self.report(DownloadProgress("verifying", done, self.total, 0.0, None, self.attempt))


def _etag(value: str | None) -> str:
    return (value or "").strip().removeprefix("W/").strip('"').lower()


def _check_names(repo: str, filename: str) -> None:
    if not _REPO.match(repo):
        raise DownloadNotFoundError(
            f"{repo!r} is not a repository name.", "Write it as OWNER/NAME, for example Qwen/Qwen3-4B-GGUF."
        )
    parts = filename.split("/")
    if not filename.endswith(".gguf") or any(part in ("", ".", "..") for part in parts):
        raise DownloadNotFoundError(
            f"{filename!r} is not a GGUF file name.",
            "Name one .gguf file of the repository, for example Qwen3-4B-Q4_K_M.gguf.",
        )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__
