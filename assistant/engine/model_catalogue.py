"""A short, curated list of good small-to-medium GGUF chat models, as data.

Each entry names the Hugging Face repository and file to download, its licence, what it is good
at, and the shape numbers the fit estimate needs (from each model's config.json / GGUF header),
so "will this fit?" is answered before anything is downloaded. Sizes are the Q4_K_M / Q8_0 files'
sizes rounded to a few MB; the downloader reads the exact size and hash from the hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.engine.fit import FitEstimate, MachineMemory, ModelShape, estimate_fit
from assistant.engine.speed import MachineSpeed

MB = 1000 * 1000
M = 1_000_000


@dataclass(frozen=True)
class CuratedModel:
    key: str
    name: str
    repo: str
    file: str
    size: int  # bytes, approximate
    licence: str
    strengths: tuple[str, ...]  # "tools", "thinking", "multilingual", "code", ...
    summary: str
    shape: ModelShape
    parameters: int  # every weight once (a tied output head counted once), from the model card
    revision: str = "main"

    def local_path(self, models_folder: Path) -> Path:
        return models_folder / Path(self.file).name

    def fit(
        self,
        wanted_ctx: int,
        memory: MachineMemory | None = None,
        n_gpu_layers: int = 0,
        machine: MachineSpeed | None = None,
    ) -> FitEstimate:
        return estimate_fit(self.shape, self.size, wanted_ctx, memory, n_gpu_layers, machine, self.parameters)


def _shape(
    arch: str, layers: int, heads: int, kv: int, head: int, emb: int, vocab: int, ctx: int, swa: int = 0
) -> ModelShape:
    return ModelShape(arch, layers, heads, kv, head, head, emb, vocab, ctx, swa or None)


_QWEN3_VOCAB = 151936
CURATED_MODELS: tuple[CuratedModel, ...] = (
    CuratedModel(
        "qwen3-0.6b",
        "Qwen3 0.6B",
        "Qwen/Qwen3-0.6B-GGUF",
        "Qwen3-0.6B-Q8_0.gguf",
        639 * MB,
        "apache-2.0",
        ("tools", "thinking", "multilingual"),
        "The smallest model that follows instructions and calls tools; thinking mode on request.",
        _shape("qwen3", 28, 16, 8, 128, 1024, _QWEN3_VOCAB, 40960),
        596 * M,
    ),
    CuratedModel(
        "qwen3-1.7b",
        "Qwen3 1.7B",
        "Qwen/Qwen3-1.7B-GGUF",
        "Qwen3-1.7B-Q8_0.gguf",
        1834 * MB,
        "apache-2.0",
        ("tools", "thinking", "multilingual"),
        "Good everyday answers on any laptop; tool calls and thinking mode.",
        _shape("qwen3", 28, 16, 8, 128, 2048, _QWEN3_VOCAB, 40960),
        1_720 * M,
    ),
    CuratedModel(
        "qwen3-4b",
        "Qwen3 4B",
        "Qwen/Qwen3-4B-GGUF",
        "Qwen3-4B-Q4_K_M.gguf",
        2497 * MB,
        "apache-2.0",
        ("tools", "thinking", "multilingual", "code"),
        "The best all-rounder for 8 GB of RAM: reasoning, tools, 100+ languages.",
        _shape("qwen3", 36, 32, 8, 128, 2560, _QWEN3_VOCAB, 40960),
        4_022 * M,
    ),
    CuratedModel(
        "qwen3-8b",
        "Qwen3 8B",
        "Qwen/Qwen3-8B-GGUF",
        "Qwen3-8B-Q4_K_M.gguf",
        5028 * MB,
        "apache-2.0",
        ("tools", "thinking", "multilingual", "code"),
        "Noticeably stronger reasoning and writing; wants 16 GB of RAM.",
        _shape("qwen3", 36, 32, 8, 128, 4096, _QWEN3_VOCAB, 40960),
        8_190 * M,
    ),
    CuratedModel(
        "llama-3.2-1b",
        "Llama 3.2 1B Instruct",
        "bartowski/Llama-3.2-1B-Instruct-GGUF",
        "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
        808 * MB,
        "llama3.2",
        ("tools", "multilingual"),
        "Fast and small, long context; English, German, French, Italian, Portuguese, Hindi, Spanish, Thai.",
        _shape("llama", 16, 32, 8, 64, 2048, 128256, 131072),
        1_236 * M,
    ),
    CuratedModel(
        "llama-3.2-3b",
        "Llama 3.2 3B Instruct",
        "bartowski/Llama-3.2-3B-Instruct-GGUF",
        "Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        2019 * MB,
        "llama3.2",
        ("tools", "multilingual"),
        "Solid assistant for summaries and rewriting, with tool calls.",
        _shape("llama", 28, 24, 8, 128, 3072, 128256, 131072),
        3_213 * M,
    ),
    CuratedModel(
        "gemma-3-1b",
        "Gemma 3 1B",
        "unsloth/gemma-3-1b-it-GGUF",
        "gemma-3-1b-it-Q4_K_M.gguf",
        806 * MB,
        "gemma",
        ("multilingual",),
        "Small and fluent; a sliding window keeps its memory low at long contexts.",
        _shape("gemma3", 26, 4, 1, 256, 1152, 262144, 32768, swa=512),
        1_000 * M,
    ),
    CuratedModel(
        "gemma-3-4b",
        "Gemma 3 4B",
        "unsloth/gemma-3-4b-it-GGUF",
        "gemma-3-4b-it-Q4_K_M.gguf",
        2490 * MB,
        "gemma",
        ("multilingual",),
        "Warm, well-written answers in 140 languages; little KV memory thanks to its sliding window.",
        _shape("gemma3", 34, 8, 4, 256, 2560, 262208, 131072, swa=1024),
        3_880 * M,
    ),
    CuratedModel(
        "phi-4-mini",
        "Phi-4-mini Instruct",
        "unsloth/Phi-4-mini-instruct-GGUF",
        "Phi-4-mini-instruct-Q4_K_M.gguf",
        2491 * MB,
        "mit",
        ("tools", "code", "multilingual"),
        "Strong at maths, logic and code for its size.",
        _shape("phi3", 32, 24, 8, 128, 3072, 200064, 131072),
        3_836 * M,
    ),
    CuratedModel(
        "deepseek-r1-qwen-1.5b",
        "DeepSeek-R1 Distill Qwen 1.5B",
        "bartowski/DeepSeek-R1-Distill-Qwen-1.5B-GGUF",
        "DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf",
        1117 * MB,
        "mit",
        ("thinking",),
        "Thinks step by step before answering (maths, puzzles); slower, wordy on small talk.",
        _shape("qwen2", 28, 12, 2, 128, 1536, 151936, 131072),
        1_777 * M,
    ),
    CuratedModel(
        "deepseek-r1-qwen-7b",
        "DeepSeek-R1 Distill Qwen 7B",
        "bartowski/DeepSeek-R1-Distill-Qwen-7B-GGUF",
        "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf",
        4683 * MB,
        "mit",
        ("thinking", "code"),
        "Careful step-by-step reasoning on maths and code; wants 16 GB of RAM.",
        _shape("qwen2", 28, 28, 4, 128, 3584, 152064, 131072),
        7_616 * M,
    ),
)

# Best first: what the welcome screen recommends is the first of these that fits comfortably and
# writes at a usable speed (speed.USABLE_TOKENS_PER_S).
RECOMMENDATION_ORDER = ("qwen3-8b", "qwen3-4b", "llama-3.2-3b", "qwen3-1.7b", "llama-3.2-1b", "qwen3-0.6b")


def curated_model(key: str) -> CuratedModel:
    for model in CURATED_MODELS:
        if model.key == key:
            return model
    raise KeyError(key)


def recommend(
    wanted_ctx: int, memory: MachineMemory | None = None, machine: MachineSpeed | None = None
) -> tuple[CuratedModel, FitEstimate] | None:
    """The best catalogue model that fits this machine comfortably at a useful context and writes
    at a usable speed; where none is fast enough, the fastest that fits (its estimate says it is
    slow); None when none fits. Without ``machine`` the speed is not considered."""
    fitting: list[tuple[CuratedModel, FitEstimate]] = []
    for key in RECOMMENDATION_ORDER:
        model = curated_model(key)
        estimate = model.fit(wanted_ctx, memory, machine=machine)
        if estimate.verdict == "fits comfortably" and estimate.n_ctx >= min(wanted_ctx, 4096):
            if estimate.usable:
                return model, estimate
            fitting.append((model, estimate))
    if not fitting:
        return None
    return max(fitting, key=lambda pair: pair[1].speed.generation if pair[1].speed else 0.0)
