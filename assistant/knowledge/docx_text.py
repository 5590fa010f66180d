"""Word documents (.docx) to sections of text under their heading trail, in document order.

The body is read by mammoth (transitional and Strict OOXML alike), which also brings text boxes,
content controls, tracked insertions and footnotes and endnotes: each note is placed right after
the paragraph that cites it, so it keeps that paragraph's heading. Tables stay where they stand,
one line a row ("cell | cell"), a nested table inside its cell. Headers and footers, which
mammoth leaves out, are read from their own parts of the zip and given one section at the end,
each distinct line once (the same header repeats on every page and in every section).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

from assistant.knowledge.sections import Section, normalise

HEADERS_AND_FOOTERS = "Headers and footers"
_HEADING_STYLE = re.compile(r"(?:heading|berschrift|titre|titolo|título|kop)\s*([1-9])", re.IGNORECASE)
_HEADER_PART = re.compile(r"word/(?:header|footer)\d*\.xml")


class NotADocument(Exception):
    """The file is not a Word document mammoth can read; the message is the plain reason."""


def read_docx(path: Path) -> list[Section]:
    import mammoth

    try:
        with path.open("rb") as handle:
            document = mammoth.docx.read(handle).value
        reader = _Reader(document.notes)
        reader.blocks(document.children)
        reader.flush()
        footer_lines = _header_and_footer_lines(path)
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:  # no main part, no body, a bad entry
        raise NotADocument("not a Word document: its main part is missing or damaged") from exc
    except OSError as exc:
        if exc.errno is not None:  # the file itself could not be read
            raise
        raise NotADocument("not a Word document: its main part is missing") from exc  # mammoth's own IOError
    except ExpatError as exc:
        raise NotADocument("damaged Word document: its XML is not well-formed") from exc
    except RecursionError as exc:
        raise NotADocument("could not be read: the document is nested too deeply") from exc
    if footer_lines:
        reader.trail = [HEADERS_AND_FOOTERS]
        reader.lines = footer_lines
        reader.flush()
    return reader.sections


class _Reader:
    """Walks mammoth's document tree, collecting lines into one section per heading."""

    def __init__(self, notes: Any) -> None:
        self.notes = notes
        self.sections: list[Section] = []
        self.trail: list[str] = []
        self.lines: list[str] = []
        self.position = 0  # characters of text emitted so far: a section's offset in the document
        self.cited: dict[str, int] = {}  # notes placed so far, by kind: their numbers as shown

    def flush(self) -> None:
        body = normalise("\n".join(self.lines))
        if body:
            self.sections.append(Section(body, heading=" > ".join(self.trail), offset=self.position))
        self.position += len(body) + 1
        self.lines = []

    def blocks(self, elements: list[Any]) -> None:
        from mammoth import documents

        for element in elements:
            if isinstance(element, documents.Paragraph):
                self.paragraph(element)
            elif isinstance(element, documents.Table):
                self.lines.extend(_table_rows(element, self.notes))
            else:
                self.blocks(getattr(element, "children", []))

    def paragraph(self, paragraph: Any) -> None:
        parts: list[str] = []
        inner: list[Any] = []  # text boxes, and the paragraphs inside them
        notes: list[Any] = []
        _inline(paragraph.children, parts, inner, notes)
        text = "".join(parts)
        level = _heading_level(paragraph)
        if level and text.strip() and len(text) <= 300:
            self.flush()
            self.trail = [*self.trail[: level - 1], " ".join(text.split())]
        elif text.strip():
            self.lines.append(text)
        self.blocks(inner)
        for note in notes:
            body = _plain_lines(self._note_body(note), self.notes)
            if body:
                label = "Endnote" if note.note_type == "endnote" else "Footnote"
                self.cited[label] = self.cited.get(label, 0) + 1
                self.lines.append(f"[{label} {self.cited[label]}] " + " ".join(body))

    def _note_body(self, reference: Any) -> list[Any]:
        try:
            return list(self.notes.resolve(reference).body)
        except KeyError:  # a reference to a note that is not there
            return []


def _heading_level(paragraph: Any) -> int:
    name = paragraph.style_name or paragraph.style_id or ""
    if name.strip().lower() == "title":
        return 1
    match = _HEADING_STYLE.search(name)
    return int(match.group(1)) if match else 0


def _inline(elements: list[Any], parts: list[str], inner: list[Any], notes: list[Any]) -> None:
    from mammoth import documents

    for element in elements:
        if isinstance(element, documents.Text):
            parts.append(element.value)
        elif isinstance(element, documents.Tab):
            parts.append(" ")
        elif isinstance(element, documents.Break):
            parts.append("\n")
        elif isinstance(element, documents.NoteReference):
            notes.append(element)
        elif isinstance(element, documents.Paragraph | documents.Table):
            inner.append(element)  # inside a text box
        else:
            _inline(getattr(element, "children", []), parts, inner, notes)


def _plain_lines(elements: list[Any], notes: Any) -> list[str]:
    """The text of block elements (a note's body, a table cell), a line each, headings as text."""
    from mammoth import documents

    lines: list[str] = []
    for element in elements:
        if isinstance(element, documents.Paragraph):
            parts: list[str] = []
            inner: list[Any] = []
            _inline(element.children, parts, inner, [])
            text = " ".join("".join(parts).split())
            if text:
                lines.append(text)
            lines.extend(_plain_lines(inner, notes))
        elif isinstance(element, documents.Table):
            lines.append("; ".join(_table_rows(element, notes)))
        else:
            lines.extend(_plain_lines(getattr(element, "children", []), notes))
    return [line for line in lines if line]


def _table_rows(table: Any, notes: Any) -> list[str]:
    from mammoth import documents

    rows: list[str] = []
    for row in table.children:
        if not isinstance(row, documents.TableRow):
            rows.extend(_plain_lines([row], notes))
            continue
        cells = [" ".join(_plain_lines(cell.children, notes)) for cell in row.children]
        if any(cells):
            rows.append(" | ".join(cell for cell in cells))
    return rows


def _header_and_footer_lines(path: Path) -> list[str]:
    """Each distinct paragraph of the headers and footers, in part order."""
    seen: dict[str, None] = {}
    with zipfile.ZipFile(path) as archive:
        names = sorted((n for n in archive.namelist() if _HEADER_PART.fullmatch(n)), key=lambda n: ("footer" in n, n))
        for name in names:
            try:
                root = ElementTree.fromstring(archive.read(name))
            except ElementTree.ParseError:
                continue  # a damaged header costs only the header
            for paragraph in root.iter():
                if _local(paragraph.tag) != "p":
                    continue
                text = "".join(
                    (node.text or "") if _local(node.tag) == "t" else " "
                    for node in paragraph.iter()
                    if _local(node.tag) in {"t", "tab"}
                )
                text = " ".join(text.split())
                if text:
                    seen.setdefault(text, None)
    return list(seen)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
