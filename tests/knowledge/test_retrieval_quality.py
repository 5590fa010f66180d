"""Retrieval with the real embedder on the shipped evaluation set (tests/data/eval)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.knowledge.embedder import SentenceTransformerEmbedder

EVAL = Path(__file__).resolve().parents[1] / "data" / "eval"
pytestmark = pytest.mark.slow


def recall_at(library, k: int) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    questions = json.loads((EVAL / "questions.json").read_text())
    misses = []
    for item in questions:
        passages = library.search(item["question"], ["eval"], k)
        hit = any(
            item["answer"] in p.text and Path(p.path).name == item["file"] and (item["page"] in (None, p.page))
            for p in passages
        )
        if not hit:
            misses.append(item["question"])
    return 1 - len(misses) / len(questions), misses


def test_recall_at_5_on_the_evaluation_set(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "eval"
    shutil.copytree(EVAL, corpus, ignore=shutil.ignore_patterns("questions.json"))
    library = make_library(SentenceTransformerEmbedder())
    library.add("eval", [corpus])
    report = library.sync("eval")
    assert report.failed == [] and report.added == 6
    recall, misses = recall_at(library, 5)
    assert recall >= 0.9, f"recall@5 = {recall:.2f}; missed: {misses}"
    # Citations carry the page for PDFs and the heading trail for structured text.
    found = library.search("How often should the kettle be descaled?", ["eval"], 3)
    assert ("kettle-manual.pdf", 2) in [(Path(p.path).name, p.page) for p in found]
    top = library.search("When can tomato plants go outdoors?", ["eval"], 1)[0]
    assert top.heading == "Allotment handbook > Tomatoes"
