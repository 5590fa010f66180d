"""Keyword search for unspaced scripts (the character-pair index, ngrams.py): what it costs.

    .venv/bin/python bench/keywords.py [--passages 20000] [--queries 200]

Writes --passages passages of English, then of Chinese, into a catalogue with the pair index and
into one without it (its triggers dropped), and prints the time per passage written in each, and
the latency of keyword queries (one English word; one two-character Chinese word) with it.
The text is generated from Zipf-distributed vocabularies (5,000 words of each language).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.knowledge.chunking import Chunk
from assistant.knowledge.library_index import LibraryIndex

# Zipf-distributed vocabularies of 5,000 words: a few are everywhere, most are rare.
ENGLISH = [f"{stem}{n}" for n, stem in enumerate(["term", "word", "name", "part"] * 1250)]
FILLER = "the a of to and in is it that for on with as was at by this be from or have not are".split()
_HAN = [chr(0x4E00 + 37 * i) for i in range(500)]  # 500 ideographs spread over the common block
CHINESE = list(dict.fromkeys(a + b for a in _HAN[:80] for b in _HAN[80:]))[:5000]
PARTICLES = list("的了是在和有也就都而及与着或")
_ZIPF = [1 / (rank + 1) for rank in range(5000)]


def english(rng: random.Random) -> str:
    words = rng.choices(ENGLISH, _ZIPF, k=60)
    return " ".join(words[i // 2] if i % 2 else rng.choice(FILLER) for i in range(120)) + "."


def chinese(rng: random.Random) -> str:
    return "".join(word + rng.choice(PARTICLES) for word in rng.choices(CHINESE, _ZIPF, k=120)) + "。"


def write(catalog: LibraryIndex, texts: list[str]) -> float:
    collection = catalog.create_collection(f"c{time.monotonic_ns()}", "bench", 8)
    file_id = catalog.begin_file(collection.id, f"/bench/{collection.id}.txt")
    started = time.perf_counter()
    for start in range(0, len(texts), 1000):
        part = texts[start : start + 1000]
        ids = [f"{collection.id}-{start + i}" for i in range(len(part))]
        catalog.add_chunks(collection.id, file_id, ids, [Chunk(t, None, "", 0, len(t), i) for i, t in enumerate(part)])
    return (time.perf_counter() - started) / len(texts) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(5)
    corpora = {
        "English": [english(rng) for _ in range(args.passages)],
        "Chinese": [chinese(rng) for _ in range(args.passages)],
    }
    with tempfile.TemporaryDirectory(prefix="hearth-bench-keywords-") as tmp:
        with_pairs = LibraryIndex(Path(tmp) / "pairs.db")
        without = LibraryIndex(Path(tmp) / "plain.db")
        with without.transaction() as db:
            db.execute("DROP TRIGGER chunks_ngrams_ai")
            db.execute("DROP TRIGGER chunks_ngrams_ad")
        print(f"# Keyword index for unspaced scripts: {args.passages:,} passages of each kind\n")
        print("| passages | µs per passage written, with pair index | without | ratio |")
        print("|---|---|---|---|")
        ids: dict[str, int] = {}
        for name, texts in corpora.items():
            plain = write(without, texts)
            paired = write(with_pairs, texts)
            ids[name] = with_pairs.collections()[-1].id
            print(f"| {name} | {paired:.0f} | {plain:.0f} | {paired / plain:.2f} |")
        everyone = [c.id for c in with_pairs.collections()]
        print("\n| query | p50 ms | p95 ms | hits (of 20) |")
        print("|---|---|---|---|")
        queries = {
            "English word": rng.choices(ENGLISH, _ZIPF, k=args.queries),
            "Chinese word": rng.choices(CHINESE, _ZIPF, k=args.queries),
        }
        for name, words in queries.items():
            times, hits = [], []
            for word in words:
                started = time.perf_counter()
                hits.append(len(with_pairs.keyword_search(everyone, word, 20)))
                times.append((time.perf_counter() - started) * 1000)
            p95 = statistics.quantiles(times, n=20)[18]
            print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {statistics.median(hits):.0f} |")
        for catalog in (with_pairs, without):
            catalog.rows("PRAGMA wal_checkpoint(TRUNCATE)")
        size = {p.name: p.stat().st_size / 1e6 for p in Path(tmp).glob("*.db")}
        print(f"\nCatalogue: {size['pairs.db']:.1f} MB with the pair index, {size['plain.db']:.1f} MB without")
        with_pairs.close()
        without.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
