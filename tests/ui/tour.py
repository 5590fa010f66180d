"""A screenshot tour of the window, as a new user meets it: empty, a long code reply streaming, an
answer with citations from a library, the stages of a thinking mode with the Confidence tint, the
dark theme, and a small 800x600 window.

In a real X11 window (the pictures are what the X server shows):

    PYTHONPATH=. xvfb-run -s '-screen 0 1366x768x24' .venv/bin/python -m tests.ui.tour artifacts/tour

tests/ui/test_tour.py runs the same tour offscreen in ``make test`` (into artifacts/tour/offscreen).
The engine is the scripted one and the library's embedder the hashing one: the pictures are of the
window, not of the model's wisdom.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF
from PySide6.QtGui import QCursor, QEnterEvent, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

SHOTS = (
    "01-empty",
    "02-streaming-code",
    "03-code-reply-hover",
    "04-citations",
    "05-stages-confidence",
    "06-dark-code",
    "07-dark-stages",
    "08-small-800x600",
)

CODE_REPLY = "Here is a small CSV reader with types, in three steps.\n\n" + "".join(
    f"## Step {n}\n\nRead the rows and convert column {n}; a bad value names its line.\n\n"
    "```python\n"
    f"def load_rows_{n}(path: str) -> list[dict[str, str]]:\n"
    "    import csv\n\n"
    "    with open(path, encoding='utf-8', newline='') as handle:\n"
    "        reader = csv.DictReader(handle)\n"
    "        return [row for row in reader if any(row.values())]\n"
    "```\n\n"
    "| option | meaning |\n|---|---|\n| `delimiter` | the separator |\n| `strict` | raise on bad input |\n\n"
    for n in range(1, 4)
)
MANUAL = (
    "Kettle manual.\n\nDescale the kettle every 90 days with citric acid. Fill it to the MAX mark, "
    "boil, leave it for an hour and rinse twice.\n\nNever immerse the base in water."
)


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Run the event loop until ``condition`` holds."""
    app = QApplication.instance()
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()  # type: ignore[union-attr]
        time.sleep(0.005)


def settle(rounds: int = 30) -> None:
    app = QApplication.instance()
    for _ in range(rounds):
        app.processEvents()  # type: ignore[union-attr]
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def grab(window: QWidget) -> QPixmap:
    """What the X server shows of the window under X11; the widget's own painting elsewhere."""
    if QApplication.platformName() == "xcb":
        return window.screen().grabWindow(window.winId())
    return window.grab()


def hover(widget: QWidget) -> None:
    """The pointer over ``widget``: moved there for real under X11, an enter event elsewhere."""
    if QApplication.platformName() == "xcb":
        QCursor.setPos(widget.mapToGlobal(widget.visibleRegion().boundingRect().center()))
        wait_until(lambda: widget.underMouse(), timeout_s=5)
    else:
        QApplication.sendEvent(widget, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))


def run_tour(out: Path) -> list[Path]:
    """Takes the tour's pictures into ``out``; returns their paths (in the order of SHOTS)."""
    from assistant.app import Hearth, apply_theme
    from assistant.config import KnowledgeSettings, Settings
    from assistant.knowledge.library import Library
    from tests.fakes import HashingEmbedder, ScriptedEngine

    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    scratch = tempfile.TemporaryDirectory(prefix="hearth-tour-", ignore_cleanup_errors=True)
    home = Path(scratch.name)
    engine = ScriptedEngine(token_delay_s=0.004)
    settings = Settings()
    settings.memory.enabled = False
    (home / "lib").mkdir()
    library = Library(home / "lib", KnowledgeSettings(), HashingEmbedder())
    hearth = Hearth(settings, engine_factory=lambda s: engine, library=library)
    window = hearth.window
    paths: list[Path] = []

    def shot(name: str) -> None:
        settle()
        path = out / f"{name}.png"
        assert grab(window).save(str(path)), path
        paths.append(path)

    def new_chat() -> None:
        before = window.conversation_id
        window.new_action.trigger()  # the conversation is made off the UI thread
        wait_until(lambda: window.conversation_id not in (None, before) and window.operations.pending == 0)

    def send(text: str, *replies: str) -> None:
        engine.enqueue(*replies)
        window.input.setPlainText(text)
        window.send(text)

    try:
        hearth.show()
        wait_until(lambda: window.model_state == "ready")
        shot("01-empty")

        new_chat()
        code_chat = window.conversation_id
        send("How do I read a CSV file with types in Python?", CODE_REPLY)
        wait_until(lambda: len(window.messages.messages()) == 2 and len(window.messages.messages()[-1].content) > 900)
        shot("02-streaming-code")
        wait_until(lambda: not window.busy)
        first = window.chat_view.message_widgets[0]
        window.chat_view.verticalScrollBar().setValue(0)
        hover(first)  # the user's message shows its actions under the pointer
        assert first.action_row.revealed
        shot("03-code-reply-hover")
        first.action_row.set_hovered(False)

        docs = home / "docs"
        docs.mkdir()
        (docs / "kettle-manual.md").write_text(MANUAL, encoding="utf-8")
        indexed: list[object] = []
        hearth.library_worker.syncFinished.connect(lambda name, report: indexed.append(report))
        hearth.library_worker.addRequested.emit("Manuals", [docs])
        wait_until(lambda: bool(indexed) and window.panel.collections.item(0).text() == "Manuals")
        new_chat()
        window.panel_action.setChecked(True)  # the chat's settings open, with the collection chosen
        window.panel.collections.item(0).setCheckState(window.panel.collections.item(0).checkState().Checked)
        window.panel.flush()
        wait_until(lambda: window.operations.pending == 0)
        send("How often do I descale the kettle?", "Every 90 days, with citric acid [1]. Rinse it twice after.")
        wait_until(lambda: not window.busy and bool(window.chat_view.message_widgets[-1].source_buttons))
        shot("04-citations")
        window.panel_action.setChecked(False)

        new_chat()
        stages_chat = window.conversation_id
        pane = window.centre
        pane.mode_picker.setCurrentIndex(pane.mode_picker.findData("refine"))
        pane.probs_box.setChecked(True)
        send(
            "How many legs do three spiders have?",
            "21 legs.",
            json.dumps({"issues": ["3 x 8 is 24, not 21"]}),
            "Three spiders have 24 legs in all: each has 8.",
        )
        wait_until(lambda: not window.busy)
        reply = window.chat_view.message_widgets[-1]
        reply.stages_view.set_expanded(True)
        reply.confidence_button.click()
        shot("05-stages-confidence")

        window.open_conversation(code_chat)  # type: ignore[arg-type]
        settle()
        apply_theme(app, "dark")
        hover(window.chat_view.message_widgets[-1])
        shot("06-dark-code")
        window.open_conversation(stages_chat)  # type: ignore[arg-type]
        reply = window.chat_view.message_widgets[-1]
        reply.stages_view.set_expanded(True)
        reply.confidence_button.click()
        shot("07-dark-stages")

        apply_theme(app, "light")
        window.open_conversation(code_chat)  # type: ignore[arg-type]
        window.resize(800, 600)
        shot("08-small-800x600")
    finally:
        window.close()
        hearth.shutdown()
        scratch.cleanup()
    return paths


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path("artifacts/tour")
    os.environ.setdefault("HEARTH_HOME", tempfile.mkdtemp(prefix="hearth-tour-home-"))
    app = QApplication.instance() or QApplication(argv)
    del app
    for path in run_tour(out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
