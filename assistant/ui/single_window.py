"""One window per data directory: a second start brings the first window forward and exits.

The window holds a lock file (``run/window.claim``) for as long as it runs, which the operating
system releases however it ends, so a crash never leaves a stale claim; and it listens on a local
socket named after the data directory, on which a second start asks it to come forward. Terminal
commands take neither: they may run beside the window.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import IO

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from assistant.core.liveness import try_lock

_FOCUS = b"focus\n"
log = logging.getLogger(__name__)


def server_name(data: Path) -> str:
    return "hearth-" + hashlib.sha256(str(data.resolve()).encode()).hexdigest()[:20]


class SingleWindow(QObject):
    """The claim of this window on ``data``; ``focusRequested`` when another start asks."""

    focusRequested = Signal()

    def __init__(self, data: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.name = server_name(data)
        self._lock: IO[bytes] | None = None
        self._server: QLocalServer | None = None

    def claim(self) -> bool:
        """True when this is the only window on the data directory (it now listens); False when
        another one runs."""
        folder = self.data / "run"
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / "window.claim", "ab")  # noqa: SIM115 (held until the window closes)
        if not try_lock(handle):
            handle.close()
            return False
        self._lock = handle
        QLocalServer.removeServer(self.name)  # a socket left by a window that crashed
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        self._server.listen(self.name)
        log.info("the window is open on %s", self.data)
        return True

    def ask_running_to_focus(self, timeout_ms: int = 3000) -> bool:
        """Ask the window that holds the claim to come forward; False when it did not answer."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        done = socket.write(_FOCUS) == len(_FOCUS)
        while done and socket.bytesToWrite() > 0:
            done = socket.waitForBytesWritten(timeout_ms)
        socket.disconnectFromServer()
        return done

    def _on_connection(self) -> None:
        assert self._server is not None
        while (connection := self._server.nextPendingConnection()) is not None:
            connection.readyRead.connect(lambda c=connection: self._on_ready(c))
            connection.disconnected.connect(connection.deleteLater)
            if connection.bytesAvailable():
                self._on_ready(connection)

    def _on_ready(self, connection: QLocalSocket) -> None:
        if bytes(connection.readAll().data()).startswith(_FOCUS.strip()):
            log.info("another start on %s asked for this window: brought forward", self.data)
            self.focusRequested.emit()

    def release(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None
