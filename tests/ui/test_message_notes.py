"""What a message says about how it ended, and what a click on Copy says: "Copied" on the button,
"stopped at the length limit — Continue", an interrupted label that fits its card at 800 px, and a
Vote stopped midway that shows the votes it finished."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QWidget

from assistant.app import Hearth
from assistant.core.messages import MessageStatus
from assistant.ui.message_frame import FLASH_MS
from tests.fakes import ScriptedEngine


def _open(hearth: Hearth, content: str, status: MessageStatus, stats: dict[str, Any] | None = None) -> int:
    conversation = hearth.store.create()
    hearth.store.add_message(conversation.id, "user", "Tell me about kettles.")
    hearth.store.add_message(conversation.id, "assistant", content, status, stats)
    hearth.window.refresh_conversations()
    hearth.window.open_conversation(conversation.id)  # the way a restart opens the last conversation
    return conversation.id


def _text_fits(label: QLabel) -> bool:
    """The whole of the label's text is shown: on its lines if it wraps, on one line if not."""
    if label.wordWrap():
        return label.heightForWidth(label.width()) <= label.height()
    return label.sizeHint().width() <= label.width()


def _in(widget: QWidget, outer: QWidget) -> QRect:
    return QRect(widget.mapTo(outer, QPoint(0, 0)), widget.size())


def test_copy_says_copied_on_its_button_for_a_moment(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    _open(hearth, "Descale it every 90 days.", MessageStatus.COMPLETE)
    reply = hearth.window.chat_view.message_widgets[-1]
    button = reply.copy_button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "Descale it every 90 days."
    assert button.toolTip() == "Copied" and button.accessibleName() == "Copied"
    assert button.icon_name == "check"  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: button.toolTip() == "Copy this message", timeout=FLASH_MS + 2_000)
    assert button.icon_name == "copy"  # type: ignore[attr-defined]


def test_a_reply_cut_at_the_length_limit_says_so_and_its_link_continues(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, scripted: ScriptedEngine
) -> None:
    conversation_id = _open(
        hearth, "Kettles were first made at the time.", MessageStatus.COMPLETE, {"finish_reason": "length"}
    )
    reply = hearth.window.chat_view.message_widgets[-1]
    assert "stopped at the length limit" in reply.header.text() and "Continue" in reply.header.text()
    assert reply.continue_button.isVisibleTo(reply)
    scripted.enqueue("Zek made the first electric one.")
    with qtbot.waitSignal(hearth.window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        reply.header.linkActivated.emit("continue:")  # the link in the header, as a click on it sends
    content = hearth.store.messages(conversation_id)[-1].content
    assert content == "Kettles were first made at the time. Zek made the first electric one."
    finished = hearth.window.chat_view.message_widgets[-1]
    assert "length limit" not in finished.header.text()


def test_the_interrupted_label_fits_its_card_in_an_800_px_window(qtbot, hearth: Hearth, screenshot) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    window.resize(800, 600)
    window.sidebar_action.setChecked(True)
    window.panel_action.setChecked(True)  # both side panels open: the narrowest the chat gets
    _open(hearth, "A partial answer that was being written when the app closed.", MessageStatus.INTERRUPTED)
    qtbot.waitUntil(lambda: window.width() <= 800)
    qtbot.wait(50)
    reply = window.chat_view.message_widgets[-1]
    assert "interrupted" in reply.header.text()
    header = _in(reply.header, reply.bubble)
    assert reply.bubble.contentsRect().contains(header), (header, reply.bubble.contentsRect())
    assert _text_fits(reply.header), "the label is cut off inside its card"
    viewport = window.chat_view.viewport()
    assert _in(reply.bubble, viewport).right() <= viewport.width(), "the card is wider than the conversation"
    assert window.chat_view.horizontalScrollBar().maximum() == 0
    screenshot(window, "interrupted-800px")


def test_a_vote_stopped_midway_shows_the_votes_it_finished(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    stages = [
        {"name": "vote 1", "text": "24 legs.", "tokens": 3, "duration_s": 0.4},
        {"name": "vote 2", "text": "Twenty-four.", "tokens": 3, "duration_s": 0.4},
    ]
    _open(hearth, "", MessageStatus.STOPPED, {"stages": stages, "mode": "vote", "finish_reason": "cancelled"})
    reply = hearth.window.chat_view.message_widgets[-1]
    shown = reply.text.toPlainText()
    assert shown.strip() != "…"
    assert "Stopped before the answer" in shown and "24 legs." in shown and "Twenty-four." in shown
    assert "stopped" in reply.header.text()
