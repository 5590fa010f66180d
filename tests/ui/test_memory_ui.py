"""Memory and profiles in the window: recall shown under the reply, the memory panel, profiles,
forgetting a conversation, and incognito chats that store nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from assistant.app import Hearth
from assistant.config import Settings
from assistant.memory.long_term import LongTermMemory
from tests.fakes import ScriptedEngine
from tests.ui.dialogs import answer_dialogs, button, context_menu_action, press, type_text
from tests.ui.waits import new_chat, writes_done

MIRA = "The user's daughter is called Mira."


def _extraction(*facts: str) -> str:
    return json.dumps({"summary": "Family.", "memories": [{"text": f, "kind": "fact"} for f in facts]})


def _listed(window) -> list[int]:  # type: ignore[no-untyped-def]
    model = window.conversations
    return [c.id for row in range(model.rowCount()) if (c := model.conversation_at(row)) is not None]


def _send(qtbot, hearth: Hearth, text: str) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    window.input.setPlainText(text)
    with qtbot.waitSignal(window.busyChanged, timeout=30_000, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)


@pytest.mark.qt_log_ignore("does not support grabbing")  # the menu's grab, on the offscreen platform
def test_memory_profiles_forget_and_incognito(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, make_memory: Callable[..., LongTermMemory], screenshot
) -> None:
    engine = ScriptedEngine(["What a lovely name!", _extraction(MIRA), "Your daughter is Mira."], token_delay_s=0.001)
    memory = make_memory()
    hearth = make_hearth(lambda s: engine, settings=Settings(), memory=memory)
    window = hearth.window
    controls = window.memory_controls
    assert controls is not None and controls.picker.currentText() == "Default"

    new_chat(qtbot, window)
    first = window.conversation_id
    _send(qtbot, hearth, "My daughter is called Mira.")
    qtbot.waitUntil(lambda: [m.text for m in memory.store.memories()] == [MIRA], timeout=10_000)
    learned = window.chat_view.message_widgets[-1].learned_note  # one line under the reply it came from
    qtbot.waitUntil(learned.isVisible, timeout=5_000)
    assert learned.text() == f"Remembered: {MIRA}"
    screenshot(window, "memory-learned")
    window.open_conversation(first)  # stored with the reply: there again when the conversation is reopened
    reopened = window.chat_view.message_widgets[-1]
    assert reopened.learned_note.isVisibleTo(reopened)
    assert reopened.learned_note.text() == f"Remembered: {MIRA}"

    new_chat(qtbot, window)
    _send(qtbot, hearth, "What is my daughter's name?")
    qtbot.waitUntil(lambda: engine.pending == 0, timeout=10_000)
    assert MIRA in engine.history[2][-1].content, "the memory reached the prompt"
    reply_widget = window.chat_view.message_widgets[-1]
    qtbot.waitUntil(reply_widget.memory_note.isVisible, timeout=5_000)
    assert "Mira" in reply_widget.memory_note.text()
    screenshot(window, "memory-recalled")

    # The memory panel: add, edit, delete, pause.
    controls.memory_action.trigger()
    dialog = controls.memory_dialog
    assert dialog is not None and dialog.isVisible() and dialog.list.count() == 1
    with answer_dialogs(type_text("The user prefers tea to coffee.")):
        qtbot.mouseClick(button(dialog, "Add…"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=10_000)
    dialog.search.setText("tea")
    assert dialog.list.count() == 1
    dialog.list.setCurrentRow(0)
    with answer_dialogs(type_text("The user prefers green tea.")):
        qtbot.mouseClick(button(dialog, "Edit…"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "green tea" in dialog.list.item(0).text(), timeout=10_000)
    screenshot(dialog, "memory-panel")
    with answer_dialogs(press(QMessageBox.StandardButton.Yes)):  # Delete asks first
        qtbot.mouseClick(button(dialog, "Delete"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.list.count() == 0, timeout=10_000)
    dialog.pause.setChecked(True)
    assert not memory.active and not window.settings.memory.enabled
    dialog.pause.setChecked(False)
    qtbot.mouseClick(button(dialog, "Close"), Qt.MouseButton.LeftButton)

    # Profiles: a new one, switched to with one click, lists only its own conversations.
    controls.profiles_action.trigger()
    profiles = controls.profile_dialog
    assert profiles is not None and profiles.isVisible()
    with answer_dialogs(type_text("Work")):
        qtbot.mouseClick(button(profiles, "New…"), Qt.MouseButton.LeftButton)
    writes_done(qtbot, window)
    profiles.about.setPlainText("I am a nurse.")
    profiles.temperature.setValue(0.3)
    qtbot.mouseClick(button(profiles, "Save"), Qt.MouseButton.LeftButton)
    writes_done(qtbot, window)
    assert profiles.error.text() == ""
    assert memory.profiles.get("Work").sampling == {"temperature": 0.3}
    memory.profiles.set_tool_policy("Work", "files_read", "allow")
    profiles._fill(memory.profiles.get("Work").id)
    profiles.approval_boxes["files_read"].setCurrentText("deny")
    qtbot.mouseClick(button(profiles, "Save"), Qt.MouseButton.LeftButton)
    writes_done(qtbot, window)
    assert memory.profiles.get("Work").tool_approvals == {"files_read": "deny"}
    profiles.temperature.setValue(profiles.temperature.minimum())
    qtbot.mouseClick(button(profiles, "Save"), Qt.MouseButton.LeftButton)
    writes_done(qtbot, window)
    assert memory.profiles.get("Work").sampling == {}
    qtbot.wait(50)  # the rebuilt rows take their room on the next event loop
    screenshot(profiles, "profiles")
    qtbot.mouseClick(button(profiles, "Close"), Qt.MouseButton.LeftButton)
    work = memory.profiles.get("Work")
    controls.picker.choose(work.id)
    writes_done(qtbot, window)
    assert _listed(window) == [] and window.conversation_id is None
    new_chat(qtbot, window)
    assert hearth.store.get(window.conversation_id).options["profile_id"] == work.id
    controls.picker.choose(memory.profiles.get("Default").id)
    writes_done(qtbot, window)
    assert sorted(_listed(window)) == [first, first + 1], "only Default's two conversations"

    # Forget the first conversation: it and the memory drawn from it are gone.
    with answer_dialogs(press(QMessageBox.StandardButton.Yes)) as answered:  # right click › Forget…, Yes
        row = window.conversations.row_of(first)
        context_menu_action(window.conversation_list, row, "Forget this conversation…").trigger()
        qtbot.waitUntil(lambda: len(answered) == 1, timeout=5_000)
    qtbot.waitUntil(lambda: memory.store.memories() == [], timeout=10_000)
    qtbot.waitUntil(lambda: first not in [c.id for c in hearth.store.conversations()], timeout=5_000)
    assert memory.store.digest(first) is None

    # Incognito: the reply is shown, nothing is written to either store.
    saved_conversations = len(hearth.store.conversations())
    engine.enqueue("Incognito answer.")
    window.incognito_action.trigger()
    writes_done(qtbot, window)
    assert "incognito" in window.windowTitle()
    _send(qtbot, hearth, "Remember that my cat is called Tom.")
    assert [m.content for m in window.messages.messages()][-1] == "Incognito answer."
    assert len(hearth.store.conversations()) == saved_conversations
    assert memory.store.memories() == [] and engine.pending == 0
    screenshot(window, "incognito")


def test_a_damaged_memory_database_leaves_chat_working(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, hearth_home: Path
) -> None:
    hearth_home.mkdir(parents=True, exist_ok=True)
    (hearth_home / "memory.db").write_bytes(b"not a database" * 100)
    engine = ScriptedEngine(["Still here."])
    hearth = make_hearth(lambda s: engine, settings=Settings())
    window = hearth.window
    assert hearth.memory is None and window.memory_controls is None
    assert "memory database" in window.statusBar().currentMessage()
    new_chat(qtbot, window)
    _send(qtbot, hearth, "hello")
    assert [m.content for m in window.messages.messages()] == ["hello", "Still here."]


def test_picking_a_model_or_a_profile_with_one_reloads_the_engine(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, make_memory: Callable[..., LongTermMemory], hearth_home: Path, model_path: Path
) -> None:
    models = hearth_home / "models"
    models.mkdir(parents=True, exist_ok=True)
    other = models / "other-copy.gguf"
    shutil.copyfile(model_path, other)  # a second file (a symlink would be recognised as the same model)
    loaded: list[object] = []

    def factory(settings: Settings) -> ScriptedEngine:
        loaded.append(settings.model.path)
        return ScriptedEngine()

    memory = make_memory(enabled=False)
    hearth = make_hearth(factory, memory=memory)
    window = hearth.window
    qtbot.waitUntil(lambda: window.model_picker.count() == 2, timeout=10_000)
    row = window.model_picker.findData(str(other))
    assert row >= 0, [window.model_picker.itemData(i) for i in range(window.model_picker.count())]
    with qtbot.waitSignal(window.modelStateChanged, timeout=10_000, check_params_cb=lambda s: s == "ready"):
        window.model_picker.activated.emit(row)
    assert loaded == [None, other] and window.settings.model.path == other

    home = memory.profiles.create("Home", model=str(model_path))
    assert window.memory_controls is not None
    with qtbot.waitSignal(window.modelStateChanged, timeout=10_000, check_params_cb=lambda s: s == "ready"):
        window.memory_controls.picker.choose(home.id)
        writes_done(qtbot, window)
    assert loaded[-1] is None, "the profile's model (the bundled one) was loaded"
    assert window.settings.model.path == other, "a profile's model never leaks into the settings"
    from assistant.config import load_settings

    assert load_settings().model.path == other
    # Back to a profile without a model of its own: the settings' model again.
    default = memory.profiles.get("Default")
    with qtbot.waitSignal(window.modelStateChanged, timeout=10_000, check_params_cb=lambda s: s == "ready"):
        window.memory_controls.picker.choose(default.id)
        writes_done(qtbot, window)
    assert loaded[-1] == other


def test_the_list_filter_agrees_with_the_sessions_idea_of_a_conversations_profile(
    make_memory: Callable[..., LongTermMemory], store
) -> None:  # type: ignore[no-untyped-def]
    from assistant.ui.memory_controls import profile_filter

    memory = make_memory(enabled=False)
    work = memory.profiles.create("Work")
    gone = memory.profiles.create("Gone")
    conversations = []
    for options in ({}, {"profile_id": work.id}, {"profile_id": gone.id}, {"profile_id": "junk"}):
        conversation = store.create()
        store.set_options(conversation.id, options)
        conversations.append(store.get(conversation.id))
    memory.profiles.delete("Gone")
    keep = profile_filter(memory.profiles)
    for profile in memory.profiles.all():
        memory.profiles.use(profile.id)
        expected = [c.id for c in conversations if memory.profiles.for_conversation(c.options).id == profile.id]
        assert [c.id for c in keep(conversations)] == expected
    assert len(keep(conversations)) == 1  # Work's own


def test_a_profiles_model_is_picked_from_the_models_on_disk_and_checked(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, make_memory: Callable[..., LongTermMemory], hearth_home: Path, model_path: Path
) -> None:
    models = hearth_home / "models"
    models.mkdir(parents=True, exist_ok=True)
    broken = models / "broken.gguf"
    broken.write_bytes(b"GGUF-but-not-really")
    memory = make_memory(enabled=False)
    hearth = make_hearth(lambda settings: ScriptedEngine(), memory=memory)
    assert hearth.window.memory_controls is not None
    hearth.window.memory_controls.profiles_action.trigger()
    dialog = hearth.window.memory_controls.profile_dialog
    save = button(dialog, "Save")
    offered = [dialog.model.itemData(i) for i in range(dialog.model.count())]
    assert offered[0] is None and str(model_path) in offered
    assert str(broken) not in offered, "an unreadable file is not offered"
    dialog.model.setCurrentIndex(offered.index(str(model_path)))
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    writes_done(qtbot, hearth.window)
    assert dialog.error.text() == ""
    assert memory.profiles.active().model == str(model_path)
    assert hearth.window.settings.model.path is None, "the profile's model stays the profile's"
    # A profile whose file was damaged since: the save names the problem instead of storing it.
    memory.profiles.update(memory.profiles.active().id, model=str(broken))
    dialog._fill(memory.profiles.active().id)
    assert "not found" in dialog.model.currentText()
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert "not a GGUF model file" in dialog.error.text()
    dialog.model.setCurrentIndex(0)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    writes_done(qtbot, hearth.window)
    assert memory.profiles.active().model is None
    qtbot.mouseClick(button(dialog, "Close"), Qt.MouseButton.LeftButton)
