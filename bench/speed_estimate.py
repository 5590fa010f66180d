"""The speed estimate (engine/speed.py) against measured speeds, one row a model.

    .venv/bin/python bench/speed_estimate.py [--model PATH ...] [--threads N] [--tokens N] [--runs N]

For the bundled SmolLM2-135M, the tiny random-weight Qwen2 GGUFs the tests write, and any --model:
tokens/s writing (greedy, after a short prompt) and reading (a 512-token prompt, cold), measured
through llama-cpp-python on --threads threads (default: what Hearth uses), the best of --runs; next
to the estimate from the file's size, its parameter count and this machine's bandwidth (measured
afresh here, not the cached figure). Ratio = measured / estimated: 1.0 is exact; the target is
within 0.5–2 for the bundled model on a machine at rest (the estimate only has to tell a usable
model from a slow one). A loaded machine measures low: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config import apply_offline_environment
from assistant.engine.gguf import read_gguf
from assistant.engine.model_choice import bundled_model_path
from assistant.engine.speed import MachineSpeed, estimate_speed, llama_threads, measure_bandwidth

PROMPT = "The quick brown fox jumps over the lazy dog while the kettle boils and the cat watches. "


def measure(path: Path, threads: int, tokens: int, runs: int) -> tuple[float, float]:
    """(writing tokens/s, reading tokens/s), the best of ``runs``."""
    import llama_cpp

    llm = llama_cpp.Llama(str(path), n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False)
    prompt = llm.tokenize((PROMPT * 40).encode())[:512]
    write = read = 0.0
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    for _ in range(runs):
        llm.reset()
        start = time.perf_counter()
        llm.eval(prompt)
        read = max(read, len(prompt) / (time.perf_counter() - start))
        llm.reset()
        produced, first = 0, 0.0
        for token in llm.generate(prompt[:16], temp=0.0, repeat_penalty=1.0):
            produced += 1
            if produced == 1:
                first = time.perf_counter()  # the prompt is read by now
            if produced > tokens or (llama_cpp.llama_vocab_is_eog(vocab, token) and produced > 1):
                break
        if produced > 2:
            write = max(write, (produced - 1) / (time.perf_counter() - first))
    llm.close()
    return write, read


def models(extra: list[Path], folder: Path) -> list[tuple[str, Path]]:
    found = [("bundled SmolLM2-135M Q4_1", bundled_model_path())]
    try:
        from tests.engine.tiny_gguf import write_tiny_qwen2

        for separate in (True, False):
            path = folder / f"tiny-qwen2-{'head' if separate else 'tied'}.gguf"
            write_tiny_qwen2(path, found[0][1], separate_head=separate)
            found.append((f"tiny Qwen2 f32 ({'own head' if separate else 'tied head'})", path))
    except ImportError:
        pass
    return found + [(path.name, path) for path in extra]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, action="append", default=[])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    apply_offline_environment()
    threads = llama_threads(args.threads)
    bandwidth = measure_bandwidth()
    machine = MachineSpeed(bandwidth, threads)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {machine.describe()}")
    print(f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)\n")
    header = f"{'model':<34} {'size':>8} {'params':>8} | {'write est':>9} {'measured':>9} {'ratio':>5} |"
    print(header + f" {'read est':>9} {'measured':>9} {'ratio':>5}")
    print("-" * (len(header) + 27))
    with tempfile.TemporaryDirectory() as folder:
        for label, path in models(args.model, Path(folder)):
            info = read_gguf(path)
            estimate = estimate_speed(info.file_size, info.parameter_count, machine)
            write, read = measure(path, threads, args.tokens, args.runs)
            print(
                f"{label[:34]:<34} {info.file_size / 1e6:>6.1f}MB {info.parameter_count / 1e6:>7.1f}M | "
                f"{estimate.generation:>9.1f} {write:>9.1f} {write / estimate.generation:>5.2f} | "
                f"{estimate.prompt:>9.0f} {read:>9.0f} {read / estimate.prompt:>5.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
