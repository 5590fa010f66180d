"""Settings as one source of truth: each setting is changed in the Settings dialog as a person does
(typing into its fields, ticking its boxes, pressing OK or Apply), and its effect is observed on
the next turn: what the engine received, what the session did, what the window shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QCheckBox, QPlainTextEdit, QWidget

from assistant.app import Hearth
from assistant.config import KnowledgeSettings, Settings, load_settings
from assistant.knowledge.library import Library
from assistant.memory.long_term import LongTermMemory
from assistant.ui.settings_dialog import SettingsDialog
from tests.fakes import HashingEmbedder, ScriptedEngine
from tests.ui.waits import new_chat

LEFT = Qt.MouseButton.LeftButton


def open_settings(qtbot, window) -> SettingsDialog:  # type: ignore[no-untyped-def]
    """The toolbar's Settings button, as a person presses it."""
    window.settings_action.trigger()
    dialogs = [d for d in window.findChildren(SettingsDialog, "settingsDialog") if d.isVisible()]
    assert len(dialogs) == 1
    qtbot.waitExposed(dialogs[0])
    return dialogs[0]


def show_tab(qtbot, dialog: SettingsDialog, title: str) -> None:  # type: ignore[no-untyped-def]
    bar = dialog.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    assert dialog.tabs.currentIndex() == index


def type_into(qtbot, field: QWidget, text: str) -> None:  # type: ignore[no-untyped-def]
    """Select what the field holds and type over it."""
    field.setFocus()
    if isinstance(field, QAbstractSpinBox | QPlainTextEdit):
        field.selectAll()
    qtbot.keyClicks(field, text)


def tick(qtbot, box: QCheckBox, checked: bool) -> None:  # type: ignore[no-untyped-def]
    if box.isChecked() != checked:
        qtbot.mouseClick(box, LEFT, pos=QPoint(8, box.height() // 2))  # on its tick box
    assert box.isChecked() == checked


def press_ok(qtbot, dialog: SettingsDialog) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert not dialog.isVisible(), dialog.error_label.text()


def send(qtbot, hearth: Hearth, text: str, timeout: int = 30_000) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    window.input.setFocus()
    window.input.setPlainText(text)
    with qtbot.waitSignal(window.busyChanged, timeout=timeout, check_params_cb=lambda busy: not busy):
        qtbot.keyClick(window.input, Qt.Key.Key_Return)


def regenerate(qtbot, hearth: Hearth, timeout: int = 30_000) -> None:  # type: ignore[no-untyped-def]
    window = hearth.window
    with qtbot.waitSignal(window.busyChanged, timeout=timeout, check_params_cb=lambda busy: not busy):
        window.chat_view.message_widgets[-1].regenerate_button.click()


def last_reply(hearth: Hearth):  # type: ignore[no-untyped-def]
    message = hearth.store.messages(hearth.window.conversation_id)[-1]
    assert message.role == "assistant"
    return message


# ----- sampling: the real model ------------------------------------------------------------------


@pytest.mark.real_model
def test_temperature_zero_and_a_20_token_limit_reach_open_and_new_chats_on_the_real_model(  # type: ignore[no-untyped-def]
    qtbot, make_hearth
) -> None:
    settings = Settings()
    settings.memory.enabled = False
    settings.sampling.max_tokens = 32  # the limit before: long enough to tell from 20
    hearth = make_hearth(settings=settings)
    window = hearth.window
    assert window.model_state == "ready", window.model_state_label.toolTip()
    new_chat(qtbot, window)
    send(qtbot, hearth, "Tell me a long story about a dragon and a knight.", timeout=120_000)
    before = last_reply(hearth)
    assert before.stats["completion_tokens"] > 20, "the first reply must be longer than the new limit"

    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Replies")
    type_into(qtbot, dialog.temperature, "0")
    type_into(qtbot, dialog.max_tokens, "20")
    press_ok(qtbot, dialog)
    assert (window.panel.temperature.value(), window.panel.max_tokens.value()) == (0.0, 20)

    # The chat that was already open: the next reply follows the new settings, and so does a regenerate.
    send(qtbot, hearth, "Tell me another long story about a dragon.", timeout=120_000)
    first = last_reply(hearth)
    assert 0 < first.stats["completion_tokens"] <= 20
    regenerate(qtbot, hearth, timeout=120_000)
    again = last_reply(hearth)
    assert again.id != first.id and again.content == first.content

    # A new chat: the same.
    new_chat(qtbot, window)
    send(qtbot, hearth, "Describe the sea at night in many words.", timeout=120_000)
    fresh = last_reply(hearth)
    assert 0 < fresh.stats["completion_tokens"] <= 20
    regenerate(qtbot, hearth, timeout=120_000)
    assert last_reply(hearth).content == fresh.content
    assert load_settings().sampling.max_tokens == 20 and load_settings().sampling.temperature == 0.0


# ----- sampling and instructions: what the engine received ---------------------------------------


def test_every_sampling_field_reaches_the_open_chat_and_a_new_one(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, scripted: ScriptedEngine, screenshot
) -> None:
    window = hearth.window
    new_chat(qtbot, window)
    send(qtbot, hearth, "hello")
    assert scripted.options[-1].max_tokens == 512

    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Replies")
    for field, text in (
        (dialog.temperature, "0.2"),
        (dialog.top_p, "0.5"),
        (dialog.top_k, "7"),
        (dialog.min_p, "0.1"),
        (dialog.repeat_penalty, "1.3"),
        (dialog.max_tokens, "33"),
        (dialog.seed, "42"),
        (dialog.replies.system_prompt, "Answer like a pirate."),
    ):
        type_into(qtbot, field, text)
    screenshot(dialog, "settings-replies")
    press_ok(qtbot, dialog)

    expected = {"temperature": 0.2, "top_p": 0.5, "top_k": 7, "min_p": 0.1, "repeat_penalty": 1.3}
    expected |= {"max_tokens": 33, "seed": 42}
    for start_new in (False, True):
        if start_new:
            new_chat(qtbot, window)
        send(qtbot, hearth, "hello again")
        used = scripted.options[-1]
        assert {key: getattr(used, key) for key in expected} == pytest.approx(expected)
        assert scripted.history[-1][0].content == "Answer like a pirate."


def test_a_conversations_own_values_win_over_the_settings_and_the_rest_follow_them(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, scripted: ScriptedEngine
) -> None:
    window = hearth.window
    window.panel_action.setChecked(True)
    new_chat(qtbot, window)
    own = window.conversation_id
    type_into(qtbot, window.panel.temperature, "1.5")  # this conversation's own temperature
    new_chat(qtbot, window)  # switching saves the panel's pending edit
    assert hearth.store.get(own).options["temperature"] == 1.5
    follows = window.conversation_id

    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Replies")
    type_into(qtbot, dialog.temperature, "0")
    type_into(qtbot, dialog.max_tokens, "20")
    press_ok(qtbot, dialog)
    # The panel of the open conversation shows the new defaults; nothing was saved as its own.
    assert (window.panel.temperature.value(), window.panel.max_tokens.value()) == (0.0, 20)
    assert set(hearth.store.get(follows).options) <= {"profile_id"}

    send(qtbot, hearth, "in the conversation that follows the settings")
    assert (scripted.options[-1].temperature, scripted.options[-1].max_tokens) == (0.0, 20)
    window.open_conversation(own)
    assert window.panel.temperature.value() == 1.5
    send(qtbot, hearth, "in the conversation with its own temperature")
    assert (scripted.options[-1].temperature, scripted.options[-1].max_tokens) == (1.5, 20)


def test_apply_keeps_the_dialog_open_and_a_wrong_value_changes_nothing(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, scripted: ScriptedEngine, tmp_path: Path
) -> None:
    window = hearth.window
    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Replies")
    type_into(qtbot, dialog.max_tokens, "25")
    qtbot.mouseClick(dialog.apply_button, LEFT)
    assert dialog.isVisible() and window.settings.sampling.max_tokens == 25
    show_tab(qtbot, dialog, "Documents and tools")
    type_into(qtbot, dialog.documents.allowed_folders, str(tmp_path / "no such folder"))
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.isVisible() and "Not a folder" in dialog.error_label.text()
    assert window.settings.tools.allowed_folders == [] and load_settings().sampling.max_tokens == 25
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Cancel), LEFT)
    new_chat(qtbot, window)
    send(qtbot, hearth, "hello")
    assert scripted.options[-1].max_tokens == 25


# ----- context length: the one change that reloads the model -------------------------------------


def test_a_new_context_length_reloads_the_model_and_the_next_turn_uses_it(qtbot, make_hearth) -> None:  # type: ignore[no-untyped-def]
    loads: list[int] = []

    def factory(settings: Settings) -> ScriptedEngine:
        loads.append(settings.model.n_ctx)
        return ScriptedEngine(n_ctx=settings.model.n_ctx)

    hearth = make_hearth(factory)
    window = hearth.window
    dialog = open_settings(qtbot, window)
    assert "load the model again" in dialog.findChild(QWidget, "reloadNote").text()
    type_into(qtbot, dialog.n_ctx, "2048")
    with qtbot.waitSignal(window.modelStateChanged, check_params_cb=lambda s: s == "ready", timeout=10_000):
        press_ok(qtbot, dialog)
    assert loads == [4096, 2048]
    new_chat(qtbot, window)
    send(qtbot, hearth, "hello")
    session = hearth.worker.session
    assert session is not None and session.engine.info.n_ctx == 2048 and session.builder.n_ctx == 2048
    context = last_reply(hearth).stats["context"]
    assert context["reply_reserve"] + context["free"] < 2048

    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Replies")
    type_into(qtbot, dialog.temperature, "0.3")
    press_ok(qtbot, dialog)
    assert loads == [4096, 2048]  # a change of the replies' settings needs no reload


# ----- memory -----------------------------------------------------------------------------------


MIRA = "The user's daughter is called Mira."


@pytest.fixture
def remembering(make_hearth, make_memory: Callable[..., LongTermMemory]):  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(token_delay_s=0.001)
    memory = make_memory()
    memory.store.add(memory.profiles.active().id, MIRA)
    settings = Settings()
    settings.memory.extract = False  # nothing asked of the engine but the replies
    hearth = make_hearth(lambda s: engine, settings=settings, memory=memory)
    return hearth, engine


def test_memory_switched_off_in_settings_is_not_in_the_next_prompt(qtbot, remembering) -> None:  # type: ignore[no-untyped-def]
    hearth, engine = remembering
    window = hearth.window
    new_chat(qtbot, window)
    send(qtbot, hearth, "What is my daughter's name?")
    assert MIRA in engine.history[-1][-1].content or MIRA in engine.history[-1][0].content

    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Memory")
    tick(qtbot, dialog.memory.enabled, False)
    press_ok(qtbot, dialog)
    send(qtbot, hearth, "What is my daughter's name, again?")
    assert not any(MIRA in m.content for m in engine.history[-1])
    assert not last_reply(hearth).stats.get("memories")


def test_memories_recalled_per_message_follow_the_settings(qtbot, remembering) -> None:  # type: ignore[no-untyped-def]
    hearth, engine = remembering
    window = hearth.window
    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Memory")
    type_into(qtbot, dialog.memory.recall_k, "0")
    press_ok(qtbot, dialog)
    new_chat(qtbot, window)
    send(qtbot, hearth, "What is my daughter's name?")
    assert not any(MIRA in m.content for m in engine.history[-1])


# ----- documents: passages per question ----------------------------------------------------------


def test_passages_per_question_follow_the_settings(qtbot, make_hearth, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(6):
        (folder / f"kettle{n}.txt").write_text(f"Note {n}: descale the kettle with citric acid, step {n}.")
    engine = ScriptedEngine()
    library = Library(tmp_path / "lib", KnowledgeSettings(), HashingEmbedder())
    library.add("Kettle", [folder])
    library.sync("Kettle")
    assert library.collection("Kettle").chunks >= 6
    hearth = make_hearth(lambda s: engine, library=library)
    window = hearth.window
    assert window.panel.collections.item(0).text() == "Kettle"
    new_chat(qtbot, window)
    window.panel.collections.item(0).setCheckState(Qt.CheckState.Checked)
    window.panel.flush()
    send(qtbot, hearth, "How do I descale the kettle with citric acid?")
    assert len(last_reply(hearth).stats["sources"]) == 5  # the default

    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Documents and tools")
    type_into(qtbot, dialog.documents.top_k, "2")
    press_ok(qtbot, dialog)
    send(qtbot, hearth, "How do I descale the kettle with citric acid, please?")
    assert len(last_reply(hearth).stats["sources"]) == 2


# ----- tools ------------------------------------------------------------------------------------


def test_tools_switched_on_in_settings_are_used_by_a_conversation_left_at_the_default(  # type: ignore[no-untyped-def]
    qtbot, hearth: Hearth, scripted: ScriptedEngine, tmp_path: Path
) -> None:
    window = hearth.window
    new_chat(qtbot, window)
    send(qtbot, hearth, "What time is it?")
    assert len(scripted.history) == 1  # no tool decision was asked for

    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Documents and tools")
    tick(qtbot, dialog.documents.agent, True)
    type_into(qtbot, dialog.documents.allowed_folders, str(tmp_path))
    press_ok(qtbot, dialog)
    assert window.panel.use_tools.isChecked()
    assert tmp_path in hearth.allowed_folders()
    scripted.enqueue('{"tool": "none"}', "It is noon.")
    send(qtbot, hearth, "What time is it now?")
    assert len(scripted.history) == 3  # the tool decision, then the answer
    assert "tool" in scripted.history[1][-1].content.lower()


# ----- theme ------------------------------------------------------------------------------------


def test_the_theme_chosen_in_settings_repaints_the_window(qtbot, hearth: Hearth, dark_then_light) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    assert isinstance(app, QApplication)

    def lightness() -> int:
        return app.palette().color(QPalette.ColorRole.Window).lightness()

    for theme, dark in (("dark", True), ("light", False)):
        dialog = open_settings(qtbot, hearth.window)
        show_tab(qtbot, dialog, "Appearance")
        dialog.theme.setFocus()
        qtbot.keyClicks(dialog.theme, theme)
        assert dialog.theme.currentText() == theme
        press_ok(qtbot, dialog)
        assert (lightness() < 128) is dark
        assert hearth.settings.ui.theme == theme


# ----- a profile's own model ----------------------------------------------------------------------


def test_a_change_of_the_replies_settings_keeps_a_profiles_own_model(  # type: ignore[no-untyped-def]
    qtbot, make_hearth, make_memory: Callable[..., LongTermMemory], hearth_home: Path, model_path: Path
) -> None:
    import shutil

    other = hearth_home / "models" / "other-copy.gguf"
    other.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_path, other)
    loaded: list[object] = []

    def factory(settings: Settings) -> ScriptedEngine:
        loaded.append(settings.model.path)
        return ScriptedEngine()

    memory = make_memory(enabled=False)
    hearth = make_hearth(factory, memory=memory)
    window = hearth.window
    home = memory.profiles.create("Home", model=str(other))
    assert window.memory_controls is not None
    with qtbot.waitSignal(window.modelStateChanged, timeout=10_000, check_params_cb=lambda s: s == "ready"):
        window.memory_controls.picker.choose(home.id)
    assert loaded == [None, other]

    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Replies")
    type_into(qtbot, dialog.temperature, "0.1")
    press_ok(qtbot, dialog)
    qtbot.wait(200)  # a reload would be queued on the worker by now
    assert loaded == [None, other], "the profile's model stays loaded"
    assert hearth.settings.model.path is None and window.settings_controller.loaded_model == other


def test_vote_samples_set_in_the_dialog_reach_the_next_vote(qtbot, make_hearth) -> None:  # type: ignore[no-untyped-def]
    engine = ScriptedEngine(["a", "b", "c", "d", "merged"], token_delay_s=0.001)
    hearth = make_hearth(lambda s: engine)
    window = hearth.window
    dialog = open_settings(qtbot, window)
    show_tab(qtbot, dialog, "Replies")
    type_into(qtbot, dialog.votes, "4")
    press_ok(qtbot, dialog)
    new_chat(qtbot, window)
    window.centre.mode_picker.setCurrentIndex(window.centre.mode_picker.findData("vote"))
    send(qtbot, hearth, "Pick a letter")
    names = [s["name"] for s in last_reply(hearth).stats["stages"]]
    assert [name for name in names if name.startswith("vote")] == ["vote 1", "vote 2", "vote 3", "vote 4"]
