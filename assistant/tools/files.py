"""files_search and files_read: look at the user's files, but only inside the folders they allowed.

Every path is resolved (``..`` and symlinks included) before it is checked against the allowed
roots, so neither ``../../etc/passwd`` nor a symlink inside an allowed folder pointing outside it
gets through. The check is then repeated on what was actually opened: the file is opened without
following a final symlink and without blocking (a FIFO swapped in cannot hang the call), and the
open descriptor must be a regular file inside the allowed folders, so a path swapped between the
check and the open is refused. Text is returned a page at a time. PDFs and Word files are parsed
in the limited reader process (parse_pool.py), never in Hearth's own: the reader's hash of what it
parsed must match the bytes of the checked descriptor, or nothing is returned.

The allowed folders are read on every call from an ``AllowedFolders``, which the front ends
replace whenever the collections or the settings change.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
import sys
from collections.abc import Callable, Iterable
from contextlib import suppress
from pathlib import Path

from assistant.knowledge.documents import LoadedDocument
from assistant.tools.registry import ToolError

MAX_READ_BYTES = 200_000
PAGE_CHARS = 6_000
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_RESULTS = 50
MAX_SCANNED_FILES = 20_000
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class AllowedFolders:
    """The folders file tools may look in. Replaced as a whole (one assignment, so a reader on
    another thread sees the old list or the new one), read at every call."""

    def __init__(self, folders: Iterable[Path] = ()) -> None:
        self._folders = tuple(folders)

    def set(self, folders: Iterable[Path]) -> None:
        self._folders = tuple(folders)

    def __call__(self) -> list[Path]:
        return list(self._folders)


class FileAccess:
    def __init__(self, roots: Iterable[Path] | Callable[[], list[Path]]) -> None:
        self._roots = roots if callable(roots) else AllowedFolders(roots)

    @property
    def roots(self) -> list[Path]:
        return [root.expanduser().resolve() for root in self._roots() if root.expanduser().exists()]

    def _inside(self, path: Path, roots: list[Path]) -> bool:
        return any(path == root or path.is_relative_to(root) for root in roots)

    def resolve(self, path: str) -> Path:
        if "\x00" in path:
            raise ToolError("A path cannot contain a NUL byte.")
        roots = self.roots
        if not roots:
            raise ToolError("No folders are allowed for file tools. Add folders to a collection or to the settings.")
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = roots[0] / candidate
        try:
            resolved = candidate.resolve(strict=True)
        except FileNotFoundError:
            raise ToolError(f"{path} does not exist.") from None
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise ToolError(f"{path} cannot be opened: {exc}") from None
        if not self._inside(resolved, roots):
            raise ToolError(f"{path} is outside the folders you allowed ({', '.join(map(str, roots))}).")
        return resolved

    def _open(self, path: str) -> tuple[int, Path]:
        """A descriptor for ``path`` (and the path checked), checked again after opening: a regular
        file inside the allowed folders."""
        resolved = self.resolve(path)
        try:
            fd = os.open(resolved, _OPEN_FLAGS)
        except OSError as exc:  # ELOOP: the file became a symlink after the check
            raise ToolError(f"{path} cannot be opened: {exc.strerror}.") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ToolError(f"{path} is not a regular file.")
            opened = _descriptor_path(fd)
            if opened is not None:
                inside = self._inside(opened, self.roots)
            else:  # no way to name the descriptor: it must still be the file that was checked
                checked = os.stat(resolved, follow_symlinks=False)
                inside = (checked.st_dev, checked.st_ino) == (info.st_dev, info.st_ino)
            if not inside:
                raise ToolError(f"{path} changed while it was being opened; it was not read.")
        except BaseException:
            os.close(fd)
            raise
        return fd, resolved

    def read(self, path: str, first_page: int = 1, last_page: int = 0, page: int = 1) -> str:
        fd, resolved = self._open(path)
        with os.fdopen(fd, "rb") as handle:
            suffix = resolved.suffix.lower()
            if suffix in (".pdf", ".docx"):
                if os.fstat(fd).st_size > MAX_DOCUMENT_BYTES:
                    raise ToolError(f"{path} is larger than {MAX_DOCUMENT_BYTES // 2**20} MB.")
                text = _document_text(path, fd, resolved, first_page, last_page)
            else:
                raw = handle.read(MAX_READ_BYTES + 1)
                if b"\x00" in raw[:8192]:
                    raise ToolError(f"{path} is a binary file, not text.")
                text = raw.decode("utf-8", errors="replace")
                if len(raw) > MAX_READ_BYTES:
                    text += f"\n[… the file goes on beyond {MAX_READ_BYTES:,} bytes; only that much can be read]"
        return _page(text, page, path)

    def search(self, pattern: str = "*", contains: str = "") -> str:
        """Files under the allowed folders whose name matches ``pattern`` and whose text contains
        ``contains``. Folders are walked by name, so each one is checked to still lie inside the
        allowed folders before it is listed (a folder swapped for a link is skipped), and contents
        are read through the same checked open as files_read."""
        matches: list[str] = []
        scanned = 0
        needle = contains.lower()
        roots = self.roots
        for root in roots:
            seen: set[str] = set()
            for directory, subdirectories, files in os.walk(root, followlinks=False):
                real = os.path.realpath(directory)
                if real in seen or not self._inside(Path(real), roots):
                    subdirectories[:] = []
                    continue
                seen.add(real)
                subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
                for name in sorted(files):
                    scanned += 1
                    if scanned > MAX_SCANNED_FILES or len(matches) >= MAX_RESULTS:
                        return self._listing(matches)
                    path = Path(directory) / name
                    if not fnmatch.fnmatch(name.lower(), pattern.lower()) or path.is_symlink():
                        continue
                    if needle and not self._contains(str(path), needle):
                        continue
                    matches.append(str(path))
        return self._listing(matches)

    @staticmethod
    def _listing(matches: list[str]) -> str:
        if not matches:
            return "No file matches."
        more = " (more not shown)" if len(matches) >= MAX_RESULTS else ""
        return "\n".join(matches) + more

    def _contains(self, path: str, needle: str) -> bool:
        try:
            fd, _ = self._open(path)
        except ToolError:
            return False  # swapped, a FIFO, outside: not a match, and nothing was read
        with os.fdopen(fd, "rb") as handle:
            if os.fstat(fd).st_size > 5 * 1024 * 1024:
                return False
            raw = handle.read(5 * 1024 * 1024)
        return b"\x00" not in raw[:8192] and needle in raw.decode("utf-8", errors="ignore").lower()


def _page(text: str, page: int, path: str) -> str:
    """One page of ``text``, saying how to get the next."""
    pages = max(1, -(-len(text) // PAGE_CHARS))
    if page < 1 or page > pages:
        raise ToolError(f"{path} has {pages} page(s) of text; ask for page 1 to {pages}.")
    chunk = text[(page - 1) * PAGE_CHARS : page * PAGE_CHARS]
    if pages == 1:
        return chunk
    more = f" Call files_read with page={page + 1} for more." if page < pages else ""
    return f"{chunk}\n[page {page} of {pages} of this file's text.{more}]"


def _document_text(path: str, fd: int, checked: Path, first_page: int, last_page: int) -> str:
    from assistant.knowledge.parse_pool import shared_pool

    digest = hashlib.sha256()
    for block in iter(lambda: os.read(fd, 1 << 20), b""):
        digest.update(block)
    loaded = shared_pool().load(checked)
    if loaded.digest and loaded.digest != digest.hexdigest():
        raise ToolError(f"{path} changed while it was being read; it was not read.")
    if not isinstance(loaded, LoadedDocument):
        raise ToolError(f"{path}: {loaded.reason}")
    sections = [
        s
        for s in loaded.sections
        if s.page is None or (s.page >= first_page and (not last_page or s.page <= last_page))
    ]
    return "\n\n".join((f"[page {s.page}]\n" if s.page else "") + s.text for s in sections)


def _descriptor_path(fd: int) -> Path | None:
    """The real path of what ``fd`` refers to, where the system can say (Linux, macOS)."""
    with suppress(OSError):
        if os.path.isdir("/proc/self/fd"):
            return Path(os.readlink(f"/proc/self/fd/{fd}"))
        if sys.platform == "darwin":
            import fcntl

            raw = fcntl.fcntl(fd, getattr(fcntl, "F_GETPATH", 50), b"\0" * 1024)
            return Path(raw.rstrip(b"\0").decode())
    return None
