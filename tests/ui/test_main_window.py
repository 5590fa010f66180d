"""The main window driven like a user drives it, on the scripted engine (fast) and the real model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from assistant.app import Hearth
from assistant.core.errors import EngineError
from assistant.core.messages import MessageStatus
from tests.fakes import ScriptedEngine
from tests.ui.dialogs import answer_dialogs, context_menu_action, press, type_text
from tests.ui.waits import new_chat, writes_done


def _send(qtbot, hearth: Hearth, text: str, timeout: int = 30_000) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    window.input.setFocus()
    window.input.setPlainText(text)
    with qtbot.waitSignal(hearth.window.busyChanged, timeout=timeout, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)


def _texts(hearth: Hearth) -> list[str]:
    return [m.content for m in hearth.window.messages.messages()]


def test_empty_window(qtbot, hearth: Hearth, screenshot) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    assert window.isVisible()
    assert window.model_state == "ready"
    assert "Ready" in window.model_state_label.text()
    assert window.chat_view.empty_label.isVisible()
    # The model list is read on the worker's thread and fills the picker when it arrives.
    qtbot.waitUntil(lambda: window.model_picker.count() >= 1, timeout=5_000)
    assert "[bundled]" in window.model_picker.currentText()
    screenshot(window, "01-empty")


def test_send_streams_and_saves(qtbot, hearth: Hearth, scripted: ScriptedEngine, screenshot) -> None:  # type: ignore[no-untyped-def]
    scripted.enqueue("Here is **bold** and a list:\n\n- one\n- two\n\n```python\nprint('hi')\n```")
    _send(qtbot, hearth, "Show me markdown")
    window = hearth.window
    assert _texts(hearth)[0] == "Show me markdown"
    assert _texts(hearth)[1].startswith("Here is **bold**")
    assert window.input.toPlainText() == ""  # cleared once the message was committed
    widgets = window.chat_view.message_widgets
    assert len(widgets) == 2
    rendered = widgets[1].text.toHtml()
    assert "font-weight" in rendered and "print" in rendered  # bold and the code block rendered
    assert widgets[1].regenerate_button.isVisibleTo(widgets[1])
    assert widgets[0].edit_button.isVisibleTo(widgets[0])
    stored = hearth.store.messages(window.conversation_id)
    assert [m.status for m in stored] == [MessageStatus.COMPLETE, MessageStatus.COMPLETE]
    assert window.conversations.rowCount() == 2  # a date header and the conversation
    assert "tokens/s" in window.speed_label.text()
    screenshot(window, "02-after-reply")


def test_shift_enter_adds_a_line_instead_of_sending(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    window.input.setFocus()
    qtbot.keyClicks(window.input, "first")
    qtbot.keyClick(window.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.input, "second")
    assert window.input.toPlainText() == "first\nsecond"
    assert window.messages.rowCount() == 0


def test_stop_keeps_the_partial_reply(qtbot, hearth: Hearth, scripted: ScriptedEngine, screenshot) -> None:  # type: ignore[no-untyped-def]
    scripted.token_delay_s = 0.02
    scripted.enqueue("word " * 400)
    window = hearth.window
    window.input.setPlainText("Talk a lot")
    with qtbot.waitSignal(hearth.window.replyShown, timeout=10_000):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(_texts(hearth)) == 2 and len(_texts(hearth)[1]) > 40, timeout=10_000)
    screenshot(window, "03-streaming")
    assert window.stop_button.isEnabled()
    with qtbot.waitSignal(hearth.window.busyChanged, timeout=5_000):
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    reply = hearth.store.messages(window.conversation_id)[-1]
    assert reply.status == MessageStatus.STOPPED
    assert 0 < len(reply.content.split()) < 400
    widget = window.chat_view.message_widgets[-1]
    assert widget.continue_button.isVisibleTo(widget)
    assert "stopped" in widget.header.text()
    # Continue picks up in the same message.
    scripted.token_delay_s = 0.0
    scripted.enqueue("and the end.")
    with qtbot.waitSignal(hearth.window.busyChanged, timeout=5_000, check_params_cb=lambda busy: not busy):
        widget.continue_button.click()
    final = hearth.store.messages(window.conversation_id)
    assert len(final) == 2 and final[-1].content.endswith("and the end.")
    assert final[-1].status == MessageStatus.COMPLETE


def test_regenerate_and_edit(qtbot, hearth: Hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    scripted.enqueue("first answer", "second answer", "answer to the edit")
    _send(qtbot, hearth, "question")
    window = hearth.window
    with qtbot.waitSignal(hearth.window.busyChanged, timeout=5_000, check_params_cb=lambda busy: not busy):
        window.chat_view.message_widgets[-1].regenerate_button.click()
    assert _texts(hearth) == ["question", "second answer"]
    window.chat_view.message_widgets[0].edit_button.click()
    assert window.input.toPlainText() == "question" and window.edit_banner.isVisible()
    window.input.setPlainText("better question")
    with qtbot.waitSignal(hearth.window.busyChanged, timeout=5_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)
    assert _texts(hearth) == ["better question", "answer to the edit"]
    assert [m.content for m in hearth.store.messages(window.conversation_id)] == _texts(hearth)


def test_copy_puts_the_message_on_the_clipboard(qtbot, hearth: Hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    scripted.enqueue("Use this:\n\n```sh\nmake run\n```")
    _send(qtbot, hearth, "how?")
    widget = hearth.window.chat_view.message_widgets[-1]
    widget.copy_button.click()
    assert QApplication.clipboard().text().startswith("Use this:")
    from PySide6.QtCore import QUrl

    widget.text.anchorClicked.emit(QUrl("copy:0"))
    assert QApplication.clipboard().text() == "make run"


@pytest.mark.qt_log_ignore("does not support grabbing")  # the menu's grab, on the offscreen platform
def test_conversations_new_search_rename_delete(qtbot, hearth: Hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    _send(qtbot, hearth, "tomatoes in the garden")
    first = window.conversation_id
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.conversation_id != first, timeout=5_000)
    assert window.messages.rowCount() == 0
    _send(qtbot, hearth, "tax forms")
    window.search_box.setText("tomatoes")
    qtbot.waitUntil(lambda: window.conversations.rowCount() == 2, timeout=3_000)  # header + one match
    assert window.conversations.conversation_at(1).id == first
    window.search_box.clear()
    qtbot.waitUntil(lambda: window.conversations.rowCount() == 3, timeout=3_000)
    listed = window.conversation_list
    with answer_dialogs(type_text("Garden")):  # right click › Rename…, typed into the box it opens
        context_menu_action(listed, window.conversations.row_of(first), "Rename…").trigger()
    writes_done(qtbot, window)
    assert hearth.store.get(first).title == "Garden"
    with answer_dialogs(press(QMessageBox.StandardButton.Cancel)) as answered:
        context_menu_action(listed, window.conversations.row_of(first), "Delete…").trigger()
        qtbot.waitUntil(lambda: len(answered) == 1, timeout=3_000)
    writes_done(qtbot, window)
    assert hearth.store.get(first)  # cancelled: still there
    with answer_dialogs(press(QMessageBox.StandardButton.Yes)) as answered:
        context_menu_action(listed, window.conversations.row_of(first), "Delete…").trigger()
        qtbot.waitUntil(lambda: len(answered) == 1, timeout=3_000)
    writes_done(qtbot, window)
    assert all(c.id != first for c in hearth.store.conversations())


def test_switching_conversations_shows_their_messages(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    _send(qtbot, hearth, "in the first")
    first = window.conversation_id
    new_chat(qtbot, window)
    _send(qtbot, hearth, "in the second")
    row = window.conversations.row_of(first)
    window.conversation_list.setCurrentIndex(window.conversations.index(row))
    assert window.conversation_id == first
    assert _texts(hearth)[0] == "in the first"


def test_conversation_settings_are_saved_and_used(qtbot, hearth: Hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    new_chat(qtbot, window)
    window.panel.system_prompt.setPlainText("Answer like a pirate.")
    window.panel.temperature.setValue(0.2)
    window.panel.max_tokens.setValue(33)
    window.panel.flush()
    writes_done(qtbot, window)
    stored = hearth.store.get(window.conversation_id)
    assert stored.system_prompt == "Answer like a pirate."
    assert stored.options == {"profile_id": 1, "temperature": 0.2, "max_tokens": 33}
    _send(qtbot, hearth, "hello")
    assert scripted.history[-1][0].content == "Answer like a pirate."
    assert scripted.options[-1].temperature == 0.2 and scripted.options[-1].max_tokens == 33


def test_a_message_too_long_stays_in_the_input(qtbot, make_hearth, screenshot) -> None:  # type: ignore[no-untyped-def]
    hearth = make_hearth(lambda settings: ScriptedEngine(n_ctx=700))
    window = hearth.window
    text = "word " * 2000
    window.input.setPlainText(text)
    with qtbot.waitSignal(hearth.window.errorShown, timeout=5_000):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert window.input.toPlainText() == text  # nothing typed is lost
    assert window.last_error is not None and window.last_error.isVisible()
    assert "context window" in window.last_error.text()
    assert hearth.store.messages(window.conversation_id) == []
    screenshot(window, "05-error-too-long")


def test_a_failing_generation_is_a_dialog_and_the_window_goes_on(
    qtbot, hearth: Hearth, scripted: ScriptedEngine
) -> None:  # type: ignore[no-untyped-def]
    scripted.enqueue(EngineError("the model fell over"), "recovered")
    window = hearth.window
    with qtbot.waitSignal(hearth.window.errorShown, timeout=5_000):
        window.input.setPlainText("first try")
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert "fell over" in window.last_error.text()
    window.last_error.done(0)
    _send(qtbot, hearth, "second try")
    assert _texts(hearth)[-1] == "recovered"


def test_a_broken_model_file_is_an_error_dialog(qtbot, make_hearth, tmp_path: Path, screenshot) -> None:  # type: ignore[no-untyped-def]
    from assistant.engine.llama import LlamaEngine

    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 100)
    hearth = make_hearth(lambda settings: LlamaEngine(broken))
    window = hearth.window
    assert window.model_state == "failed"
    qtbot.waitUntil(lambda: window.last_error is not None and window.last_error.isVisible(), timeout=5_000)
    assert "damaged" in window.last_error.text()
    assert "download it again" in window.last_error.informativeText()
    screenshot(window, "06-error-broken-model")
    screenshot(window.last_error, "06-error-broken-model-dialog")
    window.last_error.done(0)
    # Still usable: conversations can be created and browsed; sending says why it cannot answer.
    new_chat(qtbot, window)
    window.input.setPlainText("hello?")
    with qtbot.waitSignal(hearth.window.errorShown, timeout=5_000):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert "No model is loaded" in window.last_error.text()
    assert window.input.toPlainText() == "hello?"


def test_keyboard_shortcuts_and_accessible_names(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.search_box.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.input.hasFocus()
    for widget in (
        window.input,
        window.send_button,
        window.stop_button,
        window.search_box,
        window.conversation_list,
        window.model_picker,
        window.gauge,
        window.chat_view,
    ):
        assert widget.accessibleName(), f"{widget} has no accessible name"


def test_geometry_and_last_conversation_are_restored(qtbot, make_hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    first = make_hearth(lambda settings: scripted)
    _send(qtbot, first, "remember me")
    conversation = first.window.conversation_id
    first.window.resize(760, 560)  # inside the offscreen screen (800x600)
    first.window.close()
    second = make_hearth(lambda settings: ScriptedEngine())
    assert second.window.conversation_id == conversation
    assert (second.window.width(), second.window.height()) == (760, 560)
    assert next(m.content for m in second.window.messages.messages()) == "remember me"


def test_long_conversation_with_code(qtbot, hearth: Hearth, screenshot) -> None:  # type: ignore[no-untyped-def]
    store = hearth.store
    conversation = store.create(title="Sorting in Python")
    for n in range(500):
        store.add_message(conversation.id, "user", f"Question {n}: how do I sort a list?")
        store.add_message(
            conversation.id,
            "assistant",
            f"Answer {n}:\n\n| method | stable |\n|---|---|\n| `sorted()` | yes |\n\n"
            "```python\nnumbers = [3, 1, 2]\nprint(sorted(numbers))\n```",
        )
    hearth.window.refresh_conversations()
    hearth.window.open_conversation(conversation.id)
    view = hearth.window.chat_view
    assert hearth.window.messages.rowCount() == 1000
    assert len(view.message_widgets) == 40  # only the newest page is built
    assert view.earlier_button.isVisible()
    qtbot.waitUntil(lambda: view.message_widgets[-1].isVisible(), timeout=3_000)  # shown once events run
    screenshot(hearth.window, "04-long-conversation-with-code")
    qtbot.mouseClick(view.earlier_button, Qt.MouseButton.LeftButton)
    assert len(view.message_widgets) == 80
    assert view.message_widgets[0].message.content == "Question 460: how do I sort a list?"  # rows 920 on


@pytest.mark.real_model
def test_full_flow_on_the_real_model(qtbot, make_hearth, screenshot) -> None:  # type: ignore[no-untyped-def]
    hearth = make_hearth()
    assert hearth.window.model_state == "ready", hearth.window.model_state_label.toolTip()
    hearth.settings.sampling.max_tokens = 48
    _send(qtbot, hearth, "Name three colours.", timeout=60_000)
    stored = hearth.store.messages(hearth.window.conversation_id)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].content.strip() and stored[1].status == MessageStatus.COMPLETE
    assert stored[1].stats["prompt_tokens"] > 0
    assert hearth.window.gauge.total > 0
    assert "tokens" in hearth.window.gauge_label.text()
    screenshot(hearth.window, "07-real-model")


def test_plain_arithmetic_is_answered_exactly_in_the_window(qtbot, hearth: Hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    _send(qtbot, hearth, "What is 1234567890 * 9876543210?")
    assert _texts(hearth)[-1] == "1234567890 * 9876543210 = 12193263111263526900"
    assert scripted.history == []  # the model was not asked
    stored = hearth.store.messages(hearth.window.conversation_id)[-1]
    assert stored.stats["tool_calls"][0]["tool"] == "calculator"
