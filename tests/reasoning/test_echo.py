"""Think mode's answer does not just repeat the question, nor open with a frame the model made up."""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.core.cancel import CancelToken
from assistant.core.messages import ChatMessage
from assistant.engine.base import Engine, GenerationResult, SamplingOptions
from assistant.reasoning.echo import ScaffoldingFilter, only_echo, strip_echo
from assistant.reasoning.modes import ECHO_NOTE, ThinkingRunner
from tests.fakes import ScriptedEngine

QUESTION = "Why is the sky blue?"
PROMPT = [ChatMessage("system", "You are Hearth."), ChatMessage("user", QUESTION)]
ANSWER = "Sunlight scatters off the air's molecules, and blue light scatters the most, so the sky looks blue."


def _think(engine: ScriptedEngine) -> tuple[list[str], GenerationResult, ThinkingRunner]:
    runner = ThinkingRunner(engine)
    items = list(runner.run("think", PROMPT, SamplingOptions(), CancelToken()))
    result = items[-1]
    assert isinstance(result, GenerationResult)
    return [i for i in items if isinstance(i, str)], result, runner


def test_an_invented_question_frame_is_cut_before_it_streams() -> None:
    long_answer = f"{ANSWER} {ANSWER}"
    engine = ScriptedEngine(["1. Light scatters.", f"<<<Question: {QUESTION}>>>\n{long_answer}"])
    pieces, result, runner = _think(engine)
    assert "".join(pieces) == result.text == long_answer
    assert len(pieces) > 1, "what follows the held-back opening still streams"
    assert "cut" in runner.stages[-1].note


def test_a_repeated_question_before_the_answer_is_cut() -> None:
    engine = ScriptedEngine(["1. Light scatters.", f"{QUESTION}\n\n{ANSWER}"])
    pieces, result, _ = _think(engine)
    assert "".join(pieces) == result.text == ANSWER


def test_an_answer_that_only_repeats_the_question_is_replaced_by_a_direct_answer() -> None:
    engine = ScriptedEngine(["1. Light scatters.", f"Question: {QUESTION}", ANSWER])
    pieces, result, runner = _think(engine)
    assert "".join(pieces) == result.text == ANSWER
    assert engine.history[-1] == PROMPT, "the direct answer is asked with the plain prompt"
    assert [s.name for s in runner.stages] == ["plan", "answer (discarded)", "answer"]
    assert runner.stages[1].note == ECHO_NOTE


def test_an_answer_that_only_repeats_hearths_instruction_is_replaced_by_a_direct_answer() -> None:
    engine = ScriptedEngine(["1. Light scatters.", "Now answer my message.", ANSWER])
    pieces, result, runner = _think(engine)
    assert "".join(pieces) == result.text == ANSWER
    assert [s.name for s in runner.stages] == ["plan", "answer (discarded)", "answer"]


def test_strip_echo_keeps_answers_that_merely_mention_the_question() -> None:
    assert strip_echo("Blue light scatters more. That is why the sky is blue.", QUESTION).startswith("Blue light")
    assert strip_echo("## Why blue?\nBecause of scattering.", QUESTION).startswith("## Why blue?")
    assert strip_echo("(Background for your reply; do not mention it.)\nIt scatters.", QUESTION) == "It scatters."
    assert only_echo("<<<Question: Why is the sky blue?>>>\nwhy is the sky blue", QUESTION)
    assert not only_echo("Scattering.", QUESTION)


@pytest.mark.real_model
def test_the_bundled_models_think_answers_neither_echo_nor_frame(real_engine: Engine) -> None:
    """Seeded: the same answers every run. The 135M model's answers are weak; only their opening is checked."""
    for question in ("Why is the sky blue?", "What is the capital of France?"):
        prompt = [ChatMessage("system", Settings().context.system_prompt), ChatMessage("user", question)]
        runner = ThinkingRunner(real_engine)
        items = list(runner.run("think", prompt, SamplingOptions(max_tokens=48, seed=1), CancelToken()))
        answer = items[-1]
        assert isinstance(answer, GenerationResult) and answer.text.strip()
        assert strip_echo(answer.text, question) == answer.text.strip(), answer.text
        assert not answer.text.lstrip().startswith(("<<<", "(Background", "Question:"))


def _filtered(text: str, instructions: tuple[str, ...] = ("Now answer my message itself, using your notes.",)) -> str:
    """Fed one character at a time: a marker or an echo split anywhere is still found."""
    guard = ScaffoldingFilter(instructions)
    shown = "".join(guard.feed(char) for char in text) + guard.finish()
    assert shown == guard.text
    return shown


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Done.\n<<<end of tool result>>>\nBye.", "Done.\nBye."),
        ("See <<<passage [2] from notes.txt>>> there.", "See  there."),
        ("‹‹‹end of passage [1]›››\nThe answer.", "The answer."),
        ("<<<Question: why?>>>\nBecause.", "Because."),
        ("Now answer my message. Four.", "Four."),
        ("Now answer my message itself, using your notes.\nFour.", "Four."),
        ("(Background for the answer; not following instructions) Answer: four.", "Answer: four."),
        ("(Background for your reply; do not mention it.)\nFour.", "Four."),
        ("(Backed up by the data) four.", "(Backed up by the data) four."),
        # Left alone: a shell here-string, a conflict marker, comparisons, an answer that begins alike.
        ('grep x <<< "$line"\ndone', 'grep x <<< "$line"\ndone'),
        ("<<<<<<< HEAD\n=======\n>>>>>>> main", "<<<<<<< HEAD\n=======\n>>>>>>> main"),
        ("a << b and c >> d", "a << b and c >> d"),
        ("Now answer this: four.", "Now answer this: four."),
    ],
)
def test_the_scaffolding_filter(text: str, shown: str) -> None:
    assert _filtered(text) == shown


def test_an_ordinary_answer_is_not_held_back() -> None:
    guard = ScaffoldingFilter(("Now answer my message itself, using your notes.",))
    assert guard.feed("Paris") == "Paris"
    assert guard.feed(" is <") == " is "  # a "<" could open a marker: held until it cannot
    assert guard.feed("b>") == "<b>"
