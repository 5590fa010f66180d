"""Every button and action of the window and its dialogs, triggered in a prepared state.

The window opens on a conversation with two versions of a reply that cites a source, used a tool,
went through stages and was cut at the length limit; the library has a collection with a file that
failed; memory has memories; the models window lists the catalogue. The sweep finds every enabled
push button, tool button and action in each window, triggers it (a click, or ``trigger()``),
answers whatever opens by cancelling it (a destructive action must ask first: its question is
answered Cancel), and fails on an exception in a slot (pytest-qt), a Qt warning (pytest's
``qt_log_level_fail``), a logged error, a warning box, or a state that should not have changed
(a memory or a title becoming "False"). It prints how many it triggered in each window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtGui import QDesktopServices, QEnterEvent
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from assistant.app import Hearth, apply_theme
from assistant.config import Settings
from assistant.core.messages import MessageStatus
from assistant.core.store import ConversationStore
from assistant.knowledge.library import Library
from assistant.memory.extraction import Candidate
from assistant.memory.long_term import LongTermMemory
from assistant.ui.models import IdRole
from tests.fakes import ScriptedEngine
from tests.ui.sweep import LogProblems, Sweep, Watcher, trigger

MEMORIES = ("The user's cat is called Pixel.", "The user prefers tea to coffee.")
# Never triggered: a download opens a network connection (the user asked for it: a person does).
NETWORK = ("Download", "Resume download")
RECORD = Path(__file__).resolve().parents[2] / "artifacts" / "buttons"  # sweep-<theme>.txt: what was triggered


def _prepare_conversation(store: ConversationStore, source_file: Path) -> int:
    """Two versions of a reply that cites a source, called a tool and went through stages; then a
    reply cut at the length limit (Continue applies to it)."""
    conversation = store.create()
    store.add_message(conversation.id, "user", "How often do I descale the kettle?")
    first = store.add_message(conversation.id, "assistant", "Every month or so.")
    store.set_aside(first.id)
    source = {"n": 1, "path": str(source_file), "text": "Descale the kettle every 90 days.", "collection": "Manuals"}
    stats: dict[str, Any] = {
        "sources": [source, {**source, "n": 2, "text": "Never immerse the base."}],
        "tool_calls": [
            {"tool": "calculator", "arguments": {"expression": "90/30"}, "result": "3", "ok": True, "duration_s": 0.01},
            {"tool": "files_read", "arguments": {"path": "x"}, "result": "line\n" * 40, "ok": False, "duration_s": 0.2},
        ],
        "stages": [
            {"name": "plan", "text": "Look it up.", "tokens": 3, "duration_s": 0.1},
            {"name": "answer", "text": "Every 90 days [1].", "tokens": 6, "duration_s": 0.2},
        ],
        "mode": "think",
        "finish_reason": "stop",
        "token_probs": [
            {"token": "Every", "p": 0.5, "top": [["Every", 0.5], ["Each", 0.3]]},
            {"token": " 90", "p": 0.95, "top": [[" 90", 0.95]]},
        ],
    }
    store.add_message(conversation.id, "assistant", "Every 90 days [1].", MessageStatus.COMPLETE, stats)
    store.add_message(conversation.id, "user", "Tell me the whole story of kettles.")
    store.add_message(
        conversation.id, "assistant", "Kettles were first made of", MessageStatus.COMPLETE, {"finish_reason": "length"}
    )
    store.create()  # a second conversation in the list
    return conversation.id


@pytest.fixture
def prepared(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, make_library, make_memory, store: ConversationStore, tmp_path: Path, monkeypatch
) -> Iterator[tuple[Hearth, ScriptedEngine, LongTermMemory, list[str]]]:
    opened_urls: list[str] = []
    # "Open file", "Open the models folder" and links hand a URL to the desktop: recorded instead.
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened_urls.append(url.toString()) or True)
    folder = tmp_path / "manuals"
    folder.mkdir()
    (folder / "kettle.txt").write_text("Descale the kettle every 90 days with citric acid.", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense")
    library: Library = make_library()
    library.add("Manuals", [folder])
    library.sync("Manuals")
    memory = make_memory(enabled=False)
    for text in MEMORIES:
        memory.remember(memory.profiles.active().id, Candidate(text))
    conversation_id = _prepare_conversation(store, folder / "kettle.txt")
    engine = ScriptedEngine(token_delay_s=0.001, default_reply="A scripted answer.")
    settings = Settings()
    settings.memory.enabled = False
    hearth = make_hearth(lambda s: engine, settings=settings, store=store, library=library, memory=memory)
    hearth.window.open_conversation(conversation_id)
    yield hearth, engine, memory, opened_urls


def _hover_every_message(window: QWidget) -> None:
    """The pointer passes over each message, so each one's row of actions is built and shown."""
    for widget in window.chat_view.message_widgets:  # type: ignore[attr-defined]
        QApplication.sendEvent(widget, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))


def _top_level(predicate: Callable[[QWidget], bool]) -> QWidget:
    found = [w for w in QApplication.topLevelWidgets() if w.isVisible() and predicate(w)]
    assert found, "the window did not open"
    return found[-1]


def _named(name: str) -> Callable[[QWidget], bool]:
    return lambda widget: isinstance(widget, QDialog) and widget.objectName() == name


# A popup menu grabs the keyboard and mouse: the offscreen platform says it cannot (not Hearth's warning).
@pytest.mark.qt_log_ignore("does not support grabbing")
@pytest.mark.parametrize(("theme", "width"), [("light", None), ("dark", 800)], ids=["light", "dark-800px"])
def test_every_button_and_action_in_every_window(  # type: ignore[no-untyped-def]
    qtbot, prepared, capsys, dark_then_light, theme: str, width: int | None
) -> None:
    hearth, engine, memory, opened_urls = prepared
    apply_theme(dark_then_light, theme)
    if width is not None:
        hearth.window.resize(width, 600)
    conversation_id = hearth.window.conversation_id
    window = hearth.window
    controls = window.memory_controls
    assert controls is not None
    errors: list[str] = []
    window.errorShown.connect(errors.append)
    logged = LogProblems()
    logging.getLogger().addHandler(logged)
    watcher = Watcher(protected=[window])

    def settle() -> None:
        qtbot.waitUntil(
            lambda: (
                not window.busy
                and window.model_state != "loading"
                and controls.operations.pending == 0
                and QApplication.activeModalWidget() in (None, *watcher.protected)
            ),
            timeout=20_000,
        )
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        qtbot.wait(5)

    def check(what: str) -> list[str]:
        wrong = [f"{what}: {line}" for line in logged.lines + errors]
        logged.lines.clear()
        errors.clear()
        texts = [m.text for m in memory.store.memories()]
        titles = [c.title for c in hearth.store.conversations()]
        for text in texts + titles:
            if text.strip() in ("", "False", "True", "None"):
                wrong.append(f"{what}: a memory or title became {text!r}")
        now = kept()
        for kind, ids in at_start.items():
            if ids - now[kind]:
                wrong.append(f"{what}: a {kind} was deleted without asking")
            at_start[kind] &= now[kind]  # reported once
        dialog = controls.memory_dialog
        if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible() and dialog.problem.isVisible():
            wrong.append(f"{what}: the memory window says {dialog.problem.text()!r}")
        return wrong

    sweep = Sweep(qtbot, watcher, settle, check)

    # Every question is answered No or Cancel, so nothing that was there may go: a deletion that
    # happened anyway did not ask.
    def kept() -> dict[str, set[object]]:
        return {
            "memory": {m.id for m in memory.store.memories()},
            "conversation": {c.id for c in hearth.store.conversations()},
            "profile": {p.id for p in memory.profiles.all()},
            "collection": {c.name for c in hearth.library.collections()},
        }

    at_start = kept()

    skip_network = lambda label: label.startswith(NETWORK)  # noqa: E731
    try:
        # The dialogs first, while the conversation is as prepared.
        def memory_window() -> QWidget:
            controls.memory_action.trigger()
            dialog = controls.memory_dialog
            assert dialog is not None
            dialog.list.setCurrentRow(0)  # Edit… and Delete act on the selected memory
            return dialog

        sweep.run("Memory", memory_window)
        sweep.run("Profiles", lambda: (controls.profiles_action.trigger(), controls.profile_dialog)[1])
        sweep.run("Library", lambda: (window.library_action.trigger(), window.library_dialog)[1], skip_network)

        def models_window() -> QWidget:
            window.toolbar.models_action.trigger()
            dialog = _top_level(_named("modelsDialog"))
            on_this_machine = dialog.tree.topLevelItem(0)  # type: ignore[attr-defined]
            dialog.tree.setCurrentItem(on_this_machine.child(0))  # type: ignore[attr-defined]
            return dialog

        sweep.run("Models", models_window, skip_network)
        sweep.run("Settings", lambda: (window.settings_action.trigger(), _top_level(_named("settingsDialog")))[1])
        sweep.run("Welcome", lambda: hearth.open_welcome(), skip_network)  # type: ignore[arg-type, return-value]

        def source_window() -> QWidget:
            window.open_conversation(window.conversation_id)
            reply = next(w for w in window.chat_view.message_widgets if w.source_buttons)
            trigger(qtbot, reply.source_buttons[0])
            return _top_level(_named("sourceDialog"))

        sweep.run("Source", source_window)

        # The conversation list's menu: each of its actions (each asks, or opens a dialog: cancelled).
        listed = window.conversation_list
        before = len(watcher.menus)
        rows = [listed.model().index(row, 0) for row in range(listed.model().rowCount())]
        first = next(index for index in rows if index.data(IdRole) is not None)  # not a date heading
        listed.customContextMenuRequested.emit(listed.visualRect(first).center())
        qtbot.waitUntil(lambda: len(watcher.menus) > before, timeout=5_000)
        for action in watcher.menus[-1]:
            watcher.current = f"Conversation menu › {action.text()}"
            action.trigger()
            settle()
            watcher.problems.extend(check(watcher.current))
            sweep.counts["Conversation menu"] = sweep.counts.get("Conversation menu", 0) + 1

        # The window last: its buttons change the conversation (regenerate, continue, a new chat).
        def main_window() -> QWidget:
            _hover_every_message(window)
            return window

        engine.enqueue("the rest of the story.", "A regenerated answer.")  # Continue goes first
        sweep.run(
            "Main window",
            main_window,
            last=("Continue", "Regenerate", "Edit", "‹", "›", "New chat", "Incognito", "Chats"),
            before_each=lambda shown: _hover_every_message(shown),
        )
    finally:
        watcher.stop()
        logging.getLogger().removeHandler(logged)

    total = sum(sweep.counts.values())
    summary = f"{theme}, {width or 'default'} px: actions triggered per window: {sweep.counts} — total {total}"
    with capsys.disabled():
        print("\n" + summary)
    RECORD.mkdir(parents=True, exist_ok=True)
    opened = [f"{o.by}: opened {o.kind} “{o.title}”, cancelled" for o in watcher.opened]
    lines = [summary, "", *sweep.triggered, "", *opened, ""]
    (RECORD / f"sweep-{theme}.txt").write_text("\n".join(lines), encoding="utf-8")
    assert not watcher.problems, "\n".join(watcher.problems)
    assert sorted(m.text for m in memory.store.memories()) == sorted(MEMORIES), "Delete asked; the answer was No"
    # What the buttons did is what they say: Continue went on from the reply cut at the length limit.
    written = [m.content for m in hearth.store.all_messages(conversation_id)]
    assert "Kettles were first made of the rest of the story." in written, written
    assert not opened_urls or all(url.startswith("file:") for url in opened_urls), opened_urls
    assert sweep.counts["Memory"] >= 5 and sweep.counts["Main window"] >= 10, sweep.counts
