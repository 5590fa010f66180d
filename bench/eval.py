"""What Hearth gets out of a model: the same fixed set on each available model, in one process.

    .venv/bin/python bench/eval.py [--model PATH ...] [--threads N]

The bundled model always; each --model GGUF too (any chat model llama.cpp can run). Temperature 0,
so a model gives the same figures every run. For each model:

(a) memory-extraction precision: of the facts Hearth would save from a few first-person
    statements (the model's proposals after the grounding filter), the share wholly supported by
    the message (every content word, name and number the user's); and the raw proposals' share.
(b) tool-turn termination: of tools-on decisions for questions and chit-chat, the share whose loop
    ended with the model choosing "none" (not a repeat or the step limit); and how many chit-chat
    messages made a tool call.
(c) tool-result use: answers to worded arithmetic (the fast path does not catch it) that contain
    the calculator's result, of those where the call succeeded.
(d) answers from documents: questions on tests/data/eval answered with the right value, and citing
    a passage from the right file.
(e) think mode: answer stages that repeated the question or opened with a made-up frame (their
    opening cut, or discarded for a direct answer), of the questions asked.

``--chat-format NAME`` runs the bundled model once more with that built-in template (qwen2.5: tool
results in Qwen's <tool_response>, the tool-role path).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.chat.events import TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import KnowledgeSettings, ModelSettings, Settings, apply_offline_environment
from assistant.core.cancel import CancelToken
from assistant.core.messages import ChatMessage
from assistant.core.store import ConversationStore
from assistant.engine.base import SamplingOptions
from assistant.engine.llama import LlamaEngine
from assistant.engine.model_choice import bundled_model_path
from assistant.knowledge.library import Library
from assistant.memory.extraction import Candidate, extract, grounded, support
from assistant.reasoning.modes import ThinkingRunner
from assistant.tools.agent import ToolAgent
from assistant.tools.builtin import build_registry
from tests.fakes import HashingEmbedder

EVAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "eval"
STATEMENTS = [
    "My sister Ana lives in Porto and is allergic to peanuts.",
    "I work as a nurse in Leeds and my son Tom is 7.",
    "I moved to Berlin in 2019.",
    "My wife Clara prefers tea to coffee.",
]
CHIT_CHAT = ["Hello!", "Thanks, that was helpful.", "Tell me a joke.", "I had a lovely walk today."]
TOOL_QUESTIONS = ["What is 37 times 12.49?", "What time is it?", "How much is 15 percent of 80?"]
WORDED_ARITHMETIC = [("What is 37 times 12.49?", "462.13"), ("What is 345 times 678 plus 12?", "233922")]
DOCUMENT_QUESTIONS = 5
THINK_QUESTIONS = [
    "Why is the sky blue?",
    "What is the capital of France?",
    "How do I boil an egg?",
    "Is a tomato a fruit?",
]


def fully_supported(text: str, message: str) -> bool:
    return grounded(Candidate(text), message) and support(text, message) == 1.0


def memory_precision(engine: LlamaEngine) -> tuple[int, int, int, int]:
    """(saved and wholly supported, saved, proposed and wholly supported, proposed)."""
    saved = saved_ok = proposed = proposed_ok = 0
    for message in STATEMENTS:
        for candidate in extract(engine, message, "That is good to know.").candidates:
            ok = fully_supported(candidate.text, message)
            proposed, proposed_ok = proposed + 1, proposed_ok + ok
            if grounded(candidate, message):
                saved, saved_ok = saved + 1, saved_ok + ok
    return saved_ok, saved, proposed_ok, proposed


def tool_termination(engine: LlamaEngine, system: str) -> tuple[int, int]:
    """(tool questions whose loop ended with the model choosing "none", chit-chat messages that called a tool)."""
    registry = build_registry([])
    ended = chatty = 0
    for message in [*TOOL_QUESTIONS, *CHIT_CHAT]:
        agent = ToolAgent(registry, engine)
        results = list(agent.run([ChatMessage("system", system), ChatMessage("user", message)], CancelToken()))
        if message in CHIT_CHAT:
            chatty += bool(results)
            continue
        with contextlib.suppress(json.JSONDecodeError, AttributeError):
            ended += json.loads(agent.last_decision).get(agent.key) == "none"
    return ended, chatty


def _settings() -> Settings:
    settings = Settings()
    settings.sampling.temperature = 0.0
    settings.sampling.seed = 0
    settings.sampling.max_tokens = 64
    return settings


def result_use(engine: LlamaEngine, tmp: Path) -> tuple[int, int]:
    """(answers containing the successful call's result, turns with a successful call)."""
    store = ConversationStore(tmp / "tools.db")
    session = ChatSession(store, engine, _settings(), tools=build_registry([]))
    used = succeeded = 0
    for question, _ in WORDED_ARITHMETIC:
        conversation = store.create()
        store.set_options(conversation.id, {"tools": True})
        finished = next(e for e in session.send(conversation.id, question) if isinstance(e, TurnFinished))
        results = [c["result"] for c in finished.tool_calls if c["ok"] and c["tool"] == "calculator"]
        if results:
            succeeded += 1
            used += any(r.split(" ≈ ")[-1] in finished.reply.content for r in results)
    store.close()
    return used, succeeded


def documents(engine: LlamaEngine, tmp: Path) -> tuple[int, int, int]:
    """(right answers, right citations, questions)."""
    docs = tmp / "docs"
    shutil.copytree(EVAL, docs)
    (docs / "questions.json").unlink()
    library = Library(tmp / "home", KnowledgeSettings(), HashingEmbedder())  # type: ignore[arg-type]
    library.add("home", [docs])
    library.sync("home")
    store = ConversationStore(tmp / "docs.db")
    session = ChatSession(store, engine, _settings(), retrieve=lambda names, q: library.search(q, names))
    questions = json.loads((EVAL / "questions.json").read_text())[:DOCUMENT_QUESTIONS]
    right = cited = 0
    for item in questions:
        conversation = store.create()
        store.set_options(conversation.id, {"collections": ["home"]})
        finished = next(e for e in session.send(conversation.id, item["question"]) if isinstance(e, TurnFinished))
        answer = finished.reply.content
        right += item["answer"].lower() in answer.lower()
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer)}
        cited += any(s["n"] in numbers and s["path"].endswith(item["file"]) for s in finished.sources)
    store.close()
    library.close()
    return right, cited, len(questions)


def think_echoes(engine: LlamaEngine, system: str) -> int:
    """Think-mode answers whose stage repeated the question or a frame (cut or discarded)."""
    echoed = 0
    for question in THINK_QUESTIONS:
        runner = ThinkingRunner(engine)
        prompt = [ChatMessage("system", system), ChatMessage("user", question)]
        list(runner.run("think", prompt, SamplingOptions(temperature=0.0, max_tokens=64, seed=0), CancelToken()))
        echoed += any(stage.name.startswith("answer") and stage.note for stage in runner.stages)
    return echoed


def evaluate(model: Path, threads: int, chat_format: str | None = None) -> str:
    engine = LlamaEngine(model, ModelSettings(n_ctx=4096, n_threads=threads, chat_format=chat_format))
    engine.wait_until_loaded(120)
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            saved_ok, saved, proposed_ok, proposed = memory_precision(engine)
            ended, chatty = tool_termination(engine, Settings().context.system_prompt)
            used, succeeded = result_use(engine, tmp)
            right, cited, asked = documents(engine, tmp)
            echoed = think_echoes(engine, Settings().context.system_prompt)
    finally:
        engine.close()
    name = model.name + (f" with the {chat_format} template" if chat_format else "")
    return (
        f"| {name} | {saved_ok}/{saved} saved ({proposed_ok}/{proposed} proposed) "
        f"| {ended}/{len(TOOL_QUESTIONS)} | {chatty}/{len(CHIT_CHAT)} | {used}/{succeeded} | {right}/{asked} answer, "
        f"{cited}/{asked} citation | {echoed}/{len(THINK_QUESTIONS)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", action="append", type=Path, default=[], help="another GGUF chat model")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--chat-format", help="also run the bundled model with this built-in template")
    args = parser.parse_args()
    apply_offline_environment()
    bundled = bundled_model_path()
    models = ([bundled] if bundled else []) + list(args.model)
    print(
        "| model | memory precision (wholly supported) | tool loops ending with none | chit-chat calling a tool "
        "| tool result in answer | documents | think answers echoing the question |"
    )
    print("|---|---|---|---|---|---|---|")
    for model in models:
        print(evaluate(model, args.threads), flush=True)
    if bundled and args.chat_format:
        print(evaluate(bundled, args.threads, args.chat_format), flush=True)


if __name__ == "__main__":
    main()
