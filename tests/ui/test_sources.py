"""A clicked citation shows its passage highlighted in its own page."""

from __future__ import annotations

from pathlib import Path

from assistant.ui.sources import passage_in_context
from tests.knowledge.conftest import write_pdf


def test_a_pdf_citation_is_shown_in_its_page(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "manual.pdf", ["Unpacking.", "Descale every 90 days.", "Warranty."])
    shown = passage_in_context({"path": str(path), "page": 2, "heading": "", "text": "every 90 days"})
    assert "Descale " in shown and "every 90 days</span>" in shown and "Warranty" not in shown
