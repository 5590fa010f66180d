"""The document reader's worker process: loads one file per request, one JSON line in, one out.

Parsers are the part of indexing that a hostile file can break: a PDF whose content stream takes
minutes to walk, a JSON file that inflates to gigabytes of Python objects, a C extension that
crashes. Run in the indexing process, any of these froze or killed Hearth, and the file, marked
``indexing`` at the time, was retried at every sync. So files are read here, in a separate
interpreter (spawned, not forked: the app has llama.cpp and Qt threads) under limits set with
setrlimit where the platform has ``resource``: address space (a MemoryError becomes "too large to
read") and CPU seconds per file (SIGXCPU ends the process; the parent reports "took too long").
The parent also kills a worker at a wall-clock deadline, the only limit on Windows.

What the readers say (pdfminer.six's warnings about fonts and broken cross-reference tables, by
the thousand for some files; PDFium's messages) is logged to this process's stderr, which the
parent points at the readers' log file (``logs/readers.log`` in the data directory), each file's
messages after a line naming it: never into a terminal's progress bar.

Started by parse_pool.py as ``python -m assistant.knowledge.parse_worker`` (in the PyInstaller
bundle, where ``-m`` does not exist, as ``hearth --parse-worker``: see packaging/launch.py). The
worker exits when its stdin closes, so it never outlives Hearth.

Protocol, one JSON object per line, ASCII only:
  worker -> {"ready": true}
  parent -> {"id": 1, "path": "/home/me/a.pdf", "cpu_seconds": 60}   (+ "pdf_reader": "pdfminer"
              to read a PDF without PDFium, after PDFium crashed on it)
  worker -> {"id": 1, "started": true}
  worker -> {"id": 1, "ok": true, "document": {...}}   or {"id": 1, "ok": false, "reason": "why"}
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.core.worker_process import serve
from assistant.knowledge.documents import LoadedDocument, LoadError, Section, load, load_context

WORKER_FLAG = "--parse-worker"
TOO_LARGE = "too large to read"

log = logging.getLogger(__name__)


def document_to_json(document: LoadedDocument) -> dict[str, Any]:
    return {
        "pages": document.pages,
        "warnings": document.warnings,
        "sections": [[s.text, s.page, s.heading, s.offset] for s in document.sections],
    }


def document_from_json(path: Path, data: dict[str, Any], digest: str = "") -> LoadedDocument:
    sections = [Section(text, page, heading, offset) for text, page, heading, offset in data["sections"]]
    return LoadedDocument(path, sections, pages=int(data["pages"]), warnings=list(data["warnings"]), digest=digest)


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The reply to one request (without its id); never raises for a bad file."""
    path = request.get("path")
    if not isinstance(path, str):
        return {"ok": False, "reason": "could not be read: the request names no file"}
    try:
        # The hash is of the bytes about to be parsed, so the catalogue never pairs one version's
        # hash with another's passages.
        digest = _sha256(Path(path))
    except OSError as exc:
        return {"ok": False, "reason": f"cannot be read: {exc.strerror or exc}"}
    log.info("reading %s", path)
    try:
        page, reader = request.get("page"), str(request.get("pdf_reader") or "pdfium")
        if isinstance(page, int) and page > 0 and reader == "pdfium":
            result = load_context(Path(path), page)  # a citation's page, not the whole book
        else:
            result = load(Path(path), pdf_reader=reader)
        if isinstance(result, LoadError):
            return {"ok": False, "reason": result.reason, "sha256": digest}
        return {"ok": True, "document": document_to_json(result), "sha256": digest}
    except MemoryError:  # load() catches its own; this is the reply's JSON running out
        return {"ok": False, "reason": TOO_LARGE, "sha256": digest}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parse-worker")
    parser.add_argument("--memory-mib", type=int, default=0, help="address-space limit; 0 for none")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    logging.captureWarnings(True)  # warnings.warn from a reader is logged, not printed
    log.setLevel(logging.INFO)
    return serve(
        answer,
        args.memory_mib,
        cpu_seconds=lambda request: float(request.get("cpu_seconds") or 0) or 3600.0,
        out_of_memory={"ok": False, "reason": TOO_LARGE},
    )


if __name__ == "__main__":
    raise SystemExit(main())
