"""How fast will a model write on this machine? Tokens per second, before anything is downloaded.

On a CPU, llama.cpp writes one token by reading every weight once and doing two floating-point
operations per parameter. So a token takes the longer of two times: the model's bytes over the
memory bandwidth, and its operations over what the cores compute, plus a small fixed cost per
token (sampling, the threads meeting). Reading a prompt is done in batches, which reuse each
weight for many tokens: it is bound by the cores alone, at a higher rate per core.

The memory bandwidth is measured once a month (a numpy copy between two 128 MB buffers, a fraction
of a second on a machine at rest) and kept in the data folder; the rates per core are calibrated
on the bundled model (SmolLM2-135M, Q4_1, 98 MB: 70–90 tokens/s on two cores of an AMD EPYC);
``bench/speed_estimate.py`` checks the estimate against measured speeds. The figures are for the
CPU; a GPU build is faster.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

# A reply at fewer tokens a second than this is a wait, not a conversation (people read about
# 4–5 words, some 6–7 tokens, a second); the recommendation prefers a model at least this fast.
USABLE_TOKENS_PER_S = 8.0
# What llama.cpp reaches of the copy bandwidth when it streams the weights.
BANDWIDTH_EFFICIENCY = 0.8
# Effective floating-point rate of one core: quantized matrix-vector products while writing,
# matrix-matrix (batched) while reading a prompt. Calibrated on the bundled model (see above).
WRITE_FLOPS_PER_CORE = 12e9
READ_FLOPS_PER_CORE = 50e9
TOKEN_OVERHEAD_S = 0.0015
PROMPT_TOKEN_OVERHEAD_S = 0.00003  # attention and bookkeeping: what bounds a tiny model's reading
# Each of the two buffers: 256 MB in all, beyond any CPU cache, so the copy goes to memory.
MEASURE_BYTES = 128 * 1024 * 1024
CACHE_DAYS = 30  # measured again after this: a figure taken while the machine was busy does not stay
CACHE_NAME = "machine-speed.json"
CACHE_VERSION = 1
# Bits per weight of common GGUF file types (the quantized blocks' scales included).
BITS_PER_WEIGHT = {
    "F32": 32.0,
    "F16": 16.0,
    "BF16": 16.0,
    "Q8_0": 8.5,
    "Q6_K": 6.56,
    "Q5_K_M": 5.69,
    "Q5_K_S": 5.54,
    "Q5_0": 5.5,
    "Q5_1": 6.0,
    "Q4_K_M": 4.89,
    "Q4_K_S": 4.58,
    "Q4_0": 4.5,
    "Q4_1": 5.0,
    "IQ4_XS": 4.25,
    "Q3_K_M": 3.91,
    "Q3_K_L": 4.27,
    "Q2_K": 3.35,
}


@dataclass(frozen=True)
class MachineSpeed:
    """What the speed estimate needs from the machine: its memory bandwidth and the cores used."""

    bandwidth: float  # bytes a second, a large copy
    cores: int  # the threads llama.cpp runs (Settings → threads, else every core)

    def describe(self) -> str:
        return f"{self.cores} core{'s' if self.cores != 1 else ''}, memory {self.bandwidth / 1e9:.1f} GB/s"


@dataclass(frozen=True)
class SpeedEstimate:
    generation: float  # tokens a second while writing a reply
    prompt: float  # tokens a second while reading the prompt (documents, history)

    @property
    def usable(self) -> bool:
        return self.generation >= USABLE_TOKENS_PER_S

    def short(self) -> str:
        """'~14 tokens/s' or 'slow: ~1.3 tokens/s'."""
        rate = f"~{_figure(self.generation)} tokens/s"
        return rate if self.usable else f"slow here: {rate}"

    def sentence(self) -> str:
        words = self.generation * 0.75
        pace = (
            f"about {_figure(self.generation)} tokens a second (some {_figure(words)} words)"
            if words >= 1.5
            else f"about {_figure(self.generation)} tokens a second (a word every {1 / max(words, 0.01):.0f} s or so)"
        )
        page = 500 / self.prompt  # a page of a document, about 500 tokens
        reading = f"{page:.0f} s" if page >= 1.5 else "about a second" if page >= 0.5 else "under a second"
        limit = f"{USABLE_TOKENS_PER_S:.0f} tokens a second"
        slow = "" if self.usable else f" That is slow: below {limit} a reply is a wait."
        return f"On this machine it should write {pace} and read a page of your documents in {reading}.{slow}"

    def as_dict(self) -> dict[str, object]:
        return {
            "generation_tokens_per_s": round(self.generation, 2),
            "prompt_tokens_per_s": round(self.prompt, 1),
            "usable": self.usable,
            "usable_threshold_tokens_per_s": USABLE_TOKENS_PER_S,
        }


def _figure(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def parameters_from_size(file_size: int, file_type: str) -> int:
    """A parameter count from the file's size and its type's bits per weight (4.9 when unknown)."""
    bits = BITS_PER_WEIGHT.get(file_type.upper(), 4.89)
    return int(file_size * 8 / bits)


def estimate_speed(file_size: int, parameters: int, machine: MachineSpeed) -> SpeedEstimate:
    """Tokens a second for a model of ``file_size`` bytes and ``parameters`` weights on ``machine``."""
    cores = max(machine.cores, 1)
    flops = 2.0 * max(parameters, 1)
    streaming = file_size / max(machine.bandwidth * BANDWIDTH_EFFICIENCY, 1.0)
    computing = flops / (cores * WRITE_FLOPS_PER_CORE)
    generation = 1.0 / (TOKEN_OVERHEAD_S + max(streaming, computing))
    prompt = 1.0 / (PROMPT_TOKEN_OVERHEAD_S + flops / (cores * READ_FLOPS_PER_CORE))
    return SpeedEstimate(generation, prompt)


def llama_threads(n_threads: int | None = None) -> int:
    """The threads LlamaEngine runs: the setting, else every core."""
    return n_threads or os.cpu_count() or 2


def measure_bandwidth(size: int = MEASURE_BYTES, repeats: int = 3) -> float:
    """Bytes a second of a large copy (read and written, counted as STREAM does): the best of a few."""
    import numpy as np

    source = np.ones(size // 8)
    target = np.ones(size // 8)  # touched, so page faults are not timed
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * size / max(best, 1e-9)


def machine_speed(cache_dir: Path | None = None, n_threads: int | None = None) -> MachineSpeed:
    """This machine's speed, measured once and kept in ``cache_dir`` (the data folder by default);
    measured again when the number of CPUs changed, after CACHE_DAYS, or when the file is unreadable."""
    if cache_dir is None:
        from assistant.config import data_dir

        cache_dir = data_dir()
    path = cache_dir / CACHE_NAME
    cpus = os.cpu_count() or 1
    bandwidth = _cached_bandwidth(path, cpus)
    if bandwidth is None:
        bandwidth = measure_bandwidth()
        record = {"version": CACHE_VERSION, "bandwidth": bandwidth, "cpus": cpus, "measured_at": time.time()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record), encoding="utf-8")
        except OSError:
            pass  # measured again next time; nothing else depends on the file
    return MachineSpeed(bandwidth, llama_threads(n_threads))


def _cached_bandwidth(path: Path, cpus: int) -> float | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("version") != CACHE_VERSION or record.get("cpus") != cpus:
        return None
    measured_at = record.get("measured_at")
    if not isinstance(measured_at, int | float) or time.time() - measured_at > CACHE_DAYS * 86400:
        return None
    bandwidth = record.get("bandwidth")
    return float(bandwidth) if isinstance(bandwidth, int | float) and bandwidth > 0 else None
