"""Model downloads on a thread of their own: the window asks, the worker reports progress.

Same pattern as the other workers: ``downloadRequested`` in; ``progressChanged``, ``finished``,
``stopped`` and ``failed`` out; ``pause()`` and ``cancel()`` are the direct calls (they only set a
flag). A pause keeps the ``.part`` so the next request resumes; a cancel deletes it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal, Slot

from assistant.core.cancel import Cancelled, CancelToken
from assistant.core.errors import HearthError
from assistant.engine.download import ModelDownloader
from assistant.ui.threads import start_on_thread

log = logging.getLogger(__name__)


class DownloadWorker(QObject):
    downloadRequested = Signal(str, str, str)  # repo, file, revision

    progressChanged = Signal(object)  # DownloadProgress
    finished = Signal(str)  # the path in the models folder
    stopped = Signal(bool)  # True: paused (the .part is kept), False: cancelled (it is deleted)
    failed = Signal(str, str)

    def __init__(self, downloader: ModelDownloader | None = None) -> None:
        super().__init__()
        self.downloader = downloader
        self._token = CancelToken()
        self._discard = False
        self.downloadRequested.connect(self._download)

    def pause(self) -> None:
        self._discard = False
        self._token.cancel()

    def cancel(self) -> None:
        self._discard = True
        self._token.cancel()

    @Slot(str, str, str)
    def _download(self, repo: str, filename: str, revision: str) -> None:
        self._token, self._discard = CancelToken(), False
        # Built here, on the worker's thread, so HF_ENDPOINT and the data directory are read per download.
        downloader = self.downloader or ModelDownloader()
        try:
            path = downloader.download(repo, filename, revision, self.progressChanged.emit, self._token)
        except Cancelled:
            if self._discard:
                part = downloader.part_path(repo, filename, revision)
                part.unlink(missing_ok=True)
                part.with_suffix(".json").unlink(missing_ok=True)
            self.stopped.emit(not self._discard)
            return
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)
            return
        except Exception as exc:
            log.exception("download failed")
            self.failed.emit(f"The download failed: {exc}", "Try again; it resumes where it stopped.")
            return
        self.finished.emit(str(path))


def start_download_worker(worker: DownloadWorker) -> QThread:
    return start_on_thread(worker, "hearth-download-worker")
