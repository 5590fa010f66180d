from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from assistant.engine.fit import GIB, MachineMemory, ModelShape, estimate_fit, machine_memory, memory_need
from assistant.engine.gguf import read_gguf
from assistant.engine.llama_log import route_llama_log
from assistant.engine.model_catalogue import CURATED_MODELS, curated_model, recommend

MIB = 1024 * 1024


def test_the_bundled_models_shape_comes_from_its_header(model_path: Path) -> None:
    shape = read_gguf(model_path).shape()
    assert (shape.architecture, shape.layers, shape.kv_heads, shape.key_length) == ("llama", 30, 3, 64)
    assert shape.vocab == 49152 and shape.context_length == 8192 and shape.sliding_window is None


@pytest.mark.real_model
def test_the_estimate_matches_what_llama_cpp_allocates(model_path: Path) -> None:
    """llama.cpp reports its KV cache and compute buffer when it loads; its state grows by the KV per token."""
    import llama_cpp

    route_llama_log()  # llama.cpp's lines reach Hearth's logger (llama_log.py), read here
    lines: list[str] = []
    reader = logging.Handler()
    reader.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("hearth.llama_cpp").addHandler(reader)
    info = read_gguf(model_path)
    need = memory_need(info.shape(), info.file_size, 2048)
    try:
        llm = llama_cpp.Llama(str(model_path), n_ctx=2048, n_threads=os.cpu_count() or 2, verbose=True)
    finally:
        logging.getLogger("hearth.llama_cpp").removeHandler(reader)
    try:
        log = "\n".join(lines)
        kv_mib = float(re.search(r"llama_kv_cache: size =\s*([\d.]+) MiB", log).group(1))  # type: ignore[union-attr]
        compute_mib = float(re.search(r"CPU compute buffer size =\s*([\d.]+) MiB", log).group(1))  # type: ignore[union-attr]
        assert need.kv_cache / MIB == pytest.approx(kv_mib, abs=0.01)
        assert need.compute / MIB == pytest.approx(compute_mib, rel=0.15)
        assert need.weights == pytest.approx(llama_cpp.llama_model_size(llm.model), rel=0.05)
        # The saved state holds the KV of each evaluated token: its growth per token is the per-token figure.
        llm.eval(llm.tokenize(b"The kettle sings on the hearth. " * 12))
        first_tokens, first_size = llm.n_tokens, llama_cpp.llama_state_get_size(llm.ctx)
        llm.eval(llm.tokenize(b"The kettle sings on the hearth. " * 12, add_bos=False))
        grown = (llama_cpp.llama_state_get_size(llm.ctx) - first_size) / (llm.n_tokens - first_tokens)
        assert grown == pytest.approx(info.shape().kv_bytes_per_token(), rel=0.01)
    finally:
        llm.close()


def test_sliding_window_layers_keep_only_the_window() -> None:
    gemma = curated_model("gemma-3-4b").shape
    full_only = ModelShape(**{**gemma.__dict__, "sliding_window": None})
    # 34 layers, every sixth sees the whole context: at 32k the cache is a fraction of a full one.
    assert gemma.full_attention_layers() == 5
    assert gemma.kv_cache_bytes(32768) < full_only.kv_cache_bytes(32768) / 4
    assert gemma.kv_cache_bytes(1024) == full_only.kv_cache_bytes(1024)


def test_verdicts_and_the_context_they_would_use() -> None:
    qwen = curated_model("qwen3-4b")
    roomy = MachineMemory(available=64 * GIB, total=64 * GIB)
    assert qwen.fit(32768, roomy).verdict == "fits comfortably"
    assert qwen.fit(32768, roomy).n_ctx == 32768
    # 4 GB free: the wanted context does not fit, a smaller one does, or it is tight.
    small = MachineMemory(available=4 * GIB, total=8 * GIB)
    estimate = qwen.fit(32768, small)
    assert estimate.n_ctx < 32768 and estimate.verdict in ("fits comfortably", "tight")
    assert estimate.need.total <= small.available
    tiny = MachineMemory(available=1 * GIB, total=2 * GIB)
    assert qwen.fit(8192, tiny).verdict == "will not fit"
    assert "will not fit" in qwen.fit(8192, tiny).summary()


def test_a_context_beyond_the_models_own_is_not_used() -> None:
    shape = ModelShape("llama", 30, 9, 3, 64, 64, 576, 49152, context_length=8192)
    assert estimate_fit(shape, 100 * MIB, 131072, MachineMemory(64 * GIB, 64 * GIB)).n_ctx == 8192


def test_recommendation_follows_the_memory() -> None:
    big = recommend(8192, MachineMemory(available=32 * GIB, total=32 * GIB))
    assert big is not None and big[0].key == "qwen3-8b"
    small = recommend(8192, MachineMemory(available=3 * GIB, total=4 * GIB))
    assert small is not None and small[0].size < 2 * GIB
    assert recommend(8192, MachineMemory(available=256 * MIB, total=512 * MIB)) is None


def test_catalogue_entries_are_complete() -> None:
    keys = [model.key for model in CURATED_MODELS]
    assert len(keys) == len(set(keys))
    for model in CURATED_MODELS:
        assert model.file.endswith(".gguf") and model.repo.count("/") == 1
        assert model.shape.layers and model.shape.kv_heads and model.shape.key_length and model.shape.vocab
        assert model.licence and model.strengths


def test_this_machines_memory_is_read() -> None:
    memory = machine_memory()
    assert 0 < memory.available <= memory.total
