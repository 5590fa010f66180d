"""Document library benchmark, in one process with the real embedder and real Chroma on disk.

    .venv/bin/python bench/rag.py [--pages 2000] [--chunks 100000] [--queries 100]

(a) index a generated corpus of --pages pages (PDFs of 10 pages, Markdown and text files):
    pages/s and chunks/s; (b) re-sync with nothing changed, as a share of the full index time
    (target < 5 %); (c) hybrid query latency p50/p95 over --chunks synthetic chunks (random unit
    vectors and generated text; the query's embedding is timed apart; target p95 < 50 ms);
(d) recall@1/3/5 on the evaluation set shipped in tests/data/eval (target recall@5 >= 0.9).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config import KnowledgeSettings, apply_offline_environment
from assistant.knowledge.chunking import Chunk
from assistant.knowledge.embedder import SentenceTransformerEmbedder
from assistant.knowledge.library import Library
from assistant.knowledge.retriever import HybridRetriever
from tests.knowledge.conftest import write_pdf

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


def index_bench(home: Path, pages: int, embedder: SentenceTransformerEmbedder) -> None:
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
    print()
    library.close()


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


def main() -> int:
    apply_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up"])
    print(f"# Library benchmark — {platform.machine()}, {os.cpu_count()} cores, embedder {embedder.name}\n")
    with tempfile.TemporaryDirectory(prefix="hearth-bench-rag-") as tmp:
        home = Path(tmp)
        index_bench(home, args.pages, embedder)
        query_bench(home, args.chunks, args.queries, embedder)
        recall_bench(home, embedder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
