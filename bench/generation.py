"""Generation speed through Hearth against bare llama-cpp-python, in one process.

    .venv/bin/python bench/generation.py [--model PATH] [--threads N] [--tokens N] [--runs N]

(a) decode tokens/s of Hearth's engine against a bare ``Llama.generate`` loop on the same model
    and threads, runs interleaved; (b) time to first token on turn 1 and turn 8 of a growing
    conversation driven through ChatSession; (c) prompt tokens evaluated per turn, as counted by
    the engine (KV-cache reuse), next to the same turn-8 prompt evaluated cold.
Targets on the bundled model: (a) ratio >= 0.95; (b) turn-8 TTFT <= 1.5x turn 1.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.chat.events import TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import ModelSettings, Settings, apply_offline_environment
from assistant.core.cancel import CancelToken
from assistant.core.messages import ChatMessage
from assistant.core.store import ConversationStore
from assistant.engine.base import SamplingOptions, complete
from assistant.engine.llama import LlamaEngine
from assistant.engine.model_choice import bundled_model_path

PROMPT = "Write a long, detailed story about a dragon who learns to bake bread in a small village."
QUESTIONS = [
    "Hello! I am planning a vegetable garden.",
    "What should I plant first in spring?",
    "How deep should tomato seeds go?",
    "How often should I water them?",
    "Which plants grow well next to tomatoes?",
    "How do I keep slugs away?",
    "When is the harvest?",
    "Can you summarise the plan in three points?",
]


def bare_decode_rate(llm: object, tokens: list[int], n: int) -> float:
    import llama_cpp

    llm.reset()  # type: ignore[attr-defined]
    vocab = llama_cpp.llama_model_get_vocab(llm.model)  # type: ignore[attr-defined]
    produced = 0
    first = last = 0.0
    for token in llm.generate(tokens, temp=0.0, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0):  # type: ignore[attr-defined]
        now = time.perf_counter()
        if produced == 0:
            first = now
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            break
        llm.detokenize([token])  # type: ignore[attr-defined]  # what any streaming client must do
        produced += 1
        last = now
        if produced >= n:
            break
    return (produced - 1) / (last - first)


def hearth_decode_rate(engine: LlamaEngine, n: int) -> tuple[float, int]:
    engine._call(lambda: engine._llm.reset())  # same cold start as the bare loop
    options = SamplingOptions(temperature=0.0, max_tokens=n, repeat_penalty=1.0)
    result = complete(engine, [ChatMessage("user", PROMPT)], options)
    assert result.stats.tokens_per_s is not None
    return result.stats.tokens_per_s, result.stats.completion_tokens


def main() -> int:
    apply_offline_environment()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=bundled_model_path())
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--runs", type=int, default=12)
    args = parser.parse_args()

    from llama_cpp import Llama

    settings = ModelSettings(n_ctx=4096, n_threads=args.threads)
    engine = LlamaEngine(args.model, settings)
    engine.wait_until_loaded()
    llm = Llama(str(args.model), n_ctx=4096, n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
    prompt_tokens = engine._call(lambda: engine._prompt_tokens([ChatMessage("user", PROMPT)]))

    print(f"# Generation benchmark — {engine.gguf.name} ({args.model.name})")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, threads={args.threads}, "
        f"python {platform.python_version()}"
    )
    print()

    # (a) pairs of runs in alternating order, so drift in machine load hits both sides alike;
    # the ratio is taken within each pair and the median pair ratio reported with its spread.
    bare_rates, hearth_rates, ratios, lengths = [], [], [], []
    bare_decode_rate(llm, prompt_tokens, 16)  # warm-up
    hearth_decode_rate(engine, 16)
    for run in range(args.runs):
        if run % 2:
            bare = bare_decode_rate(llm, prompt_tokens, args.tokens)
            hearth, length = hearth_decode_rate(engine, args.tokens)
        else:
            hearth, length = hearth_decode_rate(engine, args.tokens)
            bare = bare_decode_rate(llm, prompt_tokens, args.tokens)
        bare_rates.append(bare)
        hearth_rates.append(hearth)
        ratios.append(hearth / bare)
        lengths.append(length)
    quartiles = statistics.quantiles(ratios, n=4)
    print(f"## (a) decode speed: {args.runs} alternating pairs of {statistics.median(lengths):.0f}-token runs")
    print("| path | median tokens/s |")
    print("|---|---|")
    print(f"| bare Llama.generate loop | {statistics.median(bare_rates):.1f} |")
    print(f"| Hearth LlamaEngine.stream | {statistics.median(hearth_rates):.1f} |")
    print(
        f"| **median pair ratio Hearth / bare** | **{statistics.median(ratios):.3f}** "
        f"(quartiles {quartiles[0]:.2f}–{quartiles[2]:.2f}; target >= 0.95) |"
    )
    print()
    del llm

    # (b), (c): a growing conversation through the whole chat session
    with tempfile.TemporaryDirectory() as home:
        store = ConversationStore(Path(home) / "conversations.db")
        hearth_settings = Settings()
        hearth_settings.sampling.temperature = 0.0
        hearth_settings.sampling.max_tokens = 64
        session = ChatSession(store, engine, hearth_settings)
        conversation = store.create()
        rows = []
        for turn, question in enumerate(QUESTIONS, start=1):
            for event in session.send(conversation.id, question, CancelToken()):
                if isinstance(event, TurnFinished):
                    rows.append((turn, event.stats))
        last_messages = session.builder.build(
            session.system_prompt(store.get(conversation.id)),
            session._history(conversation.id)[:-1],
        ).messages
        engine._call(lambda: engine._llm.reset())
        cold = complete(engine, last_messages, SamplingOptions(temperature=0.0, max_tokens=1))
    print("## (b, c) growing conversation through ChatSession (replies capped at 64 tokens)")
    print("| turn | prompt tokens | evaluated | TTFT ms |")
    print("|---|---|---|---|")
    for turn, stats in rows:
        print(f"| {turn} | {stats.prompt_tokens} | {stats.prompt_tokens_evaluated} | {stats.ttft_s * 1000:.0f} |")
    ttft1, ttft8 = rows[0][1].ttft_s, rows[-1][1].ttft_s
    print(
        f"| turn 8 prompt, cold cache | {cold.stats.prompt_tokens} | {cold.stats.prompt_tokens_evaluated} "
        f"| {cold.stats.ttft_s * 1000:.0f} |"
    )
    print()
    print(
        f"**TTFT turn 8 / turn 1: {ttft8 / ttft1:.2f}** (target <= 1.5); "
        f"turn 8 warm / cold: {ttft8 / cold.stats.ttft_s:.2f}"
    )
    print()
    latencies = cancel_latencies(engine, runs=5)
    per_token = 1 / statistics.median(hearth_rates)
    print("## (d) Stop: from cancel() on the UI side to the stream's end (5 runs, 5 tokens in)")
    print(
        f"median {statistics.median(latencies) * 1000:.0f} ms, worst {max(latencies) * 1000:.0f} ms "
        f"(target < 100 ms); one token takes {per_token * 1000:.0f} ms here"
    )
    engine.close()
    return 0


def cancel_latencies(engine: LlamaEngine, runs: int) -> list[float]:
    """Seconds from cancel() to the stream's last item, cancelling after the fifth piece."""
    options = SamplingOptions(temperature=0.0, max_tokens=400, repeat_penalty=1.0)
    latencies = []
    for _ in range(runs):
        cancel = CancelToken()
        pieces = 0
        cancelled_at = 0.0
        for item in engine.stream([ChatMessage("user", "Count from 1 to 1000, separated by commas.")], options, cancel):
            if isinstance(item, str):
                pieces += 1
                if pieces == 5:
                    cancelled_at = time.perf_counter()
                    cancel.cancel()
        latencies.append(time.perf_counter() - cancelled_at)
    return latencies


if __name__ == "__main__":
    raise SystemExit(main())
