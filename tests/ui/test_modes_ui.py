"""Thinking modes in the window: the mode picker, the stages under the reply, confidence tinting."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QUrl

from tests.fakes import ScriptedEngine
from tests.ui.waits import new_chat


def _send(qtbot, window, text: str) -> None:  # type: ignore[no-untyped-def]
    window.input.setPlainText(text)
    with qtbot.waitSignal(window.busyChanged, timeout=30_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)


def test_refine_stages_unfold_and_confidence_tints_the_reply(qtbot, make_hearth, screenshot) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(
        ["21 legs.", json.dumps({"issues": ["3 x 8 is 24"]}), "Three spiders have 24 legs in all."],
        token_delay_s=0.001,
    )
    hearth = make_hearth(lambda s: engine)
    window = hearth.window
    new_chat(qtbot, window)
    pane = window.centre
    pane.mode_picker.setCurrentIndex(pane.mode_picker.findData("refine"))
    pane.probs_box.setChecked(True)
    _send(qtbot, window, "How many legs do three spiders have?")
    reply = window.chat_view.message_widgets[-1]
    assert reply.message.content == "Three spiders have 24 legs in all."
    assert engine.options[-1].logprobs == 5
    view = reply.stages_view
    assert view.isVisible() and "3 stages" in view.text() and "critique 1" in view.text()
    assert "3 x 8 is 24" not in view.text(), "folded until asked"
    view.linkActivated.emit("toggle")  # what a click on "▸ 3 stages" sends
    assert "21 legs." in view.text() and "3 x 8 is 24" in view.text()
    assert reply.confidence_button.isVisible()
    reply.confidence_button.click()
    html = reply.text.toHtml()
    assert "rgba(255, 120, 0" in html or "rgba(255,120,0" in html.replace(" ", "")
    reply._on_hover(QUrl("p:2"))
    assert "Alternatives the model weighed" in reply.last_hover and "30.0%" in reply.last_hover
    assert not window.statusBar().currentMessage().startswith("Working"), "the stage note is gone"
    qtbot.wait(50)  # let the unfolded stages take their room before the picture
    screenshot(window, "modes-refine-confidence")
    reply.confidence_button.click()
    assert "rgba" not in reply.text.toHtml()


def test_the_settings_rounds_and_votes_reach_the_modes(qtbot, make_hearth) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(["a", "b", "c", "d", "e"], token_delay_s=0.001)
    hearth = make_hearth(lambda s: engine)
    window = hearth.window
    window.settings.reasoning.votes = 5
    new_chat(qtbot, window)
    window.centre.mode_picker.setCurrentIndex(window.centre.mode_picker.findData("vote"))
    engine.enqueue("merged")
    _send(qtbot, window, "Pick a letter")
    names = [s["name"] for s in window.chat_view.message_widgets[-1].message.stats["stages"]]
    assert names == ["vote 1", "vote 2", "vote 3", "vote 4", "vote 5", "merge"]
