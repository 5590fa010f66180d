"""A second real GGUF for tests, written here with llama.cpp's own ``gguf`` package: a tiny
Qwen2-architecture model (random weights) with Qwen 2.5's chat template.

No Qwen tokenizer ships offline, so it takes the bundled SmolLM2's byte-level BPE vocabulary and
merges (49,152 tokens, ChatML's ``<|im_start|>``/``<|im_end|>`` among them), which llama.cpp reads
the same way for any architecture. Random weights test the plumbing (loading, template detection,
tool rendering, tokenization, generation), never the quality of an answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "chat_templates"
EMBED, HEADS, KV_HEADS, FFN, LAYERS = 32, 2, 1, 64, 2


def _vocabulary(source: Path) -> dict[str, Any]:
    import gguf

    reader = gguf.GGUFReader(str(source))

    def field(name: str) -> Any:
        return reader.fields[name].contents()

    return {
        "tokens": field("tokenizer.ggml.tokens"),
        "types": field("tokenizer.ggml.token_type"),
        "merges": field("tokenizer.ggml.merges"),
        "pre": field("tokenizer.ggml.pre"),
    }


def write_tiny_qwen2(
    path: Path,
    vocabulary_from: Path,
    chat_template: str | None = "qwen2.5-instruct.jinja",
    separate_head: bool = True,
    seed: int = 0,
) -> dict[str, int]:
    """Write the model to ``path``; returns its parameter counts (``with_head``, ``without_head``).

    ``separate_head``: store the tied output head as its own tensor too (as Qwen2.5-0.5B's GGUFs do),
    with a size label that counts it once.
    """
    import gguf

    vocab = _vocabulary(vocabulary_from)
    n_vocab = len(vocab["tokens"])
    rng = np.random.default_rng(seed)

    def weights(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    head_dim = EMBED // HEADS
    tensors: dict[str, np.ndarray] = {"token_embd.weight": weights(n_vocab, EMBED)}
    for layer in range(LAYERS):
        block = f"blk.{layer}"
        tensors |= {
            f"{block}.attn_norm.weight": np.ones(EMBED, np.float32),
            f"{block}.attn_q.weight": weights(EMBED, EMBED),
            f"{block}.attn_q.bias": weights(EMBED),
            f"{block}.attn_k.weight": weights(KV_HEADS * head_dim, EMBED),
            f"{block}.attn_k.bias": weights(KV_HEADS * head_dim),
            f"{block}.attn_v.weight": weights(KV_HEADS * head_dim, EMBED),
            f"{block}.attn_v.bias": weights(KV_HEADS * head_dim),
            f"{block}.attn_output.weight": weights(EMBED, EMBED),
            f"{block}.ffn_norm.weight": np.ones(EMBED, np.float32),
            f"{block}.ffn_gate.weight": weights(FFN, EMBED),
            f"{block}.ffn_up.weight": weights(FFN, EMBED),
            f"{block}.ffn_down.weight": weights(EMBED, FFN),
        }
    tensors["output_norm.weight"] = np.ones(EMBED, np.float32)
    without_head = sum(t.size for t in tensors.values())
    if separate_head:
        tensors["output.weight"] = tensors["token_embd.weight"].copy()  # tied, stored again

    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_name("Tiny Qwen2 (test)")
    writer.add_size_label(f"{without_head / 1e6:.2f}M")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(1024)
    writer.add_embedding_length(EMBED)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(1_000_000.0)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(str(vocab["pre"]))
    writer.add_token_list(vocab["tokens"])
    writer.add_token_types(vocab["types"])
    writer.add_token_merges(vocab["merges"])
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)  # <|im_end|>
    writer.add_pad_token_id(2)
    writer.add_add_bos_token(False)
    if chat_template is not None:
        writer.add_chat_template((TEMPLATES / chat_template).read_text(encoding="utf-8"))
    for name, data in tensors.items():
        writer.add_tensor(name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    head = tensors["token_embd.weight"].size if separate_head else 0
    return {"with_head": without_head + head, "without_head": without_head}
