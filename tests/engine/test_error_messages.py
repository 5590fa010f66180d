"""The messages a user reads when a model or a chat format is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli
from assistant.core.errors import CorruptModelError, MissingChatTemplateError, TemplateError
from assistant.engine.gguf import GGUFInfo, TensorInfo, read_gguf
from assistant.engine.llama import LlamaEngine
from assistant.engine.templates import BUILTIN_FORMATS, builtin_format
from tests.engine.test_llama import _without_template


def test_a_cut_header_is_described_in_words_not_as_a_struct_error(tmp_path: Path, model_path: Path) -> None:
    path = tmp_path / "header-only.gguf"
    with model_path.open("rb") as source:
        path.write_bytes(source.read(5000))
    with pytest.raises(CorruptModelError) as caught:
        read_gguf(path)
    assert "ends in the middle of its header" in caught.value.message
    assert "unpack" not in caught.value.message and "buffer" not in caught.value.message


def test_the_missing_template_hint_lists_every_builtin_format(tmp_path: Path, model_path: Path) -> None:
    with pytest.raises(MissingChatTemplateError) as caught:
        LlamaEngine(_without_template(model_path, tmp_path / "base.gguf"))
    assert all(f"'{name}'" in caught.value.hint for name in BUILTIN_FORMATS), caught.value.hint
    assert "'qwen2.5'" in MissingChatTemplateError("x").hint


def test_an_unknown_chat_format_names_the_way_out() -> None:
    with pytest.raises(TemplateError) as caught:
        builtin_format("foo")
    assert "qwen2.5" in caught.value.message
    assert "template failed" not in caught.value.hint and "--chat-format" in caught.value.hint


def test_a_json_command_that_fails_prints_a_json_error_on_stdout(
    hearth_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["ask", "--json", "--chat-format", "foo", "hi"]) == 1
    out, err = capsys.readouterr()
    error = json.loads(out)
    assert error["kind"] == "TemplateError" and "Unknown chat format 'foo'" in error["error"]
    assert err.startswith("hearth: Unknown chat format"), "the text stays on stderr"


def _info(label: str | None, blocks: int) -> GGUFInfo:
    tensors = [TensorInfo("token_embd.weight", (896, 151936), 0, 0), TensorInfo("output.weight", (896, 151936), 0, 0)]
    tensors += [TensorInfo(f"blk.{n}.ffn.weight", (896, 4864 * 3), 0, 0) for n in range(blocks)]
    metadata = {"general.size_label": label} if label else {}
    return GGUFInfo(Path("m.gguf"), 3, metadata, tensors, file_size=0, data_offset=0)


def test_a_separately_stored_tied_head_is_counted_once() -> None:
    embedding = 896 * 151936
    tied = _info("0.5B", 28)  # about Qwen2.5-0.5B's shapes: the head repeats the embedding
    assert tied.parameter_count == embedding + 28 * 896 * 4864 * 3
    untied = _info("8B", 560)  # a head of its own, as Llama 3 has: the label includes it
    assert untied.parameter_count == 2 * embedding + 560 * 896 * 4864 * 3
    assert _info(None, 28).parameter_count == 2 * embedding + 28 * 896 * 4864 * 3, "no label: nothing to go on"
