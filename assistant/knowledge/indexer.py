"""Bring a collection's index in line with its folders: add new files, redo changed ones, drop deleted ones.

Unchanged files cost a ``stat`` (same size and mtime) or a hash (touched but same bytes). Work is
done in batches of chunks, checking the cancel token and reporting progress between batches.
Files are read in worker processes with time and memory limits (parse_pool.py), and only once
read is a file marked ``indexing``: a file that hangs or exhausts a reader is recorded as failed
with its size, time and hash, and is not tried again until it changes.
Order of writes, so a kill at any point leaves nothing that the next run cannot finish: a file is
marked ``indexing`` before anything of it changes; its old vectors are deleted while their ids are
still listed, then its old chunk rows; new chunk rows are written before their vectors; the file is
marked ``indexed`` last. A file that is gone is marked ``indexing`` before its vectors are deleted
(were it to come back before the next sync, an ``indexed`` row without vectors would be skipped
forever). A file found ``indexing`` at the next run is simply redone. ``checkpoint`` is called
after each of these steps with the step's name (STEPS): tests crash there to prove it.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.core.cancel import CancelToken
from assistant.knowledge.chunking import Chunk, chunk_sections, chunking_identity
from assistant.knowledge.documents import SUPPORTED_SUFFIXES, LoadedDocument, LoadError, reader_version
from assistant.knowledge.embedder import Embedder
from assistant.knowledge.library_index import CollectionInfo, FileRecord, LibraryIndex
from assistant.knowledge.parse_pool import ParsePool
from assistant.knowledge.patterns import FilePatterns
from assistant.knowledge.tokens import counter_for
from assistant.knowledge.vector_repair import passage_metadata
from assistant.knowledge.vectors import VectorStore

EMBED_BATCH = 64
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024

# The step boundaries of a sync, in the order they are passed (per file, and per batch of chunks).
STEPS = (
    "gone.marked",
    "gone.vectors_deleted",
    "gone.removed",
    "file.marked",
    "file.old_vectors_deleted",
    "file.old_chunks_deleted",
    "file.chunks_written",  # the catalogue has the batch; Chroma does not yet
    "file.vectors_written",
    "file.finished",
)
Checkpoint = Callable[[str], None]


def _no_checkpoint(step: str) -> None:
    pass


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@dataclass
class Progress:
    files_done: int
    files_total: int
    chunks: int
    chunks_per_s: float
    eta_s: float | None
    current: str = ""
    # The file just written (its status "indexed" or "failed", and its passages): the Library
    # window turns its row over at once rather than at the end of the sync.
    finished: str = ""
    finished_status: str = ""
    finished_passages: int = 0


@dataclass
class IndexReport:
    collection: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    pages: int = 0
    seconds: float = 0.0
    cancelled: bool = False
    rebuilt: int = 0  # passages whose lost vectors were made again from their stored text
    failed: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _recorded_reader(identity: str) -> int:
    """The reader version in a recorded identity (1 where none is named: a catalogue from before)."""
    match = re.search(r":reader(\d+)$", identity)
    return int(match.group(1)) if match else 1


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def scan(
    roots: list[Path], max_bytes: int, patterns: FilePatterns | None = None
) -> tuple[dict[str, os.stat_result], list[Problem]]:
    """Regular files of supported types under ``roots`` that ``patterns`` keep (a root given as a
    file is kept whatever they say); symlink loops and special files are skipped."""
    patterns = patterns or FilePatterns()
    found: dict[str, os.stat_result] = {}
    problems: list[Problem] = []
    seen_dirs: set[str] = set()

    def consider(path: Path, explicit: bool) -> None:
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            if explicit:
                problems.append(Problem(str(path), f"unsupported file type '{path.suffix or path.name}'"))
            return
        try:
            info = path.stat()
        except OSError as exc:
            problems.append(Problem(str(path), f"cannot be read: {exc.strerror or exc}"))
            return
        if not stat.S_ISREG(info.st_mode):
            problems.append(Problem(str(path), "not a regular file (a pipe or device?)"))
        elif info.st_size == 0:
            problems.append(Problem(str(path), "empty file"))
        elif info.st_size > max_bytes:
            problems.append(Problem(str(path), f"larger than the {max_bytes // (1024 * 1024)} MB limit"))
        elif not os.access(path, os.R_OK):
            problems.append(Problem(str(path), "cannot be read: permission denied"))
        else:
            found[str(path)] = info

    for root in roots:
        if not root.exists():
            problems.append(Problem(str(root), "folder or file no longer exists"))
        elif root.is_file() or not root.is_dir():
            consider(root, explicit=True)
        else:
            for directory, subdirectories, files in os.walk(
                root,
                followlinks=True,
                onerror=lambda e: problems.append(Problem(str(e.filename), f"cannot be read: {e.strerror}")),
            ):
                real = os.path.realpath(directory)
                if real in seen_dirs:
                    subdirectories[:] = []
                    problems.append(Problem(directory, "skipped: a symlink loop, or a folder already indexed"))
                    continue
                seen_dirs.add(real)
                below = os.path.relpath(directory, root) if directory != str(root) else ""
                subdirectories[:] = sorted(
                    d
                    for d in subdirectories
                    if not d.startswith(".") and not (patterns and patterns.prunes(os.path.join(below, d)))
                )
                for name in sorted(files):
                    if not name.startswith(".") and (not patterns or patterns.allows(os.path.join(below, name))):
                        consider(Path(directory) / name, explicit=False)
    return found, problems


class Indexer:
    def __init__(
        self,
        catalog: LibraryIndex,
        vectors: VectorStore,
        embedder: Embedder,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        parser: ParsePool | None = None,
        checkpoint: Checkpoint = _no_checkpoint,
    ) -> None:
        """``parser``: the reader pool to use (and leave open); by default each sync starts its own."""
        self.checkpoint = checkpoint
        self.catalog = catalog
        self.vectors = vectors
        self.embedder = embedder
        self.max_file_bytes = max_file_bytes
        self.parser = parser
        self.counter = counter_for(embedder)
        self.chunking = chunking_identity(self.counter)

    def sync(
        self,
        collection: CollectionInfo,
        progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
    ) -> IndexReport:
        cancel = cancel or CancelToken()
        started = time.perf_counter()
        report = IndexReport(collection.name)
        key = (collection.vector_name, collection.embedder, collection.dimension)
        on_disk, report.failed = scan([Path(r) for r in collection.roots], self.max_file_bytes, collection.patterns)
        known = self.catalog.files(collection.id)
        if any(record.status == "indexing" for record in known.values()):
            self._remove_orphan_vectors(collection)
        for path, gone in known.items():
            if path not in on_disk:
                self.catalog.mark_indexing(gone.id)
                self.checkpoint("gone.marked")
                self.vectors.delete(*key, self.catalog.file_chunk_ids(gone.id))
                self.checkpoint("gone.vectors_deleted")
                self.catalog.remove_file(gone.id)
                self.checkpoint("gone.removed")
                report.removed += 1
        work = self._plan(on_disk, known, report, progress, cancel)
        if work is None:
            report.cancelled = True
            work = []

        parser = self.parser or ParsePool()
        try:
            report.chunks = self._index_work(collection, work, known, report, started, progress, cancel, parser)
        finally:
            if parser is not self.parser:
                parser.close()
        report.seconds = time.perf_counter() - started
        if progress and not report.cancelled:
            rate = report.chunks / report.seconds if report.seconds > 0 else 0.0
            progress(Progress(len(work), len(work), report.chunks, rate, 0.0))
        return report

    def _plan(
        self,
        on_disk: dict[str, os.stat_result],
        known: dict[str, FileRecord],
        report: IndexReport,
        progress: Callable[[Progress], None] | None,
        cancel: CancelToken,
    ) -> list[tuple[str, os.stat_result, str]] | None:
        """The files to read, each with its hash where one was needed to decide ('' for a new
        file: hashed by the reader as it reads it). None when cancelled. A new file costs nothing
        here, so a first index of a big folder reports progress and can be stopped at once."""
        new = [path for path in on_disk if path not in known]
        to_hash: list[tuple[str, bool]] = []  # (path, settled: indexed or failed, by this chunker)
        for path in (p for p in on_disk if p in known):
            info, record = on_disk[path], known[path]
            # A file passaged by an older chunker (longer than the embedder reads, say) is redone, and
            # so is one an older reader of its format read or failed on (documents.READER_VERSIONS).
            stale = (record.status == "indexed" and record.chunking != self._identity(path)) or (
                record.status == "failed" and _recorded_reader(record.chunking) < reader_version(Path(path))
            )
            settled = not stale and record.status in ("indexed", "failed")
            if settled and (record.size, record.mtime) == (info.st_size, info.st_mtime):
                report.unchanged += 1
                if record.status == "failed":
                    report.failed.append(Problem(path, record.reason))
            else:
                to_hash.append((path, settled))
        if progress:
            progress(Progress(0, len(new) + len(to_hash), 0, 0.0, None))
        work: list[tuple[str, os.stat_result, str]] = []
        for path, settled in to_hash:
            if cancel.cancelled:
                return None
            info, record = on_disk[path], known[path]
            digest = file_hash(Path(path))
            if settled and record.hash == digest:
                # Touched, same bytes: an indexed file stays indexed, and a failed one is not read
                # again (a file that hung or exhausted a reader would do it again).
                self.catalog.finish_file(
                    record.id,
                    record.status,
                    hash=digest,
                    mtime=info.st_mtime,
                    size=info.st_size,
                    chunks=record.chunks,
                    reason=record.reason,
                    chunking=record.chunking,
                )
                report.unchanged += 1
                if record.status == "failed":
                    report.failed.append(Problem(path, record.reason))
                continue
            work.append((path, info, digest))
        return work + [(path, on_disk[path], "") for path in new]

    def _index_work(
        self,
        collection: CollectionInfo,
        work: list[tuple[str, os.stat_result, str]],
        known: dict[str, FileRecord],
        report: IndexReport,
        started: float,
        progress: Callable[[Progress], None] | None,
        cancel: CancelToken,
        parser: ParsePool,
    ) -> int:
        """Read and index ``work`` in order (the pool reads ahead); returns the chunks written."""
        chunks_done = 0
        if not work:
            return 0
        documents = parser.load_all([Path(path) for path, _, _ in work])
        # Small files are embedded together, EMBED_BATCH passages a call: the embedder is about 1.5
        # times faster on 64 passages at once than on 9 at a time (bench/rag.py, (e)). Each file is
        # still written whole and in order, exactly as when it was embedded alone.
        waiting: list[tuple[str, os.stat_result, str, LoadedDocument | LoadError, list[Chunk]]] = []
        written = 0

        def tell(path: str, finished: str = "", status: str = "", passages: int = 0) -> None:
            if progress:
                elapsed = time.perf_counter() - started
                rate = chunks_done / elapsed if elapsed > 0 else 0.0
                eta = elapsed / written * (len(work) - written) if written else None
                progress(Progress(written, len(work), chunks_done, rate, eta, path, finished, status, passages))

        def index(path: str, info: os.stat_result, digest: str, loaded: LoadedDocument | LoadError, **kw: Any) -> bool:
            """Write one file; False when cancelled (before it, or part-way through it)."""
            nonlocal chunks_done, written
            if cancel.cancelled:
                return False
            added = self._index_file(collection, path, info, digest, loaded, known.get(path), report, cancel, **kw)
            if added is None:
                return False
            chunks_done += added
            written += 1
            if path in known:
                report.updated += 1
            else:
                report.added += 1
            tell(path, path, "failed" if isinstance(loaded, LoadError) else "indexed", added)
            return True

        def write_waiting() -> bool:
            texts = [c.text for *_, chunks in waiting for c in chunks]
            vectors = self.embedder.embed(texts) if texts and not cancel.cancelled else []
            for path, info, digest, loaded, chunks in waiting:
                mine, vectors = vectors[: len(chunks)], vectors[len(chunks) :]
                if not index(path, info, digest, loaded, embedded=(chunks, mine)):
                    return False
            waiting.clear()
            return True

        try:
            for path, info, digest in work:
                tell(path)
                if cancel.cancelled:
                    break
                loaded = next(documents)
                chunks = chunk_sections(loaded.sections, self.counter) if isinstance(loaded, LoadedDocument) else []
                if len(chunks) < EMBED_BATCH:
                    waiting.append((path, info, digest, loaded, chunks))
                    # The first file alone, so that progress moves as soon as the embedder is loaded.
                    full = written == 0 or sum(len(w[-1]) for w in waiting) >= EMBED_BATCH
                    if full and not write_waiting():
                        break
                elif not write_waiting() or not index(path, info, digest, loaded):
                    break
            else:
                write_waiting()
            report.cancelled = report.cancelled or written < len(work)
        finally:
            documents.close()
        return chunks_done

    def _index_file(
        self,
        collection: CollectionInfo,
        path: str,
        info: os.stat_result,
        digest: str,
        loaded: LoadedDocument | LoadError,
        previous: FileRecord | None,
        report: IndexReport,
        cancel: CancelToken,
        embedded: tuple[list[Chunk], list[list[float]]] | None = None,
    ) -> int | None:
        """Index one file, already read; returns its chunk count, or None when cancelled part-way.
        ``embedded``: its passages and their vectors, when they were embedded with other files'."""
        key = (collection.vector_name, collection.embedder, collection.dimension)
        digest = loaded.digest or digest or file_hash(Path(path))
        file_id = self.catalog.begin_file(collection.id, path)
        self.checkpoint("file.marked")
        if previous is not None:
            self.vectors.delete(*key, self.catalog.file_chunk_ids(file_id))
            self.checkpoint("file.old_vectors_deleted")
            self.catalog.drop_chunks(file_id)
            self.checkpoint("file.old_chunks_deleted")
        if isinstance(loaded, LoadError):
            self.catalog.finish_file(
                file_id,
                "failed",
                hash=digest,
                mtime=info.st_mtime,
                size=info.st_size,
                reason=loaded.reason,
                chunking=self._identity(path),
            )
            self.checkpoint("file.finished")
            report.failed.append(Problem(path, loaded.reason))
            return 0
        report.warnings += [Problem(path, w) for w in loaded.warnings]
        chunks = embedded[0] if embedded else chunk_sections(loaded.sections, self.counter)
        writer = self.catalog.writer
        # The writer in the id: two machines writing one shared collection never overwrite each other.
        ids = [f"{writer}-{file_id}-{digest[:12]}-{c.index}" for c in chunks]
        for start in range(0, len(chunks), EMBED_BATCH):
            if cancel.cancelled:
                return None  # the file stays 'indexing': the next run redoes it
            part = chunks[start : start + EMBED_BATCH]
            part_ids = ids[start : start + EMBED_BATCH]
            vectors = (
                embedded[1][start : start + EMBED_BATCH] if embedded else self.embedder.embed([c.text for c in part])
            )
            self.catalog.add_chunks(collection.id, file_id, part_ids, part)
            self.checkpoint("file.chunks_written")
            # Enough beside each vector for another machine to search and cite it without the file.
            metadatas = [
                passage_metadata(path, c.page, c.heading, c.start, c.end, c.index, writer, collection.embedder)
                for c in part
            ]
            self.vectors.upsert(*key, part_ids, vectors, [c.text for c in part], metadatas, label=collection.name)
            self.checkpoint("file.vectors_written")
        self.catalog.finish_file(
            file_id,
            "indexed",
            hash=digest,
            mtime=info.st_mtime,
            size=info.st_size,
            pages=loaded.pages,
            chunks=len(chunks),
            chunking=self._identity(path),
        )
        self.checkpoint("file.finished")
        report.pages += loaded.pages or 1
        return len(chunks)

    def _identity(self, path: str) -> str:
        """How a file was read and passaged, as recorded with it: the chunker's identity, and the
        version of its format's reader where that is past the first (so that raising one format's
        reader re-reads only the files of that format)."""
        version = reader_version(Path(path))
        return self.chunking if version == 1 else f"{self.chunking}:reader{version}"

    def _remove_orphan_vectors(self, collection: CollectionInfo) -> None:
        """This machine's vectors that its catalogue does not list (never another machine's)."""
        key = (collection.vector_name, collection.embedder, collection.dimension)
        orphans = self.vectors.ids(*key, writer=self.catalog.writer) - self.catalog.chunk_ids(collection.id)
        self.vectors.delete(*key, sorted(orphans))
