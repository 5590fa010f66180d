"""A real ``chroma run`` on 127.0.0.1, and an HTTP proxy in front of it that injects faults.

The proxy forwards each request to the server unless told otherwise: ``fail`` drops (closes the
connection without an answer) or answers 500 for the next requests that match a method and a part
of the path; ``stop`` closes its port, as a server that stopped.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def chroma_server(folder: Path) -> Iterator[str]:
    """A Chroma server on a free port of 127.0.0.1, storing in ``folder``; yields its URL."""
    port = free_port()
    log_path = folder / "server.log"
    chroma = Path(sys.executable).with_name("chroma")
    with log_path.open("wb") as log:
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
                assert process.poll() is None, log_path.read_text()[-2000:]
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


@dataclass
class Fault:
    method: str
    path_part: str
    kind: str  # "drop" | "500"
    times: int


class FaultProxy:
    """Forwards HTTP requests to ``upstream``; injects the faults it is given."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.faults: list[Fault] = []
        self.injected: list[str] = []  # "KIND METHOD PATH" of each fault injected
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._connections.append(self.connection)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._take(self.command, self.path)
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "500":
                    data = json.dumps({"error": "InternalError", "message": "injected by the test proxy"}).encode()
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP and key.lower() not in ("date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        self.running = True

    def fail(self, method: str, path_part: str, kind: str = "500", times: int = 1) -> None:
        """The next ``times`` requests with ``method`` whose path contains ``path_part`` fail."""
        with self._lock:
            self.faults.append(Fault(method, path_part, kind, times))

    def heal(self) -> None:
        """No more faults (those not yet injected are dropped)."""
        with self._lock:
            self.faults.clear()

    def _take(self, method: str, path: str) -> str | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.path_part in path:
                    fault.times -= 1
                    self.injected.append(f"{fault.kind} {method} {path}")
                    return fault.kind
        return None

    def stop(self) -> None:
        """As a server that stopped: the port is closed."""
        if self.running:
            self.running = False
            self._server.shutdown()
            self._server.server_close()
            with self._lock:
                connections, self._connections = self._connections, []
            for connection in connections:  # kept-alive ones too: a stopped server answers nothing
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
