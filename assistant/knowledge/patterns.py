"""Which files of a collection's folders belong to it: include and exclude glob patterns.

The rules, the same for the indexer and the watcher:
- a pattern without a ``/`` matches a name at any depth (``*.md`` every Markdown file, ``drafts``
  every folder or file called drafts);
- a pattern with a ``/`` matches the path below the collection's folder (``drafts/**`` what is in
  the top-level drafts folder, ``**/old/*.txt`` text files in any folder called old);
- ``*`` and ``?`` stay within one name, ``**`` spans folders; matching ignores case;
- a file is kept when it matches an include pattern (or there are none) and no exclude pattern
  matches it or a folder above it. A file added to a collection by itself is always kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

MAX_PATTERNS = 50
MAX_PATTERN_CHARS = 200


def parse_patterns(text: str) -> tuple[str, ...]:
    """Patterns typed as a list separated by commas or new lines; blanks dropped, duplicates once."""
    items = (item.strip().replace("\\", "/") for item in re.split(r"[,\n]", text))
    return tuple(dict.fromkeys(item for item in items if item))


def pattern_problem(pattern: str) -> str:
    """Why ``pattern`` cannot be used, in plain words; '' when it can."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return f"'{pattern[:40]}…' is longer than {MAX_PATTERN_CHARS} characters"
    if pattern.startswith("/") or re.match(r"^[A-Za-z]:", pattern):
        return f"'{pattern}' is an absolute path: patterns are relative to the collection's folders"
    if any(part == ".." for part in pattern.split("/")):
        return f"'{pattern}' points outside the collection's folders ('..')"
    if pattern.count("[") != pattern.count("]"):
        return f"'{pattern}' has an unclosed '['"
    return ""


def _translate(pattern: str) -> str:
    """A glob as a regular expression over '/'-separated relative paths."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")  # zero or more whole folders
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace("\\-", "-")
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end + 1
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class FilePatterns:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> FilePatterns:
        return cls(tuple(include), tuple(exclude))

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    @cached_property
    def _include(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        return _compile(self.include)

    @cached_property
    def _exclude(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        return _compile(self.exclude)

    def allows(self, relative: str) -> bool:
        """Whether the file at ``relative`` (below its collection folder, '/'-separated) is kept."""
        if not self:
            return True
        relative = relative.replace("\\", "/").strip("/")
        parts = relative.split("/")
        if self.include and not _matches(self._include, parts[-1], relative):
            return False
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]  # each folder above, then the file
        return not any(_matches(self._exclude, prefix.rsplit("/", 1)[-1], prefix) for prefix in prefixes)

    def prunes(self, relative_folder: str) -> bool:
        """Whether nothing under this folder can be kept (an exclude pattern covers it)."""
        if not self.exclude:
            return False
        relative = relative_folder.replace("\\", "/").strip("/")
        name = relative.rsplit("/", 1)[-1]
        return _matches(self._exclude, name, relative) or _matches(self._exclude, "", relative + "/")


def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """One expression for the name-only patterns and one for the path patterns."""
    usable = [p for p in patterns if not pattern_problem(p)]
    names = [_translate(p) for p in usable if "/" not in p.rstrip("/")]
    paths = [_translate(p.lstrip("/")) for p in usable if "/" in p.rstrip("/")]
    names += [_translate(p.rstrip("/")) for p in usable if p.endswith("/") and "/" not in p.rstrip("/")]

    def one(parts: list[str]) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{part})" for part in parts), re.IGNORECASE) if parts else None

    return one(names), one(paths)


def _matches(compiled: tuple[re.Pattern[str] | None, re.Pattern[str] | None], name: str, path: str) -> bool:
    names, paths = compiled
    return bool((names is not None and name and names.fullmatch(name)) or (paths is not None and paths.fullmatch(path)))
