"""Attaching files to one conversation in the window: drop or paste, a chip, the answer, reopening, removing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QToolButton

from assistant.core.attachment_store import attachments
from assistant.ui.attach_controls import AttachmentControls
from tests.knowledge.conftest import write_pdf
from tests.ui.waits import new_chat, writes_done

WAIT_MS = 60_000


def drop(widget: object, *paths: Path) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    copy, none, plain = Qt.DropAction.CopyAction, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(widget, QDragEnterEvent(QPointF(20, 20), copy, mime, none, plain))  # type: ignore[arg-type]
    event = QDropEvent(QPointF(20, 20), copy, mime, none, plain)
    QApplication.sendEvent(widget, event)  # type: ignore[arg-type]
    return event


def chips(controls: AttachmentControls) -> list[str]:
    return [c.text() for c in controls.pane.attachment_bar.chips if isinstance(c, QToolButton) and c.isVisible()]


def test_a_file_dropped_on_the_chat_answers_in_that_conversation(
    qtbot, hearth, scripted, tmp_path: Path, screenshot
) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    controls = window.attachment_controls
    manual = write_pdf(tmp_path / "kettle.pdf", ["Unpacking the kettle.", "Descale the kettle every 90 days."])
    new_chat(qtbot, window)
    first = window.conversation_id
    with qtbot.waitSignal(controls.attached, timeout=WAIT_MS):
        assert drop(window.centre, manual).isAccepted()
    assert chips(controls) == ["kettle.pdf  ×"]
    assert "Attached kettle.pdf: 2 passages" in window.statusBar().currentMessage()
    scripted.enqueue("Every 90 days [2].")
    window.input.setPlainText("How often should I descale the kettle?")
    with qtbot.waitSignal(window.busyChanged, timeout=WAIT_MS, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert "from kettle.pdf, page 2>>>" in scripted.history[-1][-1].content
    reply = window.chat_view.message_widgets[-1]
    assert any("kettle.pdf p.2" in button.text() for button in reply.source_buttons)
    screenshot(window, "18-attached-file")

    new_chat(qtbot, window)
    assert chips(controls) == [] and not controls.pane.attachment_bar.isVisible()
    window.open_conversation(first)
    assert chips(controls) == ["kettle.pdf  ×"]
    next(c for c in controls.pane.attachment_bar.chips if isinstance(c, QToolButton)).click()
    writes_done(qtbot, window)
    assert chips(controls) == [] and attachments(hearth.store, first) == []


def test_a_file_pasted_into_the_input_is_attached_not_typed(qtbot, hearth, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    notes = tmp_path / "notes.md"
    notes.write_text("# Shed\n\nThe shed key hangs by the back door.")
    new_chat(qtbot, window)
    window.input.setPlainText("Where is the key?")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(notes))])
    assert window.input.canInsertFromMimeData(mime)
    with qtbot.waitSignal(window.attachment_controls.attached, timeout=WAIT_MS):
        window.input.insertFromMimeData(mime)
    assert window.input.toPlainText() == "Where is the key?"
    assert [a.name for a in attachments(hearth.store, window.conversation_id)] == ["notes.md"]


def test_a_file_that_cannot_be_attached_is_explained_and_nothing_changes(qtbot, hearth, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 nonsense")
    new_chat(qtbot, window)
    with qtbot.waitSignal(window.errorShown, timeout=WAIT_MS) as shown:
        drop(window.centre, broken)
    assert "broken.pdf could not be read: corrupt PDF" in shown.args[0]
    assert "Nothing was attached" in window.last_error.informativeText()
    assert chips(window.attachment_controls) == [] and attachments(hearth.store, window.conversation_id) == []


def test_a_model_file_dropped_is_not_attached(qtbot, hearth, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "model.gguf"
    model.write_bytes(b"not really a model")
    new_chat(qtbot, hearth.window)
    with qtbot.assertNotEmitted(hearth.window.centre.filesDropped):
        drop(hearth.window.centre, model)
