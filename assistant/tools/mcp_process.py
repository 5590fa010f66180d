"""What an MCP server process gets from Hearth and how it is kept in bounds: its environment, its
log, and its end.

- **Environment**: the official SDK's safe list (``get_default_environment`` in ``mcp.client.stdio``:
  HOME, LOGNAME, PATH, SHELL, TERM, USER on POSIX) plus the locale, plus what the server's entry in
  mcp.json names. Hearth's own environment holds tokens (HF_TOKEN, OPENAI_API_KEY, cloud keys) that
  a server has no business reading; one that needs a key gets it from its ``env``.
- **Log**: the server's stderr is read by Hearth into ``logs/mcp-NAME.log``, capped and rotated
  (one older file kept), and its last lines are kept to explain a server that fails to start.
- **End**: every server runs in a process group of its own, and one small watchdog process per
  Hearth holds the list of groups; when Hearth ends in any way (exit, a signal, a crash, SIGKILL)
  the watchdog's input closes and it kills every group still listed, the servers' children too.
"""

from __future__ import annotations

import collections
import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from assistant.tools.mcp_text import safe_text

# The official SDK's DEFAULT_INHERITED_ENV_VARS (mcp.client.stdio), not imported: the SDK costs half
# a second to import and Hearth's client does not use it.
SAFE_VARIABLES = (
    (
        "APPDATA",
        "HOMEDRIVE",
        "HOMEPATH",
        "LOCALAPPDATA",
        "PATH",
        "PATHEXT",
        "PROCESSOR_ARCHITECTURE",
        "SYSTEMDRIVE",
        "SYSTEMROOT",
        "TEMP",
        "USERNAME",
        "USERPROFILE",
    )
    if sys.platform == "win32"
    else ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
)
# Not secrets, and without them a server may mis-decode file names or print in the wrong language.
LOCALE_VARIABLES = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")

LOG_CAP_BYTES = 1024 * 1024
TAIL_BYTES = 2000


def server_environment(extra: dict[str, str]) -> dict[str, str]:
    """The SDK's safe variables and the locale from Hearth's environment, then the config's ``env``."""
    env = {}
    for key in (*SAFE_VARIABLES, *LOCALE_VARIABLES):
        value = os.environ.get(key)
        # As the SDK does: a value starting with "()" is an exported shell function.
        if value is not None and not value.startswith("()"):
            env[key] = value
    return {**env, **extra}


class ServerLog:
    """A server's stderr, copied into its log file by a thread of its own, rotated at ``cap`` bytes
    (one older file, ``.1``, kept), with the last ``TAIL_BYTES`` kept in memory."""

    def __init__(self, path: Path, cap: int = LOG_CAP_BYTES) -> None:
        self.path = path
        self.cap = cap
        self._tail: collections.deque[bytes] = collections.deque()
        self._tail_size = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def follow(self, stream: IO[bytes], name: str) -> None:
        self._thread = threading.Thread(target=self._copy, args=(stream,), name=f"hearth-mcp-log-{name}", daemon=True)
        self._thread.start()

    def tail(self, wait_s: float = 1.0) -> str:
        """The last lines the server wrote, safe to show; waits a little for them to arrive."""
        if self._thread is not None:
            self._thread.join(wait_s)
        with self._lock:
            data = b"".join(self._tail)
        lines = safe_text(data.decode("utf-8", "replace"), keep_newlines=True).strip().splitlines()
        return " | ".join(line.strip() for line in lines[-5:] if line.strip())[-500:]

    def _copy(self, stream: IO[bytes]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = None
        try:
            file = self._open()
            while chunk := os.read(stream.fileno(), 65536):
                self._remember(chunk)
                if file.tell() + len(chunk) > self.cap:
                    file.close()
                    os.replace(self.path, self.path.with_name(self.path.name + ".1"))
                    file = self.path.open("ab")
                file.write(chunk[: self.cap])
                file.flush()
        except OSError:
            pass  # the disk is full or the pipe broke: the server runs on, unlogged
        finally:
            if file is not None:
                with contextlib.suppress(OSError):
                    file.close()
            with contextlib.suppress(OSError):
                stream.close()

    def _open(self) -> IO[bytes]:
        with contextlib.suppress(OSError):
            if self.path.stat().st_size >= self.cap:
                os.replace(self.path, self.path.with_name(self.path.name + ".1"))
        return self.path.open("ab")

    def _remember(self, chunk: bytes) -> None:
        with self._lock:
            self._tail.append(chunk[-TAIL_BYTES:])
            self._tail_size += len(self._tail[-1])
            while self._tail_size - len(self._tail[0]) >= TAIL_BYTES:
                self._tail_size -= len(self._tail.popleft())


# Reads "+GROUP" and "-GROUP" lines; at the end of its input (Hearth gone, however it went) kills
# the groups still listed. A shell script, so it needs no Python (a frozen bundle has none to run).
_WATCHDOG_SCRIPT = r"""
trap '' INT HUP
groups=""
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups ${line#+}" ;;
    -*) kept=""; for g in $groups; do [ "$g" = "${line#-}" ] || kept="$kept $g"; done; groups=$kept ;;
  esac
done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
"""


class _Watchdog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._pid = 0  # the Hearth process that started it (a forked child must start its own)

    def _tell(self, line: str) -> None:
        with self._lock:
            if self._process is None or self._pid != os.getpid():
                try:
                    self._process = subprocess.Popen(
                        ["/bin/sh", "-c", _WATCHDOG_SCRIPT],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,  # Ctrl-C in the terminal must not end it first
                        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                    )
                    self._pid = os.getpid()
                except OSError:
                    return
            stdin = self._process.stdin
            assert stdin is not None
            with contextlib.suppress(OSError, ValueError):
                stdin.write(line.encode() + b"\n")
                stdin.flush()

    def watch(self, group: int) -> None:
        if os.name == "posix":
            self._tell(f"+{group}")

    def forget(self, group: int) -> None:
        if os.name == "posix":
            self._tell(f"-{group}")


watchdog = _Watchdog()
