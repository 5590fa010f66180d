"""A message's frame: its bubble on its side, and its actions shown on hover in one compact row."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QApplication, QToolButton

from assistant.app import Hearth
from assistant.ui.message_frame import FLASH_MS
from assistant.ui.message_list_view import MessageWidget
from tests.fakes import ScriptedEngine
from tests.ui.waits import new_chat


def _send(qtbot, hearth: Hearth, text: str) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    window.input.setPlainText(text)
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)


def _enter(widget: MessageWidget) -> None:
    QApplication.sendEvent(widget, QEnterEvent(QPointF(4, 4), QPointF(4, 4), QPointF(4, 4)))


def _leave(widget: MessageWidget) -> None:
    QApplication.sendEvent(widget, QEvent(QEvent.Type.Leave))


def test_actions_show_on_hover_in_one_row_and_work(qtbot, hearth: Hearth, scripted: ScriptedEngine) -> None:  # type: ignore[no-untyped-def]
    scripted.enqueue("The first answer.", "The second answer.")
    _send(qtbot, hearth, "A question")
    window = hearth.window
    question, answer = window.chat_view.message_widgets
    # One row of small icon buttons under each bubble, not buttons inside every message.
    for widget in (question, answer):
        buttons = widget.action_row.findChildren(QToolButton)
        assert buttons and all(not b.icon().isNull() and b.toolTip() for b in buttons)
        assert widget.bubble.findChildren(QToolButton, "messageAction") == []  # none inside the bubble
        # (laid out on the event loop: the header wraps, so the height follows the width)
        qtbot.waitUntil(lambda w=widget: w.action_row.geometry().top() >= w.bubble.geometry().bottom(), timeout=2_000)
    # The question's actions appear while the pointer is over it; the last reply's stay shown.
    assert not question.action_row.revealed and answer.action_row.revealed
    _enter(question)
    assert question.action_row.revealed
    assert question.copy_button.isVisibleTo(question) and question.edit_button.isVisibleTo(question)
    assert not question.regenerate_button.isVisibleTo(question)
    question.copy_button.click()
    assert QApplication.clipboard().text() == "A question"
    _leave(question)
    # "Copied" stays on the button for a moment, with its row; then the row fades with the pointer gone.
    qtbot.waitUntil(lambda: not question.action_row.revealed, timeout=FLASH_MS + 2_000)
    height = question.height()
    _enter(question)
    assert question.height() == height, "showing the actions moves nothing"
    # Regenerate from the row under the reply, then Edit from the question's.
    with qtbot.waitSignal(window.busyChanged, timeout=10_000, check_params_cb=lambda busy: not busy):
        answer.regenerate_button.click()
    assert window.chat_view.message_widgets[-1].message.content == "The second answer."
    window.chat_view.message_widgets[0].edit_button.click()
    assert window.input.toPlainText() == "A question" and window.edit_banner.isVisible()


def test_yours_on_the_right_replies_on_the_left_within_a_readable_width(
    qtbot, hearth: Hearth, scripted: ScriptedEngine
) -> None:  # type: ignore[no-untyped-def]
    scripted.enqueue("word " * 400)
    _send(qtbot, hearth, "Short one")
    window = hearth.window
    window.resize(1400, 800)
    question, answer = window.chat_view.message_widgets
    qtbot.waitUntil(lambda: answer.bubble.width() > 400, timeout=5_000)
    row = question.width()
    assert question.bubble.geometry().right() > row - 10 and question.bubble.geometry().left() > row / 2
    assert answer.bubble.geometry().left() < 10
    assert answer.bubble.width() <= 860 and question.bubble.width() < answer.bubble.width()


def test_the_confidence_tint_has_a_legend(qtbot, make_hearth) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(["Three spiders have 24 legs."], token_delay_s=0.001)
    hearth = make_hearth(lambda s: engine)
    new_chat(qtbot, hearth.window)
    hearth.window.centre.probs_box.setChecked(True)
    _send(qtbot, hearth, "How many legs?")
    reply = hearth.window.chat_view.message_widgets[-1]
    assert not reply.confidence_legend.isVisibleTo(reply)
    assert reply.confidence_button.isVisibleTo(reply)  # offered: the reply has probabilities
    reply.confidence_button.click()
    assert reply.confidence_legend.isVisibleTo(reply)
    legend = reply.confidence_legend.text()
    assert "Confidence" in legend and "90%" in legend and "rgba(" in legend  # the tint's own swatches
    reply.confidence_button.click()
    assert not reply.confidence_legend.isVisibleTo(reply)


def test_a_long_conversation_makes_the_buttons_of_the_messages_shown_only(qtbot, hearth: Hearth) -> None:  # type: ignore[no-untyped-def]
    conversation = hearth.store.create(title="Long")
    for n in range(30):
        hearth.store.add_message(conversation.id, "user", f"Question {n}")
        hearth.store.add_message(conversation.id, "assistant", f"Answer {n}")
    hearth.window.refresh_conversations()
    hearth.window.open_conversation(conversation.id)
    widgets = hearth.window.chat_view.message_widgets
    assert [w.action_row.built for w in widgets].count(True) == 1 and widgets[-1].action_row.built
    _enter(widgets[3])  # the pointer over a message makes its row
    assert widgets[3].action_row.built and widgets[3].copy_button.isVisibleTo(widgets[3])
    assert widgets[3].action_row.height() == widgets[4].action_row.height(), "a row keeps its place before it is made"
