from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.core.errors import CorruptModelError, ModelNotFoundError, NotGGUFError
from assistant.core.units import human_bytes, human_count
from assistant.engine.gguf import read_gguf


def test_reads_the_bundled_models_header(model_path: Path) -> None:
    info = read_gguf(model_path)
    assert info.architecture == "llama"
    assert 130e6 < info.parameter_count < 140e6  # SmolLM2-135M
    assert info.quantization == "Q4_1"
    assert info.context_length == 8192
    assert info.chat_template and "<|im_start|>" in info.chat_template
    assert info.file_size == model_path.stat().st_size
    # Weights plus a KV cache: more than the file, and growing with the context.
    assert info.file_size < info.estimated_ram_bytes(2048) < info.estimated_ram_bytes(8192)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not found"):
        read_gguf(tmp_path / "nope.gguf")


@pytest.mark.parametrize("content", [b"", b"hello world, not a model at all", b"PK\x03\x04" + b"\0" * 100])
def test_a_file_that_is_not_gguf(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(NotGGUFError, match="not a GGUF"):
        read_gguf(path)


def test_truncated_weights_are_detected(tmp_path: Path, model_path: Path) -> None:
    path = tmp_path / "truncated.gguf"
    with model_path.open("rb") as source, path.open("wb") as target:
        target.write(source.read(model_path.stat().st_size // 2))
    with pytest.raises(CorruptModelError, match="truncated") as caught:
        read_gguf(path)
    assert "download it again" in caught.value.hint


def test_truncated_header_is_detected(tmp_path: Path, model_path: Path) -> None:
    path = tmp_path / "header-only.gguf"
    with model_path.open("rb") as source:
        path.write_bytes(source.read(5000))
    with pytest.raises(CorruptModelError, match="damaged"):
        read_gguf(path)


def test_garbage_after_the_magic(tmp_path: Path) -> None:
    path = tmp_path / "garbage.gguf"
    path.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + b"\xff" * 64)
    with pytest.raises(CorruptModelError):
        read_gguf(path)


def test_a_directory_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(NotGGUFError):
        read_gguf(tmp_path)


def test_copy_reads_the_same(tmp_path: Path, model_path: Path) -> None:
    copy = tmp_path / "copy.gguf"
    shutil.copy(model_path, copy)
    assert read_gguf(copy).parameter_count == read_gguf(model_path).parameter_count


def test_human_units() -> None:
    assert human_bytes(93.8 * 1024 * 1024) == "93.8 MB"
    assert human_count(134_515_008) == "134.5M"
    assert human_count(7_000_000_000) == "7.0B"
