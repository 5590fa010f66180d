"""Real documents made on the spot: PDFs (plain, encrypted, image-only), DOCX, and hostile files."""

from __future__ import annotations

import zipfile
from pathlib import Path


def write_pdf(path: Path, pages: list[str]) -> Path:
    """A minimal valid PDF with one line of Helvetica text per page ('' makes a page with no text)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>")
    font = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET" if text else "0 0 1 rg 72 72 100 100 re f"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font} 0 R >> >>"
            f" /Contents {4 + 2 * i} 0 R >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = "%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n" + "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    path.write_text(out, encoding="latin-1")
    return path


def _write_objects(path: Path, objects: list[bytes]) -> Path:
    """A PDF of the given objects (numbered from 1; the first is the catalogue)."""
    out = b"%PDF-1.5\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(out)
    return path


def write_image_pdf(path: Path, pages: int = 2) -> Path:
    """A scan: each page only an image (a 2x2 grey picture drawn over the page), no text."""
    image = (
        b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8"
        b" /Length 4 >>\nstream\n\x10\x80\x80\xf0\nendstream"
    )
    draw = b"q 612 0 0 792 0 0 cm /Im0 Do Q"
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages), image]
    for i in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 3 0 R >> >>"
            b" /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(draw), draw))
    return _write_objects(path, objects)


def write_encrypted_pdf(path: Path, text: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = write_pdf(path.with_suffix(".plain.pdf"), [text])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    with path.open("wb") as handle:
        writer.write(handle)
    plain.unlink()
    return path


def write_docx(path: Path, blocks: list[tuple[str, str]]) -> Path:
    """blocks: (style, text) with style 'h1', 'h2' or 'p'."""
    import docx

    document = docx.Document()
    for style, text in blocks:
        if style.startswith("h"):
            document.add_heading(text, level=int(style[1]))
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path


def write_zip_bomb_docx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (400 * 1024 * 1024))
    return path


def write_raw_pdf(path: Path, pages: list[list[bytes]]) -> Path:
    """A PDF whose pages' content streams are given raw and Flate-compressed (one list per page):
    for hostile content that write_pdf's one line of text cannot express."""
    import zlib

    numbers: list[tuple[int, list[int]]] = []
    next_number = 3
    for streams in pages:
        numbers.append((next_number, list(range(next_number + 1, next_number + 1 + len(streams)))))
        next_number += 1 + len(streams)
    font = next_number
    bodies: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % p for p, _ in numbers), len(pages)),
        font: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    for (page, stream_numbers), streams in zip(numbers, pages, strict=True):
        contents = b" ".join(b"%d 0 R" % n for n in stream_numbers)
        bodies[page] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >>"
            b" /Contents [%s] >>" % (font, contents)
        )
        for number, raw in zip(stream_numbers, streams, strict=True):
            packed = zlib.compress(raw, 9)
            bodies[number] = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed)
    out = b"%PDF-1.4\n"
    offsets = []
    for number in range(1, font + 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, bodies[number])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (font + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (font + 1, xref)
    path.write_bytes(out)
    return path


def write_slow_pdf(path: Path) -> Path:
    """Six pages of 200,000 one-letter text operations each (120 KB on disk): Hearth's PDF reader
    needs about 7 s of CPU here to walk them (pypdf needed 50), so a limit of 2 s stops it."""
    page = b"BT /F1 12 Tf 72 720 Td (a) Tj ET\n" * 200_000
    return write_raw_pdf(path, [[page]] * 6)


def write_stream_bomb_pdf(path: Path) -> Path:
    """A page whose 40 content streams inflate to 70 MB each (2.8 GB from 2.7 MB on disk)."""
    return write_raw_pdf(path, [[b" " * 70_000_000] * 40])


def write_memory_hog_json(path: Path) -> Path:
    """12 MB of JSON that becomes six million 'key[n]: 0' lines: far more than 256 MB in Python."""
    path.write_text("[" + ",".join(["0"] * 6_000_000) + "]")
    return path


def write_truncated_pdf(path: Path) -> Path:
    whole = write_pdf(path, ["The first half of a document that was cut off."]).read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    return path


def write_cyclic_pdf(path: Path) -> Path:
    """A page tree whose node lists itself among its kids, beside one real page."""
    stream = b"BT /F1 12 Tf 72 720 Td (The only real page.) Tj ET"
    return _write_objects(
        path,
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >>"
            b" /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ],
    )


def write_jbig2_bomb_pdf(path: Path) -> Path:
    """One page that is a single 100,000 x 100,000 JBIG2 image (1.16 GB once decoded) from 30 bytes."""
    draw = b"q 612 0 0 792 0 0 cm /Im0 Do Q"
    return _write_objects(
        path,
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 5 0 R >> >>"
            b" /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(draw), draw),
            b"<< /Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceGray"
            b" /BitsPerComponent 1 /Filter /JBIG2Decode /Length 30 >>\nstream\n" + b"\0" * 30 + b"\nendstream",
        ],
    )


def write_rotated_pdf(path: Path, text: str, degrees: int = 90) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = write_pdf(path.with_suffix(".plain.pdf"), [text])
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page).rotate(degrees)
    with path.open("wb") as handle:
        writer.write(handle)
    plain.unlink()
    return path


def write_annotated_pdf(path: Path, note: str, owner_password: str | None = None) -> Path:
    """A page with no text of its own and a FreeText annotation (a typed comment) saying ``note``;
    with ``owner_password``, encrypted so that it opens without a password (permissions only)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import FreeText

    blank = write_pdf(path.with_suffix(".blank.pdf"), [""])
    writer = PdfWriter()
    for page in PdfReader(blank).pages:
        writer.add_page(page)
    writer.add_annotation(0, FreeText(text=note, rect=(50, 550, 400, 650)))
    if owner_password:
        writer.encrypt(user_password="", owner_password=owner_password)
    with path.open("wb") as handle:
        writer.write(handle)
    blank.unlink()
    return path
