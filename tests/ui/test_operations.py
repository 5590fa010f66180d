"""Changes to stored data asked for in the window (assistant/ui/operations.py), driven as a person does:
the right-click menu, the toolbar, the memory and profile windows. Each write must happen off the UI
thread, on the one store-writer thread; every view must show the change; a write the database
refuses must show one message and change nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThread, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu, QMessageBox, QPushButton, QWidget

from assistant.app import Hearth
from assistant.core.database import Database
from assistant.memory.long_term import LongTermMemory
from assistant.ui.threads import STARTED_THREADS
from tests.fakes import ScriptedEngine
from tests.ui.waits import writes_done

WRITER = "hearth-store-writer"
# The offscreen platform cannot grab the keyboard for a popup menu; harmless there.
MENU = pytest.mark.qt_log_ignore("does not support grabbing the keyboard")


class Writes:
    """Every SQLite write transaction once started: which thread ran it, in which database file."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool, str]] = []  # thread name, on the UI thread, database file

    def on_ui_thread(self) -> list[str]:
        return [db for _, ui, db in self.seen if ui]

    def threads(self) -> set[str]:
        return {name for name, _, _ in self.seen}


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Writes]]:
    original = Database.transaction
    recorder = Writes()
    started = False

    def spy(self: Database) -> Any:
        if started:
            ui = threading.get_ident() == threading.main_thread().ident
            recorder.seen.append((QThread.currentThread().objectName(), ui, Path(str(self.path)).name))
        return original(self)

    def start() -> Writes:
        nonlocal started
        started = True
        return recorder

    monkeypatch.setattr(Database, "transaction", spy)
    yield start


def _when_shown(find: Callable[[], Any], act: Callable[[Any], None]) -> None:
    """Answer a window that is about to open (a menu, a modal input dialog) once it is there."""

    def poll() -> None:
        widget = find()
        if widget is None or not widget.isVisible():
            QTimer.singleShot(10, poll)
        else:
            act(widget)

    QTimer.singleShot(0, poll)


def _choose_in_menu(text: str) -> None:
    def choose(menu: QMenu) -> None:
        action = next(a for a in menu.actions() if a.text() == text)
        menu.setActiveAction(action)
        menu.activeAction().trigger()
        menu.close()

    _when_shown(lambda: QApplication.activePopupWidget(), choose)


def _answer_text(answer: str) -> None:
    def fill(dialog: QInputDialog) -> None:
        dialog.setTextValue(answer)
        dialog.accept()

    _when_shown(lambda: _modal(QInputDialog), fill)


def _modal(kind: type) -> Any:
    widget = QApplication.activeModalWidget()
    return widget if isinstance(widget, kind) else None


def _right_click_conversation(window: Any, conversation_id: int) -> None:
    view = window.conversation_list
    rect = view.visualRect(window.conversations.index(window.conversations.row_of(conversation_id)))
    # The event a right-click makes (offscreen Qt does not turn a test's mouse press into one).
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, rect.center(), view.viewport().mapToGlobal(rect.center()))
    QApplication.sendEvent(view.viewport(), event)


def _listed_titles(window: Any) -> list[str]:
    model = window.conversations
    return [c.title for c in (model.conversation_at(row) for row in range(model.rowCount())) if c is not None]


def _errors(parent: QWidget) -> list[QMessageBox]:
    return [box for box in parent.findChildren(QMessageBox) if box.objectName() == "errorDialog" and box.isVisible()]


def _button(dialog: QWidget, text: str) -> QPushButton:
    return next(b for b in dialog.findChildren(QPushButton) if b.text() == text)


def _chat(hearth: Hearth, title: str) -> int:
    conversation = hearth.store.create(title)
    hearth.window.refresh_conversations()
    return conversation.id


# ----- conversations ----------------------------------------------------------------------------


@MENU
def test_rename_from_the_menu_is_written_off_the_ui_thread_and_the_list_shows_it(
    qtbot, hearth: Hearth, writes: Callable[[], Writes]
) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    first = _chat(hearth, "Tomatoes")
    recorded = writes()
    _choose_in_menu("Rename…")
    _answer_text("Garden")
    _right_click_conversation(window, first)
    qtbot.waitUntil(lambda: "Garden" in _listed_titles(window), timeout=5_000)
    assert hearth.store.get(first).title == "Garden"
    assert recorded.on_ui_thread() == [] and recorded.threads() == {WRITER}


@MENU
def test_delete_from_the_menu_closes_the_open_conversation_everywhere(
    qtbot, hearth: Hearth, scripted: ScriptedEngine, writes: Callable[[], Writes]
) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    doomed = _chat(hearth, "Doomed")
    window.conversation_list.setCurrentIndex(window.conversations.index(window.conversations.row_of(doomed)))
    assert window.conversation_id == doomed
    recorded = writes()
    _choose_in_menu("Delete…")
    _when_shown(lambda: _modal(QMessageBox), lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    _right_click_conversation(window, doomed)
    qtbot.waitUntil(lambda: window.conversation_id is None, timeout=5_000)
    writes_done(qtbot, window)
    assert "Doomed" not in _listed_titles(window)  # the list
    assert window.messages.rowCount() == 0 and window.sidebar.current_id is None  # the chat and the list
    assert window.chat_view.empty_label.isVisible()
    assert all(c.id != doomed for c in hearth.store.conversations())
    assert recorded.on_ui_thread() == [] and recorded.threads() == {WRITER}


def test_new_chat_from_the_toolbar_is_made_off_the_ui_thread(
    qtbot, hearth: Hearth, writes: Callable[[], Writes]
) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    recorded = writes()
    qtbot.mouseClick(window.toolbar.widgetForAction(window.new_action), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.conversation_id is not None, timeout=5_000)
    writes_done(qtbot, window)
    assert window.conversations.row_of(window.conversation_id) >= 0  # listed, and selected
    assert window.sidebar.current_id == window.conversation_id
    assert recorded.on_ui_thread() == [] and recorded.threads() == {WRITER}


def test_a_message_typed_into_no_conversation_goes_into_the_new_one(
    qtbot, hearth: Hearth, scripted: ScriptedEngine, writes: Callable[[], Writes]
) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    recorded = writes()
    scripted.enqueue("Hello there.")
    window.input.setPlainText("hello")
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)
    assert [m.content for m in hearth.store.messages(window.conversation_id)] == ["hello", "Hello there."]
    assert len(hearth.store.conversations()) == 1
    assert recorded.on_ui_thread() == []


def test_conversation_settings_changed_just_before_sending_reach_that_turn(
    qtbot, hearth: Hearth, scripted: ScriptedEngine
) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    window.new_action.trigger()
    qtbot.waitUntil(lambda: window.conversation_id is not None, timeout=5_000)
    window.panel.max_tokens.setValue(21)
    window.input.setPlainText("hello")
    # No wait in between: the send waits for the settings' write, the worker reads them.
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)
    assert scripted.options[-1].max_tokens == 21


@MENU
def test_a_rename_the_database_refuses_is_one_message_and_changes_nothing(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    first = _chat(hearth, "Tomatoes")
    hearth.store._db.execute("PRAGMA query_only = ON")  # the real SQLite now refuses every write
    _choose_in_menu("Rename…")
    _answer_text("Garden")
    _right_click_conversation(window, first)
    qtbot.waitUntil(lambda: bool(_errors(window)), timeout=5_000)
    writes_done(qtbot, window)
    assert len(_errors(window)) == 1
    box = _errors(window)[0]
    # The hint is the database error's own (a read-only database says how to make it writable).
    assert "Could not rename the conversation" in box.text() and box.informativeText()
    assert "What you typed: Garden" in box.informativeText()  # given back, not lost
    assert "Tomatoes" in _listed_titles(window) and "Garden" not in _listed_titles(window)
    hearth.store._db.execute("PRAGMA query_only = OFF")
    assert hearth.store.get(first).title == "Tomatoes"
    box.done(0)


@MENU
def test_a_rename_asked_just_before_closing_is_not_lost(qtbot, make_hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    hearth = make_hearth(lambda settings: scripted)
    window = hearth.window
    first = _chat(hearth, "Tomatoes")
    _choose_in_menu("Rename…")
    _answer_text("Garden")
    _right_click_conversation(window, first)
    # No wait: the window closes and Hearth shuts down; the write asked for is finished first.
    window.close()
    hearth.shutdown()
    from assistant.config import database_path
    from assistant.core.store import ConversationStore

    reopened = ConversationStore(database_path())
    try:
        assert reopened.get(first).title == "Garden"
    finally:
        reopened.close()


def test_the_writer_thread_is_one_the_thread_check_sees(qtbot, make_hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    hearth = make_hearth(lambda settings: scripted)
    writer = [t for t in STARTED_THREADS if t.objectName() == WRITER and t.isRunning()]
    assert len(writer) == 1
    hearth.window.close()
    hearth.shutdown()
    assert not writer[0].isRunning()


# ----- memory and profiles ----------------------------------------------------------------------


@pytest.fixture
def remembered(make_memory: Callable[..., LongTermMemory], tmp_path: Path) -> Callable[..., LongTermMemory]:
    """A memory home with what a user has saved, opened afresh (its vector store not yet open)."""

    def make(*texts: str, profile: str = "Default") -> LongTermMemory:
        before = make_memory(home=tmp_path / "memory")
        owner = before.profiles.get(profile) if profile == "Default" else before.profiles.create(profile)
        for text in texts:
            before.store.add(owner.id, text)
        before.close()
        return make_memory(home=tmp_path / "memory")

    return make


def _open_memory_window(qtbot, hearth: Hearth) -> Any:  # type: ignore[no-untyped-def]
    controls = hearth.window.memory_controls
    assert controls is not None
    controls.memory_action.trigger()
    dialog = controls.memory_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3_000)
    return dialog


def _double_click_row(qtbot, dialog: Any, row: int) -> None:  # type: ignore[no-untyped-def]
    rect = dialog.list.visualItemRect(dialog.list.item(row))
    qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # as a hand does
    qtbot.mouseDClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_memory_edit_and_delete_in_the_memory_window_are_written_off_the_ui_thread(
    qtbot, make_hearth, scripted: ScriptedEngine, remembered, writes: Callable[[], Writes]
) -> None:  # type: ignore[no-untyped-def]
    memory = remembered("The user likes tea.", "The user lives in Lyon.")
    hearth = make_hearth(lambda settings: scripted, memory=memory)
    dialog = _open_memory_window(qtbot, hearth)
    assert dialog.list.count() == 2
    recorded = writes()
    row = next(i for i in range(2) if "tea" in dialog.list.item(i).text())
    _answer_text("The user likes green tea.")
    _double_click_row(qtbot, dialog, row)
    shown = lambda: [dialog.list.item(i).text() for i in range(dialog.list.count())]  # noqa: E731
    qtbot.waitUntil(lambda: any("green tea" in text for text in shown()), timeout=10_000)
    assert sorted(m.text for m in memory.store.memories()) == ["The user likes green tea.", "The user lives in Lyon."]
    dialog.list.setCurrentRow(next(i for i in range(2) if "Lyon" in dialog.list.item(i).text()))
    _when_shown(lambda: _modal(QMessageBox), lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    qtbot.mouseClick(_button(dialog, "Delete"), Qt.MouseButton.LeftButton)  # it asks first: Yes
    qtbot.waitUntil(lambda: dialog.list.count() == 1, timeout=10_000)
    assert [m.text for m in memory.store.memories()] == ["The user likes green tea."]
    assert recorded.on_ui_thread() == [] and recorded.threads() == {WRITER}
    dialog.accept()


def test_a_memory_edit_the_database_refuses_is_one_message_over_the_memory_window(
    qtbot, make_hearth, scripted: ScriptedEngine, remembered
) -> None:  # type: ignore[no-untyped-def]
    memory = remembered("The user likes tea.")
    hearth = make_hearth(lambda settings: scripted, memory=memory)
    dialog = _open_memory_window(qtbot, hearth)
    memory.db._db.execute("PRAGMA query_only = ON")
    _answer_text("The user likes coffee.")
    _double_click_row(qtbot, dialog, 0)
    qtbot.waitUntil(lambda: bool(_errors(dialog)), timeout=10_000)
    writes_done(qtbot, hearth.window)
    assert len(_errors(dialog)) == 1 and _errors(hearth.window) == _errors(dialog)
    assert "Could not change the memory" in _errors(dialog)[0].text()
    assert "What you typed: The user likes coffee." in _errors(dialog)[0].informativeText()
    memory.db._db.execute("PRAGMA query_only = OFF")
    assert [m.text for m in memory.store.memories()] == ["The user likes tea."]
    assert "likes tea" in dialog.list.item(0).text()
    _errors(dialog)[0].done(0)
    dialog.accept()


def test_memories_learned_after_a_reply_appear_in_the_open_memory_window(
    qtbot, make_hearth, scripted: ScriptedEngine, remembered
) -> None:  # type: ignore[no-untyped-def]
    memory = remembered("The user likes tea.")
    hearth = make_hearth(lambda settings: scripted, memory=memory)
    dialog = _open_memory_window(qtbot, hearth)
    memory.store.add(memory.profiles.active().id, "The user has a cat.")  # as the chat worker would
    hearth.worker.memoriesSaved.emit(1, [("added", "The user has a cat.")], None)
    qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=5_000)
    dialog.accept()


def test_deleting_a_profile_opens_nothing_on_the_ui_thread_and_every_picker_follows(
    qtbot, make_hearth, scripted: ScriptedEngine, remembered, writes: Callable[[], Writes], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from assistant.knowledge.vectors import VectorStore

    memory = remembered("Works night shifts.", profile="Work")
    opened: list[bool] = []
    original = VectorStore.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        opened.append(threading.get_ident() == threading.main_thread().ident)
        original(self, *args, **kwargs)

    monkeypatch.setattr(VectorStore, "__init__", spy)
    hearth = make_hearth(lambda settings: scripted, memory=memory)
    controls = hearth.window.memory_controls
    assert controls is not None
    assert [controls.picker.itemText(i) for i in range(controls.picker.count())] == ["Default", "Work"]
    controls.profiles_action.trigger()
    dialog = controls.profile_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3_000)
    dialog.picker.setCurrentIndex(dialog.picker.findText("Work"))
    recorded = writes()
    _when_shown(lambda: _modal(QMessageBox), lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    qtbot.mouseClick(_button(dialog, "Delete"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controls.picker.count() == 1, timeout=15_000)  # the sidebar's picker
    writes_done(qtbot, hearth.window)
    assert [dialog.picker.itemText(i) for i in range(dialog.picker.count())] == ["Default"]  # the dialog's
    assert [p.name for p in memory.profiles.all()] == ["Default"] and memory.store.memories() == []
    assert opened == [False], "the vector store was opened once, off the UI thread"
    assert recorded.on_ui_thread() == [] and recorded.threads() == {WRITER}
    dialog.accept()


def test_saving_a_profile_keeps_a_tool_choice_remembered_in_a_chat_while_its_window_was_open(
    qtbot, make_hearth, scripted: ScriptedEngine, make_memory: Callable[..., LongTermMemory]
) -> None:  # type: ignore[no-untyped-def]
    memory = make_memory()
    hearth = make_hearth(lambda settings: scripted, memory=memory)
    controls = hearth.window.memory_controls
    assert controls is not None
    controls.profiles_action.trigger()
    dialog = controls.profile_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=3_000)
    profile = memory.profiles.active()
    memory.profiles.set_tool_policy(profile.id, "files_read", "allow")  # "Always", answered in a running chat
    dialog.about.setPlainText("I am a nurse.")
    qtbot.mouseClick(_button(dialog, "Save"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: memory.profiles.get(profile.id).about_me == "I am a nurse.", timeout=5_000)
    assert memory.profiles.get(profile.id).tool_approvals == {"files_read": "allow"}
    dialog.accept()


@MENU
def test_deleting_the_conversation_a_reply_is_streaming_into_stops_it_first(qtbot, make_hearth) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine([" ".join(["word"] * 200)], token_delay_s=0.05)
    hearth = make_hearth(lambda settings: engine)
    window = hearth.window
    window.input.setPlainText("hello")
    with qtbot.waitSignal(window.replyShown, timeout=10_000):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)
    streaming = window.conversation_id
    _choose_in_menu("Delete…")
    _when_shown(lambda: _modal(QMessageBox), lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    _right_click_conversation(window, streaming)
    qtbot.waitUntil(lambda: hearth.store.conversations() == [], timeout=20_000)
    writes_done(qtbot, window)
    qtbot.wait(100)  # anything the worker would still report
    assert _errors(window) == [], [box.text() for box in _errors(window)]
    assert not window.busy and window.conversation_id is None and window.messages.rowCount() == 0
