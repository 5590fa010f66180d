"""The text of a PDF's pages: PDFium (pypdfium2) first, pdfminer.six where PDFium cannot read it.

Chosen by ``bench/pdf_readers.py`` on about 1,100 real PDFs from pdf.js's, pypdf's and
pdfminer.six's test corpora (docs/decisions.md): PDFium found the most of the expected words,
read Chinese, Japanese and Korean where pypdf produced mojibake, kept Arabic and Hebrew in reading
order (pdfminer.six reverses them) and vertical Japanese in lines (pdfminer.six gives a character a
line), and was 10-40 times faster than either. pdfminer.six is the fallback: for files PDFium
cannot open, for pages PDFium cannot map to Unicode (CJK fonts that are not embedded and carry no
ToUnicode map, which pdfminer.six maps with Adobe's CID tables), and for files that crash PDFium
(``reader="pdfminer"``, asked for by parse_pool.py after a crash, and bounded here against
decompression bombs, which PDFium, a C library, meets with an abort).

Reasons are per page and kept: "scanned" is said only of pages that hold an image and no text;
a page that fails says why. FreeText annotations (typed comments) are read with their page.
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_PDF_PAGES = 5000
# The content streams of one page may inflate to this much; beyond it is a decompression bomb.
MAX_PAGE_CONTENT_BYTES = 256 * 1024 * 1024
# An image beyond this (a 100,000 x 100,000 JBIG2 bomb) is no scan: such a page is reported.
MAX_IMAGE_PIXELS = 400_000_000
ENCRYPTED = "encrypted: the PDF needs a password"
NO_OCR = "Hearth does not do OCR"

# PDFium is not thread-safe: one call at a time in a process (a citation and an attached file, say).
_PDFIUM = threading.Lock()
log = logging.getLogger(__name__)
# In Hearth's own process (a citation reads its page here) nothing is printed to the terminal; in a
# reader process, the root handler that parse_worker.py sets up still logs both to the readers' log.
log.addHandler(logging.NullHandler())
logging.getLogger("pdfminer").addHandler(logging.NullHandler())


class PdfProblem(Exception):
    """The whole file cannot be read; the message is the user's reason."""


@dataclass
class PdfText:
    pages: dict[int, str]  # 1-based page number -> text (pages with text only)
    count: int
    warnings: list[str] = field(default_factory=list)
    image_pages: list[int] = field(default_factory=list)  # pages that hold an image and no text
    failed_pages: list[str] = field(default_factory=list)  # each failed page's reason


def read_pdf(path: Path, only_page: int | None = None, reader: str = "pdfium") -> PdfText:
    """The text of every page (or of ``only_page``). Raises PdfProblem when the file as a whole
    cannot be read; a page that cannot be read is a reason in ``failed_pages``."""
    if reader == "pdfminer":
        return _miner_document(path, only_page)
    with _PDFIUM:
        return _read_with_pdfium(path, only_page)


def _read_with_pdfium(path: Path, only_page: int | None) -> PdfText:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise PdfProblem(ENCRYPTED) from None
        try:  # PDFium's repair gave up; pdfminer.six reads some files it cannot
            result = _miner_document(path, only_page)
        except PdfProblem:
            raise PdfProblem(f"corrupt PDF: {_pdfium_reason(exc)}") from None
        if result.pages:
            result.warnings.append(f"read with pdfminer.six: PDFium could not open it ({_pdfium_reason(exc)})")
        return result
    try:
        return _pdfium_document(document, path, only_page)
    finally:
        document.close()


def _numbers(count: int, only_page: int | None) -> list[int]:
    if count > MAX_PDF_PAGES:
        raise PdfProblem(f"{count} pages is more than the {MAX_PDF_PAGES}-page limit")
    if only_page is None:
        return list(range(1, count + 1))
    return [only_page] if 0 < only_page <= count else []


def _pdfium_document(document: Any, path: Path, only_page: int | None) -> PdfText:
    count = len(document)
    result = PdfText({}, count)
    unmapped: list[int] = []
    errors: dict[int, str] = {}  # PDFium's reason for a page it could not read
    for number in _numbers(count, only_page):
        try:
            text, unmapped_share, images = _pdfium_page(document, number)
        except PdfProblem as exc:
            result.failed_pages.append(str(exc))
            continue
        except Exception as exc:  # one bad page must not lose the others
            log.warning("%s: page %d: PDFium: %s", path, number, exc)
            errors[number] = f"page {number} could not be read ({_plain(exc)})"[:200]
            unmapped.append(number)
            continue
        if unmapped_share >= 0.1:
            unmapped.append(number)  # text drawn in a font PDFium cannot map to Unicode
        if text.strip():
            result.pages[number] = text
        elif images and number not in unmapped:
            result.image_pages.append(number)
    if unmapped:
        _fill_from_pdfminer(path, unmapped, result, errors)
    return result


def _pdfium_page(document: Any, number: int) -> tuple[str, float, bool]:
    """(text with its FreeText annotations, the share of its text objects that PDFium could not
    map to any character, whether it has an image)."""
    page = document[number - 1]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
            texts, unmapped, images = _survey(page.raw, textpage.raw, number)
        finally:
            textpage.close()
        notes = _free_text(page)
    finally:
        page.close()
    if notes:
        text = "\n\n".join([text, *notes]) if text.strip() else "\n\n".join(notes)
    return text, unmapped / texts if texts else 0.0, images


def _survey(page: Any, textpage: Any, number: int) -> tuple[int, int, bool]:
    """(text objects, of which unmapped, whether there is an image) on a page and in its forms,
    through PDFium's C API directly: a page of 200,000 text objects costs a second, not ten."""
    import ctypes

    import pypdfium2.raw as raw

    texts = unmapped = 0
    images = False
    width, height = ctypes.c_uint(), ctypes.c_uint()
    pending: list[tuple[Any, bool, int]] = [(page, False, 0)]  # (page or form object, is a form, depth)
    while pending:
        container, form, depth = pending.pop()
        count = raw.FPDFFormObj_CountObjects(container) if form else raw.FPDFPage_CountObjects(container)
        for index in range(count):
            obj = raw.FPDFFormObj_GetObject(container, index) if form else raw.FPDFPage_GetObject(container, index)
            kind = raw.FPDFPageObj_GetType(obj)
            if kind == raw.FPDF_PAGEOBJ_TEXT:
                texts += 1
                # The size in bytes of the object's UTF-16 text with its terminator: 2 is none.
                if raw.FPDFTextObj_GetText(obj, textpage, None, 0) <= 2:
                    unmapped += _unmappable_font(obj)
            elif kind == raw.FPDF_PAGEOBJ_IMAGE:
                images = True
                # The size from the image's dictionary: nothing is decoded.
                known = raw.FPDFImageObj_GetImagePixelSize(obj, ctypes.byref(width), ctypes.byref(height))
                if known and width.value * height.value > MAX_IMAGE_PIXELS:
                    raise PdfProblem(
                        f"page {number} holds an image of {width.value:,} x {height.value:,} pixels"
                        " (a decompression bomb?)"
                    )
            elif kind == raw.FPDF_PAGEOBJ_FORM and depth < 4:
                pending.append((obj, True, depth + 1))
    return texts, unmapped, images


# Fonts a reader finds without the file: text objects in these that yield no text are spaces or
# invisible, not unmapped glyphs (bench/pdf_readers.py: pdfminer.six never read more from them).
_LATIN_FONTS = re.compile(
    r"(?i)courier|helvetica|times|arial|symbol|zapf|verdana|georgia|calibri|cambria|tahoma|trebuchet|garamond"
)


def _unmappable_font(obj: Any) -> bool:
    """Whether a text object that gave PDFium no characters is drawn in a font PDFium lacks: not
    embedded, and none of the Latin families it substitutes (the CJK fonts of old Japanese and
    Chinese PDFs, Ryumin-Light, STSong-Light..., whose CIDs pdfminer.six maps with Adobe's tables)."""
    import ctypes

    import pypdfium2.raw as raw

    font = raw.FPDFTextObj_GetFont(obj)
    if not font or raw.FPDFFont_GetIsEmbedded(font):
        return False
    name = ctypes.create_string_buffer(128)
    raw.FPDFFont_GetBaseFontName(font, name, len(name))
    return not _LATIN_FONTS.search(name.value.decode("latin-1"))


def _free_text(page: Any) -> list[str]:
    """The text typed into the page's FreeText annotations (comments shown on the page)."""
    import ctypes

    import pypdfium2.raw as raw

    notes = []
    for index in range(raw.FPDFPage_GetAnnotCount(page.raw)):
        annotation = raw.FPDFPage_GetAnnot(page.raw, index)
        if not annotation:
            continue
        try:
            if raw.FPDFAnnot_GetSubtype(annotation) != raw.FPDF_ANNOT_FREETEXT:
                continue
            size = raw.FPDFAnnot_GetStringValue(annotation, b"Contents", None, 0)
            if size <= 2:
                continue
            buffer = ctypes.create_string_buffer(size)
            target = ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort))
            raw.FPDFAnnot_GetStringValue(annotation, b"Contents", target, size)
            note = buffer.raw[: size - 2].decode("utf-16-le", errors="replace").strip()
            if note:
                notes.append(note)
        finally:
            raw.FPDFPage_CloseAnnot(annotation)
    return notes


_CID = re.compile(r"\(cid:\d+\)")
_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ufffd\ue000-\uf8ff\s]")


def _readable(text: str) -> int:
    """How many characters of ``text`` are real text: not space, controls, U+FFFD, private-use
    code points, or pdfminer's "(cid:12)" for a glyph it could not map."""
    return len(_UNREADABLE.sub("", _CID.sub("", text)))


def _fill_from_pdfminer(path: Path, numbers: list[int], result: PdfText, errors: dict[int, str]) -> None:
    """Pages PDFium could not read or map, read again with pdfminer.six; its text is kept where it
    has more readable characters than PDFium's. A page still empty keeps the reasons why."""
    try:
        miner = _miner_document(path, None, numbers)
    except PdfProblem as exc:
        miner = PdfText({}, result.count, failed_pages=[str(exc)])
    for number in numbers:
        theirs = miner.pages.get(number, "")
        if _readable(theirs) > _readable(result.pages.get(number, "")):
            result.pages[number] = theirs
    empty = [n for n in numbers if not result.pages.get(n, "").strip()]
    result.failed_pages.extend(errors[n] for n in empty if n in errors)
    if empty:
        result.failed_pages.extend(miner.failed_pages)
    images = (n for n in miner.image_pages if n in empty and n not in errors)
    result.image_pages = sorted({*result.image_pages, *images})


def _miner_document(path: Path, only_page: int | None, numbers: list[int] | None = None) -> PdfText:
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTFigure, LTImage, LTTextContainer
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser, PDFSyntaxError

    with path.open("rb") as handle:
        try:
            document = PDFDocument(PDFParser(handle))
            pages = list(PDFPage.create_pages(document))
        except (PDFPasswordIncorrect, PDFEncryptionError):
            raise PdfProblem(ENCRYPTED) from None
        except (PDFSyntaxError, RecursionError) as exc:
            raise PdfProblem(f"corrupt PDF: {exc}"[:300]) from None
        except Exception as exc:
            raise PdfProblem(f"corrupt PDF: {_plain(exc)}"[:300]) from None
        result = PdfText({}, len(pages))
        wanted = numbers if numbers is not None else _numbers(len(pages), only_page)
        manager = PDFResourceManager()
        device = PDFPageAggregator(manager, laparams=LAParams())
        interpreter = PDFPageInterpreter(manager, device)
        for number in wanted:
            if number > len(pages):  # PDFium counted a page that the page tree does not hold
                result.failed_pages.append(f"page {number} is missing from the page tree")
                continue
            page = pages[number - 1]
            try:
                _check_inflation(page, number)
                interpreter.process_page(page)
                layout = device.get_result()
            except PdfProblem as exc:
                result.failed_pages.append(str(exc))
                continue
            except MemoryError:
                result.failed_pages.append(f"page {number} is too large to read (a decompression bomb?)")
                continue
            except Exception as exc:
                result.failed_pages.append(f"page {number} could not be read ({_plain(exc)})"[:200])
                continue
            text = _join_vertical("".join(item.get_text() for item in layout if isinstance(item, LTTextContainer)))
            if text.strip():
                result.pages[number] = text
            elif any(isinstance(item, (LTImage, LTFigure)) for item in layout):
                result.image_pages.append(number)
    return result


_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af\uff00-\uffef\u3000-\u303f"
_VERTICAL_RUN = re.compile(f"(?m)^[{_CJK}]\n(?:[{_CJK}]\n)+")


def _join_vertical(text: str) -> str:
    """pdfminer.six lays vertical CJK text out one character a line: join such runs."""
    return _VERTICAL_RUN.sub(lambda run: run.group(0).replace("\n", "") + "\n", text)


def _check_inflation(page: Any, number: int) -> None:
    """Refuse a page whose Flate content streams inflate beyond MAX_PAGE_CONTENT_BYTES, counted as
    they inflate (never held): pdfminer.six would hold and then lex every byte."""
    from pdfminer.pdftypes import PDFStream, resolve1

    total = 0
    for stream in page.contents:
        stream = resolve1(stream)
        if not isinstance(stream, PDFStream):
            continue
        filters = stream.get_filters()
        name = getattr(filters[0][0], "name", filters[0][0]) if filters else ""
        data = stream.rawdata or b""
        if name not in ("FlateDecode", "Fl", b"FlateDecode", b"Fl"):
            total += len(data)
            continue
        inflater = zlib.decompressobj()
        try:
            while data and total <= MAX_PAGE_CONTENT_BYTES:
                total += len(inflater.decompress(data, 1 << 20))
                data = inflater.unconsumed_tail
        except zlib.error:
            pass  # encrypted or damaged: pdfminer.six decodes it, or says why it cannot
        if total > MAX_PAGE_CONTENT_BYTES:
            raise PdfProblem(f"page {number} would inflate beyond a safe size (a decompression bomb?)")


def _plain(exc: BaseException) -> str:
    """A reader's exception as words for the user: its message, not its class name."""
    return _pdfium_reason(exc) if str(exc) else "the PDF is damaged there"


def _pdfium_reason(exc: BaseException) -> str:
    match = re.search(r"PDFium: ([^)]*)", str(exc))
    return match.group(1) if match else str(exc)
