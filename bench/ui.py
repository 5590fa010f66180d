"""UI responsiveness, measured in the real window (offscreen), in one process.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui.py [--tokens 1000] [--messages 500]

Streams ``--tokens`` tokens from the scripted engine (faster than any real model, so the UI is the
bottleneck) into an empty conversation and into one of ``--messages`` messages, and reports the
longest UI-thread stall, the number of repaints of the reply, and the cost of one streamed update
at message 1 against message N. Also: the time to open the long conversation until its widgets
are shown. Then the realistic case: a ``--rich-kb`` KB Markdown reply (code blocks, a table,
lists) streamed at ``--rich-tokens-per-s`` (a real model's pace), where every update renders
Markdown and Pygments. Targets: longest stall < 50 ms; opening 500 messages < 300 ms; update
cost flat. Beside the stalls, the UI thread's own CPU time in its longest burst: on a loaded
machine a stall is mostly the wait for a core, and that column is the window's own work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


from PySide6.QtCore import QElapsedTimer, QObject


class TimedHandler(QObject):
    """A receiver on the UI thread, so the worker's queued signal runs the window's handler there
    (a plain function as the slot ran it on the worker's thread, timing only a queued emit)."""

    def __init__(self, handler: Callable[[int, int, str], None], costs: list[float]) -> None:
        super().__init__()
        self._handler = handler
        self.costs = costs

    def timed(self, conversation_id: int, message_id: int, text: str) -> None:
        clock = QElapsedTimer()
        clock.start()
        self._handler(conversation_id, message_id, text)
        self.costs.append(clock.nsecsElapsed() / 1e6)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--token-delay-ms", type=float, default=2.0)
    parser.add_argument("--rich-kb", type=float, default=10.0)
    parser.add_argument("--rich-tokens-per-s", type=float, default=60.0)
    args = parser.parse_args()
    os.environ["HEARTH_HOME"] = tempfile.mkdtemp(prefix="hearth-bench-ui-")

    from PySide6.QtWidgets import QApplication

    from assistant.app import Hearth
    from assistant.config import Settings
    from assistant.ui.stall import StallMeter
    from tests.fakes import ScriptedEngine

    app = QApplication.instance() or QApplication([])
    from assistant.chat.summary import SUMMARY_INSTRUCTIONS

    replies = {"reply": " ".join(f"word{n}" for n in range(args.tokens))}

    def respond(messages: list) -> str:  # type: ignore[type-arg]
        # The long conversation outgrows the window: its summary folds get a short answer.
        return "A summary." if messages[0].content == SUMMARY_INSTRUCTIONS else replies["reply"]

    engine = ScriptedEngine(token_delay_s=args.token_delay_ms / 1000, responder=respond)
    settings = Settings()
    settings.sampling.max_tokens = 6000  # the replies here are longer than the default 512
    settings.memory.enabled = False  # no extraction turns between the measured ones
    hearth = Hearth(settings, engine_factory=lambda settings: engine)
    window = hearth.window

    def wait_for(condition, timeout_s: float = 120.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout_s
        while not condition():
            app.processEvents()
            time.sleep(0.001)
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not get there in time")

    hearth.show()
    wait_for(lambda: window.model_state == "ready")

    store = hearth.store
    long_conversation = store.create(title="Long")
    for n in range(args.messages // 2):
        store.add_message(long_conversation.id, "user", f"Question {n}: how do I sort a list in Python?")
        store.add_message(
            long_conversation.id,
            "assistant",
            f"Answer {n}: use `sorted()`.\n\n```python\nprint(sorted([3, 1, 2]))\n```\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |",
        )
    window.refresh_conversations()

    update_costs: list[float] = []
    original = window._on_reply_text

    handler = TimedHandler(original, update_costs)
    hearth.worker.replyTextChanged.disconnect(window._on_reply_text)
    hearth.worker.replyTextChanged.connect(handler.timed)

    def settle(seconds: float = 0.3) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)

    long_stalls: list[int] = []
    cpu_bursts: list[float] = []

    class CpuStallMeter(StallMeter):
        """Also the UI thread's own CPU time between two ticks: on a loaded machine a stall is
        mostly waiting for a core, and this is the part that is the window's work."""

        def start(self) -> None:
            self.max_cpu_ms = 0.0
            self._cpu_s = time.thread_time()
            super().start()

        def _tick(self) -> None:
            now = time.thread_time()
            self.max_cpu_ms = max(self.max_cpu_ms, (now - self._cpu_s) * 1000)
            self._cpu_s = now
            super()._tick()

    def stream_into(conversation_id: int) -> tuple[float, int, float]:
        window.open_conversation(conversation_id)
        settle()
        update_costs.clear()
        meter = CpuStallMeter(parent=window)
        meter.start()
        window.input.setPlainText("Tell me a long story")
        window.send(window.input.toPlainText())
        settle(0.05)
        wait_for(lambda: not window.busy)
        max_stall = meter.stop()
        long_stalls.append(sum(1 for stall in meter.stalls_ms if stall > 50))
        cpu_bursts.append(meter.max_cpu_ms)
        return max_stall, len(update_costs), statistics.median(update_costs)

    empty = store.create(title="Empty")
    stall_empty, repaints_empty, cost_empty = stream_into(empty.id)
    stall_long, repaints_long, cost_long = stream_into(long_conversation.id)

    opening: list[float] = []
    opening_cpu: list[float] = []
    for _ in range(5):
        window.open_conversation(empty.id)
        app.processEvents()
        started = time.perf_counter()
        cpu_started = time.thread_time()
        window.open_conversation(long_conversation.id)
        app.processEvents()  # the queued shows of the new widgets
        opening.append((time.perf_counter() - started) * 1000)
        opening_cpu.append((time.thread_time() - cpu_started) * 1000)

    rich = rich_reply(int(args.rich_kb * 1024))
    replies["reply"] = rich
    engine.token_delay_s = 1 / args.rich_tokens_per_s
    rich_conversation = store.create(title="Rich")
    stall_rich, repaints_rich, cost_rich = stream_into(rich_conversation.id)
    max_cost_rich = max(update_costs)
    rich_pieces = engine.count_tokens(rich)

    stream_s = args.tokens * args.token_delay_ms / 1000
    print(f"# UI benchmark — {args.tokens} tokens streamed at {1000 / args.token_delay_ms:.0f} tokens/s")
    print(
        "| conversation | longest UI stall ms | longest UI CPU burst ms | reply repaints | median update handler ms |"
    )
    print("|---|---|---|---|---|")
    print(f"| new (message 1) | {stall_empty:.1f} | {cpu_bursts[0]:.1f} | {repaints_empty} | {cost_empty:.2f} |")
    print(
        f"| {args.messages + 2} messages | {stall_long:.1f} | {cpu_bursts[1]:.1f} | {repaints_long} | {cost_long:.2f} |"
    )
    print()
    print(
        f"# Realistic reply — {len(rich) / 1024:.1f} KB of Markdown (code blocks, a table, lists), "
        f"{rich_pieces} tokens at {args.rich_tokens_per_s:.0f} tokens/s"
    )
    print(
        "| conversation | longest UI stall ms | stalls over 50 ms | longest UI CPU burst ms | reply repaints "
        "| median update handler ms | max update handler ms |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| new (message 1) | {stall_rich:.1f} | {long_stalls[-1]} | {cpu_bursts[-1]:.1f} | {repaints_rich} "
        f"| {cost_rich:.2f} | {max_cost_rich:.2f} |"
    )
    print()
    print(f"repaint ceiling at 33 ms coalescing: about {stream_s / 0.033:.0f} for {stream_s:.1f} s of streaming")
    print(
        f"update handler cost, message {args.messages + 2} / message 1: {cost_long / cost_empty:.2f} (flat is 1.0);"
        " layout and paint land in the event loop and so in the stall column"
    )
    print(
        f"open a {args.messages}-message conversation: median {statistics.median(opening):.0f} ms "
        f"(min {min(opening):.0f}, max {max(opening):.0f}; target < 300 ms); UI-thread CPU time: median "
        f"{statistics.median(opening_cpu):.0f} ms"
    )
    window.close()
    hearth.shutdown()
    return 0


def rich_reply(size: int) -> str:
    """A long answer as a model writes one: headings, prose, lists, a table and code blocks."""
    sections = []
    n = 0
    while sum(len(section) for section in sections) < size:
        n += 1
        sections.append(
            f"## Step {n}: reading the data\n\n"
            "Start by loading the file and checking what it **really** holds; a `csv` module reader is "
            "enough for small files, and *pandas* pays off once the columns need types.\n\n"
            f"1. Open the file with an explicit encoding\n2. Skip the header row\n3. Convert column {n} to numbers\n"
            "   - empty cells become `None`\n   - a bad value is reported with its line number\n\n"
            "```python\n"
            f"def load_rows_{n}(path: str) -> list[dict[str, str]]:\n"
            "    import csv\n\n"
            "    with open(path, encoding='utf-8', newline='') as handle:\n"
            "        reader = csv.DictReader(handle)\n"
            "        return [row for row in reader if any(row.values())]\n"
            "```\n\n"
            "| option | meaning | default |\n|---|---|---|\n"
            '| `delimiter` | the field separator | `,` |\n| `quotechar` | quotes fields | `"` |\n'
            f"| `strict` | raise on bad input | `False` |\n\n"
            "> Note: a file exported from a spreadsheet may start with a byte-order mark; "
            "`utf-8-sig` reads it away.\n\n"
        )
    return "".join(sections)[:size]


if __name__ == "__main__":
    raise SystemExit(main())
