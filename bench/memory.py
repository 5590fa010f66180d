"""What long-term memory costs a conversation, in one process, on the bundled model and real embedder.

    .venv/bin/python bench/memory.py [--turns N] [--memories N]

(a) The same 8-turn conversation with memory off and on (alternating runs): time to first token of
    each turn, prompt tokens evaluated (the extraction request is appended to the conversation, so
    the KV cache should still hold it), and the time spent learning after each reply.
(b) Recall latency with N memories in the profile (question embedding + Chroma query + SQLite).
(c) The memories section never exceeds its budget.
Targets: turn-N TTFT with memory <= 1.5x without; recall p95 < 100 ms at 1,000 memories.
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

from assistant.chat.events import MemoriesSaved, ReplyToken, TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import MemorySettings, ModelSettings, Settings, apply_offline_environment
from assistant.core.store import ConversationStore
from assistant.engine.llama import LlamaEngine
from assistant.engine.model_choice import bundled_model_path
from assistant.knowledge.embedder import SentenceTransformerEmbedder
from assistant.memory.long_term import LongTermMemory

TURNS = [
    "Hi! My name is Sam and I live in Lyon.",
    "I am planning a vegetable garden this spring.",
    "My daughter Mira wants to grow strawberries.",
    "What should we plant first?",
    "I prefer organic fertiliser.",
    "How deep should tomato seeds go?",
    "We decided to put the beds by the south wall.",
    "Can you summarise our plan?",
]


def run_conversation(engine: LlamaEngine, memory: LongTermMemory | None, turns: list[str]) -> list[dict[str, float]]:
    settings = Settings()
    settings.sampling.max_tokens = 48
    settings.sampling.temperature = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        store = ConversationStore(Path(tmp) / "c.db")
        session = ChatSession(store, engine, settings, memory=memory)
        conversation = session.create_conversation()
        rows = []
        for text in turns:
            started = time.perf_counter()
            ttft = learn_s = 0.0
            evaluated = prompt = 0
            finished_at = 0.0
            for event in session.send(conversation.id, text):
                if isinstance(event, ReplyToken) and not ttft:
                    ttft = time.perf_counter() - started
                elif isinstance(event, TurnFinished):
                    finished_at = time.perf_counter()
                    evaluated = event.stats.prompt_tokens_evaluated or 0
                    prompt = event.stats.prompt_tokens
                elif isinstance(event, MemoriesSaved):
                    learn_s = time.perf_counter() - finished_at
            rows.append({"ttft": ttft, "evaluated": evaluated, "prompt": prompt, "learn": learn_s})
        store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memories", type=int, default=1000)
    args = parser.parse_args()
    apply_offline_environment()
    model = bundled_model_path()
    assert model is not None
    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up"])  # torch's import and the model load are not what is measured
    engine = LlamaEngine(model, ModelSettings(n_ctx=4096))
    with tempfile.TemporaryDirectory() as home:
        off: list[list[dict[str, float]]] = []
        on: list[list[dict[str, float]]] = []
        for run in range(args.runs):
            off.append(run_conversation(engine, None, TURNS))
            memory = LongTermMemory(Path(home) / f"run{run}", MemorySettings(), lambda: embedder)
            on.append(run_conversation(engine, memory, TURNS))
            memory.close()

        print("(a) the same conversation, memory off / on (median of runs)")
        print(
            f"{'turn':>4} {'TTFT off ms':>12} {'TTFT on ms':>11} {'ratio':>6} "
            f"{'eval off':>9} {'eval on':>8} {'learn s':>8}"
        )
        for turn in range(len(TURNS)):

            def med(runs: list[list[dict[str, float]]], key: str, t: int = turn) -> float:
                return statistics.median(r[t][key] for r in runs)

            ratio = med(on, "ttft") / med(off, "ttft")
            print(
                f"{turn + 1:>4} {1000 * med(off, 'ttft'):>12.0f} {1000 * med(on, 'ttft'):>11.0f} {ratio:>6.2f} "
                f"{med(off, 'evaluated'):>9.0f} {med(on, 'evaluated'):>8.0f} {med(on, 'learn'):>8.2f}"
            )

        memory = LongTermMemory(Path(home) / "recall", MemorySettings(max_tokens=300), lambda: embedder)
        profile = memory.profiles.active().id
        words = "garden tomato tea coffee daughter son cat dog Lyon Paris work nurse bike car piano".split()
        rng = random.Random(1)
        started = time.perf_counter()
        for n in range(args.memories):
            picked = rng.sample(words, 3)
            memory.store.add(
                profile, f"The user likes {picked[0]}, owns a {picked[1]} and talks about {picked[2]} ({n})."
            )
        fill_s = time.perf_counter() - started
        timings, section_tokens = [], []
        for question in [f"What do I know about {w}?" for w in words] * 4:
            started = time.perf_counter()
            recalled = memory.recall(profile, question, engine.count_tokens)
            timings.append(1000 * (time.perf_counter() - started))
            section_tokens.append(engine.count_tokens(recalled.section()))
        timings.sort()
        p50, p95 = timings[len(timings) // 2], timings[int(len(timings) * 0.95)]
        print(
            f"\n(b) recall over {args.memories} memories ({fill_s:.1f} s to add them): "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"
        )
        print(f"(c) memories section: at most {max(section_tokens)} tokens (budget {memory.settings.max_tokens})")
        memory.close()
    engine.close()


if __name__ == "__main__":
    main()
