"""Indexing a folder of hostile files: every file gets an outcome, and memory stays bounded.

    .venv/bin/python bench/hostile.py [--memory-mib 1536] [--timeout-s 60] [--in-process]

Builds the hostile corpus of tests/knowledge (a PDF that takes ~7 s of CPU to walk, 12 MB of
JSON that becomes gigabytes of Python objects, a stream bomb, a truncated and an encrypted PDF,
text in Shift-JIS and UTF-16 without a BOM) plus 50 ordinary notes, indexes it with the hashing
embedder (this measures the readers, not the embedder), and prints each file's outcome, the wall
time, and the peak resident memory of Hearth's process and of its largest reader process.
``--in-process`` reads every file in this process instead (what Hearth did before), for comparison.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.knowledge.documents import LoadError, load
from assistant.knowledge.library import Library
from assistant.knowledge.parse_pool import ParsePool
from tests.fakes import HashingEmbedder
from tests.knowledge.conftest import (
    write_encrypted_pdf,
    write_memory_hog_json,
    write_slow_pdf,
    write_stream_bomb_pdf,
    write_truncated_pdf,
)


def corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    write_slow_pdf(folder / "slow.pdf")
    write_memory_hog_json(folder / "hog.json")
    write_stream_bomb_pdf(folder / "bomb.pdf")
    write_truncated_pdf(folder / "truncated.pdf")
    write_encrypted_pdf(folder / "locked.pdf", "secret")
    (folder / "sjis.txt").write_bytes(("日本語のテキストです。" * 50).encode("shift_jis"))
    (folder / "utf16.txt").write_bytes(("Tea at five. " * 50).encode("utf-16-le"))
    for n in range(50):
        (folder / f"note{n:02d}.txt").write_text(f"Note {n} about the allotment, plot {n}. " * 40)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memory-mib", type=int, default=1536)
    parser.add_argument("--timeout-s", type=float, default=60.0)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = corpus(Path(temporary) / "docs")
        started = time.perf_counter()
        if args.in_process:
            outcomes = {}
            for path in sorted(folder.iterdir()):
                result = load(path)
                outcomes[path.name] = result.reason if isinstance(result, LoadError) else "indexed"
        else:
            library = Library(Path(temporary) / "home", embedder=HashingEmbedder())
            library.add("docs", [folder])
            pool = ParsePool(memory_mib=args.memory_mib, base_timeout_s=args.timeout_s)
            from assistant.knowledge.indexer import Indexer

            indexer = Indexer(library.catalog, library.vectors, library.embedder, parser=pool)
            report = indexer.sync(library.collection("docs"))
            pool.close()
            outcomes = {Path(p.path).name: p.reason for p in report.failed}
            outcomes["(indexed)"] = f"{report.added - len(report.failed)} files, {report.chunks} passages"
        seconds = time.perf_counter() - started
    for name, outcome in sorted(outcomes.items()):
        if not name.startswith("note"):
            print(f"{name:16} {outcome}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    readers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"wall {seconds:.1f} s; peak RSS: this process {own:.0f} MB, largest reader {readers:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
