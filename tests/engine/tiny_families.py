"""Tiny GGUFs of each catalogue family, written by the tests with llama.cpp's own ``gguf`` package.

Each file has the family's architecture (its tensors and hyperparameters, so llama.cpp builds the
same graph kind a user's model gets), its real chat template (tests/data/chat_templates, sources in
SOURCES.md), its tokenizer kind (byte-level BPE, or SentencePiece for Gemma) and its special tokens
with their real types: control tokens that only templates may spell, and the "user-defined" ones
(Qwen's ``<think>``, ``<tool_call>``) that any text spells. The vocabulary is otherwise the 256
bytes and a handful of merges, so each file is about 150 KB and writes in milliseconds (text costs
about a token a byte: give the engine a context of 8,192 where tools are listed).

The weights are random: a test that needs the model to say something forces it (see
``ForcedLlamaEngine`` in tests/engine/forced.py); everything else (loading, template, tokenizer,
owner thread, stop tokens) is the code a user's model runs through.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.engine.tiny_gguf import TEMPLATES

EMBED, HEADS, KV_HEADS, FFN, LAYERS = 32, 2, 1, 64, 2
HEAD_DIM = EMBED // HEADS
CONTROL, USER_DEFINED, NORMAL, UNKNOWN, BYTE = 3, 4, 1, 2, 6


@dataclass(frozen=True)
class Family:
    key: str
    architecture: str
    template: str  # file name in tests/data/chat_templates
    specials: tuple[tuple[str, int], ...]  # (text, token type), in the order of their ids
    bos: str
    eos: str
    eot: str | None = None  # the end-of-turn token where it is not the eos
    add_bos: bool = False
    tokenizer: str = "gpt2"  # or "llama" (SentencePiece)
    pre: str = "default"


_QWEN_SPECIALS = (
    ("<|endoftext|>", CONTROL),
    ("<|im_start|>", CONTROL),
    ("<|im_end|>", CONTROL),
    ("<tool_call>", USER_DEFINED),
    ("</tool_call>", USER_DEFINED),
    ("<tool_response>", USER_DEFINED),
    ("</tool_response>", USER_DEFINED),
    ("<think>", USER_DEFINED),
    ("</think>", USER_DEFINED),
)

FAMILIES: dict[str, Family] = {
    family.key: family
    for family in (
        Family("qwen3", "qwen3", "qwen3.jinja", _QWEN_SPECIALS, "<|endoftext|>", "<|im_end|>", pre="qwen2"),
        Family(
            "llama-3.2",
            "llama",
            "llama-3.2-instruct.jinja",
            (
                ("<|begin_of_text|>", CONTROL),
                ("<|end_of_text|>", CONTROL),
                ("<|start_header_id|>", CONTROL),
                ("<|end_header_id|>", CONTROL),
                ("<|eom_id|>", CONTROL),
                ("<|eot_id|>", CONTROL),
                ("<|python_tag|>", CONTROL),
            ),
            "<|begin_of_text|>",
            "<|eot_id|>",
            add_bos=True,
            pre="llama-bpe",
        ),
        Family(
            "gemma-3",
            "gemma3",
            "gemma-3-it.jinja",
            (
                ("<pad>", CONTROL),
                ("<eos>", CONTROL),
                ("<bos>", CONTROL),
                ("<unk>", UNKNOWN),
                ("<start_of_turn>", CONTROL),
                ("<end_of_turn>", CONTROL),
            ),
            "<bos>",
            "<eos>",
            eot="<end_of_turn>",
            add_bos=True,
            tokenizer="llama",
        ),
        Family(
            "phi-4-mini",
            "phi3",
            "phi-4-mini-instruct.jinja",
            (
                ("<|endoftext|>", CONTROL),
                ("<|system|>", CONTROL),
                ("<|user|>", CONTROL),
                ("<|assistant|>", CONTROL),
                ("<|end|>", CONTROL),
                ("<|tool|>", CONTROL),
                ("<|/tool|>", CONTROL),
                ("<|tool_call|>", CONTROL),
                ("<|/tool_call|>", CONTROL),
                ("<|tool_response|>", CONTROL),
            ),
            "<|endoftext|>",
            "<|endoftext|>",
            eot="<|end|>",
            pre="gpt-4o",
        ),
        Family(
            "deepseek-r1-distill-qwen",
            "qwen2",
            "deepseek-r1-distill-qwen.jinja",
            (
                ("<｜begin▁of▁sentence｜>", CONTROL),
                ("<｜end▁of▁sentence｜>", CONTROL),
                ("<｜User｜>", USER_DEFINED),
                ("<｜Assistant｜>", USER_DEFINED),
                ("<think>", USER_DEFINED),
                ("</think>", USER_DEFINED),
                ("<|im_start|>", CONTROL),
                ("<|im_end|>", CONTROL),
            ),
            "<｜begin▁of▁sentence｜>",
            "<｜end▁of▁sentence｜>",
            add_bos=True,
            pre="qwen2",
        ),
    )
}


def _byte_level_alphabet() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes, in byte order (what byte-level BPE stores)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[byte] = chr(byte)
        else:
            chars[byte] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def _vocabulary(family: Family) -> tuple[list[str], list[int], list[str], list[float]]:
    """(tokens, types, merges, scores): the family's special tokens first, then the bytes and a few merges."""
    tokens = [text for text, _ in family.specials]
    types = [kind for _, kind in family.specials]
    if family.tokenizer == "llama":
        tokens += [f"<0x{b:02X}>" for b in range(256)]
        types += [BYTE] * 256
        words = ["▁", "▁t", "he", "▁the", "an", "er"]
        tokens += words
        types += [NORMAL] * len(words)
        scores = [0.0] * (len(tokens) - len(words)) + [-float(i) for i in range(len(words))]
        return tokens, types, [], scores
    alphabet = _byte_level_alphabet()
    merges = ["Ġ t", "h e", "Ġt he", "a n", "e r"]
    tokens += alphabet + [m.replace(" ", "") for m in merges]
    types += [NORMAL] * (256 + len(merges))
    return tokens, types, merges, [0.0] * len(tokens)


def _tensors(family: Family, n_vocab: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    def weights(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    def ones(size: int) -> np.ndarray:
        return np.ones(size, np.float32)

    kv = KV_HEADS * HEAD_DIM
    arch = family.architecture
    tensors: dict[str, np.ndarray] = {"token_embd.weight": weights(n_vocab, EMBED)}
    for layer in range(LAYERS):
        block = f"blk.{layer}"
        tensors |= {
            f"{block}.attn_norm.weight": ones(EMBED),
            f"{block}.attn_q.weight": weights(EMBED, EMBED),
            f"{block}.attn_k.weight": weights(kv, EMBED),
            f"{block}.attn_v.weight": weights(kv, EMBED),
            f"{block}.attn_output.weight": weights(EMBED, EMBED),
            f"{block}.ffn_norm.weight": ones(EMBED),
            f"{block}.ffn_down.weight": weights(EMBED, FFN),
        }
        if arch == "phi3":  # gate and up in one tensor
            tensors[f"{block}.ffn_up.weight"] = weights(2 * FFN, EMBED)
        else:
            tensors[f"{block}.ffn_up.weight"] = weights(FFN, EMBED)
            tensors[f"{block}.ffn_gate.weight"] = weights(FFN, EMBED)
        if arch == "qwen2":
            tensors |= {
                f"{block}.attn_q.bias": weights(EMBED),
                f"{block}.attn_k.bias": weights(kv),
                f"{block}.attn_v.bias": weights(kv),
            }
        if arch in ("qwen3", "gemma3"):
            tensors |= {f"{block}.attn_q_norm.weight": ones(HEAD_DIM), f"{block}.attn_k_norm.weight": ones(HEAD_DIM)}
        if arch == "gemma3":
            tensors |= {
                f"{block}.post_attention_norm.weight": ones(EMBED),
                f"{block}.post_ffw_norm.weight": ones(EMBED),
            }
    tensors["output_norm.weight"] = ones(EMBED)
    if arch != "gemma3":  # Gemma ties its head to the embedding and stores none
        tensors["output.weight"] = weights(n_vocab, EMBED)
    return tensors


def write_tiny_family(path: Path, key: str, seed: int = 0) -> Family:
    """Write the tiny model of catalogue family ``key`` (a key of FAMILIES) to ``path``."""
    import gguf

    family = FAMILIES[key]
    tokens, types, merges, scores = _vocabulary(family)
    tensors = _tensors(family, len(tokens), np.random.default_rng(seed))
    writer = gguf.GGUFWriter(str(path), family.architecture)
    writer.add_name(f"Tiny {key} (test)")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(8192)
    writer.add_embedding_length(EMBED)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(10_000.0)
    writer.add_rope_dimension_count(HEAD_DIM)
    if family.architecture == "gemma3":
        writer.add_sliding_window(512)
        writer.add_key_length(HEAD_DIM)
        writer.add_value_length(HEAD_DIM)
    writer.add_tokenizer_model(family.tokenizer)
    writer.add_tokenizer_pre(family.pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_scores(scores)
    if family.tokenizer == "gpt2":
        writer.add_token_merges(merges)
    else:
        writer.add_add_space_prefix(False)
        writer.add_unk_token_id(tokens.index("<unk>"))
    writer.add_bos_token_id(tokens.index(family.bos))
    writer.add_eos_token_id(tokens.index(family.eos))
    if family.eot is not None:
        writer.add_eot_token_id(tokens.index(family.eot))
    writer.add_add_bos_token(family.add_bos)
    writer.add_chat_template((TEMPLATES / family.template).read_text(encoding="utf-8"))
    for name, data in tensors.items():
        writer.add_tensor(name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return family
