"""The reply as shown: the model's thinking counted without asking the model mid-reply, and none of
Hearth's own scaffolding in the answer, whatever the mode."""

from __future__ import annotations

from assistant.core.cancel import CancelToken
from assistant.core.messages import ChatMessage
from assistant.engine.base import SamplingOptions
from assistant.reasoning.modes import Stage
from assistant.reasoning.reply import ReplyStream, TurnStyle
from tests.fakes import ScriptedEngine

PROMPT = [ChatMessage("user", "What is 2 + 2?")]


def _run(engine: ScriptedEngine, style: TurnStyle | None = None) -> tuple[str, ReplyStream, list[list[Stage]]]:
    """Stream as the chat session does: its checkpoints read ``stages`` while the reply streams."""
    stream = ReplyStream(engine, style or TurnStyle())
    shown, checkpoints = [], []
    for item in stream.run(PROMPT, SamplingOptions(), CancelToken()):
        if isinstance(item, str):
            shown.append(item)
        checkpoints.append(stream.stages)
    return "".join(shown), stream, checkpoints


def test_the_thinking_is_counted_from_the_stream_while_the_model_still_writes() -> None:
    """The fake, like the real engine, cannot count tokens for the stream's own consumer mid-reply
    (the real one queues the count behind the generation: nothing reached the window until the end)."""
    engine = ScriptedEngine(["<think> Add two and two, then check. </think> Four."])
    shown, stream, checkpoints = _run(engine)
    assert shown == " Four." and stream.result is not None and stream.result.text == "Four."
    during = [stages[0] for stages in checkpoints if stages]
    assert during[0].name == "thinking" and during[0].tokens == 1
    final = stream.stages[0]
    # One per piece of it: six words, and the space the closing tag's piece began with.
    assert final.text == "Add two and two, then check." and final.tokens == 7


def test_hearths_markers_are_cut_from_a_direct_answer_even_split_across_pieces() -> None:
    engine = ScriptedEngine(["It failed.\n<<<end of tool result>>>\nDivision by zero is undefined."])
    shown, stream, _ = _run(engine)
    assert shown == stream.result.text == "It failed.\nDivision by zero is undefined."  # type: ignore[union-attr]


def test_an_answer_opening_with_hearths_instruction_has_it_cut() -> None:
    engine = ScriptedEngine(["Now answer my message itself, using your notes. Four."])
    shown, _, _ = _run(engine)
    assert shown == "Four."
