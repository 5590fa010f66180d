"""Include/exclude patterns: the matching rules, and the indexer keeping exactly the files they allow."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.errors import HearthError
from assistant.knowledge.patterns import FilePatterns, parse_patterns, pattern_problem


def test_names_match_at_any_depth_and_paths_from_the_collection_folder() -> None:
    patterns = FilePatterns(parse_patterns("*.md, *.txt"), parse_patterns("drafts/**\nold\n*.tmp.md"))
    kept = {"a.md", "x/y/a.MD", "x/drafts/a.md", "notes/b.txt"}
    left_out = {"a.pdf", "drafts/a.md", "x/old/a.md", "old", "b.tmp.md"}
    assert {p for p in kept | left_out if patterns.allows(p)} == kept
    assert patterns.prunes("drafts") and patterns.prunes("x/old")
    assert not patterns.prunes("x/drafts") and not patterns.prunes("notes")


def test_double_star_spans_folders_and_brackets_are_classes() -> None:
    patterns = FilePatterns((), parse_patterns("**/old/*.txt, [ab].txt, report-?.md"))
    assert not patterns.allows("old/a.txt") and not patterns.allows("x/y/old/z.txt")
    assert patterns.allows("x/old/a.md") and patterns.allows("c.txt")
    assert not patterns.allows("a.txt") and not patterns.allows("report-1.md") and patterns.allows("report-12.md")
    assert FilePatterns().allows("anything/at/all.pdf")
    assert FilePatterns((), ("*.md",)).allows("dir\\a.txt")  # Windows separators


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [("/etc/*.md", "absolute path"), ("C:/x", "absolute path"), ("../*.md", "outside"), ("[ab.md", "unclosed")],
)
def test_patterns_that_cannot_work_are_explained(pattern: str, problem: str) -> None:
    assert problem in pattern_problem(pattern)


def test_the_catalogue_keeps_patterns_and_refuses_bad_ones(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    library = make_library()
    library.add("docs", [folder])
    library.set_patterns("docs", ("*.md",), ("drafts/**",))
    assert library.collection("docs").patterns == FilePatterns(("*.md",), ("drafts/**",))
    with pytest.raises(HearthError, match="outside the collection"):
        library.set_patterns("docs", ("../*.md",), ())
    assert library.collection("docs").include == ("*.md",)  # nothing was changed


def test_the_indexer_honours_patterns_and_drops_what_they_leave_out(make_library, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    for name in ("a.md", "b.txt", "drafts/c.md", "deep/drafts/d.md", "deep/e.md"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"Text of {name}.")
    single = tmp_path / "single.txt"
    single.write_text("A file added by itself is kept whatever the patterns say.")
    library = make_library()
    library.add("docs", [folder, single])
    assert library.sync("docs").added == 6
    library.set_patterns("docs", ("*.md",), ("drafts/**",))
    report = library.sync("docs")
    assert report.removed == 2  # b.txt and drafts/c.md leave the index
    names = sorted(
        Path(p).relative_to(tmp_path).as_posix() for p in library.catalog.files(library.collection("docs").id)
    )
    assert names == ["docs/a.md", "docs/deep/drafts/d.md", "docs/deep/e.md", "single.txt"]
    library.set_patterns("docs", (), ())
    assert library.sync("docs").added == 2
