"""A reply streamed into its message widget: frozen views while it grows, one full document at the end."""

from __future__ import annotations

import re
from dataclasses import replace

from PySide6.QtCore import Qt

from assistant.core.messages import MessageStatus
from assistant.core.store import StoredMessage
from assistant.ui.markdown import render_markdown
from assistant.ui.message_list_view import MessageWidget
from assistant.ui.message_text import MessageText

SECTION = (
    "## Part {n}\n\nSome prose with **bold** and `code`.\n\n- one\n- two\n\n"
    "```python\nprint({n})\n```\n\n| a | b |\n|---|---|\n| {n} | x |\n\n> a quote\n\n"
)


def test_a_streamed_reply_ends_as_the_full_render(qtbot) -> None:  # type: ignore[no-untyped-def]
    text = "".join(SECTION.format(n=n) for n in range(30))
    message = StoredMessage(1, 1, "assistant", "", MessageStatus.STREAMING, 0.0, 0.0, {})
    widget = MessageWidget(message)
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    so_far = ""
    most_views = 0
    for piece in re.findall(r"\s*\S+|\s+", text):
        so_far += piece
        widget.update_message(replace(message, content=so_far))
        most_views = max(most_views, len(widget.findChildren(MessageText)))
    assert most_views > 2  # finished blocks went into frozen views on the way
    widget.update_message(replace(message, content=text, status=MessageStatus.COMPLETE))
    # The column stays: its blocks' HTML is the full render's, and it reads as the whole reply.
    assert "".join(view.toPlainText() for view in widget._streamed.views).split() == _whole(text).toPlainText().split()
    assert len(widget._code_blocks) == 30 and widget._code_blocks[29] == "print(29)"
    widget._streamed.clear()
    widget.update_message(replace(message, content=text, status=MessageStatus.COMPLETE))  # rendered whole
    qtbot.waitUntil(lambda: widget.findChildren(MessageText) == [widget.text], timeout=5_000)
    assert widget.text.toHtml() == _whole(text).toHtml()


def _whole(text: str) -> MessageText:
    reference = MessageText()
    reference.setHtml(render_markdown(text).html)
    return reference


def test_a_long_code_reply_streams_into_the_window(qtbot, hearth, scripted, screenshot) -> None:  # type: ignore[no-untyped-def]
    text = "".join(SECTION.format(n=n) for n in range(30))
    scripted.token_delay_s = 0.003
    scripted.enqueue(text)
    window = hearth.window
    window.settings_controller.settings.sampling.max_tokens = 4000
    window.input.setPlainText("a long answer with code")
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.chat_view.message_widgets) == 2, timeout=10_000)
    reply = window.chat_view.message_widgets[-1]
    qtbot.waitUntil(lambda: len(reply.findChildren(MessageText)) > 3 or not window.busy, timeout=30_000)
    screenshot(window, "streaming-long-code-reply")
    qtbot.waitUntil(lambda: not window.busy, timeout=60_000)
    assert hearth.store.messages(window.conversation_id)[-1].content == text
    window.open_conversation(window.conversation_id)  # opened again: one document
    reopened = window.chat_view.message_widgets[-1]
    assert reopened.findChildren(MessageText) == [reopened.text]
    assert reopened.text.toHtml() == _whole(text).toHtml()
