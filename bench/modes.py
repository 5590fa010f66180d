"""What each thinking mode costs on the bundled model, stage by stage, in one process.

    .venv/bin/python bench/modes.py

A conversation of three turns, then one more message answered in each mode (temperature 0, 48
tokens a stage): per stage, the prompt's tokens, how many llama.cpp had to evaluate (the rest came
from the KV cache), the tokens written and the time; and each mode's total time against direct.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.chat.events import TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import ModelSettings, Settings, apply_offline_environment
from assistant.core.store import ConversationStore
from assistant.engine.llama import LlamaEngine
from assistant.engine.model_choice import bundled_model_path
from assistant.reasoning.reply import TurnStyle

EARLIER = ["I keep bees in my garden.", "How many hives do beginners keep?", "What do bees eat in winter?"]
QUESTION = "How much honey can one hive give in a year?"


def main() -> None:
    apply_offline_environment()
    model = bundled_model_path()
    assert model is not None
    engine = LlamaEngine(model, ModelSettings(n_ctx=4096))
    settings = Settings()
    settings.sampling.max_tokens = 48
    settings.sampling.temperature = 0.0
    totals: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = ConversationStore(Path(tmp) / "c.db")
        session = ChatSession(store, engine, settings)
        print(f"{'mode':<7} {'stage':<12} {'prompt':>6} {'evaluated':>9} {'written':>7} {'s':>6}")
        for mode in ("direct", "think", "refine", "vote"):
            conversation = session.create_conversation()
            for text in EARLIER:
                list(session.send(conversation.id, text))
            started = time.perf_counter()
            events = list(session.send(conversation.id, QUESTION, style=TurnStyle(mode)))  # type: ignore[arg-type]
            totals[mode] = time.perf_counter() - started
            finished = next(e for e in events if isinstance(e, TurnFinished))
            stages = finished.reply.stats.get("stages") or [
                {
                    "name": "answer",
                    "prompt_tokens": finished.stats.prompt_tokens,
                    "prompt_tokens_evaluated": finished.stats.prompt_tokens_evaluated,
                    "tokens": finished.stats.completion_tokens,
                    "duration_s": finished.stats.total_s,
                }
            ]
            for stage in stages:
                print(
                    f"{mode:<7} {stage['name']:<12} {stage.get('prompt_tokens', '-'):>6} "
                    f"{stage.get('prompt_tokens_evaluated', '-'):>9} {stage['tokens']:>7} {stage['duration_s']:>6.2f}"
                )
        store.close()
    print("\ntotal time for the message, against direct:")
    for mode, seconds in totals.items():
        print(f"  {mode:<7} {seconds:6.2f} s  ({seconds / totals['direct']:.1f}x)")
    engine.close()


if __name__ == "__main__":
    main()
