"""Read what a GGUF file says about itself without loading its weights.

Only the header and the tensor table are parsed (memory-mapped, so a multi-gigabyte file costs
nothing to inspect). Checking that the tensor data really ends inside the file catches a
truncated download before llama.cpp meets it and fails with a vague message.
"""

from __future__ import annotations

import math
import mmap
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.core.errors import CorruptModelError, ModelNotFoundError, NotGGUFError
from assistant.engine.fit import ModelShape, memory_need

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
# Arrays longer than this (token lists, merges) are skipped, not kept in memory.
MAX_KEPT_ARRAY = 64

_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9

# ggml tensor types: (elements per block, bytes per block), from ggml's type traits.
_TENSOR_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
}

# general.file_type, llama.cpp's llama_ftype.
_FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
}


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    type_id: int
    offset: int

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int | None:
        traits = _TENSOR_TYPES.get(self.type_id)
        if traits is None:
            return None
        _, block, size = traits
        return self.elements // block * size


@dataclass
class GGUFInfo:
    path: Path
    version: int
    metadata: dict[str, Any]
    tensors: list[TensorInfo] = field(default_factory=list)
    file_size: int = 0
    data_offset: int = 0

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    @property
    def architecture(self) -> str:
        return str(self.get("general.architecture", "unknown"))

    def arch_value(self, key: str, default: Any = None) -> Any:
        return self.get(f"{self.architecture}.{key}", default)

    @property
    def name(self) -> str:
        return str(self.get("general.name") or self.path.stem)

    @property
    def parameter_count(self) -> int:
        """Every weight once. A tied output head that the file also stores on its own (Qwen2.5-0.5B:
        630M counted, 494M real) is counted once when the file's own size label says so."""
        total = sum(t.elements for t in self.tensors)
        shapes = {t.name: t.shape for t in self.tensors}
        if "output.weight" not in shapes or shapes["output.weight"] != shapes.get("token_embd.weight"):
            return total
        label = _size_label(self.get("general.size_label"))
        head = math.prod(shapes["output.weight"])
        if label is not None and abs(total - head - label) < abs(total - label):
            return total - head
        return total

    @property
    def quantization(self) -> str:
        file_type = self.get("general.file_type")
        if isinstance(file_type, int) and file_type in _FILE_TYPES:
            return _FILE_TYPES[file_type]
        # No file type recorded: name it after the type holding most of the weights.
        weight: dict[str, int] = {}
        for tensor in self.tensors:
            type_name = _TENSOR_TYPES.get(tensor.type_id, ("?", 1, 1))[0]
            weight[type_name] = weight.get(type_name, 0) + tensor.elements
        return max(weight, key=lambda k: weight[k]) if weight else "unknown"

    @property
    def context_length(self) -> int | None:
        value = self.arch_value("context_length")
        return int(value) if isinstance(value, int) else None

    @property
    def chat_template(self) -> str | None:
        value = self.get("tokenizer.chat_template")
        return value if isinstance(value, str) and value.strip() else None

    def shape(self) -> ModelShape:
        """Layer count, KV heads, head size, sliding window: what the memory estimate needs."""

        def first(value: Any) -> int:
            # Some architectures list a value per layer; the largest is the one that sizes the cache.
            if isinstance(value, list):
                return int(max(value)) if value else 0
            return int(value or 0)

        embedding = first(self.arch_value("embedding_length"))
        heads = first(self.arch_value("attention.head_count"))
        kv_heads = first(self.arch_value("attention.head_count_kv", heads))
        default_head = embedding // heads if heads else 0
        tokens = self.get("tokenizer.ggml.tokens")
        vocab = first(self.arch_value("vocab_size")) or (len(tokens) if tokens is not None else 0)
        window = first(self.arch_value("attention.sliding_window")) or None
        return ModelShape(
            architecture=self.architecture,
            layers=first(self.arch_value("block_count")),
            heads=heads,
            kv_heads=kv_heads,
            key_length=first(self.arch_value("attention.key_length")) or default_head,
            value_length=first(self.arch_value("attention.value_length")) or default_head,
            embedding=embedding,
            vocab=vocab,
            context_length=self.context_length,
            sliding_window=window,
        )

    def estimated_ram_bytes(self, n_ctx: int | None = None) -> int:
        """Weights plus an f16 KV cache for ``n_ctx`` tokens plus llama.cpp's compute buffer."""
        return memory_need(self.shape(), self.file_size, n_ctx or self.context_length or 4096).total


class _Reader:
    def __init__(self, buffer: mmap.mmap | bytes) -> None:
        self.buffer = buffer
        self.pos = 0

    def scalar(self, fmt: str) -> Any:
        value = struct.unpack_from(fmt, self.buffer, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        length = self.scalar("<Q")
        if self.pos + length > len(self.buffer):
            raise struct.error("string runs past the end of the file")
        raw = self.buffer[self.pos : self.pos + length]
        self.pos += length
        return bytes(raw).decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        length = self.scalar("<Q")
        self.pos += length

    def value(self, type_id: int) -> Any:
        if type_id in _SCALARS:
            return self.scalar(_SCALARS[type_id])
        if type_id == _STRING:
            return self.string()
        if type_id == _ARRAY:
            item_type = self.scalar("<I")
            count = self.scalar("<Q")
            if count <= MAX_KEPT_ARRAY:
                return [self.value(item_type) for _ in range(count)]
            self.skip_array(item_type, count)
            return _SkippedArray(count)
        raise struct.error(f"unknown metadata value type {type_id}")

    def skip_array(self, item_type: int, count: int) -> None:
        if item_type in _SCALARS:
            self.pos += struct.calcsize(_SCALARS[item_type]) * count
        elif item_type == _STRING:
            for _ in range(count):
                self.skip_string()
        else:
            for _ in range(count):
                self.value(item_type)
        if self.pos > len(self.buffer):
            raise struct.error("array runs past the end of the file")


@dataclass(frozen=True)
class _SkippedArray:
    length: int

    def __len__(self) -> int:
        return self.length


def read_gguf(path: str | Path) -> GGUFInfo:
    """Parse the header of ``path``; raise a user-facing error for anything that is not a whole GGUF."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelNotFoundError(f"Model file not found: {path}")
    if not path.is_file():
        raise NotGGUFError(f"{path} is not a file.")
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size < 24 or handle.read(4) != MAGIC:
            raise NotGGUFError(
                f"{path.name} is not a GGUF model file.",
                "Hearth runs GGUF models (files ending in .gguf); convert or download the model in that format.",
            )
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
            try:
                info = _parse(path, buffer, size)
            except (struct.error, ValueError, OverflowError, MemoryError) as exc:
                raise CorruptModelError(f"{path.name} is damaged: its header cannot be read ({_plain(exc)}).") from exc
    _check_complete(info)
    return info


def _size_label(label: Any) -> float | None:
    """ "0.5B" → 5e8, "494M" → 4.94e8; None for anything else ("8x7B", absent)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMBT])\s*", str(label or ""), re.I)
    if match is None:
        return None
    return float(match.group(1)) * {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[match.group(2).upper()]


def _plain(exc: Exception) -> str:
    """What went wrong, in words: struct's own messages ("unpack_from requires a buffer of at least
    8 bytes for unpacking 8 bytes at offset 20 …") mean the header stops short of what it declares."""
    text = str(exc)
    if isinstance(exc, struct.error) and ("requires a buffer" in text or "unpack" in text):
        return "the file ends in the middle of its header"
    if isinstance(exc, UnicodeDecodeError):
        return "a name in it is not valid text"
    if isinstance(exc, MemoryError | OverflowError):
        return "it declares impossible sizes"
    return text


def _parse(path: Path, buffer: mmap.mmap, size: int) -> GGUFInfo:
    reader = _Reader(buffer)
    reader.pos = 4
    version = reader.scalar("<I")
    if version not in (2, 3):
        raise NotGGUFError(f"{path.name} uses GGUF version {version}, which this llama.cpp cannot read.")
    tensor_count = reader.scalar("<Q")
    kv_count = reader.scalar("<Q")
    if tensor_count > 10_000_000 or kv_count > 10_000_000:
        raise struct.error("implausible tensor or key count")
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string()
        metadata[key] = reader.value(reader.scalar("<I"))
    tensors = []
    for _ in range(tensor_count):
        name = reader.string()
        n_dims = reader.scalar("<I")
        if n_dims > 8:
            raise struct.error(f"tensor {name} claims {n_dims} dimensions")
        shape = tuple(reader.scalar("<Q") for _ in range(n_dims))
        tensors.append(TensorInfo(name, shape, reader.scalar("<I"), reader.scalar("<Q")))
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT) or DEFAULT_ALIGNMENT
    data_offset = -(-reader.pos // alignment) * alignment
    return GGUFInfo(path, version, metadata, tensors, file_size=size, data_offset=data_offset)


def _check_complete(info: GGUFInfo) -> None:
    end = info.data_offset
    for tensor in info.tensors:
        nbytes = tensor.nbytes
        if nbytes is not None:
            end = max(end, info.data_offset + tensor.offset + nbytes)
    if end > info.file_size:
        missing = end - info.file_size
        raise CorruptModelError(
            f"{info.path.name} is truncated: {missing:,} bytes of its weights are missing "
            f"(expected at least {end:,} bytes, found {info.file_size:,})."
        )
