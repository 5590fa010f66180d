"""Document library benchmark, in one process with the real embedder and real Chroma on disk.

    .venv/bin/python bench/rag.py [--pages 2000] [--chunks 100000] [--queries 100] [--parts a,c,d,e,f,g]

(a) index a generated corpus of --pages pages (PDFs of 10 pages, Markdown and text files):
    pages/s and chunks/s; (b) re-sync with nothing changed, as a share of the full index time
    (target < 5 %); (c) hybrid query latency p50/p95 over --chunks synthetic chunks (random unit
    vectors and generated text; the query's embedding is timed apart; target p95 < 50 ms);
(d) recall@1/3/5 on the evaluation set shipped in tests/data/eval (target recall@5 >= 0.9);
(e) chunks/s of the whole indexing pipeline (reader processes, chunking, embedding, SQLite, Chroma)
    over chunks/s of the embedder alone on the same passages, measured in (a) (target >= 0.8);
(f) the embedder's chunks/s per runner on those passages: sentence-transformers (torch), ONNX fp32
    (the bundle's, exported here), ONNX int8 (dynamic quantisation), with the cosine of each
    runner's vectors to torch's; (g) a 350-page book (a PDF of real English prose: the docstrings
    of Python's standard library) indexed in a fresh process: time, the same ratio, and peak
    resident memory of Hearth's process and of the largest reader process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config import KnowledgeSettings, apply_offline_environment
from assistant.knowledge.chunking import Chunk
from assistant.knowledge.embedder import SentenceTransformerEmbedder
from assistant.knowledge.indexer import EMBED_BATCH
from assistant.knowledge.library import Library
from assistant.knowledge.retriever import HybridRetriever
from tests.knowledge.conftest import write_pdf, write_raw_pdf

WORDS = [
    "garden",
    "kettle",
    "boiler",
    "invoice",
    "contract",
    "tenant",
    "budget",
    "recipe",
    "engine",
    "battery",
    "warranty",
    "schedule",
    "meeting",
    "harvest",
    "compost",
    "ladder",
    "window",
    "insurance",
    "pension",
    "mortgage",
    "holiday",
    "train",
    "ticket",
    "doctor",
    "appointment",
    "library",
    "chess",
    "club",
    "membership",
    "council",
    "tax",
    "water",
    "meter",
    "roof",
    "gutter",
    "paint",
]


FILLER = "the a of to and in is it that for on with as was at by this be from or have not are".split()
# A document collection's words follow Zipf's law: a few are everywhere, most are rare.
_VOCABULARY = WORDS + [f"{syllables}{n}" for n, syllables in enumerate(["term", "word", "name", "part"] * 1250)]
_ZIPF = [1 / (rank + 1) for rank in range(len(_VOCABULARY))]


def content_words(rng: random.Random, k: int) -> list[str]:
    return rng.choices(_VOCABULARY, weights=_ZIPF, k=k)


def prose(rng: random.Random, chars: int) -> str:
    sentences = []
    while sum(len(s) for s in sentences) < chars:
        words = content_words(rng, rng.randint(5, 9)) + rng.choices(FILLER, k=rng.randint(4, 8))
        rng.shuffle(words)
        sentences.append(f"{' '.join(words).capitalize()} {rng.randint(1, 9999)}.")
    return " ".join(sentences)


def make_corpus(folder: Path, pages: int, rng: random.Random) -> int:
    made = 0
    while made < pages:
        kind = made % 3
        if kind == 0:
            write_pdf(folder / f"report{made:05d}.pdf", [prose(rng, 700) for _ in range(10)])
            made += 10
        elif kind == 1:
            sections = "\n\n".join(f"## Part {n}\n\n{prose(rng, 900)}" for n in range(2))
            (folder / f"notes{made:05d}.md").write_text(f"# Notes {made}\n\n{sections}\n")
            made += 2  # about two pages of text
        else:
            (folder / f"log{made:05d}.txt").write_text(prose(rng, 1800))
            made += 1
    return made


def passages(library_db: Path) -> list[str]:
    with sqlite3.connect(library_db) as db:
        return [row[0] for row in db.execute("SELECT text FROM chunks ORDER BY rowid")]


def embed_alone(embedder: Any, texts: list[str]) -> float:
    """chunks/s of ``embed`` alone, in the indexer's batches."""
    started = time.perf_counter()
    for start in range(0, len(texts), EMBED_BATCH):
        embedder.embed(texts[start : start + EMBED_BATCH])
    return len(texts) / (time.perf_counter() - started)


def index_bench(home: Path, pages: int, embedder: SentenceTransformerEmbedder) -> list[str]:
    corpus = home / "corpus"
    corpus.mkdir()
    made = make_corpus(corpus, pages, random.Random(7))
    library = Library(home / "lib", KnowledgeSettings(), embedder)
    library.add("bench", [corpus])
    full = library.sync("bench")
    again = library.sync("bench")
    files = len(list(corpus.iterdir()))
    print(f"## (a, b) indexing {made} pages in {files} files (PDF, Markdown, text)")
    print("| measure | result | target |")
    print("|---|---|---|")
    print(
        f"| full index | {full.seconds:.1f} s · {made / full.seconds:.1f} pages/s · "
        f"{full.chunks / full.seconds:.1f} chunks/s ({full.chunks} chunks) | |"
    )
    print(
        f"| re-sync, nothing changed | {again.seconds * 1000:.0f} ms = "
        f"**{100 * again.seconds / full.seconds:.2f} %** of the full index | < 5 % |"
    )
    texts = passages(home / "lib" / "library.db")
    alone = embed_alone(embedder, texts)
    pipeline = full.chunks / full.seconds
    print(
        f"| (e) pipeline / embedder alone, same {len(texts)} passages | {pipeline:.1f} / {alone:.1f} chunks/s = "
        f"**{pipeline / alone:.2f}** | >= 0.8 |"
    )
    print()
    library.close()
    return texts


def query_bench(home: Path, chunks: int, queries: int, embedder: SentenceTransformerEmbedder) -> None:
    rng = random.Random(11)
    library = Library(home / "synthetic", KnowledgeSettings(), embedder)
    collection = library.catalog.create_collection("synthetic", embedder.name, embedder.dimension)
    folder_file = library.catalog.begin_file(collection.id, "/synthetic/corpus.txt")
    started = time.perf_counter()
    batch = 5000
    for start in range(0, chunks, batch):
        count = min(batch, chunks - start)
        texts = [prose(rng, 300) for _ in range(count)]
        ids = [f"s-{start + i}" for i in range(count)]
        rows = [Chunk(t, None, "", 0, len(t), start + i) for i, t in enumerate(texts)]
        library.catalog.add_chunks(collection.id, folder_file, ids, rows)
        vectors = []
        for _ in range(count):
            v = [rng.gauss(0, 1) for _ in range(embedder.dimension)]
            norm = sum(x * x for x in v) ** 0.5
            vectors.append([x / norm for x in v])
        metadatas = [{"path": "/synthetic/corpus.txt", "page": 0, "heading": "", "start": 0, "end": 0}] * count
        library.vectors.upsert(
            collection.vector_name, embedder.name, embedder.dimension, ids, vectors, texts, metadatas
        )
    library.catalog.finish_file(folder_file, "indexed", chunks=chunks)
    load_s = time.perf_counter() - started
    retriever = HybridRetriever(library.catalog, library.vectors, embedder, top_k=5, min_similarity=0.0)
    questions = ["how often should " + " ".join(content_words(rng, 4)) + " be done" for _ in range(queries)]
    embed_times, search_times = [], []
    vectors_for = {}
    for q in questions:
        t = time.perf_counter()
        vectors_for[q] = embedder.embed([q])[0]
        embed_times.append((time.perf_counter() - t) * 1000)

    class Precomputed:
        name, dimension = embedder.name, embedder.dimension

        def embed(self, texts: list[str]) -> list[list[float]]:
            return [vectors_for[text] for text in texts]

    retriever.embedder = Precomputed()  # type: ignore[assignment]
    info = library.collection("synthetic")
    retriever.search(questions[0], [info])  # warm-up
    for q in questions:
        t = time.perf_counter()
        retriever.search(q, [info])
        search_times.append((time.perf_counter() - t) * 1000)
    quantiles = statistics.quantiles(search_times, n=20)
    print(
        f"## (c) hybrid query latency over {chunks:,} synthetic chunks ({queries} queries; loading took {load_s:.0f} s)"
    )
    print("Synthetic text: a 5,000-word Zipf vocabulary mixed with common English words; questions in English.")
    print("| measure | p50 ms | p95 ms | target |")
    print("|---|---|---|---|")
    print(
        f"| vector + BM25 + RRF + catalogue lookup | {statistics.median(search_times):.1f} | "
        f"**{quantiles[18]:.1f}** | p95 < 50 ms |"
    )
    print(
        f"| embedding the question (MiniLM, CPU) | {statistics.median(embed_times):.1f} | "
        f"{statistics.quantiles(embed_times, n=20)[18]:.1f} | |"
    )
    print()
    library.close()


def recall_bench(home: Path, embedder: SentenceTransformerEmbedder) -> None:
    from tests.knowledge.test_retrieval_quality import EVAL, recall_at

    corpus = home / "eval"
    shutil.copytree(EVAL, corpus, ignore=shutil.ignore_patterns("questions.json"))
    library = Library(home / "eval-lib", KnowledgeSettings(), embedder)
    library.add("eval", [corpus])
    library.sync("eval")
    count = len(json.loads((EVAL / "questions.json").read_text()))
    print(f"## (d) retrieval quality on tests/data/eval ({count} questions, answer passage known)")
    print("| k | recall@k |")
    print("|---|---|")
    for k in (1, 3, 5):
        recall, misses = recall_at(library, k)
        print(f"| {k} | {recall:.2f} |" + (f" missed: {'; '.join(misses)}" if misses else ""))
    library.close()


def runners_bench(home: Path, texts: list[str], torch_embedder: SentenceTransformerEmbedder) -> None:
    import numpy as np
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.knowledge.bundled_embedder import bundled_embedder_path
    from assistant.knowledge.onnx_embedder import OnnxEmbedder, export_onnx

    source = bundled_embedder_path()
    assert source is not None
    fp32 = export_onnx(source, home / "onnx-fp32")
    int8 = home / "onnx-int8"
    int8.mkdir()
    quantize_dynamic(str(fp32 / "model.onnx"), str(int8 / "model.onnx"), weight_type=QuantType.QInt8)
    shutil.copy(fp32 / "tokenizer.json", int8 / "tokenizer.json")
    sample = texts[:512]
    reference = np.array(torch_embedder.embed(sample))
    print(f"## (f) the embedder's runners, on {len(sample)} of the passages of (a), batches of {EMBED_BATCH}")
    print("| runner | chunks/s | vs torch | mean cosine to torch's vectors | min cosine |")
    print("|---|---|---|---|---|")
    runners: list[tuple[str, Any]] = [
        ("sentence-transformers (torch)", torch_embedder),
        ("ONNX Runtime fp32 (the bundle's)", OnnxEmbedder(fp32)),
        ("ONNX Runtime int8 (dynamic quantisation)", OnnxEmbedder(int8)),
    ]
    base = 0.0
    for name, runner in runners:
        runner.embed(["warm up"])
        rate = embed_alone(runner, sample)
        base = base or rate
        cosines = (np.array(runner.embed(sample)) * reference).sum(axis=1)
        print(f"| {name} | {rate:.1f} | {rate / base:.2f} | {cosines.mean():.4f} | {cosines.min():.4f} |")
    print(
        "| fastembed | not measured | | | it fetches its ONNX models from a hub at first use; this machine is offline |"
    )
    print()


def book_text(pages: int, lines_per_page: int = 46, width: int = 90) -> list[list[str]]:
    """Real English prose for a book: the docstrings of the standard library, wrapped in lines."""
    import importlib
    import inspect
    import textwrap

    paragraphs: list[str] = []
    seen: set[str] = set()
    skip = {"antigravity", "this", "idlelib", "turtledemo", "tkinter", "turtle", "pydoc_data"}
    for name in sorted(sys.stdlib_module_names - skip):
        if name.startswith("_"):
            continue
        try:
            module = importlib.import_module(name)
        except BaseException:
            continue
        for item in [module, *vars(module).values()]:
            doc = inspect.getdoc(item) if callable(item) or inspect.ismodule(item) else None
            if doc and len(doc) > 200 and doc not in seen:
                seen.add(doc)
                paragraphs += [" ".join(p.split()) for p in doc.split("\n\n") if len(p) > 80]
        lines = [line for p in paragraphs for line in [*textwrap.wrap(p, width), ""]]
        if len(lines) >= pages * lines_per_page:
            break
    while len(lines) < pages * lines_per_page:
        lines += lines
    return [lines[i : i + lines_per_page] for i in range(0, pages * lines_per_page, lines_per_page)]


def write_book(path: Path, pages: int) -> Path:
    def stream(lines: list[str]) -> bytes:
        escaped = [
            line.encode("latin-1", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
            for line in lines
        ]
        return b"BT /F1 10 Tf 12 TL 50 760 Td " + b" ".join(b"(%s) ' " % line for line in escaped) + b"ET"

    return write_raw_pdf(path, [[stream(lines)] for lines in book_text(pages)])


def book_bench(home: Path, pages: int) -> None:
    """(g), run in a fresh process (``--book``) so peak memory is the book's alone."""
    book = home / "book"
    book.mkdir(parents=True)
    write_book(book / "stdlib-docstrings.pdf", pages)  # here: the docstrings' imports stay out of (g)
    command = [sys.executable, __file__, "--book", str(pages), "--home", str(home)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    print(result.stdout.strip() or result.stderr[-2000:])
    print()


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would include the bench parent's,
    inherited across fork and exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def index_book(home: Path, pages: int) -> None:
    book = home / "book"
    size_mb = (book / "stdlib-docstrings.pdf").stat().st_size / 1e6
    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up"])
    before = _peak_mb()
    library = Library(home / "book-lib", KnowledgeSettings(), embedder)
    library.add("book", [book])
    report = library.sync("book")
    library.close()
    own = _peak_mb()
    # ru_maxrss survives fork+exec on Linux: a reader forked from a large parent reports the
    # parent's size, so this figure is an upper bound.
    readers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    texts = passages(home / "book-lib" / "library.db")
    alone = embed_alone(embedder, texts)
    pipeline = report.chunks / report.seconds
    print(f"## (g) a {pages}-page book ({size_mb:.1f} MB PDF of standard-library docstrings), fresh process")
    print("| measure | result |")
    print("|---|---|")
    print(f"| index | {report.seconds:.1f} s, {report.chunks} passages, {report.pages} pages |")
    print(f"| pipeline / embedder alone | {pipeline:.1f} / {alone:.1f} chunks/s = **{pipeline / alone:.2f}** |")
    print(f"| peak RSS, Hearth's process | {own:.0f} MB ({before:.0f} MB with the embedder loaded, before indexing) |")
    print(f"| peak RSS, largest reader process | {readers:.0f} MB |")


def main() -> int:
    apply_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--book-pages", type=int, default=350)
    parser.add_argument("--parts", default="a,c,d,f,g", help="which of a (with b, e), c, d, f, g to run")
    parser.add_argument("--book", type=int, help=argparse.SUPPRESS)  # (g)'s fresh process
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.book:
        index_book(args.home, args.book)
        return 0
    parts = set(args.parts.split(","))
    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up"])
    print(f"# Library benchmark — {platform.machine()}, {os.cpu_count()} cores, embedder {embedder.name}\n")
    with tempfile.TemporaryDirectory(prefix="hearth-bench-rag-") as tmp:
        home = Path(tmp)
        texts = index_bench(home, args.pages, embedder) if parts & {"a", "f"} else []
        if "f" in parts:
            runners_bench(home, texts, embedder)
        if "c" in parts:
            query_bench(home, args.chunks, args.queries, embedder)
        if "d" in parts:
            recall_bench(home, embedder)
        if "g" in parts:
            book_bench(home / "g", args.book_pages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
