"""A real HTTP server on 127.0.0.1 that answers like the Hugging Face hub does for LFS files.

HEAD and GET on ``/{repo}/resolve/{revision}/{file}`` answer 302 to a CDN path, with the file's
SHA-256 in ``X-Linked-Etag`` and its size in ``X-Linked-Size``; the CDN path serves the bytes with
``Range`` support. It counts every body byte it sends, and can drop a connection half-way.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class HubFile:
    content: bytes
    declared_sha256: str = ""

    def __post_init__(self) -> None:
        self.declared_sha256 = self.declared_sha256 or hashlib.sha256(self.content).hexdigest()


@dataclass
class FakeHub:
    files: dict[str, HubFile] = field(default_factory=dict)  # "owner/name/file" -> file
    bytes_sent: int = 0
    range_starts: list[int] = field(default_factory=list)
    drop_after: int | None = None  # drop the next download's connection after this many body bytes
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, repo: str, filename: str, content: bytes, declared_sha256: str = "") -> HubFile:
        hub_file = HubFile(content, declared_sha256)
        self.files[f"{repo}/{filename}"] = hub_file
        return hub_file


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if path.startswith("/api/models"):
                self._api(path, urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query))
                return
            resolve = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
            if resolve:
                key = f"{resolve.group(1)}/{resolve.group(3)}"
                hub_file = hub.files.get(key)
                if hub_file is None:
                    self._status(404, {"X-Error-Code": "EntryNotFound"})
                    return
                self._status(
                    302,
                    {
                        "Location": "/cdn/" + urllib.parse.quote(key),
                        "X-Linked-Etag": f'"{hub_file.declared_sha256}"',
                        "X-Linked-Size": str(len(hub_file.content)),
                        "X-Repo-Commit": "0123456789abcdef0123456789abcdef01234567",
                        "ETag": '"a-git-blob-sha1-not-the-file-hash"',
                    },
                )
                return
            cdn = re.fullmatch(r"/cdn/(.+)", path)
            hub_file = hub.files.get(cdn.group(1)) if cdn else None
            if hub_file is None:
                self._status(404, {})
                return
            self._serve(hub_file, body)

        def _api(self, path: str, query: dict[str, list[str]]) -> None:
            repos = sorted({key.rsplit("/", 1)[0] for key in hub.files})
            if path == "/api/models":
                wanted = query.get("search", [""])[0].lower()
                answer: object = [
                    {"id": repo, "downloads": 10 * (i + 1), "likes": i}
                    for i, repo in enumerate(repos)
                    if wanted in repo.lower()
                ]
            else:
                repo = path.removeprefix("/api/models/")
                if repo not in repos:
                    self._status(404, {})
                    return
                siblings = [{"rfilename": "README.md", "size": 10}] + [
                    {"rfilename": key.split("/", 2)[2], "size": len(f.content)}
                    for key, f in hub.files.items()
                    if key.startswith(repo + "/")
                ]
                answer = {"id": repo, "siblings": siblings}
            data = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _serve(self, hub_file: HubFile, body: bool) -> None:
            content = hub_file.content
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
            if match:
                start = int(match.group(1))
                if start >= len(content):
                    self._status(416, {"Content-Range": f"bytes */{len(content)}"})
                    return
            if body:
                with hub.lock:
                    hub.range_starts.append(start)
            self.send_response(206 if match else 200)
            if match:
                self.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
            self.send_header("Content-Length", str(len(content) - start))
            self.send_header("ETag", f'"{hashlib.sha256(content).hexdigest()}"')
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if not body:
                return
            with hub.lock:
                drop_after, hub.drop_after = hub.drop_after, None
            position = start
            while position < len(content):
                end = min(position + 64 * 1024, len(content))
                if drop_after is not None and end - start > drop_after:
                    end = start + drop_after
                    self._send(content[position:end])
                    self.connection.shutdown(socket.SHUT_RDWR)  # the network drops mid-file
                    return
                self._send(content[position:end])
                position = end

        def _send(self, data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()
            with hub.lock:
                hub.bytes_sent += len(data)

        def _status(self, code: int, headers: dict[str, str]) -> None:
            self.send_response(code)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@contextmanager
def running_hub() -> Iterator[FakeHub]:
    hub = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-hub", daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
