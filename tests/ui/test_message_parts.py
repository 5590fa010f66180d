"""What a message shows besides its text: tool call cards, the sources it cites (and those it does
not), and what memory gave it, each from the message's stored stats."""

from __future__ import annotations

from PySide6.QtCore import QUrl

from assistant.core.messages import MessageStatus
from assistant.core.store import StoredMessage
from assistant.ui.message_list_view import MessageWidget

SOURCES = [
    {"n": n, "path": f"/docs/kettle-{n}.pdf", "page": n, "heading": "", "text": f"passage {n}"} for n in (1, 2, 3)
]


def _widget(qtbot, content: str, **stats: object) -> MessageWidget:  # type: ignore[no-untyped-def]
    message = StoredMessage(1, 1, "assistant", content, MessageStatus.COMPLETE, 0.0, 0.0, dict(stats))
    widget = MessageWidget(message)
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    return widget


def test_a_tool_call_is_a_card_with_readable_arguments_and_a_long_result_collapsed(qtbot, screenshot) -> None:  # type: ignore[no-untyped-def]
    long_result = "\n".join(f"line {n}: the boiler pressure should be 1.5 bar" for n in range(40))
    calls = [
        {
            "tool": "calculator",
            "arguments": {"expression": "2^64"},
            "result": "18446744073709551616",
            "ok": True,
            "duration_s": 0.031,
        },
        {
            "tool": "files_read",
            "arguments": {"path": "/notes/boiler.txt", "page": 2},
            "result": long_result,
            "ok": True,
            "duration_s": 0.25,
        },
        {
            "tool": "files_read",
            "arguments": {"path": "~/.ssh/id_rsa"},
            "result": "The user did not approve this call.",
            "ok": False,
            "duration_s": 0.0,
        },
    ]
    widget = _widget(qtbot, "The answer.", tool_calls=calls)
    short, long, refused = widget.tool_cards.cards
    assert "calculator" in short.title.text() and "0.03 s" in short.title.text()
    assert short.arguments.text() == "expression: 2^64"  # not a JSON line
    assert short.result.text() == "18446744073709551616" and not short.toggle.isVisibleTo(short)
    assert long.arguments.text() == "path: /notes/boiler.txt\npage: 2"
    assert long.collapsible and not long.expanded and long.result.text().startswith("line 0:")
    assert "line 39" not in long.result.text()
    long.toggle.click()
    assert long.expanded and "line 39" in long.result.text()
    assert "failed" in refused.title.text() and "did not approve" in refused.result.text()
    screenshot(widget, "tool-call-cards")


def test_only_cited_sources_are_cards_and_the_marker_opens_its_source(qtbot, screenshot) -> None:  # type: ignore[no-untyped-def]
    widget = _widget(qtbot, "Descale it every 90 days [2].", sources=SOURCES)
    assert [b.text() for b in widget.sources.cited] == ["[2] kettle-2.pdf p.2"]
    assert [b.text() for b in widget.sources.also] == ["[1] kettle-1.pdf p.1", "[3] kettle-3.pdf p.3"]
    assert widget.sources.also_toggle.text() == "Also retrieved, not cited (2)"
    assert not widget.sources.also_box.isVisibleTo(widget)  # collapsed
    widget.sources.also_toggle.click()
    assert widget.sources.also_box.isVisibleTo(widget)
    screenshot(widget, "citations-cited-and-also-retrieved")
    assert 'href="cite:2"' in widget.text.toHtml()
    opened: list[object] = []
    widget.sourceRequested.connect(opened.append)
    widget.text.anchorClicked.emit(QUrl("cite:2"))
    assert opened == [SOURCES[1]]


def test_an_answer_that_cites_nothing_shows_no_source_as_cited(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = _widget(qtbot, "Descale the kettle every 90 days. See `items[1]` in the code.", sources=SOURCES)
    assert widget.sources.cited == []
    assert widget.sources.also_toggle.text() == "Retrieved, not cited (3)"
    assert "cite:" not in widget.text.toHtml()


def test_memory_lines_name_earlier_conversations_without_their_digests(qtbot) -> None:  # type: ignore[no-untyped-def]
    memories = [
        {"id": 1, "text": "The user's cat is called Pixel.", "kind": "fact"},
        {
            "conversation_id": 9,
            "title": "Bread",
            "text": "Bread: They discussed proofing dough for an hour and a long digest…",
            "kind": "conversation",
        },
    ]
    learned = [
        {"action": "added", "text": "The user's dog is called Rex."},
        {"action": "updated", "text": "The user lives in Leeds."},
    ]
    widget = _widget(qtbot, "Pixel and Rex!", memories=memories, learned=learned)
    line = widget.memory_note.text()
    assert "Pixel" in line and "“Bread”" in line and "proofing" not in line
    assert widget.learned_note.text() == "Remembered: The user's dog is called Rex. · Updated: The user lives in Leeds."


def test_source_cards_keep_their_number_and_extension_and_wrap_at_800_px(qtbot, hearth, screenshot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    long_names = [
        "Annual-report-of-the-regional-water-authority-on-kettle-descaling-2024-final-version.pdf",
        "Minutes of the committee meeting about appliance safety and the replacement of toasters.docx",
        "a-file-name-without-any-break-in-it-that-goes-on-and-on-and-on-and-on-and-on-forever.md",
        "short.txt",
    ]
    sources = [
        {"n": n, "path": f"/home/ann/Documents/archive/{name}", "page": 12 if n == 1 else 0, "heading": "", "text": "x"}
        for n, name in enumerate(long_names, start=1)
    ]
    window = hearth.window
    window.resize(800, 700)
    window.show()
    conversation = hearth.store.create("Reports")
    hearth.store.add_message(conversation.id, "user", "What do the reports say?")
    hearth.store.add_message(
        conversation.id,
        "assistant",
        "Descale yearly [1], replace old toasters [2], see [3] and [4].",
        stats={"sources": sources},
    )
    window.refresh_conversations()
    window.open_conversation(conversation.id)
    QApplication.processEvents()
    reply = window.chat_view.message_widgets[-1]
    cards = reply.sources.cited
    assert len(cards) == 4
    texts = [card.text() for card in cards]
    assert [t.split(" ", 1)[0] for t in texts] == ["[1]", "[2]", "[3]", "[4]"]
    assert texts[0].endswith(".pdf p.12") and texts[1].endswith(".docx") and texts[2].endswith(".md")
    assert texts[0].startswith("[1] Annual-rep") and "…" in texts[0]  # shortened in the middle
    assert texts[3] == "[4] short.txt"
    assert long_names[1] in cards[1].toolTip()  # the whole name is a hover away
    qtbot.waitUntil(lambda: window.chat_view.widget().width() <= window.chat_view.viewport().width())
    assert window.chat_view.horizontalScrollBar().maximum() == 0
    column = reply.width()
    assert all(card.width() <= column for card in cards)
    assert len({card.y() for card in cards}) > 1  # wrapped onto a second line rather than widened
    screenshot(window, "source-cards-800px")
