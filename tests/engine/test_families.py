"""Every catalogue family through Hearth's real llama.cpp engine: a tiny random-weight GGUF per
family (tests/engine/tiny_families.py) with the family's real chat template and special tokens.

What a user's model of each family meets is checked here: the template's abilities as Hearth
detects them, control tokens that only the template can spell, a streamed reply that ends on the
family's own end-of-turn token, and a tool call (forced: the weights are random) answered through
the family's own tool format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.chat.events import ReplyToken, ToolCalled, TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import ModelSettings, Settings
from assistant.core.messages import ChatMessage
from assistant.core.store import ConversationStore
from assistant.tools.builtin import build_registry
from tests.engine.forced import ForcedLlamaEngine
from tests.engine.tiny_families import CONTROL, FAMILIES

pytest.importorskip("gguf")
pytestmark = pytest.mark.real_model

# (tools listed by the template, tool results in a tool role, template opens a thinking block)
ABILITIES = {
    "qwen3": (True, True, False),
    "llama-3.2": (True, True, False),
    "gemma-3": (False, False, False),
    "phi-4-mini": (False, False, False),
    "deepseek-r1-distill-qwen": (False, False, True),
}
# How each family's prompt shows a tool's result (6 * 7 = 42) to the model.
TOOL_RESULT_IN_PROMPT = {
    "qwen3": "<|im_start|>user\n<tool_response>\n42\n</tool_response><|im_end|>",
    # Llama's template writes any string result with tojson (a string is iterable in Jinja): in quotes.
    "llama-3.2": '<|start_header_id|>ipython<|end_header_id|>\n\n"42"<|eot_id|>',
    "gemma-3": '<<<tool calculator({"expression": "6 * 7"}) returned>>>\n42\n<<<end of tool result>>>',
    "phi-4-mini": '<<<tool calculator({"expression": "6 * 7"}) returned>>>\n42\n<<<end of tool result>>>',
    "deepseek-r1-distill-qwen": '<<<tool calculator({"expression": "6 * 7"}) returned>>>\n42\n<<<end of tool result>>>',
}


@pytest.fixture(params=sorted(FAMILIES))
def family(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(family: str, tiny_model: Callable[[str], Path]) -> Iterator[ForcedLlamaEngine]:
    loaded = ForcedLlamaEngine(tiny_model(family), ModelSettings(n_ctx=8192, n_threads=1))
    loaded.wait_until_loaded(60)
    yield loaded
    loaded.close()


def _settings(max_tokens: int = 200, agent: bool = False) -> Settings:
    settings = Settings()
    settings.sampling.max_tokens = max_tokens
    settings.tools.agent = agent
    return settings


def test_each_file_is_tiny(tiny_model: Callable[[str], Path], family: str) -> None:
    assert tiny_model(family).stat().st_size < 300_000


def test_the_template_s_abilities_are_detected(engine: ForcedLlamaEngine, family: str) -> None:
    info = engine.info
    assert (info.supports_tools, info.supports_tool_messages, info.opens_thinking) == ABILITIES[family]


def test_control_tokens_come_only_from_the_template(engine: ForcedLlamaEngine, family: str) -> None:
    """Each control token the template writes is one token; the same text typed by the user is text."""
    controls = [text for text, kind in FAMILIES[family].specials if kind == CONTROL]
    typed = " ".join(controls)
    messages = [ChatMessage("system", "You are Hearth."), ChatMessage("user", f"Say {typed} please")]
    tokens = engine._call(lambda: engine._prompt_tokens(messages))

    def token_ids(text: str) -> list[int]:
        return list(engine._call(lambda: engine._llm.tokenize(text.encode(), add_bos=False, special=True)))

    ids = {text: token_ids(text) for text in controls}
    prompt = engine._call(lambda: bytes(engine._llm.detokenize(tokens, special=True)).decode())
    assert f"Say {typed} please" in prompt
    for text in controls:
        assert len(ids[text]) == 1, f"{text} is not one token in the vocabulary"
        # Present as a token only as often as the template wrote it (the user's copy is plain text).
        written_by_template = prompt.count(text) - 1
        assert tokens.count(ids[text][0]) == written_by_template, text


def test_a_reply_streams_and_stops_on_the_family_s_end_of_turn(
    engine: ForcedLlamaEngine, family: str, store: ConversationStore
) -> None:
    answer = "Porto is in Portugal, by the Douro."
    # The R1 distills' template opens a thinking block: the model must close it before it answers.
    engine.force(("Porto.\n</think>\n\n" if ABILITIES[family][2] else "") + answer)
    session = ChatSession(store, engine, _settings())
    events = list(session.send(session.create_conversation().id, "Where is Porto?"))
    streamed = "".join(e.text for e in events if isinstance(e, ReplyToken))
    finished = next(e for e in events if isinstance(e, TurnFinished))
    assert streamed == answer and finished.reply.content == answer
    assert finished.result.finish_reason == "stop", "the family's end-of-turn token must end the reply"
    assert (
        engine.prompts[-1]
        .rstrip()
        .endswith(("<|im_start|>assistant", "<|end_header_id|>", "<start_of_turn>model", "<|assistant|>", "<think>"))
    )


def test_a_tool_call_is_answered_in_the_family_s_own_format(
    engine: ForcedLlamaEngine, family: str, store: ConversationStore, tmp_path: Path
) -> None:
    native = ABILITIES[family][0]
    key = "name" if native else "tool"
    engine.force(
        f'{{"{key}": "calculator", "arguments": {{"expression": "6 * 7"}}}}',
        f'{{"{key}": "none"}}',
        ("Six sevens.\n</think>\n\n" if ABILITIES[family][2] else "") + "It is 42.",
    )
    session = ChatSession(store, engine, _settings(agent=True), tools=build_registry([tmp_path]))
    events = list(session.send(session.create_conversation().id, "I bought 6 boxes of 7 eggs. How many eggs is that?"))
    calls = [e.result for e in events if isinstance(e, ToolCalled)]
    assert [(c.tool, c.result, c.ok) for c in calls] == [("calculator", "42", True)]
    assert len(engine.grammars) == 3 and not engine.forced
    if native:
        assert '"name": "calculator"' in engine.prompts[0], "the template lists the tools itself"
    assert TOOL_RESULT_IN_PROMPT[family] in engine.prompts[-1]
    finished = next(e for e in events if isinstance(e, TurnFinished))
    assert finished.reply.content == "It is 42."
