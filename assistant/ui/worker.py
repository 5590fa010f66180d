"""The chat worker: owns the engine and drives ChatSession on a thread of its own.

Commands come in as ``*Requested`` signals (queued onto the worker's thread); state goes out as
signals that the UI thread turns into model updates. ``cancel()`` is the one direct call: it only
sets a flag, because the worker's thread is busy generating when a cancel matters. A cancel
reaches the running request and every request already queued behind it (``QueuedCancels``).

Each send, regenerate, continue or edit request ends in exactly one ``replyDone``: when its reply
is finished (memory may still be learning from it), or when it failed, had no model, or was
stopped before it began. The window counts requests out and ``replyDone`` in: that count is the
one truth of whether it is busy.

Reply text is coalesced: at most one ``replyTextChanged`` every ``COALESCE_S`` (about 30 a
second), carrying the whole text so far, so a late or dropped update can never garble the view.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from assistant.chat.events import (
    HistoryFolded,
    MemoriesSaved,
    ReplyStarted,
    ReplyToken,
    Retrieve,
    ToolCalled,
    TurnEvent,
    TurnFinished,
    TurnNotice,
    UserMessageSaved,
)
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core import logs
from assistant.core.cancel import CancelToken, QueuedCancels
from assistant.core.errors import HearthError
from assistant.core.store import INCOGNITO_FIRST_ID, ConversationStore
from assistant.engine.base import Engine
from assistant.memory.long_term import LongTermMemory
from assistant.reasoning.modes import StageFinished, StageStarted
from assistant.reasoning.reply import TurnStyle
from assistant.tools.registry import Tool, ToolRegistry
from assistant.ui.threads import start_on_thread

log = logging.getLogger(__name__)
COALESCE_S = 0.033

EngineFactory = Callable[[Settings], Engine]


class ChatWorker(QObject):
    loadRequested = Signal(object)  # Settings
    sendRequested = Signal(int, str)
    regenerateRequested = Signal(int)
    continueRequested = Signal(int)
    editRequested = Signal(int, int, str)  # conversation, message, new text
    previewRequested = Signal(int, str)  # conversation, draft
    modelsRequested = Signal(object)  # Settings
    styleRequested = Signal(object)  # TurnStyle for the requests that follow

    loadStateChanged = Signal(str, str)  # "loading" | "ready" | "failed", model name or error
    replyDone = Signal(int, bool)  # conversation id, whether a reply was finished (False: failed or never began)
    userMessageSaved = Signal(int, object)  # conversation id, StoredMessage
    replyStarted = Signal(int, object, object)  # conversation id, StoredMessage, context breakdown
    replyTextChanged = Signal(int, int, str)  # conversation id, message id, text so far
    historyFolded = Signal(int, int)  # conversation id, messages folded
    turnFinished = Signal(int, object, object)  # conversation id, StoredMessage, GenerationStats
    contextPreviewed = Signal(int, object)  # conversation id, breakdown
    modelsListed = Signal(object, object)  # list[ModelEntry], the path in use (or None)
    toolCalled = Signal(int, object)  # conversation id, the call's result as a dict
    approvalRequested = Signal(str, object)  # tool name, arguments: answer with answer_approval()
    failed = Signal(str, str)  # message, hint
    notice = Signal(str)  # something the user should know that is not an error
    stageChanged = Signal(int, str, bool)  # conversation id, stage name, finished
    memoriesSaved = Signal(int, object, object)  # conversation id, [(action, text)], problem or None
    replyUpdated = Signal(int, object)  # conversation id, StoredMessage: a finished reply's stats grew
    _mcpStarted = Signal(object)  # McpTools, from the thread that started them

    def __init__(
        self,
        store: ConversationStore,
        engine_factory: EngineFactory,
        retrieve: Retrieve | None = None,
        tools: ToolRegistry | None = None,
        memory: LongTermMemory | None = None,
        settings: Callable[[], Settings] | None = None,
    ) -> None:
        """``settings``: the getter of the live settings (the window's SettingsStore), which the
        sessions read at each turn; without it they keep the settings the model was loaded with."""
        super().__init__()
        self.store = store
        self._live_settings = settings
        self.memory = memory
        # Incognito conversations live in this in-memory store only, gone when the app closes.
        self.incognito_store = ConversationStore.incognito()
        self._incognito_session: ChatSession | None = None
        self._retrieve = retrieve
        self._tools = tools
        self._approval = threading.Event()
        self._approved: bool | str = False
        self._engine_factory = engine_factory
        self._session: ChatSession | None = None
        self._cancels = QueuedCancels()
        self._cancel = CancelToken()  # the running request's, for the approval wait
        self._reply_done = False
        self.loadRequested.connect(self._load)
        for requested, slot in (
            (self.sendRequested, self._send),
            (self.regenerateRequested, self._regenerate),
            (self.continueRequested, self._continue),
            (self.editRequested, self._edit),
        ):
            # Counted on the thread that queues the request, so a Stop knows what is waiting.
            requested.connect(lambda *_: self._cancels.submitted(), Qt.ConnectionType.DirectConnection)
            requested.connect(slot)
        self.previewRequested.connect(self._preview)
        self.modelsRequested.connect(self._list_models)
        self.styleRequested.connect(self._set_style)
        self._style = TurnStyle()
        self._mcpStarted.connect(self._register_mcp_tools)
        self._mcp: Any = None

    @property
    def session(self) -> ChatSession | None:
        return self._session

    def cancel(self) -> None:
        """Thread-safe: stops the current reply at its next token, and the requests queued behind it
        before they begin (and refuses a pending approval)."""
        self._cancels.cancel()
        self.answer_approval(False)

    def answer_approval(self, approved: bool | str) -> None:
        """Thread-safe: the user's answer to the last approvalRequested."""
        self._approved = approved
        self._approval.set()

    def _approve(self, item: Tool, arguments: dict[str, Any]) -> bool | str:
        """Runs on this worker's thread inside the tool loop: ask the window, wait for the answer."""
        self._approval.clear()
        self._approved = False
        self.approvalRequested.emit(item.name, arguments)
        while not self._approval.wait(0.05):
            if self._cancel.cancelled:
                return False
        return self._approved

    def start_mcp_servers(self, configs: list[Any], log_dir: Any) -> None:
        """Start the user's MCP servers on a thread of their own (each takes a second or more); their
        tools join the registry on this worker's thread once they answer."""
        from assistant.tools.mcp import McpTools

        if not configs or self._tools is None:
            return
        servers = McpTools(configs, log_dir)
        threading.Thread(
            target=lambda: self._mcpStarted.emit(servers.start()), name="hearth-mcp-start", daemon=True
        ).start()

    @Slot(object)
    def _register_mcp_tools(self, servers: Any) -> None:
        self._mcp = servers
        problems = list(servers.problems)
        registry = self._tools
        for item in servers.tools:
            if registry is None:  # a worker made without tools (tests) has nowhere to put them
                break
            try:
                registry.register(item)
            except HearthError as exc:
                problems.append(exc.message)
        if problems:
            self.notice.emit("MCP: " + " ".join(problems))

    def shutdown(self) -> None:
        """Called on the worker's thread (queued) or after it stopped: release the model."""
        if self._session is not None:
            self._session.engine.close()
            self._session = None
        if self._mcp is not None:
            self._mcp.close()
            self._mcp = None

    # ----- slots, run on the worker thread -----------------------------------------------------

    @Slot(object)
    def _load(self, settings: Settings) -> None:
        self.loadStateChanged.emit("loading", "")
        if self._session is not None:
            self._session.engine.close()
            self._session = self._incognito_session = None
        try:
            engine = self._engine_factory(settings)
            wait = getattr(engine, "wait_until_loaded", None)
            if wait is not None:
                wait()
            common: dict[str, Any] = dict(
                retrieve=self._retrieve, tools=self._tools, approve=self._approve, memory=self.memory
            )
            # The loaded settings build the engine (they may name a profile's model, never saved);
            # the sessions read everything else from the live settings, turn by turn.
            live: Settings | Callable[[], Settings] = self._live_settings or settings
            self._session = ChatSession(self.store, engine, live, **common)
            self._incognito_session = ChatSession(self.incognito_store, engine, live, incognito=True, **common)
        except HearthError as exc:
            self.loadStateChanged.emit("failed", exc.message)
            self.failed.emit(exc.message, exc.hint)
            return
        except Exception as exc:
            log.exception("model load failed")
            self.loadStateChanged.emit("failed", str(exc))
            self.failed.emit(f"The model could not be loaded: {exc}", logs.where() or "See the log for details.")
            return
        self.loadStateChanged.emit("ready", engine.info.name)

    @Slot(object)
    def _list_models(self, settings: Settings) -> None:
        from assistant.engine.model_choice import list_models, resolve_model_path

        try:
            current = resolve_model_path(settings)
        except HearthError:
            current = None
        self.modelsListed.emit(list_models(settings), current)

    @Slot(object)
    def _set_style(self, style: TurnStyle) -> None:
        self._style = style

    @Slot(int, str)
    def _send(self, conversation_id: int, text: str) -> None:
        style = self._style
        self._run(conversation_id, lambda session, cancel: session.send(conversation_id, text, cancel, style))

    @Slot(int)
    def _regenerate(self, conversation_id: int) -> None:
        style = self._style
        self._run(conversation_id, lambda session, cancel: session.regenerate(conversation_id, cancel, style))

    @Slot(int)
    def _continue(self, conversation_id: int) -> None:
        self._run(conversation_id, lambda session, cancel: session.continue_reply(conversation_id, cancel))

    @Slot(int, int, str)
    def _edit(self, conversation_id: int, message_id: int, text: str) -> None:
        self._run(
            conversation_id,
            lambda session, cancel: session.edit_and_resend(conversation_id, message_id, text, cancel, self._style),
        )

    @Slot(int, str)
    def _preview(self, conversation_id: int, draft: str) -> None:
        session = self.session_for(conversation_id)
        if session is None:
            return
        try:
            built = session.preview(conversation_id, draft)
        except HearthError:
            return  # a draft too long for the window shows up when it is sent
        self.contextPreviewed.emit(conversation_id, built.breakdown)

    def session_for(self, conversation_id: int) -> ChatSession | None:
        return self._incognito_session if conversation_id >= INCOGNITO_FIRST_ID else self._session

    def _run(self, conversation_id: int, start: Callable[[ChatSession, CancelToken], Iterator[TurnEvent]]) -> None:
        self._cancel = self._cancels.start()
        self._reply_done = False
        session = self.session_for(conversation_id)
        try:
            if session is None:
                self.failed.emit("No model is loaded.", "Choose a model in the settings, or fix the error before.")
            elif not self._cancel.cancelled:  # stopped while it waited: it never begins
                self._stream(session, conversation_id, start(session, self._cancel))
        except HearthError as exc:
            self.failed.emit(exc.message, exc.hint)
        except Exception as exc:
            log.error("generation failed:\n%s", traceback.format_exc())
            hint = f"The conversation is saved; try again. {logs.where()}".strip()
            self.failed.emit(f"Generation failed: {exc}", hint)
        finally:
            if not self._reply_done:
                self.replyDone.emit(conversation_id, False)

    def _stream(self, session: ChatSession, conversation_id: int, events: Iterator[TurnEvent]) -> None:
        message_id = 0
        text = ""
        last_emit = 0.0
        for event in events:
            if isinstance(event, UserMessageSaved):
                self.userMessageSaved.emit(conversation_id, event.message)
            elif isinstance(event, ToolCalled):
                self.toolCalled.emit(conversation_id, event.result.to_dict())
            elif isinstance(event, HistoryFolded):
                self.historyFolded.emit(conversation_id, event.folded_messages)
            elif isinstance(event, ReplyStarted):
                message_id = event.message_id
                message = session.store.message(message_id)
                text = message.content  # non-empty when continuing
                self.replyStarted.emit(conversation_id, message, event.context.breakdown)
            elif isinstance(event, ReplyToken):
                text += event.text
                now = time.monotonic()
                if now - last_emit >= COALESCE_S:
                    self.replyTextChanged.emit(conversation_id, message_id, text)
                    last_emit = now
            elif isinstance(event, TurnFinished):
                self.turnFinished.emit(conversation_id, event.reply, event.stats)
                # The reply is done: the window is free again while memory learns from it.
                self._reply_done = True
                self.replyDone.emit(conversation_id, True)
            elif isinstance(event, StageStarted):
                self.stageChanged.emit(conversation_id, event.name, False)
            elif isinstance(event, StageFinished):
                self.stageChanged.emit(conversation_id, event.stage.name, True)
            elif isinstance(event, TurnNotice):
                self.notice.emit(event.text)
            elif isinstance(event, MemoriesSaved):
                changes = [(change.action, change.memory.text) for change in event.changes]
                if event.reply is not None:
                    self.replyUpdated.emit(conversation_id, event.reply)
                self.memoriesSaved.emit(conversation_id, changes, event.notice)


def start_worker(worker: ChatWorker) -> QThread:
    return start_on_thread(worker, "hearth-chat-worker")
