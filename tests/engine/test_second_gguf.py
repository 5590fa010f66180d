"""A second real GGUF, built by the test: a tiny Qwen2 model with Qwen 2.5's template, loaded by
Hearth's real llama.cpp engine. Its weights are random: this tests plumbing, not answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.chat.session import ChatSession
from assistant.config import ModelSettings, Settings
from assistant.core.errors import MissingChatTemplateError
from assistant.core.messages import ChatMessage, ToolCall
from assistant.core.store import ConversationStore
from assistant.engine.base import SamplingOptions, complete
from assistant.engine.gguf import read_gguf
from assistant.engine.llama import LlamaEngine
from assistant.memory.extraction import Candidate, extract, grounded
from assistant.memory.long_term import LongTermMemory
from tests.engine.tiny_gguf import write_tiny_qwen2

pytest.importorskip("gguf")
pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def tiny(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("tiny") / "tiny-qwen2.gguf"
    return path, write_tiny_qwen2(path, model_path)


@pytest.fixture(scope="module")
def engine(tiny: tuple[Path, dict[str, int]]) -> Iterator[LlamaEngine]:
    loaded = LlamaEngine(tiny[0], ModelSettings(n_ctx=1024, n_threads=2))
    loaded.wait_until_loaded(120)
    yield loaded
    loaded.close()


def _exchange() -> list[ChatMessage]:
    call = ToolCall("call00001", "calculator", {"expression": "37 * 12.49"})
    return [
        ChatMessage("system", "You are Hearth."),
        ChatMessage("user", "What is 37 times 12.49?"),
        ChatMessage("assistant", "", (call,)),
        ChatMessage("tool", "462.13", tool_call_id=call.id, name=call.name),
    ]


def _prompt_text(engine: LlamaEngine, messages: list[ChatMessage], tools: list[dict[str, object]] | None = None) -> str:
    tokens = engine._call(lambda: engine._prompt_tokens(messages, tools=tools))  # type: ignore[arg-type]
    return bytes(engine._call(lambda: engine._llm.detokenize(tokens, special=True))).decode()


def test_the_qwen_template_in_the_file_is_detected_with_its_tool_support(engine: LlamaEngine) -> None:
    assert engine.gguf.architecture == "qwen2"
    assert engine.info.supports_tools and engine.info.supports_tool_messages


def test_tools_are_described_in_qwens_format(engine: LlamaEngine) -> None:
    tools = [{"type": "function", "function": {"name": "calculator", "description": "Arithmetic.", "parameters": {}}}]
    text = _prompt_text(engine, [ChatMessage("system", "You are Hearth."), ChatMessage("user", "Hi")], tools)
    assert text.startswith("<|im_start|>system\nYou are Hearth.\n\n# Tools\n")
    assert '<tools>\n{"type": "function", "function": {"name": "calculator"' in text


def test_tool_results_go_back_in_qwens_tool_role_and_generation_runs(engine: LlamaEngine) -> None:
    text = _prompt_text(engine, _exchange())
    assert '<tool_call>\n{"name": "calculator", "arguments": {"expression": "37 * 12.49"}}\n</tool_call>' in text
    ending = "<|im_start|>user\n<tool_response>\n462.13\n</tool_response><|im_end|>\n<|im_start|>assistant\n"
    assert text.endswith(ending)
    tokens = engine._call(lambda: engine._prompt_tokens(_exchange()))
    assert tokens.count(1) == 5, "each <|im_start|> is one control token; none is spelled by the content"
    result = complete(engine, _exchange(), SamplingOptions(max_tokens=4, seed=0))
    assert result.stats.prompt_tokens == len(tokens) and result.stats.completion_tokens >= 1


def test_a_separately_stored_tied_head_is_counted_once(tiny: tuple[Path, dict[str, int]]) -> None:
    path, counts = tiny
    assert counts["with_head"] > counts["without_head"]
    assert read_gguf(path).parameter_count == counts["without_head"]


def test_the_same_model_without_a_template_names_every_format_including_qwen(model_path: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare.gguf"
    write_tiny_qwen2(bare, model_path, chat_template=None, separate_head=False)
    with pytest.raises(MissingChatTemplateError) as raised:
        LlamaEngine(bare, ModelSettings(n_ctx=256))
    assert "'qwen2.5'" in raised.value.hint and "'chatml'" in raised.value.hint


def test_what_memory_saves_from_a_second_model_is_grounded_in_the_users_words(
    engine: LlamaEngine, store: ConversationStore, make_memory: Callable[..., LongTermMemory]
) -> None:
    """Random weights propose anything (the plumbing, not the model, is under test): whatever the
    extraction returns, only facts whose names and numbers the user wrote are kept."""
    message = "My sister Ana lives in Porto and is allergic to peanuts."
    proposed = extract(engine, message, "Noted.").candidates
    memory = make_memory()
    settings = Settings()
    settings.sampling.max_tokens = 8
    session = ChatSession(store, engine, settings, memory=memory)
    list(session.send(session.create_conversation().id, message))
    saved = [m.text for m in memory.store.memories()]
    assert all(grounded(Candidate(text), message) for text in saved), (saved, proposed)
