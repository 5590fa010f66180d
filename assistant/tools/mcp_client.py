"""One MCP server over stdio: newline-delimited JSON-RPC on the child's pipes.

Small and synchronous on purpose: one reader thread matches responses to requests and one writer
thread owns the child's stdin, so it runs on any worker thread without an event loop. The official
SDK was measured against it (2 cores, mcp 2.3): importing its client takes about 0.5 s instead of
0.08 s, with 38 MiB more memory and 400 more modules (the bundle excludes it today); a call round
trip is 1.8 ms instead of 0.8 ms; and its stdio transport joins chunks into one unbounded string
until a newline, so the line cap below would need a transport of our own anyway.

Nothing the server sends is trusted. A line longer than ``MAX_LINE_BYTES`` ends the connection
instead of growing memory; a reply that is not UTF-8 fails its request at once; every request,
its write included, has a time-out (a server that stops reading its input would otherwise block
the writer forever); a ping reply never blocks the reader; a cancel token stops waiting and tells
the server with ``notifications/cancelled``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from assistant.core.cancel import CancelToken
from assistant.core.errors import HearthError
from assistant.tools.mcp_process import ServerLog, server_environment, watchdog
from assistant.tools.mcp_text import safe_line

PROTOCOL_VERSION = "2025-06-18"
START_TIMEOUT_S = 20.0
CALL_TIMEOUT_S = 30.0
# Above any sane message (the bundled model reads 20,000 characters of a result at most; an image
# of a few megabytes is only described); parsing a line costs many times its size in memory, so
# the cap is what bounds one server's share of Hearth's memory.
MAX_LINE_BYTES = 4 * 1024 * 1024
# Writes waiting for a server that reads slowly; more means it is not reading at all.
_MAX_QUEUED_WRITES = 256
# How often a waiting request looks at its cancel token: fast enough for a Stop button.
_CANCEL_POLL_S = 0.05


class McpError(HearthError):
    """A server could not be configured, started or understood."""


class McpCancelled(McpError):
    """The user stopped the call; not a server failure."""


@dataclass(frozen=True)
class McpServerConfig:
    name: str
    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    approval: Literal["ask", "allow"] = "ask"
    timeout_s: float = CALL_TIMEOUT_S
    # Set when its mcp.json entry is wrong: the server is not started and this is reported instead.
    problem: str | None = None


class McpClient:
    """One running server: start it, send requests, stop it."""

    def __init__(self, config: McpServerConfig, log_dir: Path) -> None:
        self.config = config
        self.log_path = log_dir / f"mcp-{re.sub(r'[^A-Za-z0-9_.-]', '_', config.name)}.log"
        self.server_name = config.name
        self._process: subprocess.Popen[bytes] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, dict[str, Any]] = {}
        self._arrived = threading.Condition()
        self._outbox: queue.Queue[tuple[bytes, threading.Event] | None] = queue.Queue(_MAX_QUEUED_WRITES)
        self._exit_reason: str | None = None
        self.log = ServerLog(self.log_path)

    # ----- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        try:
            with _LIVE_LOCK:
                # Under the lock: stop_all() either sees this process or runs before it exists.
                if _STOPPING.is_set():
                    raise McpError(f'MCP server "{self.config.name}" was not started: Hearth is stopping.')
                self._process = subprocess.Popen(
                    [self.config.command, *self.config.args],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    cwd=self.config.cwd,
                    env=server_environment(self.config.env),
                    # A group of its own: wrappers (npx, uvx, a shell script) start the real server as
                    # a child, and stopping the wrapper alone would leave that running.
                    start_new_session=os.name == "posix",
                )
                _LIVE.add(self)
        except (OSError, ValueError) as exc:
            raise McpError(
                f'MCP server "{self.config.name}" could not be started: {exc}',
                hint="Check its command in mcp.json.",
            ) from exc
        watchdog.watch(self._process.pid)
        assert self._process.stdout is not None and self._process.stdin is not None
        assert self._process.stderr is not None
        self.log.follow(self._process.stderr, self.config.name)
        for target, stream in ((self._read, self._process.stdout), (self._write, self._process.stdin)):
            threading.Thread(target=target, args=(stream,), name=f"hearth-mcp-{self.config.name}", daemon=True).start()
        try:
            info = self._initialize(timeout_s)
        except McpError as exc:
            # Its stderr often says why ("fatal: missing API key"): shown, not only logged.
            tail = self.log.tail(wait_s=1.0 if self._exit_reason is not None else 0.0)
            if tail:
                raise McpError(f"{exc.message} Its last output: {tail}", hint=exc.hint) from exc
            raise
        server_info = info.get("serverInfo")
        if isinstance(server_info, dict) and isinstance(server_info.get("name"), str):
            self.server_name = safe_line(server_info["name"], 100)
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"}, timeout_s)

    def _initialize(self, timeout_s: float) -> dict[str, Any]:
        return self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "hearth", "version": "0.1"},
            },
            timeout_s,
        )

    def close(self) -> None:
        """Stop the server: end of input first (the polite way), then terminate, then kill."""
        process = self._process
        if process is None:
            return
        # The writer closes stdin once it has written what is queued; a full queue means the
        # server is not reading, and terminating it is the only way left.
        with contextlib.suppress(queue.Full):
            self._outbox.put_nowait(None)
        for stop in (None, signal.SIGTERM, _KILL):
            if stop is not None:
                _signal_group(process, stop)
            try:
                process.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                continue
        self._reaped(process)
        self._process = None

    def _reaped(self, process: subprocess.Popen[bytes]) -> None:
        """After the server's own process has ended: what it left running in its group is killed,
        and the watchdog forgets the group (its number may be reused from now on)."""
        _signal_group(process, _KILL)
        watchdog.forget(process.pid)
        with _LIVE_LOCK:
            _LIVE.discard(self)

    @property
    def running(self) -> bool:
        return self._process is not None and self._exit_reason is None

    # ----- requests -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        params: dict[str, Any],
        timeout_s: float = CALL_TIMEOUT_S,
        cancel: CancelToken | None = None,
    ) -> dict[str, Any]:
        """The result object; McpError for an error reply, a time-out, a dead server or a bad reply."""
        deadline = time.monotonic() + timeout_s
        request_id = next(self._ids)
        with self._arrived:
            self._pending[request_id] = {}
        try:
            self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}, timeout_s)
            response = self._wait(request_id, deadline, cancel)
        finally:
            with self._arrived:
                self._pending.pop(request_id, None)
        if response is None:
            # Tell the server to drop it; the answer, if it ever comes, is ignored.
            reason = "cancelled by the user" if cancel is not None and cancel.cancelled else "timed out"
            with contextlib.suppress(McpError):
                self._send_nowait(
                    {
                        "jsonrpc": "2.0",
                        "method": "notifications/cancelled",
                        "params": {"requestId": request_id, "reason": reason},
                    }
                )
            if cancel is not None and cancel.cancelled:
                raise McpCancelled(f"{method} on MCP server {self.config.name!r} was cancelled.")
            raise McpError(f'MCP server "{self.config.name}" did not answer {method} within {timeout_s:g} s.')
        if "error" in response:
            error = response["error"]
            message = error.get("message") if isinstance(error, dict) else None
            raise McpError(f'MCP server "{self.config.name}": {safe_line(str(message or error), 500)}')
        result = response.get("result")
        if not isinstance(result, dict):
            raise McpError(
                f'MCP server "{self.config.name}" answered {method} with {type(result).__name__}, not an object.'
            )
        return result

    def _wait(self, request_id: int, deadline: float, cancel: CancelToken | None) -> dict[str, Any] | None:
        with self._arrived:
            while True:
                if self._pending[request_id]:
                    return self._pending[request_id]
                if self._exit_reason is not None:
                    raise McpError(
                        f'MCP server "{self.config.name}" {self._exit_reason}.', hint=f"See {self.log_path}."
                    )
                left = deadline - time.monotonic()
                if left <= 0 or (cancel is not None and cancel.cancelled):
                    return None
                self._arrived.wait(min(left, _CANCEL_POLL_S) if cancel is not None else left)

    def _send(self, message: dict[str, Any], timeout_s: float) -> None:
        """Queue a message and wait until it is written; a server that does not read in time is stopped."""
        written = self._send_nowait(message)
        deadline = time.monotonic() + timeout_s
        # In slices, so a server that dies meanwhile is reported as such, not as a slow reader.
        while not written.wait(min(_CANCEL_POLL_S, max(deadline - time.monotonic(), 0))):
            if self._exit_reason is not None:
                raise McpError(f'MCP server "{self.config.name}" {self._exit_reason}.', hint=f"See {self.log_path}.")
            if time.monotonic() >= deadline:
                self._fail(f"stopped reading its input (a write took over {timeout_s:g} s)")
                raise McpError(
                    f'MCP server "{self.config.name}" stopped reading its input.', hint=f"See {self.log_path}."
                )

    def _send_nowait(self, message: dict[str, Any], drop_if_full: bool = False) -> threading.Event:
        if self._process is None or self._exit_reason is not None:
            raise McpError(f'MCP server "{self.config.name}" is not running ({self._exit_reason or "stopped"}).')
        written = threading.Event()
        # ASCII JSON: a lone surrogate in a server's tool name goes back to it escaped, as it came.
        data = (json.dumps(message) + "\n").encode()
        try:
            self._outbox.put_nowait((data, written))
        except queue.Full:
            if drop_if_full:
                # A server flooding requests while not reading gets no answer; its own requests
                # to us matter less than ours to it, which still time out on their own.
                return written
            self._fail("stopped reading its input")
            raise McpError(f'MCP server "{self.config.name}" stopped reading its input.') from None
        return written

    def _fail(self, reason: str) -> None:
        """Mark the server unusable and stop it; waiting requests wake with ``reason``."""
        with self._arrived:
            if self._exit_reason is None:
                self._exit_reason = reason
            self._arrived.notify_all()
        process = self._process
        if process is not None:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                _signal_group(process, _KILL)
                process.wait(timeout=5)  # reaped, so "stopped" means gone
                self._reaped(process)

    # ----- the two pipe threads -----------------------------------------------------------------

    def _write(self, stream: IO[bytes]) -> None:
        try:
            while (item := self._outbox.get()) is not None:
                data, written = item
                stream.write(data)
                stream.flush()
                written.set()
        except (OSError, ValueError) as exc:
            self._fail(f"stopped accepting input ({exc})")
        finally:
            with contextlib.suppress(OSError, ValueError):
                stream.close()

    def _read(self, stream: IO[bytes]) -> None:
        reason = None
        while reason is None:
            line = stream.readline(MAX_LINE_BYTES + 1)
            if not line:
                break
            if len(line) > MAX_LINE_BYTES:
                reason = f"sent a message over {MAX_LINE_BYTES // (1024 * 1024)} MiB"
                break
            try:
                message = json.loads(line)
            except UnicodeDecodeError:
                self._not_utf8(line)
                continue
            except (json.JSONDecodeError, RecursionError):
                continue  # servers sometimes print stray lines; the spec says stdout is JSON only
            if isinstance(message, dict):
                self._receive(message)
        if reason is not None:
            self._fail(reason)
            return
        process = self._process
        code = process.wait() if process is not None else None
        if process is not None:
            self._reaped(process)  # a server that ended by itself must not leave its children
        with self._arrived:
            if self._exit_reason is None:
                self._exit_reason = f"exited (code {code})" if code is not None else "closed its output"
            self._arrived.notify_all()

    def _not_utf8(self, line: bytes) -> None:
        """A reply with bytes that are not UTF-8 is a protocol error for its request, said now."""
        with contextlib.suppress(ValueError, RecursionError):
            message = json.loads(line.decode("utf-8", "replace"))
            if isinstance(message, dict) and "method" not in message:
                error = {"code": -32700, "message": "its reply was not valid UTF-8 (a protocol error)"}
                self._receive({"id": message.get("id"), "error": error})

    def _receive(self, message: dict[str, Any]) -> None:
        message_id = message.get("id")
        if "method" in message:
            if message_id is not None and isinstance(message_id, str | int):
                self._answer_server_request(message["method"], message_id)
            return  # notifications (progress, logging, list changes) are not used
        if isinstance(message_id, int) and not isinstance(message_id, bool):
            with self._arrived:
                if message_id in self._pending and not self._pending[message_id]:
                    self._pending[message_id] = message
                    self._arrived.notify_all()

    def _answer_server_request(self, method: Any, message_id: str | int) -> None:
        # Hearth offers no sampling, roots or elicitation to servers; ping must be answered. Never
        # waiting here: the reader must keep reading even when the server does not.
        if method == "ping":
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message_id, "result": {}}
        else:
            reply = {"jsonrpc": "2.0", "id": message_id, "error": {"code": -32601, "message": "Not supported"}}
        with contextlib.suppress(McpError):
            self._send_nowait(reply, drop_if_full=True)


_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)
# Every client whose process was started and not yet reaped, for stop_all().
_LIVE: set[McpClient] = set()
_LIVE_LOCK = threading.Lock()
_STOPPING = threading.Event()


def stop_all() -> None:
    """Kill every server this process started, at once (a signal handler's last act): their groups,
    so their children too. Servers started after this are refused."""
    with _LIVE_LOCK:
        _STOPPING.set()
        clients = list(_LIVE)
    for client in clients:
        process = client._process
        if process is not None:
            _signal_group(process, _KILL)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """``sig`` to the server and everything it started (its process group, on POSIX)."""
    with contextlib.suppress(OSError):
        if os.name == "posix":
            os.killpg(process.pid, sig)
        elif sig == _KILL:
            process.kill()
        else:
            process.terminate()
