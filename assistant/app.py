"""Composition root: builds the core objects and wires them into the Qt window.

Start-up order is what keeps the window quick to appear: Qt and the window first, then, after
it is on screen, the model list and the model itself (on the worker's thread). Nothing here
imports llama.cpp, torch or chromadb; the worker does, when it loads the engine.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from assistant.chat.collection_refs import migrate_collection_refs
from assistant.config import Settings, SettingsStore, data_dir, database_path
from assistant.core.errors import HearthError
from assistant.core.store import ConversationStore
from assistant.engine.base import Engine
from assistant.knowledge.library import Library
from assistant.knowledge.library_index import CollectionInfo
from assistant.knowledge.retriever import Retrieved
from assistant.memory.long_term import LongTermMemory
from assistant.tools.builtin import build_registry
from assistant.tools.files import AllowedFolders
from assistant.ui.download_worker import DownloadWorker, start_download_worker
from assistant.ui.library_worker import LibraryWorker, start_library_worker
from assistant.ui.main_window import MainWindow
from assistant.ui.markdown import warm_up
from assistant.ui.single_window import SingleWindow
from assistant.ui.sources import stop_readers
from assistant.ui.stall import StallMeter
from assistant.ui.startup import UncaughtReporter, open_store, tell
from assistant.ui.theme import style_sheet
from assistant.ui.threads import stop_thread
from assistant.ui.worker import ChatWorker, EngineFactory, start_worker


def apply_theme(app: QApplication, theme: str) -> None:
    """Fusion with the system's colours, or a forced light or dark palette.

    The palette is set explicitly because not every platform honours a requested colour scheme.
    """
    app.setStyle(QStyleFactory.create("Fusion"))
    scheme = {"light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}.get(theme, Qt.ColorScheme.Unknown)
    QGuiApplication.styleHints().setColorScheme(scheme)
    if theme == "dark":
        app.setPalette(_dark_palette())
    else:
        app.setPalette(app.style().standardPalette() if theme == "light" else QPalette())
    # A forced theme reaches the file dialogs only if they are Qt's own (a native one follows the
    # desktop's colours: light file dialogs over a dark Hearth); "system" keeps the native ones.
    app.setAttribute(Qt.ApplicationAttribute.AA_DontUseNativeDialogs, theme in ("light", "dark"))
    # "system" may turn out dark too: the style sheet follows the palette, not the setting.
    app.setStyleSheet(style_sheet(app.palette().color(QPalette.ColorRole.Window).lightness() < 128))


def _dark_palette() -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    for name, color in {
        role.Window: "#202024",
        role.WindowText: "#e8e8ec",
        role.Base: "#18181b",
        role.AlternateBase: "#26262b",
        role.ToolTipBase: "#2c2c31",
        role.ToolTipText: "#e8e8ec",
        role.Text: "#e8e8ec",
        role.Button: "#2c2c31",
        role.ButtonText: "#e8e8ec",
        role.BrightText: "#ff6b6b",
        role.Link: "#8ab4f8",
        role.Highlight: "#4a6fa5",
        role.HighlightedText: "#ffffff",
        role.PlaceholderText: "#8a8a94",
    }.items():
        palette.setColor(name, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor("#6a6a72"))
    palette.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor("#6a6a72"))
    return palette


def default_engine_factory(settings: Settings) -> Engine:
    from assistant.engine.model_choice import open_engine

    return open_engine(settings)


class _Announcement(QObject):
    """A signal for Hearth (not a QObject itself) that threads emit and the UI thread receives."""

    done = Signal()


class Hearth:
    """The running app: the window, the worker and its thread, and their shutdown."""

    def __init__(
        self,
        settings: Settings | SettingsStore | None = None,
        engine_factory: EngineFactory = default_engine_factory,
        store: ConversationStore | None = None,
        library: Library | None = None,
        memory: LongTermMemory | None = None,
        welcome: bool = False,
    ) -> None:
        # The one source of the settings: the parts below read it at each turn, none keeps a copy.
        self.settings_store = settings if isinstance(settings, SettingsStore) else SettingsStore(settings)
        live = self.settings_store
        self.store = store or ConversationStore(database_path())
        # The library opens its SQLite catalogue now; Chroma and the embedder on first use, off this thread.
        self.library = library or Library(data_dir())
        self.library.use_settings(lambda: live.current.knowledge)
        # The file tools read this on every call; it follows the collections and the settings.
        self.allowed_folders = AllowedFolders()
        self._allow(self.library.collections())
        migrate_collection_refs(self.store, self.library.collections())  # names stored before ids
        tools = build_registry(self.allowed_folders)
        self.memory, memory_problem = self._open_memory(memory)
        self.worker = ChatWorker(
            self.store, engine_factory, retrieve=self._retrieve, tools=tools, memory=self.memory, settings=live
        )
        self.thread = start_worker(self.worker)
        self.library_worker = LibraryWorker(self.library)
        self.library_thread = start_library_worker(self.library_worker)
        self.window = MainWindow(self.store, self.worker, live, self.library_worker, self.memory)
        # Downloads run on a thread of their own, started only when the user asks for one.
        self.download_worker = DownloadWorker()
        self.download_thread = start_download_worker(self.download_worker)
        self.window.toolbar.models_action.triggered.connect(self.open_models)
        self.welcome = welcome
        self._accept_model_drops()
        if memory_problem:
            self.window.show_notice(memory_problem)
        self.window.panel.set_collections(self.library.collections())
        live.subscribe(self._on_settings_changed)
        self.library_worker.collectionsChanged.connect(self._allow)
        self.window.shown.connect(self._after_first_show)
        self._speed_known = _Announcement()

    @property
    def settings(self) -> Settings:
        return self.settings_store.current

    def _allow(self, collections: list[CollectionInfo] | None = None) -> None:
        if collections is not None:
            self._collection_folders = [Path(root) for c in collections for root in c.roots]
        self.allowed_folders.set([*self._collection_folders, *self.settings.tools.allowed_folders])

    def _open_memory(self, memory: LongTermMemory | None) -> tuple[LongTermMemory | None, str]:
        """Memory shares the library's embedder; if its database is damaged, chat works without it."""
        live = self.settings_store
        if memory is not None:
            memory.use_settings(lambda: live.current.memory)
            return memory, ""
        try:
            return LongTermMemory(data_dir(), lambda: live.current.memory, lambda: self.library.embedder), ""
        except HearthError as exc:
            return None, f"{exc.message} {exc.hint}"

    def _retrieve(self, refs: list[str], question: str) -> Retrieved:
        return self.library.retrieve(question, refs)

    def _after_first_show(self) -> None:
        # After the window is painted: read the model list, then load the model off the UI thread,
        # and get the Markdown renderer's first-use costs out of the way before the first reply.
        self.window.populate_models()  # queued on the worker ahead of the load, so the picker fills at once
        self.window.settings_controller.load()
        self._start_mcp_servers()
        threading.Thread(target=warm_up, name="hearth-warm-up", daemon=True).start()
        self.library_worker.start_watching()
        if self.welcome:
            from assistant.ui.welcome_dialog import should_welcome

            if should_welcome(self.settings):
                # Opened once this machine's speed is known (its recommendation depends on it).
                self._speed_known.done.connect(self.open_welcome, Qt.ConnectionType.SingleShotConnection)
        threading.Thread(target=self._measure_speed, name="hearth-machine-speed", daemon=True).start()

    def _measure_speed(self) -> None:
        """This machine's memory bandwidth, measured (a fraction of a second, up to seconds on a busy
        machine) and kept for a month, off the UI thread: the welcome and Models windows read it."""
        from assistant.engine.speed import machine_speed

        try:
            machine_speed(n_threads=self.settings.model.n_threads)
        finally:
            with contextlib.suppress(RuntimeError):  # the app closed meanwhile
                self._speed_known.done.emit()

    def open_models(self) -> object:
        from assistant.ui.models_dialog import open_models_dialog

        dialog = open_models_dialog(self.download_worker, self.window.settings, self.window)
        dialog.useModelRequested.connect(self._use_model)
        return dialog

    def open_welcome(self) -> object:
        from assistant.ui.welcome_dialog import WelcomeDialog

        dialog = WelcomeDialog(self.download_worker, self.window.settings, self.window)
        dialog.setObjectName("welcomeDialog")
        dialog.useModelRequested.connect(self._use_model)
        dialog.openModelsRequested.connect(self.open_models)
        dialog.open()
        return dialog

    def _accept_model_drops(self) -> None:
        from assistant.ui.model_drop import ModelDropHandler

        self.model_drop = ModelDropHandler(self.window)
        self.window.setAcceptDrops(True)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.model_drop)
        self.model_drop.added.connect(self._on_model_added)
        self.model_drop.failed.connect(self.window.show_error)

    def _on_model_added(self, path: str) -> None:
        self.window.show_notice(f"Added {Path(path).name} to the models folder: pick it in the model list.")
        self.window.populate_models()

    def _use_model(self, path: str) -> None:
        self.window.use_model(path)
        self.window.populate_models()

    def _start_mcp_servers(self) -> None:
        from assistant.tools.mcp import McpError, load_config

        try:
            configs = load_config(data_dir())
        except McpError as exc:
            self.window.show_notice(exc.user_text())
            return
        self.worker.start_mcp_servers(configs, data_dir() / "logs")

    def _on_settings_changed(self, before: Settings, after: Settings) -> None:
        """What acts on a change rather than reading the settings at its next use: the file tools'
        folders and the theme."""
        self._allow()
        app = QApplication.instance()
        if isinstance(app, QApplication) and before.ui.theme != after.ui.theme:
            apply_theme(app, after.ui.theme)

    def show(self) -> None:
        self.window.restore_state()
        self.window.show()

    def shutdown(self) -> None:
        self.worker.cancel()
        self.library_worker.cancel()
        self.download_worker.pause()  # the .part is kept: the next download resumes it
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.model_drop)
        self.model_drop.wait()
        self.library_worker.stop_watching()
        for thread in (self.thread, self.library_thread, self.download_thread):
            stop_thread(thread)
        self.window.attachment_controls.stop()
        stop_readers()  # citation pages still being read
        self.window.operations.stop()  # the writes asked for are finished before the stores close
        self.worker.shutdown()
        self.store.close()
        self.library.close()
        if self.memory is not None:
            self.memory.close()


def seconds_since_process_start() -> float | None:
    """How long this process has existed (Linux), so start-up includes the interpreter and imports."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_ticks = int(fields[19])  # field 22 of stat: start time in clock ticks after boot
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - started_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_gui(smoke_test: tuple[Path, str] | None = None, started_at: float | None = None) -> int:
    age = seconds_since_process_start()
    started_at = time.perf_counter() - age if age is not None else (started_at or time.perf_counter())
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Hearth")
    app.setDesktopFileName("hearth")
    interactive = smoke_test is None
    claim = SingleWindow(data_dir())
    if not claim.claim():
        focused = claim.ask_running_to_focus()
        print(f"Hearth is already open for {data_dir()}{': brought its window forward' if focused else ''}.")
        return 0 if interactive else 1
    store, notice = open_store(database_path(), interactive)
    if store is None:
        return 1
    try:
        hearth = Hearth(store=store, welcome=interactive)
    except HearthError as exc:
        tell("Hearth cannot start", exc, interactive)
        return 1
    claim.focusRequested.connect(hearth.window.bring_forward)
    UncaughtReporter(hearth.window)
    if notice:
        hearth.window.show_notice(notice)
    apply_theme(app, hearth.settings.ui.theme)
    app.setWindowIcon(hearth.window.windowIcon())
    if smoke_test is not None:
        SmokeTest(hearth, smoke_test[0], smoke_test[1], started_at).start()
    hearth.show()
    try:
        return app.exec()
    finally:
        hearth.shutdown()
        claim.release()


class SmokeTest(QObject):
    """Start, send one prompt, wait for the streamed reply, save a screenshot, print JSON, quit.

    A QObject on the UI thread, so the worker's signals reach it queued, never on the worker's thread.
    """

    def __init__(self, hearth: Hearth, screenshot: Path, prompt: str, started_at: float) -> None:
        super().__init__(hearth.window)
        self.hearth = hearth
        self.screenshot = screenshot
        self.prompt = prompt
        self.started_at = started_at
        self.startup_s = 0.0
        self.stalls = StallMeter(parent=hearth.window)
        self.result: dict[str, object] = {}

    def start(self) -> None:
        window = self.hearth.window
        window.shown.connect(self._on_shown)
        self.hearth.worker.loadStateChanged.connect(self._on_load_state)
        self.hearth.worker.turnFinished.connect(self._on_finished)
        self.hearth.worker.failed.connect(self._on_failed)

    def _on_shown(self) -> None:
        self.startup_s = time.perf_counter() - self.started_at

    def _on_load_state(self, state: str, detail: str) -> None:
        if state == "ready":
            self.hearth.window.new_conversation()
            self.stalls.start()
            self.hearth.window.send(self.prompt)

    def _on_finished(self, conversation_id: int, reply: object, stats: object) -> None:
        max_stall = self.stalls.stop()
        QTimer.singleShot(200, lambda: self._finish(reply, stats, max_stall))  # let the last repaint land

    def _finish(self, reply: object, stats: object, max_stall: float) -> None:
        window = self.hearth.window
        self.screenshot.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(self.screenshot))
        self.result = {
            "answer": getattr(reply, "content", ""),
            "max_ui_stall_ms": round(max_stall, 1),
            "startup_s": round(self.startup_s, 3),
            "tokens_per_s": getattr(stats, "tokens_per_s", None),
        }
        print(json.dumps(self.result), flush=True)
        QApplication.exit(0)

    def _on_failed(self, message: str, hint: str) -> None:
        print(json.dumps({"error": message, "hint": hint}), file=sys.stderr, flush=True)
        QApplication.exit(1)
