"""Regenerate and Edit keep the earlier versions: ‹ 1/2 › switches between them, in the window, in
the stored conversation, after a restart, in exports and in what the model is sent next."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from assistant.app import Hearth
from assistant.ui.message_list_view import MessageWidget
from tests.fakes import ScriptedEngine
from tests.ui.waits import writes_done


def _send(qtbot, hearth: Hearth, text: str) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    window.input.setPlainText(text)
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)


def _texts(hearth: Hearth) -> list[str]:
    return [widget.message.content for widget in hearth.window.chat_view.message_widgets]


def _shown(widget: MessageWidget) -> bool:
    """Whether the message shows its ‹ n/m › (a message widget just added is shown a moment later)."""
    return widget.versions.isVisibleTo(widget)


def _regenerate(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(hearth.window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        hearth.window.chat_view.message_widgets[-1].regenerate_button.click()


def test_regenerate_then_switch_back_and_forth(qtbot, hearth: Hearth, scripted: ScriptedEngine, screenshot) -> None:  # type: ignore[no-untyped-def]
    scripted.enqueue("first answer", "second answer", "on the first answer")
    _send(qtbot, hearth, "question")
    assert not _shown(hearth.window.chat_view.message_widgets[-1])
    _regenerate(qtbot, hearth)
    reply = hearth.window.chat_view.message_widgets[-1]
    assert _texts(hearth) == ["question", "second answer"]
    assert _shown(reply) and reply.versions.label.text() == "2/2"
    assert not reply.versions.next.isEnabled()
    qtbot.waitUntil(reply.isVisible, timeout=3_000)
    screenshot(hearth.window, "versions-regenerated")
    reply.versions.previous.click()
    writes_done(qtbot, hearth.window)
    reply = hearth.window.chat_view.message_widgets[-1]
    assert _texts(hearth) == ["question", "first answer"] and reply.versions.label.text() == "1/2"
    assert [m.content for m in hearth.store.messages(hearth.window.conversation_id)] == _texts(hearth)
    _send(qtbot, hearth, "go on")
    # The model is sent the chosen version only.
    assert [m.content for m in scripted.history[-1]][-3:] == ["question", "first answer", "go on"]
    assert "second answer" not in " ".join(m.content for m in scripted.history[-1])
    hearth.window.chat_view.message_widgets[1].versions.next.click()
    writes_done(qtbot, hearth.window)
    assert _texts(hearth) == ["question", "second answer"]  # that version had no follow-up


def test_edit_then_switch_between_the_branches(qtbot, hearth: Hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    scripted.enqueue("a1", "a2", "a2 for the edit")
    _send(qtbot, hearth, "q1")
    _send(qtbot, hearth, "q2")
    window = hearth.window
    window.chat_view.message_widgets[2].edit_button.click()
    window.input.setPlainText("q2, better")
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)
    assert _texts(hearth) == ["q1", "a1", "q2, better", "a2 for the edit"]
    edited = window.chat_view.message_widgets[2]
    assert edited.versions.label.text() == "2/2"
    assert not _shown(window.chat_view.message_widgets[3])  # the reply has one version
    edited.versions.previous.click()
    writes_done(qtbot, hearth.window)
    assert _texts(hearth) == ["q1", "a1", "q2", "a2"]
    window.chat_view.message_widgets[2].versions.next.click()
    writes_done(qtbot, hearth.window)
    assert _texts(hearth) == ["q1", "a1", "q2, better", "a2 for the edit"]


def test_the_chosen_version_is_shown_after_a_restart_and_exported(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, scripted: ScriptedEngine, tmp_path: Path
) -> None:
    scripted.enqueue("Blue.", "Green.")
    first = make_hearth(lambda settings: scripted)
    _send(qtbot, first, "Name a colour")
    _regenerate(qtbot, first)
    first.window.chat_view.message_widgets[-1].versions.previous.click()
    conversation = first.window.conversation_id
    first.window.close()
    first.shutdown()

    second = make_hearth(lambda settings: ScriptedEngine())
    assert second.window.conversation_id == conversation
    assert _texts(second) == ["Name a colour", "Blue."]
    assert second.window.chat_view.message_widgets[-1].versions.label.text() == "1/2"
    markdown = second.window.sidebar.export(conversation, "md", tmp_path / "chat.md")
    assert markdown is not None
    text = markdown.read_text(encoding="utf-8")
    assert "Blue." in text and "Green." not in text
    exported = second.window.sidebar.export(conversation, "json", tmp_path / "chat.json")
    assert exported is not None
    record = json.loads(exported.read_text(encoding="utf-8"))["conversations"][0]
    assert [m["content"] for m in record["messages"]] == ["Name a colour", "Blue."]
    assert [(m["content"], m["version"], m["active"]) for m in record["other_versions"]] == [("Green.", 2, False)]
