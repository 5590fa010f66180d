"""Which PDF reader: pypdf, pdfminer.six, pypdfium2 (PDFium), and Hearth's pdf_text.py, on real PDFs.

    .venv/bin/python bench/pdf_readers.py [--corpus DIR ...] [--timeout-s 30]

Default corpus: tests/data/pdf (small files from pdfminer.six's and pypdf's test suites, see its
README). Point --corpus at more, e.g. pdf.js's test/pdfs, pypdf's resources/ and pdfminer.six's
samples/ (nonfree/ included) from a checkout: files are matched to EXPECTED by name, and files of
the same name in a flattened copy (``samples/contrib/x.pdf`` as ``contrib_x.pdf``) match too.
Hearth's reader is timed as it runs in a reader process: with pdfminer.six's fallback.

Each reader reads each file in a child process (2 GB address space, --timeout-s), and the table
shows: the share of EXPECTED phrases found (all, and CJK/Arabic/Hebrew only; whitespace ignored,
both sides NFKC), files it could not read (error, time-out or crash) among files that some reader
read, the share of unreadable characters (controls, U+FFFD, private use, pdfminer's "(cid:N)"),
and the time for the files every reader read, as pages per second.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import re
import sys
import time
import unicodedata
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Phrases a reader must produce, checked by eye against the rendered pages.
EXPECTED: dict[str, list[str]] = {
    # pdfminer.six samples/ (MIT; nonfree/ is not committed)
    "simple1.pdf": ["Hello", "World"],
    "simple3.pdf": ["Hello", "あいうえお", "World"],
    "simple4.pdf": ["Text1", "Text2", "Text3"],
    "simple5.pdf": ["Link to heading that is working with vim-pandoc.", "Subheading"],
    "issue_566_test_1.pdf": ["ISSUE Date：2019-4-25 Buyer：黎荣"],
    "issue_566_test_2.pdf": ["甲方：中国饮料有限公司（盖章）"],
    "issue-625-identity-cmap.pdf": ["Termin płatności: 2021-05-03"],
    "issue-791-non-unicode-cmap.pdf": ["Peněžní prostředky na účtech"],
    "issue-886-xref-stream-widths.pdf": ["Hello"],
    "issue-449-vertical.pdf": ["Test", "Vertical", "Layout"],
    "issue-449-horizontal.pdf": ["Test", "Horizontal", "Layout"],
    "zen_of_python_corrupted.pdf": ["Beautiful is better than ugly.", "Explicit is better than implicit."],
    "jo.pdf": ["みんなのおのおののなかのすべてですから", "宇宙塵をたべ"],
    "kampo.pdf": ["官報", "第十三条第一項中第一号の五を第一号の六とし"],
    "nlp2004slides.pdf": ["コンパラブルな新聞記事からの", "固有表現の発見", "New York University"],
    "naacl06-shinyama.pdf": ["Preemptive Information Extraction using Unrestricted Relation Discovery"],
    "base.pdf": ["Secret!"],
    # pypdf resources/ (BSD-3-Clause)
    "multilang.pdf": ["Hello World", "مرحبا بالعالم", "Привет, мир", "你好世界", "สวัสดีชาวโลก", "こんにちは世界"],
    "issue-914-xmp-data.pdf": ["华联绿豆", "散称华联粉条"],
    "crazyones.pdf": ["The Crazy Ones", "Heres to the crazy ones."],
    "r6-empty-password.pdf": ["pdf encryption test password: asdfzxcv"],
    "GeoBase_NHNC1_Data_Model_UML_EN.pdf": ["National Hydro Network"],
    # pdf.js test/pdfs (not committed)
    "90ms_rksj_h_sample.pdf": ["日本語テスト"],
    "SimFang-variant.pdf": ["全世界无产者"],
    "XiaoBiaoSong.pdf": ["关于红军作战的原则"],
    "bug1627427_reduced.pdf": ["침하게 흐린 품이 눈이 올 듯하더니"],
    "issue11656.pdf": ["שלום עולם מה שלום כולם"],
    "issue12823.pdf": ["描述团队的共同目标"],
    "issue13147.pdf": ["準会場で受験の方"],
    "issue15340.pdf": ["漏電遮断機構"],
    "issue16063.pdf": ["電線接続端子部が次のいずれにも該当しないとき"],
    "issue16538.pdf": ["マーケットモデルは"],
    "issue2128r.pdf": ["浅谈校长的魅力"],
    "issue3521.pdf": ["我们都是黑体字"],
    "issue5010.pdf": ["인터뷰"],
    "issue5677.pdf": ["إشترى", "ماذا؟"],
    "issue6387.pdf": ["あのイーハトーヴォのすきとおった風"],
    "issue8570.pdf": ["隙間のない空間スキャンで人や物体を検知する"],
    "issue19360.pdf": ["坚持社会主义核心价值体系"],
    "issue10301.pdf": ["אבג", "abc"],
    "issue14046.pdf": ["כלבלב"],
    "javauninstall-7r.pdf": ["プログラムのアンインストール"],
    "vertical.pdf": ["日本語", "あいうえお"],
    "ArabicCIDTrueType.pdf": ["انواع الخطوط العربية"],
    "freetexts.pdf": ["Hello World from Acrobat"],
    "bomb_giant.pdf": ["GIANT JBIG2 BOMB"],
    "rotation.pdf": ["This is my second page. It will have a landscape layout."],
    "hello_world_rotated.pdf": ["Hello world"],
    "tracemonkey.pdf": ["Trace-based Just-in-Time Type Specialization for Dynamic Languages"],
    "issue14881.pdf": ["Academic Support Services"],
}
FLATTENED = {"contrib", "nonfree", "encryption", "acroform", "scancode"}
_SCRIPTS = re.compile(r"[\u0590-\u06ff\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _pypdf(path: str) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(path, strict=False)
    if reader.is_encrypted:
        reader.decrypt("")
    return [page.extract_text() or "" for page in reader.pages]


def _pdfminer(path: str) -> list[str]:
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    return ["".join(e.get_text() for e in page if isinstance(e, LTTextContainer)) for page in extract_pages(path)]


def _pdfium(path: str) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    return [document[i].get_textpage().get_text_range() for i in range(len(document))]


def _hearth(path: str) -> list[str]:
    from assistant.knowledge.pdf_text import read_pdf

    read = read_pdf(Path(path))
    return [read.pages.get(n, "") for n in range(1, read.count + 1)]


READERS: dict[str, Callable[[str], list[str]]] = {
    "pypdf": _pypdf,
    "pdfminer.six": _pdfminer,
    "pypdfium2": _pdfium,
    "Hearth (pdfium + pdfminer fallback)": _hearth,
}


def _limit() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")


def _extract(reader: str, path: str) -> tuple[str, Any, float]:
    started = time.perf_counter()
    try:
        pages = READERS[reader](path)
    except Exception as exc:
        return "error", f"{type(exc).__name__}: {exc}"[:100], time.perf_counter() - started
    return "ok", pages, time.perf_counter() - started


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


_CID = re.compile(r"\(cid:\d+\)")
_BAD = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\ufffd\ue000-\uf8ff]")


def _unreadable(text: str) -> tuple[int, int]:
    cids = _CID.findall(text)
    rest = _CID.sub("", text)
    squashed = re.sub(r"\s+", "", rest)
    return len(_BAD.findall(squashed)) + sum(len(c) for c in cids), len(squashed) + sum(len(c) for c in cids)


def _run_all(files: list[Path], timeout_s: float) -> dict[str, dict[Path, tuple[str, Any, float]]]:
    context = multiprocessing.get_context("spawn")
    results: dict[str, dict[Path, tuple[str, Any, float]]] = {}
    for reader in READERS:
        results[reader] = {}
        pool = context.Pool(1, initializer=_limit)
        for path in files:
            job = pool.apply_async(_extract, (reader, str(path)))
            try:
                results[reader][path] = job.get(timeout_s)
            except multiprocessing.TimeoutError:  # hung, or crashed (the pool replaces the worker)
                results[reader][path] = ("timeout or crash", None, timeout_s)
                pool.terminate()
                pool = context.Pool(1, initializer=_limit)
        pool.terminate()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, action="append")
    parser.add_argument("--timeout-s", type=float, default=30.0)
    args = parser.parse_args()
    folders = args.corpus or [ROOT / "tests" / "data" / "pdf"]
    files = sorted({p for folder in folders for p in folder.rglob("*") if p.suffix.lower() == ".pdf"})

    def expected(path: Path) -> list[str]:
        folder, _, rest = path.name.partition("_")  # pdfminer.six's samples/contrib/x.pdf flattened
        return EXPECTED.get(path.name) or (EXPECTED.get(rest, []) if folder in FLATTENED else [])

    results = _run_all(files, args.timeout_s)
    readable_by_any = [p for p in files if any(results[r][p][0] == "ok" for r in READERS)]
    by_all = [p for p in files if all(results[r][p][0] == "ok" for r in READERS)]
    pages_all = sum(len(results["pypdfium2"][p][1]) for p in by_all)
    graded = [p for p in files if expected(p)]
    print(
        f"# PDF readers: {len(files)} PDFs, {len(graded)} with expected phrases "
        f"({sum(len(expected(p)) for p in graded)} phrases); {len(by_all)} files ({pages_all} pages) read by all\n"
    )
    print("| reader | phrases found | CJK/RTL phrases | files not read | unreadable chars | time | pages/s |")
    print("|---|---|---|---|---|---|---|")
    for reader in READERS:
        found = total = script_found = script_total = 0
        for path in graded:
            status, pages, _ = results[reader][path]
            text = _squash("".join(pages)) if status == "ok" else ""
            for phrase in expected(path):
                hit = _squash(phrase) in text
                found += hit
                total += 1
                if _SCRIPTS.search(phrase):
                    script_found += hit
                    script_total += 1
        failed = [p for p in readable_by_any if results[reader][p][0] != "ok"]
        bad = chars = 0
        for path in files:
            status, pages, _ = results[reader][path]
            if status == "ok":
                b, c = _unreadable("".join(pages))
                bad, chars = bad + b, chars + c
        seconds = sum(results[reader][p][2] for p in by_all)
        print(
            f"| {reader} | {found}/{total} = **{found / max(total, 1):.0%}** | {script_found}/{script_total} | "
            f"{len(failed)} | {bad / max(chars, 1):.2%} | {seconds:.1f} s | {pages_all / max(seconds, 1e-9):.0f} |"
        )
    print("\nPhrases missed, by reader:")
    for reader in READERS:
        missed = []
        for path in graded:
            status, pages, _ = results[reader][path]
            text = _squash("".join(pages)) if status == "ok" else ""
            missed += [f"{path.name}: {phrase}" for phrase in expected(path) if _squash(phrase) not in text]
        print(f"- {reader} ({len(missed)}): " + "; ".join(missed[:12]) + (" ..." if len(missed) > 12 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
