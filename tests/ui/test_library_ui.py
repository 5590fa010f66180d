"""The library in the window: index with progress, choose collections, source cards, the cited passage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QDialog

from assistant.app import Hearth
from assistant.config import KnowledgeSettings, Settings
from assistant.knowledge.library import Library
from tests.fakes import HashingEmbedder, ScriptedEngine
from tests.knowledge.conftest import write_pdf
from tests.ui.waits import new_chat, writes_done


def test_index_choose_ask_and_open_a_source(qtbot, hearth_home: Path, tmp_path: Path, screenshot) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder / "kettle.pdf", ["Unpacking the kettle.", "Descale the kettle every 90 days with citric acid."])
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 nonsense")
    engine = ScriptedEngine(["Every 90 days [1]."])
    library = Library(tmp_path / "lib", KnowledgeSettings(), HashingEmbedder())
    hearth = Hearth(Settings(), engine_factory=lambda settings: engine, library=library)
    qtbot.addWidget(hearth.window)
    window = hearth.window
    try:
        with qtbot.waitSignal(window.modelStateChanged, timeout=10_000):
            hearth.show()
        window.library_action.trigger()
        dialog = window.findChild(QDialog, "libraryDialog")
        assert dialog is not None
        hearth.library_worker.addRequested.emit("Manuals", [folder])
        qtbot.waitUntil(lambda: "done" in dialog.report.toPlainText(), timeout=20_000)
        assert "broken.pdf" in dialog.report.toPlainText()  # the index report names the unreadable file
        assert dialog.progress.value() == dialog.progress.maximum()
        assert dialog.collections.count() == 1 and "Manuals" in dialog.collections.item(0).text()
        screenshot(dialog, "12-library")
        dialog.done(0)

        new_chat(qtbot, window)
        panel_item = window.panel.collections.item(0)
        assert panel_item.text() == "Manuals"
        panel_item.setCheckState(Qt.CheckState.Checked)
        window.panel.flush()
        writes_done(qtbot, window)
        assert hearth.store.get(window.conversation_id).options["collections"] == [library.collection("Manuals").uid]

        window.input.setPlainText("How often do I descale the kettle?")
        with qtbot.waitSignal(window.busyChanged, timeout=20_000, check_params_cb=lambda busy: not busy):
            qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
        assert "from kettle.pdf, page 2>>>" in engine.history[-1][-1].content
        reply = window.chat_view.message_widgets[-1]
        cards = {button.text().split("] ", 1)[1]: button for button in reply.source_buttons}
        assert set(cards) == {"kettle.pdf p.1", "kettle.pdf p.2"}
        qtbot.waitUntil(lambda: reply.isVisible(), timeout=3_000)
        screenshot(window, "13-answer-with-sources")
        cards["kettle.pdf p.2"].click()
        source = window.findChild(QDialog, "sourceDialog")
        assert source is not None and source.isVisible()
        assert "citric acid" in source.text.toPlainText()
        assert "background-color:#ffe08a" in source.text.toHtml().replace(" ", "")
        screenshot(source, "14-cited-passage")
        source.done(0)
        # The answer cites [1] only: that is the one card shown as cited, and its marker is a link to it.
        assert [b.text().split(" ", 1)[0] for b in reply.sources.cited] == ["[1]"]
        assert reply.sources.also_toggle.text() == "Also retrieved, not cited (1)"
        assert 'href="cite:1"' in reply.text.toHtml()
        reply.text.anchorClicked.emit(QUrl("cite:1"))
        opened = [d for d in window.findChildren(QDialog, "sourceDialog") if d.isVisible()]
        assert [d.source["n"] for d in opened] == [1]
    finally:
        window.close()
        hearth.shutdown()


def test_a_file_added_while_the_app_runs_is_indexed(qtbot, hearth_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("The first note.")
    library = Library(tmp_path / "lib", KnowledgeSettings(), HashingEmbedder())
    library.add("Notes", [folder])
    library.sync("Notes")
    hearth = Hearth(Settings(), engine_factory=lambda settings: ScriptedEngine(), library=library)
    caught_up: list[object] = []  # the watcher is set up before the start-up check ends
    hearth.library_worker.rescanFinished.connect(caught_up.append, Qt.ConnectionType.DirectConnection)
    qtbot.addWidget(hearth.window)
    try:
        with qtbot.waitSignal(hearth.window.modelStateChanged, timeout=10_000):
            hearth.show()
        qtbot.waitUntil(lambda: bool(caught_up), timeout=30_000)
        (folder / "b.txt").write_text("A note about the watering can.")
        qtbot.waitUntil(lambda: library.collection("Notes").files == 2, timeout=10_000)
        assert any("watering can" in p.text for p in library.search("watering can", ["Notes"]))
    finally:
        hearth.window.close()
        hearth.shutdown()


def test_reindex_after_the_embedder_changed(qtbot, hearth_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Notes about the garden shed.")
    old = Library(tmp_path / "lib", KnowledgeSettings(), HashingEmbedder(64, "old"))
    old.add("Notes", [folder])
    old.sync("Notes")
    old.close()
    library = Library(tmp_path / "lib", KnowledgeSettings(), HashingEmbedder(32, "new"))
    hearth = Hearth(Settings(), engine_factory=lambda settings: ScriptedEngine(), library=library)
    qtbot.addWidget(hearth.window)
    window = hearth.window
    try:
        with qtbot.waitSignal(window.modelStateChanged, timeout=10_000):
            hearth.show()
        with qtbot.waitSignal(window.errorShown, timeout=10_000):
            hearth.library_worker.syncRequested.emit("Notes")
        assert "indexed with old" in window.last_error.text() and "Re-index" in window.last_error.informativeText()
        window.last_error.done(0)
        window.library_action.trigger()
        dialog = window.findChild(QDialog, "libraryDialog")
        dialog.collections.setCurrentRow(0)
        dialog.reindex_button.click()
        qtbot.waitUntil(lambda: library.collection("Notes").embedder == "new", timeout=10_000)
        qtbot.waitUntil(lambda: library.collection("Notes").chunks == 1, timeout=10_000)
        assert library.search("garden shed", ["Notes"])
        assert isinstance(window.last_error, QMessageBox)
    finally:
        window.close()
        hearth.shutdown()


@pytest.mark.real_model
@pytest.mark.slow
def test_the_real_model_answer_shows_as_cited_only_what_it_cites(
    qtbot, make_hearth, hearth_home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The bundled 135M model seldom writes [n]: whatever it writes, the cards shown as cited are
    exactly the passages its text cites, and the rest are under "not cited"."""
    from assistant.config import data_dir
    from assistant.knowledge.citations import cited_numbers

    folder = tmp_path / "manuals"
    folder.mkdir()
    (folder / "kettle.txt").write_text(
        "Kettle manual.\n\nDescale the kettle every 90 days with citric acid.\n\n"
        "Never fill the kettle above the MAX line of 1.7 litres.\n"
    )
    library = Library(data_dir(), KnowledgeSettings())  # the real embedder
    library.add("Manuals", [folder])
    library.sync("Manuals")
    settings = Settings()
    settings.memory.enabled = False
    settings.sampling.max_tokens = 60
    settings.sampling.temperature = 0.0
    hearth = make_hearth(settings=settings, library=library)
    window = hearth.window
    new_chat(qtbot, window)
    window.panel.collections.item(0).setCheckState(Qt.CheckState.Checked)
    window.panel.flush()
    writes_done(qtbot, window)
    window.input.setPlainText("How often should I descale the kettle? Cite the passage.")
    with qtbot.waitSignal(window.busyChanged, timeout=120_000, check_params_cb=lambda busy: not busy):
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    reply = window.chat_view.message_widgets[-1]
    sources = reply.message.stats["sources"]
    assert sources, "the passages were retrieved"
    cited = cited_numbers(reply.message.content, {s["n"] for s in sources})
    print(f"real model answer: {reply.message.content!r}; cites {cited} of {len(sources)} passages")
    assert [b.text().split(" ", 1)[0] for b in reply.sources.cited] == [f"[{n}]" for n in cited]
    assert len(reply.sources.also) == len(sources) - len(cited)
    links = {int(n) for n in re.findall(r'href="cite:(\d+)"', reply.text.toHtml())}
    assert links == set(cited)
    if not cited:
        assert reply.sources.also_toggle.text() == f"Retrieved, not cited ({len(sources)})"
