"""The window's busy state, Stop and the stats line: they tell the truth in every order of events."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot

from assistant.app import Hearth
from assistant.config import Settings
from assistant.core.errors import EngineError
from assistant.core.messages import MessageStatus
from tests.fakes import ScriptedEngine
from tests.ui.waits import new_chat, writes_done


def _send(qtbot, hearth: Hearth, text: str) -> None:  # type: ignore[no-untyped-def]
    hearth.window.input.setPlainText(text)
    with qtbot.waitSignal(hearth.window.busyChanged, timeout=30_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(hearth.window.input, Qt.Key.Key_Return)


class Events(QObject):
    """Collects the worker's finished replies on the UI thread, in order with the window's busy changes."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[object] = []

    @Slot(int, object, object)
    def on_finished(self, conversation_id: int, reply: object, stats: object) -> None:
        self.seen.append(reply.content)  # type: ignore[attr-defined]


def test_send_after_a_failed_model_load_frees_the_window(qtbot, make_hearth, screenshot) -> None:  # type: ignore[no-untyped-def]
    def broken(settings: Settings) -> ScriptedEngine:
        raise EngineError("The model file is damaged.", "Choose another model.")

    hearth = make_hearth(broken)
    window = hearth.window
    assert window.model_state == "failed"
    window.last_error.done(0)
    new_chat(qtbot, window)
    window.input.setPlainText("hello?")
    with qtbot.waitSignal(window.busyChanged, timeout=5_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert "No model is loaded" in window.last_error.text()
    assert window.send_button.isEnabled() and not window.stop_button.isEnabled()
    assert window.input.toPlainText() == "hello?"  # nothing typed is lost
    window.last_error.done(0)
    screenshot(window, "states-after-failed-model-load")


def test_busy_holds_until_the_reply_sent_meanwhile_has_finished(qtbot, hearth: Hearth, scripted) -> None:  # type: ignore[no-untyped-def]
    """A second message sent the moment the first reply ends must keep the window busy until its own
    reply is done (the worker used to clear busy once more when the first request wound up)."""
    scripted.token_delay_s = 0.005
    scripted.enqueue("first answer", "second answer is a little longer than the first one")
    window = hearth.window
    recorder = Events()
    events = recorder.seen
    hearth.worker.turnFinished.connect(recorder.on_finished)

    def on_busy(busy: bool) -> None:
        events.append(busy)
        if not busy and window.messages.rowCount() == 2:
            window.send("second question")  # sent before the first request has wound up (a race: not a click)

    window.busyChanged.connect(on_busy)
    window.input.setPlainText("first question")
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: events[-1:] == [False] and len(events) > 3, timeout=10_000)
    second = events.index(True, events.index(False))
    assert events[second:] == [True, "second answer is a little longer than the first one", False]
    assert window.chat_view.message_widgets[-1].regenerate_button.isVisibleTo(window.chat_view.message_widgets[-1])


def test_stop_reaches_a_turn_still_waiting_in_the_queue(qtbot, hearth: Hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    scripted.token_delay_s = 0.02
    scripted.enqueue("word " * 300, "the queued answer", "the last answer")
    window = hearth.window
    window.input.setPlainText("talk a lot")
    with qtbot.waitSignal(window.replyShown, timeout=10_000):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    conversation_id = window.conversation_id
    # A turn queued behind the running one (as a message sent while memory learns is).
    hearth.worker.sendRequested.emit(conversation_id, "queued question")
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    scripted.token_delay_s = 0.0
    _send(qtbot, hearth, "last question")

    def answered() -> bool:
        # The window went idle for the queued request too (it never began); the test queued that one
        # behind the window's back, so idle alone can come before "last question" has its reply.
        *_, question, last = hearth.store.messages(conversation_id)
        return question.content == "last question" and last.status != MessageStatus.STREAMING

    qtbot.waitUntil(answered, timeout=30_000)
    stored = hearth.store.messages(conversation_id)
    assert [m.content for m in stored if m.role == "user"] == ["talk a lot", "last question"]
    assert stored[1].status == MessageStatus.STOPPED
    assert stored[-1].content == "the queued answer"  # the queued reply never ran: the next one got its script
    assert all("queued question" not in m.content for prompt in scripted.history for m in prompt)


def test_the_stats_line_belongs_to_the_reply_shown(qtbot, hearth: Hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    _send(qtbot, hearth, "hello")
    assert "tokens/s" in window.speed_label.text()
    _send(qtbot, hearth, "What is 1234567890 * 9876543210?")  # a tool's answer: no generation figures
    assert window.speed_label.text() == ""
    _send(qtbot, hearth, "hello again")
    assert "tokens/s" in window.speed_label.text()
    new_chat(qtbot, window)
    assert window.speed_label.text() == ""


def test_an_error_from_elsewhere_leaves_the_conversation_view_alone(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    _send(qtbot, hearth, "hello")
    widgets = window.chat_view.message_widgets
    window.library_worker.failed.emit("Indexing 'Docs' failed: disk full", "")
    qtbot.waitUntil(lambda: window.last_error is not None and window.last_error.isVisible(), timeout=5_000)
    assert window.chat_view.message_widgets == widgets  # not rebuilt
    window.last_error.done(0)


def test_dialogs_do_not_pile_up(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QDialog, QMessageBox

    window = hearth.window
    for _ in range(3):
        window.library_action.trigger()
        window.findChild(QDialog, "libraryDialog").done(0)
    assert len(window.findChildren(QDialog, "libraryDialog")) == 1  # one, reused
    for n in range(3):
        window.show_error(f"problem {n}").done(0)
    qtbot.waitUntil(lambda: not window.findChildren(QMessageBox, "errorDialog"), timeout=5_000)
    window.show_source({"n": 1, "path": "/tmp/a.txt", "text": "a passage"})
    window.findChild(QDialog, "sourceDialog").done(0)
    qtbot.waitUntil(lambda: not window.findChildren(QDialog, "sourceDialog"), timeout=5_000)


def test_incognito_is_marked_while_open_and_modes_stay_with_their_chat(qtbot, hearth: Hearth, screenshot) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    centre = window.centre
    new_chat(qtbot, window)
    first = window.conversation_id
    assert not centre.incognito_banner.isVisible()
    centre.mode_picker.setCurrentIndex(centre.mode_picker.findData("think"))
    assert "step-by-step plan" in centre.mode_picker.toolTip()
    window.incognito_action.trigger()
    writes_done(qtbot, window)
    assert centre.incognito_banner.isVisible()
    assert centre.mode_picker.currentData() == "direct"  # the choice did not carry into the new chat
    window.statusBar().clearMessage()  # the notice fades; the banner stays
    assert centre.incognito_banner.isVisible()
    screenshot(window, "states-incognito")
    window.open_conversation(first)
    assert not centre.incognito_banner.isVisible()
    assert centre.mode_picker.currentData() == "think"  # kept with its chat
