"""Each file of a collection as the user sees it: indexed, pending, skipped or failed, and why.

The folders as they are now (one ``scan``: a stat per file, no reading or hashing) against what
the catalogue last recorded. The same comparison says whether a collection needs a sync at all,
which is how start-up catches what changed while Hearth was closed without loading the embedder
for a library that did not change.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from assistant.knowledge.indexer import scan
from assistant.knowledge.library_index import CollectionInfo, FileRecord, LibraryIndex

INDEXED, PENDING, SKIPPED, FAILED = "indexed", "pending", "skipped", "failed"
STATUSES = (INDEXED, PENDING, SKIPPED, FAILED)


@dataclass(frozen=True)
class FileStatus:
    path: str
    status: str  # one of STATUSES
    reason: str = ""
    passages: int = 0
    size: int = 0


def _settled(record: FileRecord, info: os.stat_result) -> bool:
    return record.status in (INDEXED, FAILED) and (record.size, record.mtime) == (info.st_size, info.st_mtime)


def file_statuses(catalog: LibraryIndex, collection: CollectionInfo, max_bytes: int = sys.maxsize) -> list[FileStatus]:
    """Every file the collection's folders hold or its index still has, sorted by path."""
    on_disk, problems = scan([Path(r) for r in collection.roots], max_bytes, collection.patterns)
    known = catalog.files(collection.id)
    rows: list[FileStatus] = []
    for path, info in on_disk.items():
        record = known.get(path)
        if record is None:
            rows.append(FileStatus(path, PENDING, "new: indexed at the next sync", size=info.st_size))
        elif not _settled(record, info):
            why = "changed since it was indexed" if record.status != "indexing" else "indexing was interrupted"
            rows.append(FileStatus(path, PENDING, f"{why}: indexed at the next sync", record.chunks, info.st_size))
        elif record.status == FAILED:
            rows.append(FileStatus(path, FAILED, record.reason, size=info.st_size))
        else:
            rows.append(FileStatus(path, INDEXED, "", record.chunks, info.st_size))
    problem_paths = {problem.path for problem in problems}
    rows += [FileStatus(problem.path, SKIPPED, problem.reason) for problem in problems]
    for path in known:
        if path not in on_disk and path not in problem_paths:
            rows.append(FileStatus(path, PENDING, "gone from its folder: leaves the index at the next sync"))
    return sorted(rows, key=lambda row: row.path)


def needs_sync(catalog: LibraryIndex, collection: CollectionInfo, max_bytes: int = sys.maxsize) -> bool:
    """Whether a sync would have anything to do: a file new, changed, interrupted or gone."""
    on_disk, _ = scan([Path(r) for r in collection.roots], max_bytes, collection.patterns)
    known = catalog.files(collection.id)
    if any(path not in on_disk for path in known):
        return True
    return any(path not in known or not _settled(known[path], info) for path, info in on_disk.items())
