"""A file attached to one conversation: read by the limited readers, cut into passages, ranked per question."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.knowledge.attached_file import MAX_PASSAGES, AttachmentError, pick, read_attachment
from assistant.knowledge.parse_pool import ParsePool
from tests.knowledge.conftest import write_image_pdf, write_pdf

MB = 1024 * 1024


@pytest.fixture(scope="module")
def pool() -> ParsePool:
    pool = ParsePool(size=1)
    yield pool  # type: ignore[misc]
    pool.close()


def test_a_pdf_is_read_into_passages_with_their_pages(pool: ParsePool, tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "kettle.pdf", ["Unpacking the kettle.", "Descale the kettle every 90 days."])
    passages, warnings = read_attachment(path, pool, 50 * MB)
    assert [(p.page, p.text) for p in passages] == [
        (1, "Unpacking the kettle."),
        (2, "Descale the kettle every 90 days."),
    ]
    assert warnings == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: (d / "folder").mkdir() or d / "folder", "is a folder"),
        (lambda d: (d / "photo.jpg").write_bytes(b"\xff\xd8") and d / "photo.jpg", "cannot read '.jpg' files"),
        (lambda d: (d / "empty.txt").write_text("") or d / "empty.txt", "is empty"),
        (lambda d: d / "missing.txt", "cannot be opened"),
        (lambda d: (d / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense") and d / "broken.pdf", "corrupt PDF"),
        (lambda d: write_image_pdf(d / "scan.pdf", 2), "scanned"),
        (lambda d: write_pdf(d / "blank.pdf", ["", ""]), "blank or only drawings"),
        (lambda d: (d / "data.txt").write_bytes(b"\x00\x01\x02" * 400) and d / "data.txt", "binary data"),
    ],
)
def test_what_cannot_be_attached_is_said_plainly(pool: ParsePool, tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AttachmentError, match=message) as raised:
        read_attachment(make(tmp_path), pool, 50 * MB)
    assert "Nothing was attached" in raised.value.hint or "Library" in raised.value.hint


def test_too_large_and_too_long_files_are_refused(pool: ParsePool, tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("word " * 300_000)
    with pytest.raises(AttachmentError, match="larger than the 1 MB limit"):
        read_attachment(big, pool, 1 * MB)
    long = tmp_path / "long.md"
    long.write_text(
        "\n\n".join(f"Paragraph {i} is a sentence of its own about item {i}." * 12 for i in range(MAX_PASSAGES * 2))
    )
    with pytest.raises(AttachmentError, match="too long to attach") as raised:
        read_attachment(long, pool, 50 * MB)
    assert "collection" in raised.value.hint


def test_passages_are_picked_by_the_questions_distinctive_words() -> None:
    texts = [f"Chapter {i}: general remarks about the household." for i in range(20)]
    texts[13] = "The warranty of the toaster lasts two years from purchase."
    texts[7] = "Crumb trays of the toaster are emptied weekly."
    picked = pick("How long is the warranty on my toaster?", texts, 3)
    assert [i for i, _ in picked][:2] == [13, 7]
    assert picked[0][1] > picked[1][1] > 0
    assert len(picked) == 3  # the rest filled with the opening passages
    assert [i for i, _ in pick("Summarise this, please", texts, 3)] == [0, 1, 2]
    assert [i for i, _ in pick("anything", texts[:2], 5)] == [0, 1]  # a short file is given whole
