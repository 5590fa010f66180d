"""files_search and files_read: look at the user's files, but only inside the folders they allowed.

Every path is resolved (``..`` and symlinks included) before it is checked against the allowed
roots, so neither ``../../etc/passwd`` nor a symlink inside an allowed folder pointing outside it
gets through. Only regular files are read (no FIFOs or devices), at most ``MAX_READ_BYTES``.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from pathlib import Path

from assistant.knowledge.documents import LoadedDocument, load
from assistant.tools.registry import ToolError

MAX_READ_BYTES = 200_000
MAX_RESULTS = 50
MAX_SCANNED_FILES = 20_000


class FileAccess:
    def __init__(self, roots: list[Path]) -> None:
        self.roots = [root.expanduser().resolve() for root in roots if root.expanduser().exists()]

    def resolve(self, path: str) -> Path:
        if "\x00" in path:
            raise ToolError("A path cannot contain a NUL byte.")
        if not self.roots:
            raise ToolError("No folders are allowed for file tools. Add folders to a collection or to the settings.")
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = self.roots[0] / candidate
        try:
            resolved = candidate.resolve(strict=True)
        except FileNotFoundError:
            raise ToolError(f"{path} does not exist.") from None
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise ToolError(f"{path} cannot be opened: {exc}") from None
        if not any(resolved == root or resolved.is_relative_to(root) for root in self.roots):
            raise ToolError(f"{path} is outside the folders you allowed ({', '.join(map(str, self.roots))}).")
        return resolved

    def read(self, path: str, first_page: int = 1, last_page: int = 0) -> str:
        resolved = self.resolve(path)
        info = resolved.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ToolError(f"{path} is not a regular file.")
        suffix = resolved.suffix.lower()
        if suffix in (".pdf", ".docx"):
            if info.st_size > 50 * 1024 * 1024:
                raise ToolError(f"{path} is larger than 50 MB.")
            loaded = load(resolved)
            if not isinstance(loaded, LoadedDocument):
                raise ToolError(f"{path}: {loaded.reason}")
            sections = [
                s
                for s in loaded.sections
                if s.page is None or (s.page >= first_page and (not last_page or s.page <= last_page))
            ]
            text = "\n\n".join((f"[page {s.page}]\n" if s.page else "") + s.text for s in sections)
        else:
            with resolved.open("rb") as handle:
                raw = handle.read(MAX_READ_BYTES + 1)
            if b"\x00" in raw[:8192]:
                raise ToolError(f"{path} is a binary file, not text.")
            text = raw.decode("utf-8", errors="replace")
        if len(text) > MAX_READ_BYTES:
            return text[:MAX_READ_BYTES] + f"\n[… cut at {MAX_READ_BYTES:,} characters]"
        return text

    def search(self, pattern: str = "*", contains: str = "") -> str:
        matches: list[str] = []
        scanned = 0
        needle = contains.lower()
        for root in self.roots:
            seen: set[str] = set()
            for directory, subdirectories, files in os.walk(root, followlinks=False):
                real = os.path.realpath(directory)
                if real in seen:
                    continue
                seen.add(real)
                subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
                for name in sorted(files):
                    scanned += 1
                    if scanned > MAX_SCANNED_FILES or len(matches) >= MAX_RESULTS:
                        break
                    path = Path(directory) / name
                    if not fnmatch.fnmatch(name.lower(), pattern.lower()) or path.is_symlink():
                        continue
                    if needle and not self._contains(path, needle):
                        continue
                    matches.append(str(path))
        if not matches:
            return "No file matches."
        more = " (more not shown)" if len(matches) >= MAX_RESULTS else ""
        return "\n".join(matches) + more

    @staticmethod
    def _contains(path: Path, needle: str) -> bool:
        try:
            if not stat.S_ISREG(path.stat().st_mode) or path.stat().st_size > 5 * 1024 * 1024:
                return False
            with path.open("rb") as handle:
                raw = handle.read(5 * 1024 * 1024)
        except OSError:
            return False
        return b"\x00" not in raw[:8192] and needle in raw.decode("utf-8", errors="ignore").lower()
