from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.knowledge.documents import LoadedDocument, LoadError, load, normalise
from tests.knowledge.conftest import write_docx, write_encrypted_pdf, write_image_pdf, write_pdf, write_zip_bomb_docx


def _ok(result: LoadedDocument | LoadError) -> LoadedDocument:
    assert isinstance(result, LoadedDocument), result
    return result


def _error(result: LoadedDocument | LoadError) -> str:
    assert isinstance(result, LoadError), result
    return result.reason


def test_pdf_pages_are_numbered(tmp_path: Path) -> None:
    document = _ok(load(write_pdf(tmp_path / "manual.pdf", ["Unpacking.", "Descale every 90 days.", "Warranty."])))
    assert [(s.page, s.text) for s in document.sections] == [
        (1, "Unpacking."),
        (2, "Descale every 90 days."),
        (3, "Warranty."),
    ]
    assert document.pages == 3


def test_markdown_keeps_the_heading_trail(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text(
        "Intro line.\n\n# Garden\n\n## Tomatoes\n\nPlant in May.\n\n```\n# not a heading\n```\n\n"
        "## Slugs\n\nBeer traps.\n"
    )
    sections = _ok(load(path)).sections
    assert [(s.heading, s.text.splitlines()[0]) for s in sections] == [
        ("", "Intro line."),
        ("Garden > Tomatoes", "Plant in May."),
        ("Garden > Slugs", "Beer traps."),
    ]
    assert "# not a heading" in sections[1].text
    text = path.read_text()
    assert text[sections[2].offset :].lstrip().startswith("## Slugs")


def test_docx_headings_and_tables(tmp_path: Path) -> None:
    path = write_docx(
        tmp_path / "report.docx", [("h1", "Budget"), ("p", "We spent 40 pounds."), ("h2", "Food"), ("p", "Bread.")]
    )
    sections = _ok(load(path)).sections
    assert [(s.heading, s.text) for s in sections] == [("Budget", "We spent 40 pounds."), ("Budget > Food", "Bread.")]


DOCX_DATA = Path(__file__).parent.parent / "data" / "docx"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("strict-format.docx", [("", "Test")]),  # Strict OOXML: python-docx raised KeyError
        ("text-box.docx", [("", "Datum plane")]),  # the only text is in a text box
        ("footnotes.docx", [("", "Ouch.\n[Footnote 1] A tachyon walks into a bar.\n[Footnote 2] Fin.")]),
        ("endnotes.docx", [("", "Ouch.\n[Endnote 1] A tachyon walks into a bar.\n[Endnote 2] Fin.")]),
        ("tables.docx", [("", "Above\nTop left | Top right\nBottom left | Bottom right\nBelow")]),
        (
            "headers-and-table.docx",
            [
                (
                    "",
                    "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\nText before Table; Between Text after"
                    "\nDonec semper facilisis metus finibus malesuada.",
                ),
                ("Headers and footers", "Left-side\nRight-side\nCopyright\nPage-number"),
            ],
        ),
    ],
)
def test_word_documents_from_other_projects(name: str, expected: list[tuple[str, str]]) -> None:
    sections = _ok(load(DOCX_DATA / name)).sections
    assert [(s.heading, s.text) for s in sections] == expected


def test_docx_tables_and_nested_tables_stay_in_their_section(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Budget", level=1)
    document.add_paragraph("We spent 40 pounds.")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Item", "Cost"), ("Bread", "2 pounds")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    inner = table.rows[1].cells[1].add_table(rows=1, cols=2)
    inner.rows[0].cells[0].text = "paid cash"
    inner.rows[0].cells[1].text = "on Monday"
    document.add_heading("Plans", level=1)
    document.add_paragraph("Save more.")
    path = tmp_path / "budget.docx"
    document.save(str(path))
    sections = _ok(load(path)).sections
    assert [(s.heading, s.text) for s in sections] == [
        ("Budget", "We spent 40 pounds.\nItem | Cost\nBread | 2 pounds paid cash | on Monday"),
        ("Plans", "Save more."),
    ]
    assert sections[1].offset > sections[0].offset


def test_html_text_without_scripts(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><script>var secret = 1;</script><style>p{}</style></head><body>"
        "<h1>Club</h1><p>Meets on <b>Tuesdays</b>.</p><h2>Fees</h2><p>Ten pounds.</p></body></html>"
    )
    sections = _ok(load(path)).sections
    assert [(s.heading, s.text) for s in sections] == [("Club", "Meets on Tuesdays."), ("Club > Fees", "Ten pounds.")]
    assert all("secret" not in s.text for s in sections)


def test_csv_json_and_code(tmp_path: Path) -> None:
    (tmp_path / "club.csv").write_text("name,role\nAlice,treasurer\nBob,secretary\n")
    assert "name: Bob; role: secretary" in _ok(load(tmp_path / "club.csv")).sections[0].text
    (tmp_path / "config.json").write_text(json.dumps({"server": {"port": 8080, "hosts": ["a", "b"]}}))
    text = _ok(load(tmp_path / "config.json")).sections[0].text
    assert "server.port: 8080" in text and "server.hosts[1]: b" in text
    (tmp_path / "tool.py").write_text("def area(r):\n    return 3.14 * r * r\n")
    assert "def area" in _ok(load(tmp_path / "tool.py")).sections[0].text


def test_pdf_whitespace_is_normalised() -> None:
    assert normalise("word\tword \t\tword\r\n\n\n\nnext") == "word word word\n\nnext"


def test_a_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage garbage\n")
    assert _error(load(path))


def test_an_encrypted_pdf(tmp_path: Path) -> None:
    assert "encrypted" in _error(load(write_encrypted_pdf(tmp_path / "locked.pdf", "secret text")))


def test_an_image_only_pdf_is_called_scanned(tmp_path: Path) -> None:
    reason = _error(load(write_image_pdf(tmp_path / "scan.pdf", pages=2)))
    assert "no extractable text" in reason and "scanned" in reason and "2 pages" in reason


def test_a_pdf_of_drawings_only_is_not_called_scanned(tmp_path: Path) -> None:
    reason = _error(load(write_pdf(tmp_path / "shapes.pdf", ["", ""])))  # filled rectangles, no image
    assert "blank or only drawings" in reason and "scanned" not in reason


def test_a_decompression_bomb(tmp_path: Path) -> None:
    assert "decompression bomb" in _error(load(write_zip_bomb_docx(tmp_path / "bomb.docx")))


def test_a_docx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "fake.docx"
    path.write_text("plain text pretending")
    assert "not a valid .docx" in _error(load(path))


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.txt", b"\x00\x01\x02\x03ELF" * 100, "binary"),
        ("empty.md", b"", "empty"),
        ("blank.txt", b"   \n\n  ", "empty"),
        ("bad.json", b"{not json", "invalid JSON"),
    ],
)
def test_bad_text_files(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert reason in _error(load(path))


def test_invalid_encoding_is_read_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Café au lait, crème brûlée.".encode("latin-1"))
    document = _ok(load(path))
    assert document.sections[0].text == "Café au lait, crème brûlée."  # detected, not replaced
    assert document.warnings and "UTF-8" in document.warnings[0]


def test_an_unreadable_file_is_a_reason_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root (CI), permissions cannot make a file unreadable, so the read itself is made to fail.
    path = tmp_path / "locked.txt"
    path.write_text("text")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)
    assert _error(load(path)) == "cannot be read: permission denied"


def test_unsupported_type(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    assert "unsupported" in _error(load(path))


def test_a_citation_reads_only_its_own_page_of_a_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pypdfium2

    from assistant.knowledge.documents import load_context

    path = write_pdf(tmp_path / "book.pdf", [f"Page {n} of the book." for n in range(1, 201)])
    opened: list[int] = []
    real = pypdfium2.PdfDocument.__getitem__

    def counted(self: pypdfium2.PdfDocument, index: int) -> pypdfium2.PdfPage:
        opened.append(index)
        return real(self, index)

    monkeypatch.setattr(pypdfium2.PdfDocument, "__getitem__", counted)
    document = _ok(load_context(path, 150))
    assert [(s.page, s.text) for s in document.sections] == [(150, "Page 150 of the book.")]
    assert opened == [149]  # one page loaded, not 200
    assert _ok(load_context(tmp_path / "book.pdf", None)).pages == 200


def test_every_format_is_capped_in_characters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.knowledge.documents as documents

    monkeypatch.setattr(documents, "MAX_TEXT_CHARS", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(list(range(5000))))  # 25 KB of "[n]: n" lines
    document = _ok(load(path))
    assert sum(len(s.text) for s in document.sections) == 1000
    assert any("left out" in w for w in document.warnings)
