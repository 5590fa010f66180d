"""Will a model fit on this machine? Memory needed for a context length, against the memory free.

The estimate is what llama.cpp allocates when it loads a model on the CPU: the weights (the file,
memory-mapped), an f16 KV cache for the context, and the compute buffer. llama.cpp sizes that
buffer for one micro-batch of 512 tokens; its largest tensors are the logits (vocabulary × batch)
and, without flash attention, the attention scores (context × batch × heads). Layers with a
sliding window (Gemma 2 and 3) keep only the window plus one batch in their cache, which is why
Gemma 3 needs a fraction of the KV memory of a model of its size.

Checked against llama.cpp's own report for the bundled model (tests/engine/test_fit.py): the KV
cache to the byte, the compute buffer within 15 %.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.engine.speed import MachineSpeed, SpeedEstimate, estimate_speed

MIB = 1024 * 1024
GIB = 1024 * MIB
UBATCH = 512
KV_BYTES = 2  # f16, llama.cpp's default cache type
# Hearth itself (Qt, the embedder, Chroma, SQLite) besides the model, measured loosely on this box.
APP_RESERVE = 768 * MIB
# Every n-th layer of these architectures sees the whole context; the others a sliding window.
# llama.cpp hard-codes the pattern per architecture, so the GGUF does not carry it.
SWA_FULL_EVERY: dict[str, int] = {"gemma2": 2, "gemma3": 6, "cohere2": 4}
# Contexts tried, largest first, when the chosen one does not fit comfortably.
CONTEXT_STEPS = (131072, 65536, 32768, 16384, 8192, 4096, 2048)
MIN_CONTEXT = 2048

Verdict = Literal["fits comfortably", "tight", "will not fit"]


@dataclass(frozen=True)
class ModelShape:
    """What the memory estimate needs from a model: read from a GGUF header, or from the catalogue."""

    architecture: str
    layers: int
    heads: int
    kv_heads: int
    key_length: int
    value_length: int
    embedding: int
    vocab: int
    context_length: int | None = None
    sliding_window: int | None = None

    def full_attention_layers(self) -> int:
        every = SWA_FULL_EVERY.get(self.architecture)
        if not self.sliding_window or not every:
            return self.layers
        return self.layers // every

    def kv_bytes_per_token(self) -> int:
        """KV cache per token for a full-attention layer, times the layers that keep the whole context."""
        return self.full_attention_layers() * self._kv_bytes_per_layer_token()

    def _kv_bytes_per_layer_token(self) -> int:
        return self.kv_heads * (self.key_length + self.value_length) * KV_BYTES

    def kv_cache_bytes(self, n_ctx: int) -> int:
        full = self.full_attention_layers()
        sliding = self.layers - full
        window_cells = min(n_ctx, (self.sliding_window or 0) + UBATCH)
        per_layer_token = self._kv_bytes_per_layer_token()
        return full * n_ctx * per_layer_token + sliding * window_cells * per_layer_token

    def compute_bytes(self, n_ctx: int) -> int:
        logits = UBATCH * self.vocab * 4
        scores = UBATCH * n_ctx * self.heads * 4
        activations = UBATCH * self.embedding * 4 * 8
        return max(logits, scores) + activations


@dataclass(frozen=True)
class MemoryNeed:
    weights: int
    kv_cache: int
    compute: int
    n_ctx: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.compute


def memory_need(shape: ModelShape, file_size: int, n_ctx: int) -> MemoryNeed:
    return MemoryNeed(file_size, shape.kv_cache_bytes(n_ctx), shape.compute_bytes(n_ctx), n_ctx)


@dataclass(frozen=True)
class MachineMemory:
    available: int  # what can be used now without swapping (MemAvailable)
    total: int


def machine_memory() -> MachineMemory:
    """Free and total RAM: /proc/meminfo on Linux, sysconf elsewhere that has it."""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        values: dict[str, int] = {}
        for line in meminfo.read_text(encoding="ascii", errors="replace").splitlines():
            name, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[name] = int(parts[0]) * 1024
        if "MemTotal" in values:
            available = values.get("MemAvailable", values.get("MemFree", 0) + values.get("Cached", 0))
            return MachineMemory(available=available, total=values["MemTotal"])
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        return MachineMemory(available=os.sysconf("SC_AVPHYS_PAGES") * page, total=os.sysconf("SC_PHYS_PAGES") * page)
    except (ValueError, OSError, AttributeError):
        return MachineMemory(available=0, total=0)


@dataclass(frozen=True)
class FitEstimate:
    verdict: Verdict
    n_ctx: int
    need: MemoryNeed
    available: int
    n_gpu_layers: int = 0
    speed: SpeedEstimate | None = None  # on the CPU, when the machine's speed was given

    @property
    def usable(self) -> bool:
        """Fits comfortably and, where the speed is known, answers at a usable speed."""
        return self.verdict == "fits comfortably" and (self.speed is None or self.speed.usable)

    def summary(self) -> str:
        from assistant.core.units import human_bytes

        speed, verdict = "", str(self.verdict)
        if self.verdict == "fits comfortably" and not self.usable:
            verdict = "fits, but slow"  # the memory is there; the replies would be a wait
        if self.speed is not None:
            speed = (
                f"; writes {self.speed.short()}, reads ~{self.speed.prompt:,.0f} tokens/s"
                f"{'' if self.speed.usable else ' (too slow for a conversation)'}"
            )
        return (
            f"{verdict}: about {human_bytes(self.need.total)} at {self.n_ctx:,} tokens of context "
            f"(weights {human_bytes(self.need.weights)}, KV cache {human_bytes(self.need.kv_cache)}), "
            f"{human_bytes(self.available)} free, {self.n_gpu_layers} GPU layers{speed}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "speed": self.speed.as_dict() if self.speed else None,
            "verdict": self.verdict,
            "n_ctx": self.n_ctx,
            "n_gpu_layers": self.n_gpu_layers,
            "needed_bytes": self.need.total,
            "weights_bytes": self.need.weights,
            "kv_cache_bytes": self.need.kv_cache,
            "compute_bytes": self.need.compute,
            "available_bytes": self.available,
        }


def _verdict(need: int, available: int) -> Verdict:
    # Comfortable leaves room for Hearth itself and a fifth of the free memory for everything else.
    if need + APP_RESERVE <= available * 0.8:
        return "fits comfortably"
    if need <= available:
        return "tight"
    return "will not fit"


def estimate_fit(
    shape: ModelShape,
    file_size: int,
    wanted_ctx: int,
    memory: MachineMemory | None = None,
    n_gpu_layers: int = 0,
    machine: MachineSpeed | None = None,
    parameters: int | None = None,
) -> FitEstimate:
    """The largest context up to ``wanted_ctx`` (and the model's own) that fits comfortably, and,
    given the ``machine``'s speed and the model's ``parameters``, how fast it writes and reads.

    Falls back to the wanted context's verdict at the smallest step when none does. GPU memory is
    not probed: the estimate is for the CPU, where llama.cpp runs unless it was built for a GPU.
    """
    memory = memory or machine_memory()
    speed = estimate_speed(file_size, parameters, machine) if machine and parameters else None
    ceiling = min(wanted_ctx, shape.context_length or wanted_ctx)
    steps = [ceiling] + [step for step in CONTEXT_STEPS if step < ceiling]
    steps = [step for step in steps if step >= min(MIN_CONTEXT, ceiling)]
    best: FitEstimate | None = None
    for n_ctx in steps:
        need = memory_need(shape, file_size, n_ctx)
        verdict = _verdict(need.total, memory.available)
        estimate = FitEstimate(verdict, n_ctx, need, memory.available, n_gpu_layers, speed)
        if estimate.verdict == "fits comfortably":
            return estimate
        if best is None or (best.verdict == "will not fit" and estimate.verdict == "tight"):
            best = estimate
    assert best is not None
    return best
