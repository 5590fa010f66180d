"""Read documents into sections of text that remember where they came from.

A section is a run of text under one heading trail (Markdown, DOCX, HTML) or on one page (PDF).
Loading never raises for a bad file: it returns a ``LoadError`` with the reason, so indexing
reports it and goes on with the rest.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.knowledge.docx_text import NotADocument, read_docx
from assistant.knowledge.html_text import HTMLText
from assistant.knowledge.pdf_text import MAX_PDF_PAGES as MAX_PDF_PAGES  # re-exported
from assistant.knowledge.pdf_text import NO_OCR, PdfProblem, read_pdf
from assistant.knowledge.sections import Section as Section  # re-exported: callers import it from here
from assistant.knowledge.sections import normalise as normalise
from assistant.knowledge.text_files import NotText, declared_charset, decode_text

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text", ".rst", ".log"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
CODE_SUFFIXES = {
    ".py",
    ".js",
    ".ts",
    ".tsx",
    ".jsx",
    ".java",
    ".kt",
    ".c",
    ".h",
    ".cpp",
    ".hpp",
    ".cc",
    ".cs",
    ".go",
    ".rs",
    ".rb",
    ".php",
    ".swift",
    ".sh",
    ".sql",
    ".yaml",
    ".yml",
    ".toml",
    ".ini",
    ".cfg",
    ".css",
    ".r",
}
SUPPORTED_SUFFIXES = (
    TEXT_SUFFIXES | MARKDOWN_SUFFIXES | CODE_SUFFIXES | {".pdf", ".docx", ".html", ".htm", ".csv", ".json"}
)
# Raised when a format's reader reads more of a file, or fails on fewer: a file that an older
# reader read, or failed on, is read again at the next sync (indexer.py). PDF 2: PDFium and
# pdfminer.six instead of pypdf (CJK text, FreeText annotations, page-level reasons).
READER_VERSIONS = {".docx": 2, ".csv": 2, ".json": 2, ".pdf": 2}
MAX_TEXT_CHARS = 20_000_000
# A .docx is a zip: refuse archives that would inflate beyond this, or inflate suspiciously well.
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200


@dataclass
class LoadedDocument:
    path: Path
    sections: list[Section]
    pages: int = 0
    warnings: list[str] = field(default_factory=list)
    digest: str = ""  # SHA-256 of the bytes read, where the reader took it (parse_worker.py)


@dataclass(frozen=True)
class LoadError:
    path: Path
    reason: str
    digest: str = ""


def load(path: Path, suffix: str | None = None, pdf_reader: str = "pdfium") -> LoadedDocument | LoadError:
    """``suffix``: the format, when ``path`` does not show it (an open descriptor's /proc path);
    ``pdf_reader``: "pdfminer" for a PDF that crashed PDFium (see pdf_text.py)."""
    suffix = (suffix or path.suffix).lower()
    loader = _LOADERS.get(suffix) or (_load_text if suffix in TEXT_SUFFIXES | CODE_SUFFIXES else None)
    if loader is None:
        return LoadError(path, f"unsupported file type '{suffix or path.name}'")
    try:
        if loader is _load_pdf:
            return _capped(_load_pdf(path, reader=pdf_reader))
        return _capped(loader(path))
    except MemoryError:
        return LoadError(path, "too large to read into memory")
    except Exception as exc:  # a parser's failure on a bad file is that file's problem only
        return LoadError(path, plain_reason(exc))


def plain_reason(exc: BaseException) -> str:
    """Why a file could not be read, in words for its owner: never an exception's class name or a
    parser's message (which say "universal-newline mode?" or "no relationship of type..."). The
    details go to the log."""
    if isinstance(exc, RecursionError):
        return "could not be read: it is nested too deeply"
    if isinstance(exc, OSError):
        return f"cannot be read: {(exc.strerror or 'the system refused').lower()}"
    if isinstance(exc, UnicodeError):
        return "could not be read: its text is not in an encoding Hearth can read"
    log.warning("a reader failed", exc_info=exc)
    return "could not be read: the file is damaged or in a form Hearth cannot read"


def reader_version(path: Path) -> int:
    return READER_VERSIONS.get(path.suffix.lower(), 1)


def _capped(result: LoadedDocument | LoadError) -> LoadedDocument | LoadError:
    """At most MAX_TEXT_CHARS of any document (12 MB of JSON becomes 70 MB of lines): the
    passages of more would swamp the index and the process that chunks them."""
    if isinstance(result, LoadError) or sum(len(s.text) for s in result.sections) <= MAX_TEXT_CHARS:
        return result
    kept: list[Section] = []
    room = MAX_TEXT_CHARS
    for section in result.sections:
        if room <= 0:
            break
        kept.append(Section(section.text[:room], section.page, section.heading, section.offset))
        room -= len(section.text)
    result.sections = kept
    result.warnings.append(f"text beyond {MAX_TEXT_CHARS:,} characters was left out")
    return result


def _read_text(path: Path, declared: str | None = None) -> tuple[str, list[str]] | LoadError:
    raw = path.read_bytes()
    if not raw.strip():
        return LoadError(path, "empty file")
    try:
        return decode_text(raw, declared)
    except NotText as exc:
        return LoadError(path, str(exc))


def _load_text(path: Path) -> LoadedDocument | LoadError:
    read = _read_text(path)
    if isinstance(read, LoadError):
        return read
    text, warnings = read
    return LoadedDocument(path, [Section(normalise(text)[:MAX_TEXT_CHARS])], warnings=warnings)


_ATX = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def _load_markdown(path: Path) -> LoadedDocument | LoadError:
    read = _read_text(path)
    if isinstance(read, LoadError):
        return read
    text, warnings = read
    sections: list[Section] = []
    trail: list[str] = []
    lines: list[str] = []
    start = 0
    position = 0
    fenced = False

    def flush() -> None:
        body = normalise("\n".join(lines))
        if body:
            sections.append(Section(body, heading=" > ".join(trail), offset=start))

    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        match = None if fenced else _ATX.match(line.rstrip("\n"))
        if match:
            flush()
            level = len(match.group(1))
            trail = [*trail[: level - 1], match.group(2)]
            lines, start = [], position
        else:
            lines.append(line.rstrip("\n"))
        position += len(line)
    flush()
    return LoadedDocument(path, sections, warnings=warnings)


def load_context(path: Path, page: int | None) -> LoadedDocument | LoadError:
    """What a citation needs to show its passage in place: of a PDF, only the cited page (a
    click on a citation in a book must not extract every page); of other files, all of it."""
    if page and path.suffix.lower() == ".pdf":
        try:
            return _load_pdf(path, only_page=page)
        except MemoryError:
            return LoadError(path, "too large to read into memory")
        except Exception as exc:
            return LoadError(path, f"could not be read: {type(exc).__name__}: {exc}"[:300])
    return load(path)


def _load_pdf(path: Path, only_page: int | None = None, reader: str = "pdfium") -> LoadedDocument | LoadError:
    try:
        read = read_pdf(path, only_page, reader)
    except PdfProblem as exc:
        return LoadError(path, str(exc))
    sections: list[Section] = []
    warnings = list(read.warnings)
    total = 0
    for number in sorted(read.pages):
        text = normalise(read.pages[number])
        total += len(text)
        if total > MAX_TEXT_CHARS:
            warnings.append(f"text beyond {MAX_TEXT_CHARS:,} characters was left out")
            break
        if text:
            sections.append(Section(text, page=number))
    if read.image_pages and sections:
        warnings.append(f"{_pages(read.image_pages)} only an image (scanned?): no text read there; {NO_OCR}")
    warnings.extend(read.failed_pages)
    if sections:
        return LoadedDocument(path, sections, pages=read.count, warnings=warnings)
    if read.failed_pages:  # pages that failed are not "scanned": say what went wrong
        more = len(read.failed_pages) - 1
        extra = f" (and {more} more page{'s' if more > 1 else ''})" if more else ""
        return LoadError(path, f"no text could be read: {read.failed_pages[0]}{extra}"[:300])
    if read.image_pages:
        return LoadError(path, f"no extractable text: {_pages(read.image_pages)} only an image (scanned?); {NO_OCR}")
    if only_page is not None:
        return LoadError(path, f"no text on page {only_page}")
    return LoadError(path, "no text in the PDF: its pages are blank or only drawings")


def _pages(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"page {numbers[0]} is"
    shown = ", ".join(str(n) for n in numbers[:10]) + (", ..." if len(numbers) > 10 else "")
    return f"{len(numbers)} pages ({shown}) are"


def _check_zip(path: Path) -> LoadError | None:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        return LoadError(path, "corrupt document: not a valid .docx (zip) file")
    unzipped = sum(info.file_size for info in infos)
    zipped = sum(info.compress_size for info in infos) or 1
    if unzipped > MAX_UNZIPPED_BYTES or unzipped / zipped > MAX_COMPRESSION_RATIO:
        return LoadError(path, "refused: it would inflate to an implausible size (a decompression bomb?)")
    return None


def _load_docx(path: Path) -> LoadedDocument | LoadError:
    problem = _check_zip(path)
    if problem:
        return problem
    try:
        sections = read_docx(path)
    except NotADocument as exc:
        return LoadError(path, str(exc))
    if not sections:
        return LoadError(path, "no text in the document")
    return LoadedDocument(path, sections)


def _load_html(path: Path) -> LoadedDocument | LoadError:
    with path.open("rb") as handle:
        declared = declared_charset(handle.read(4096))
    read = _read_text(path, declared)
    if isinstance(read, LoadError):
        return read
    parser = HTMLText()
    parser.feed(read[0])
    parser.close()
    parser.end_heading()
    parser.flush()
    if not parser.sections:
        return LoadError(path, "no text in the page")
    return LoadedDocument(path, parser.sections, warnings=read[1])


def _load_csv(path: Path) -> LoadedDocument | LoadError:
    read = _read_text(path)
    if isinstance(read, LoadError):
        return read
    # Line ends as the csv module wants them: a CR-only file (old Mac exports) is otherwise one
    # row it refuses ("new-line character seen in unquoted field"). A stray NUL is dropped.
    text = read[0].replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    limit = csv.field_size_limit(MAX_TEXT_CHARS)  # an unclosed quote makes the rest one long cell
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error:
        rows = list(csv.reader(io.StringIO(text, newline=""), csv.excel))
    finally:
        csv.field_size_limit(limit)
    if not rows:
        return LoadError(path, "empty table")
    header, body = rows[0], rows[1:]
    lines = ["; ".join(_cells(header, row)) for row in body]
    return LoadedDocument(path, [Section(normalise("\n".join(lines) or ", ".join(header)))], warnings=read[1])


def _cells(header: list[str], row: list[str]) -> list[str]:
    """ "name: value" for each non-empty cell; a cell beyond the header's columns (a ragged row)
    is kept, named by its position."""
    named = [h.strip() or f"column {n}" for n, h in enumerate(header, 1)]
    named += [f"column {n}" for n in range(len(header) + 1, len(row) + 1)]
    return [f"{name}: {value}" for name, value in zip(named, row, strict=False) if value.strip()]


def _load_json(path: Path) -> LoadedDocument | LoadError:
    read = _read_text(path)
    if isinstance(read, LoadError):
        return read
    try:
        data = json.loads(read[0])
    except json.JSONDecodeError as exc:
        return LoadError(path, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    except RecursionError:
        return LoadError(path, "JSON nested too deeply to read")
    lines: list[str] = []
    # Walked with a stack, not recursion: a value nested as deep as json.loads allows must not
    # overflow the walk.
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            items = [(item, f"{where}.{key}" if where else str(key)) for key, item in value.items()]
            stack.extend(reversed(items))
        elif isinstance(value, list):
            stack.extend(reversed([(item, f"{where}[{index}]") for index, item in enumerate(value)]))
        else:
            lines.append(f"{where}: {value}")
    return LoadedDocument(path, [Section(normalise("\n".join(lines)))], warnings=read[1])


_LOADERS: dict[str, Callable[[Path], LoadedDocument | LoadError]] = {
    **dict.fromkeys(MARKDOWN_SUFFIXES, _load_markdown),
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".html": _load_html,
    ".htm": _load_html,
    ".csv": _load_csv,
    ".json": _load_json,
}
