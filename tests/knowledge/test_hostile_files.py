"""The hostile corpus: every kind of bad file, made on the spot, with the outcome it must get.

Each case is (file name, how to make it, what must come out): either text that must be read
(``read``) or words that must be in the reason it was refused (``refused``). docs/security.md's table
"What each kind of bad file gets" lists the same outcomes. Files that need the worker process's
limits (too slow, too large, decompression bombs) are in test_parse_pool.py.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.knowledge.documents import LoadedDocument, LoadError, load
from tests.knowledge.conftest import (
    write_annotated_pdf,
    write_cyclic_pdf,
    write_encrypted_pdf,
    write_image_pdf,
    write_jbig2_bomb_pdf,
    write_pdf,
    write_rotated_pdf,
    write_truncated_pdf,
    write_zip_bomb_docx,
)

PDFS = Path(__file__).resolve().parents[1] / "data" / "pdf"  # real files from other projects: README there
JAPANESE = "日本語のテキストです。東京は日本の首都です。富士山は高い山です。"
CHINESE = "人工智能是计算机科学的一个分支。它研究如何让机器像人一样思考。"


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return make


def _made(name: str, writer: Callable[..., Path], *args: object) -> Callable[[Path], Path]:
    return lambda folder: writer(folder / name, *args)


def _encrypted_without_password(folder: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = write_pdf(folder / "plain.pdf", ["Open to anyone who asks."])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="", owner_password="owner")  # encrypted, but opens without one
    path = folder / "no-password.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def _real(name: str) -> Callable[[Path], Path]:
    return lambda folder: PDFS / name


DOCX_DATA = Path(__file__).parent.parent / "data" / "docx"


def _copied(name: str) -> Callable[[Path], Path]:
    return lambda folder: Path(shutil.copy(DOCX_DATA / name, folder / name))


def _docx_with_broken_xml(folder: Path) -> Path:
    path = folder / "broken.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", '<w:document xmlns:w="urn:x"><w:body><w:p>')
    return path


CORPUS: list[tuple[str, Callable[[Path], Path], str, str]] = [
    ("encrypted, with a password", _made("locked.pdf", write_encrypted_pdf, "secret"), "refused", "encrypted"),
    ("encrypted AES-256 (pdfminer.six)", _real("aes-256.pdf"), "refused", "encrypted: the PDF needs a password"),
    ("encrypted, no password", _encrypted_without_password, "read", "Open to anyone who asks."),
    (
        "encrypted, no password, text in a FreeText annotation",
        _made("note.pdf", write_annotated_pdf, "Typed onto the form: paid in full.", "owner"),
        "read",
        "Typed onto the form: paid in full.",
    ),
    ("truncated PDF", _made("cut.pdf", write_truncated_pdf), "refused", "corrupt PDF"),
    ("image-only PDF", _made("scan.pdf", write_image_pdf, 2), "refused", "scanned"),
    ("PDF of drawings only", _made("shapes.pdf", write_pdf, ["", ""]), "refused", "blank or only drawings"),
    ("JBIG2 bomb PDF", _made("jbig2.pdf", write_jbig2_bomb_pdf), "refused", "100,000 x 100,000 pixels (a decompr"),
    ("cyclic page tree", _made("cycle.pdf", write_cyclic_pdf), "read", "The only real page."),
    ("rotated page", _made("turned.pdf", write_rotated_pdf, "Printed sideways.", 90), "read", "Printed sideways."),
    ("Chinese PDF (pdfminer.six)", _real("issue_566_test_2.pdf"), "read", "甲方:中国饮料有限公司(盖章)"),
    ("Japanese PDF (pdfminer.six)", _real("jo.pdf"), "read", "宇宙塵をたべ、または空気や塩水を呼吸しながら"),
    ("Japanese, unmapped font (pdfminer.six)", _real("simple3.pdf"), "read", "あいうえお"),
    ("Arabic, Thai, CJK PDF (pypdf)", _real("multilang.pdf"), "read", "مرحبا بالعالم\nRussian:\nПривет, мир"),
    ("zip bomb .docx", _made("bomb.docx", write_zip_bomb_docx), "refused", "decompression bomb"),
    ("Shift-JIS text", _bytes("sjis.txt", (JAPANESE * 3).encode("shift_jis")), "read", JAPANESE),
    ("GB18030 text", _bytes("gb.txt", (CHINESE * 3).encode("gb18030")), "read", CHINESE),
    ("UTF-16 LE, no BOM", _bytes("le.txt", "Tea at five, in UTF-16.".encode("utf-16-le")), "read", "Tea at five"),
    ("UTF-16 BE, no BOM", _bytes("be.txt", "Tea at six, in UTF-16.".encode("utf-16-be")), "read", "Tea at six"),
    ("cp1252 text", _bytes("w.txt", "Café au lait, crème brûlée – €5.".encode("cp1252")), "read", "crème brûlée – €5"),
    ("cp1252 CSV", _bytes("w.csv", "dish,price\nCrème brûlée,€5\n".encode("cp1252")), "read", "dish: Crème brûlée"),
    (
        "HTML, no charset",
        _bytes("page.html", f"<html><body><p>{JAPANESE * 3}</p></body></html>".encode("shift_jis")),
        "read",
        JAPANESE,
    ),
    (
        "HTML, declared charset",
        _bytes("meta.html", b'<meta charset="iso-8859-15"><p>Prix: 5 \xa4, caf\xe9.</p>'),
        "read",
        "Prix: 5 €, café.",
    ),
    ("ligatures", _bytes("lig.txt", "An efﬁcient ﬂow.".encode()), "read", "An efficient flow."),
    ("full-width letters", _bytes("wide.txt", "Ｈｅａｒｔｈ １２３".encode()), "read", "Hearth 123"),
    ("binary named .txt", _bytes("elf.txt", b"\x7fELF\x02\x01\x01\x00" * 200), "refused", "binary"),
    ("Strict OOXML .docx", _copied("strict-format.docx"), "read", "Test"),
    (".docx with broken XML", _docx_with_broken_xml, "refused", "not well-formed"),
    (
        "CR-only CSV",
        _bytes("mac.csv", b"name,role\rAlice,treasurer\rBob,secretary\r"),
        "read",
        "name: Bob; role: secretary",
    ),
    ("ragged CSV rows", _bytes("ragged.csv", b"name,role\nAlice,treasurer,chair,2024\n"), "read", "column 4: 2024"),
    ("12-byte CSV with a NUL", _bytes("nul.csv", b"a,b\n1,2\x00\n3,4"), "read", "a: 3; b: 4"),
    ("CSV with an unclosed quote", _bytes("quote.csv", b'a,b\n1,"' + b"long " * 40_000), "read", "long long"),
    ("deeply nested JSON", _bytes("deep.json", b"[" * 100_000 + b"]" * 100_000), "refused", "nested too deeply"),
]


@pytest.mark.parametrize(("kind", "make", "outcome", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_each_hostile_file_gets_its_outcome(
    tmp_path: Path, kind: str, make: Callable[[Path], Path], outcome: str, expected: str
) -> None:
    result = load(make(tmp_path))
    if outcome == "read":
        assert isinstance(result, LoadedDocument), result
        assert expected in "\n".join(s.text for s in result.sections)
    else:
        assert isinstance(result, LoadError), result
        assert expected in result.reason
        assert not re.search(r"[A-Z]\w+(Error|Exception)|Traceback|universal-newline", result.reason)
        if expected != "scanned":  # "scanned" is said of image pages only
            assert "scanned" not in result.reason


def test_an_unclosed_heading_does_not_swallow_the_page(tmp_path: Path) -> None:
    path = tmp_path / "unclosed.html"
    path.write_text("<h1>Club<p>Meets on Tuesdays.<h2>Fees<p>Ten pounds a year.<p>Paid in January.</body>")
    result = load(path)
    assert isinstance(result, LoadedDocument), result
    assert [(s.heading, s.text) for s in result.sections] == [
        ("Club", "Meets on Tuesdays."),
        ("Club > Fees", "Ten pounds a year.\nPaid in January."),
    ]


def test_a_heading_left_open_to_the_end_is_kept_as_text(tmp_path: Path) -> None:
    path = tmp_path / "runaway.html"
    body = "This page opened a heading and never closed it, so everything is inside. " * 10
    path.write_text(f"<h2>{body}")
    result = load(path)
    assert isinstance(result, LoadedDocument), result
    assert "never closed it" in result.sections[0].text


def test_detected_encodings_are_named_in_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "sjis.txt"
    path.write_bytes((JAPANESE * 3).encode("shift_jis"))
    result = load(path)
    assert isinstance(result, LoadedDocument)
    assert any("read as" in warning for warning in result.warnings)


def test_a_keyword_search_finds_words_written_with_ligatures(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "paper.txt").write_text("The new boiler is more efﬁcient and its ﬂue is shorter.")
    library = make_library()
    library.add("papers", [folder])
    library.sync("papers")
    collection = library.collection("papers")
    assert library.catalog.keyword_search([collection.id], "efficient flue", 5)


def test_a_keyword_search_finds_a_chinese_word_in_clean_text(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ai.txt").write_text(CHINESE * 3)
    (folder / "jp.txt").write_text(JAPANESE * 3)
    library = make_library()
    library.add("notes", [folder])
    library.sync("notes")
    collection = library.collection("notes")
    found = library.catalog.chunks_by_id(library.catalog.keyword_search([collection.id], "人工智能", 5))
    assert [Path(c.path).name for c in found.values()] == ["ai.txt"]
    found = library.catalog.chunks_by_id(library.catalog.keyword_search([collection.id], "首都", 5))
    assert [Path(c.path).name for c in found.values()] == ["jp.txt"]
