"""One turn of a conversation, from the user's message to the saved reply.

``ChatSession`` is what every front end drives: the CLI iterates its events in a loop, the GUI in
a worker thread. It commits the user message before anything is generated, checkpoints the reply
while it streams, and folds old turns into a summary when they no longer fit the context window.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import replace
from typing import Any

from assistant.chat.collection_refs import as_retrieved, collection_refs, missing_notice, with_ids
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
from assistant.chat.summary import fold_into_summary
from assistant.chat.turn import Turn, join_continuation
from assistant.chat.turn_tools import profile_approver, tools_for_turn
from assistant.config import Settings, read_section
from assistant.core.attachment_store import attachments
from assistant.core.cancel import Cancelled, CancelToken
from assistant.core.context import BuiltContext, ContextBuilder, HistoryItem
from assistant.core.errors import EmptyPromptError, HearthError
from assistant.core.messages import ChatMessage, GenerationStats, MessageStatus, clean_text
from assistant.core.store import Conversation, ConversationStore, StoredMessage
from assistant.engine.base import Engine, GenerationResult, SamplingOptions
from assistant.knowledge.attached_file import attached_passages
from assistant.knowledge.retriever import Retrieved, format_passages
from assistant.memory.long_term import LongTermMemory
from assistant.memory.profiles import Profile
from assistant.reasoning.modes import Stage, StageProgress
from assistant.reasoning.reply import ReplyStream, TurnStyle
from assistant.tools.agent import (
    MIN_RESULT_TOKENS,
    RESULT_FRAMING_TOKENS,
    Approve,
    AskUser,
    ToolAgent,
    format_results,
    tool_messages,
)
from assistant.tools.calculator import is_plain_arithmetic
from assistant.tools.calculator import normalise as normalise_expression
from assistant.tools.registry import ToolRegistry

CHECKPOINT_S = 1.0
CONTINUE_INSTRUCTION = (
    "Continue your previous answer from exactly where it stopped. Do not repeat anything, do not comment."
)
_MAX_FOLDS_PER_TURN = 4
# Kept free of tool results: the decision instruction, the tool list and the section's own framing.
DECISION_ROOM = 256


class ChatSession:
    def __init__(
        self,
        store: ConversationStore,
        engine: Engine,
        settings: Settings | Callable[[], Settings],
        clock: Callable[[], float] = time.monotonic,
        retrieve: Retrieve | None = None,
        tools: ToolRegistry | None = None,
        approve: AskUser | None = None,
        memory: LongTermMemory | None = None,
        incognito: bool = False,
    ) -> None:
        self.store = store
        self.memory = memory
        # Incognito: the store is in memory only, and nothing is recalled from or saved to memory.
        self.incognito = incognito
        self.engine = engine
        # Fixed settings (a terminal command), or the getter of the window's live ones: read at the
        # start of each turn, so a change in Settings reaches the next reply of an open conversation.
        self._settings = settings
        self.retrieve = retrieve
        self.tools = tools
        self.approve = approve
        self.clock = clock
        reserve = self.settings.context.reply_reserve
        self.builder = ContextBuilder(engine, n_ctx=engine.info.n_ctx, reply_reserve=reserve)

    @property
    def settings(self) -> Settings:
        return read_section(self._settings)

    def _follow_settings(self) -> None:
        """The parts of the settings the context builder keeps: the room kept free for the reply.
        (The context length itself is the loaded model's: changing it reloads the model.)"""
        self.builder.reply_reserve = min(self.settings.context.reply_reserve, self.builder.n_ctx // 2)

    def sampling(self, conversation: Conversation | None = None) -> SamplingOptions:
        """The default sampling, then the profile's, then the conversation's own overrides."""
        values = self.settings.sampling.model_dump()
        if conversation is not None:
            profile = self.profile(conversation)
            if profile is not None:
                values.update({k: v for k, v in profile.sampling.items() if k in values})
            values.update({k: v for k, v in conversation.options.items() if k in values})
        return SamplingOptions(**values)

    def profile(self, conversation: Conversation) -> Profile | None:
        return self.memory.profiles.for_conversation(conversation.options) if self.memory is not None else None

    def system_prompt(self, conversation: Conversation) -> str:
        if conversation.system_prompt is not None:
            return conversation.system_prompt
        profile = self.profile(conversation)
        if profile is not None and profile.instructions.strip():
            return profile.instructions
        return self.settings.context.system_prompt

    def create_conversation(self, profile: Profile | None = None, title: str | None = None) -> Conversation:
        """A new conversation in ``profile`` (the active one by default), with its default collections."""
        conversation = self.store.create(title)
        if self.memory is None:
            return conversation
        profile = profile or self.memory.profiles.active()
        self.store.set_options(conversation.id, profile.new_conversation_options())
        return self.store.get(conversation.id)

    def _profile_sections(self, conversation: Conversation) -> dict[str, str]:
        profile = self.profile(conversation)
        return {"profile": profile.about_me} if profile is not None and profile.about_me.strip() else {}

    @property
    def remembers(self) -> bool:
        return self.memory is not None and not self.incognito and self.memory.active

    # ----- turns --------------------------------------------------------------------------------

    def send(
        self, conversation_id: int, text: str, cancel: CancelToken | None = None, style: TurnStyle | None = None
    ) -> Iterator[TurnEvent]:
        """Save ``text`` as the user's message and stream the reply to it."""
        cancel = cancel or CancelToken()
        text = clean_text(text)
        if not text.strip():
            raise EmptyPromptError("The message is empty.")
        self._follow_settings()
        conversation = self.store.get(conversation_id)
        history = self._history(conversation.id)
        # Check the message fits before saving it, so a message too long for the model is not
        # stored as a question that can never be answered.
        self.builder.build(
            self.system_prompt(conversation),
            [*history, HistoryItem(-1, "user", text)],
            conversation.summary,
            conversation.summary_through,
            self._profile_sections(conversation),
        )
        user_message = self.store.add_message(conversation.id, "user", text)
        yield UserMessageSaved(user_message)
        if self.tools is not None and "calculator" in self.tools.names() and is_plain_arithmetic(text):
            yield from self._calculate(conversation.id, text)
            return
        yield from self._reply(conversation.id, cancel, style=style)

    def _calculate(self, conversation_id: int, text: str) -> Iterator[TurnEvent]:
        """The deterministic fast path: a message that is plainly arithmetic is answered by the
        calculator, exactly, whatever the model."""
        assert self.tools is not None
        # The bare expression is what was calculated: the call records it, not the whole question.
        expression = normalise_expression(text)
        call = self.tools.execute("calculator", {"expression": expression})
        answer = f"{expression} = {call.result}" if call.ok else f"I could not calculate that: {call.result}"
        reply = self.store.add_message(conversation_id, "assistant", "", MessageStatus.STREAMING)
        yield ReplyStarted(reply.id, self.preview(conversation_id))
        yield ReplyToken(answer)
        stats = GenerationStats(total_s=call.duration_s)
        calls = [call.to_dict()]
        self.store.update_message(
            reply.id, answer, MessageStatus.COMPLETE, {**stats.to_dict(), "finish_reason": "stop", "tool_calls": calls}
        )
        yield TurnFinished(self.store.message(reply.id), GenerationResult(answer, "stop", stats), tool_calls=calls)

    def regenerate(
        self, conversation_id: int, cancel: CancelToken | None = None, style: TurnStyle | None = None
    ) -> Iterator[TurnEvent]:
        """Write the last reply again, as a new version of it: the old one stays, a switch away."""
        messages = self.store.messages(conversation_id)
        if not messages or messages[-1].role != "assistant":
            raise HearthError("There is no reply to regenerate.")
        yield from self._as_new_version(
            messages[-1], self._reply(conversation_id, cancel or CancelToken(), style=style)
        )

    def edit_and_resend(
        self,
        conversation_id: int,
        message_id: int,
        text: str,
        cancel: CancelToken | None = None,
        style: TurnStyle | None = None,
    ) -> Iterator[TurnEvent]:
        """Send ``text`` as a new version of a user message; the old one keeps its own replies."""
        target = self.store.message(message_id)
        if target.conversation_id != conversation_id or target.role != "user":
            raise HearthError("Only your own messages in this conversation can be edited.")
        if not text.strip():
            raise EmptyPromptError("The message is empty.")
        yield from self._as_new_version(target, self.send(conversation_id, text, cancel, style))

    def _as_new_version(self, old: StoredMessage, events: Iterator[TurnEvent]) -> Iterator[TurnEvent]:
        """Run ``events`` with ``old`` set aside, so the message they add is its next version; if
        none was added (refused, stopped or failed before it began), ``old`` is shown again (an
        empty reply that failed is deleted, and ``delete_message`` brings back its last version)."""
        self.store.set_aside(old.id)
        added = False
        try:
            for event in events:
                added = added or isinstance(event, UserMessageSaved | ReplyStarted)
                yield event
        finally:
            if not added:
                self.store.choose_version(old.id)

    def continue_reply(self, conversation_id: int, cancel: CancelToken | None = None) -> Iterator[TurnEvent]:
        """Carry on a reply that was stopped, interrupted or cut off, appending to the same message.

        Engine-agnostic: the model is asked to go on from where its text ends, rather than relying
        on a template's support for continuing a final assistant message.
        """
        messages = self.store.messages(conversation_id)
        if not messages or messages[-1].role != "assistant" or not messages[-1].content.strip():
            raise HearthError("There is no reply to continue.")
        partial = messages[-1]
        yield from self._reply(conversation_id, cancel or CancelToken(), continuing=partial)

    def preview(self, conversation_id: int, draft: str = "") -> BuiltContext:
        """How the context window would be shared if ``draft`` were sent now (for the gauge)."""
        self._follow_settings()
        conversation = self.store.get(conversation_id)
        history = self._history(conversation_id)
        if draft.strip():
            history.append(HistoryItem(-1, "user", draft))
        return self.builder.build(
            self.system_prompt(conversation),
            history,
            conversation.summary,
            conversation.summary_through,
            self._profile_sections(conversation),
        )

    # ----- internals ----------------------------------------------------------------------------

    def _history(self, conversation_id: int) -> list[HistoryItem]:
        items = []
        for message in self.store.messages(conversation_id):
            if message.role == "system" or not message.content.strip():
                continue
            items.append(HistoryItem(message.id, message.role, message.content))
        return items

    def _turn_tools(self, turn: Turn) -> ToolRegistry:
        """The tools for this turn: knowledge_search only when the conversation has collections,
        and then bound to exactly those (its passages join the turn's sources); the memory tools
        when memory is on."""
        assert self.tools is not None
        conversation = turn.conversation
        profile = self.profile(conversation)
        memory = self.memory if self.remembers and profile is not None else None
        return tools_for_turn(
            self.tools, conversation, self.retrieve, memory, profile, self.engine.count_tokens, turn.sources
        )

    def _approver(self, conversation: Conversation) -> Approve:
        profile = self.profile(conversation)
        profiles = self.memory.profiles if self.memory is not None else None
        return profile_approver(profile, profiles, self.approve)

    def _uses_agent(self, conversation: Conversation) -> bool:
        wanted = conversation.options.get("tools", self.settings.tools.agent)
        return bool(wanted) and self.tools is not None

    def passages(self, conversation: Conversation, question: str) -> Retrieved:
        """Passages from the conversation's active collections for ``question``, then from the
        files attached to it, numbered on from the collections'; a collection found by the name it
        was stored under is stored by its id from now on."""
        if not question:
            return Retrieved([])
        refs = collection_refs(conversation.options)
        found = Retrieved([])
        if refs and self.retrieve is not None:
            found = as_retrieved(self.retrieve(refs, question))
            updated = with_ids(conversation.options, found.ids)
            if updated is not None:
                self.store.set_options(conversation.id, updated, touch=False)
        attached = attached_passages(attachments(self.store, conversation.id), question, self.settings.knowledge.top_k)
        if not attached:
            return found
        numbered = [replace(p, n=len(found.passages) + p.n) for p in attached]
        return replace(found, passages=found.passages + numbered)

    def _build(
        self,
        conversation_id: int,
        cancel: CancelToken,
        sections: dict[str, str],
        tail: Sequence[ChatMessage] = (),
    ) -> Generator[TurnEvent, None, BuiltContext]:
        """Build the context, folding old turns into the summary while they overflow."""
        for _ in range(_MAX_FOLDS_PER_TURN):
            conversation = self.store.get(conversation_id)
            history = self._history(conversation_id)
            built = self.builder.build(
                self.system_prompt(conversation),
                history,
                conversation.summary,
                conversation.summary_through,
                sections,
                tail,
            )
            to_fold = self.builder.fold_plan(history, built)
            if not to_fold:
                return built
            summary = fold_into_summary(self.engine, conversation.summary, to_fold, cancel, self.builder.n_ctx)
            self.store.set_summary(conversation_id, summary, to_fold[-1].id)
            yield HistoryFolded(summary, len(to_fold))
        return built  # still overflowing after several folds: send what fits

    def _reply(
        self,
        conversation_id: int,
        cancel: CancelToken,
        continuing: StoredMessage | None = None,
        style: TurnStyle | None = None,
    ) -> Iterator[TurnEvent]:
        """The turn's steps, in order: gather the material, fit the context, stream, save, learn."""
        self._follow_settings()
        turn = self._start_turn(conversation_id, continuing, style)
        yield from self._retrieve_passages(turn)
        self._recall_memories(turn)
        try:
            built = yield from self._build(conversation_id, cancel, turn.sections)
            if (yield from self._call_tools(turn, built, cancel)):
                built = yield from self._build(conversation_id, cancel, turn.sections, turn.exchange)
        except Cancelled:
            return
        reply, prompt = self._open_reply(turn, built)
        yield ReplyStarted(reply.id, built, turn.sources, turn.memories)
        result, stages = yield from self._stream(turn, reply, prompt, cancel)
        finished = self._save_reply(turn, reply, built, result, stages)
        yield finished
        if continuing is None and finished.reply.status is MessageStatus.COMPLETE and self.remembers:
            yield self._learn(turn, prompt, finished.reply, cancel)

    def _start_turn(self, conversation_id: int, continuing: StoredMessage | None, style: TurnStyle | None) -> Turn:
        conversation = self.store.get(conversation_id)
        history = self._history(conversation_id)
        latest = next((item for item in reversed(history) if item.role == "user"), None)
        # A continuation writes on in the plain style: its stages, if any, ran the first time.
        chosen = style if style is not None and continuing is None else TurnStyle()
        return Turn(conversation, history, latest, continuing, chosen, self._profile_sections(conversation))

    def _retrieve_passages(self, turn: Turn) -> Iterator[TurnEvent]:
        found = self.passages(turn.conversation, turn.question)
        if found.missing:
            yield TurnNotice(missing_notice(found.missing))
        for notice in found.notices:
            yield TurnNotice(notice)
        turn.sources = [p.to_dict() for p in found.passages]
        if found.passages:
            turn.sections["passages"] = format_passages(found.passages)

    def _recall_memories(self, turn: Turn) -> None:
        profile = self.profile(turn.conversation)
        if turn.continuing is not None or not self.remembers or profile is None or self.memory is None:
            return
        recalled = self.memory.recall(profile.id, turn.question, self.engine.count_tokens, turn.conversation.id)
        turn.memories = recalled.to_list()
        if turn.memories:
            turn.sections["memories"] = recalled.section()

    def _call_tools(self, turn: Turn, built: BuiltContext, cancel: CancelToken) -> Generator[TurnEvent, None, bool]:
        """The agent's tool calls for a new question, when the conversation lets it use tools.
        Decisions see the conversation and the question, not the turn's passages or memories;
        the results share the room the built context leaves free. Returns whether there are
        results to answer from."""
        if turn.continuing is not None or not self._uses_agent(turn.conversation):
            return False
        room = built.breakdown.get("free", 0) - DECISION_ROOM
        if room < MIN_RESULT_TOKENS + RESULT_FRAMING_TOKENS:
            return False  # no room for any result: a tool would run for nothing (and may have effects)
        agent = ToolAgent(self._turn_tools(turn), self.engine, self._approver(turn.conversation), result_tokens=room)
        conversation = [*built.messages[:-1], ChatMessage("user", turn.question)]
        for call in agent.run(conversation, cancel):
            turn.calls.append(call)
            yield ToolCalled(call)
        if turn.calls and self.engine.info.supports_tool_messages:
            # In the model's own tool role (Qwen's <tool_response>, Llama's ipython, a server's tool
            # messages): results written into the user's turn were ignored or echoed.
            turn.exchange = tool_messages(turn.calls)
        elif turn.calls:
            turn.sections["tool_results"] = format_results(turn.calls)
        return bool(turn.calls)

    def _open_reply(self, turn: Turn, built: BuiltContext) -> tuple[StoredMessage, list[ChatMessage]]:
        """The reply's row (a new one, or the one being continued) and the prompt to stream from."""
        if turn.continuing is None:
            # What the reply draws on is known before it streams: shown with it from the start.
            known = {"sources": turn.sources, "tool_calls": [call.to_dict() for call in turn.calls]}
            stats = {key: value for key, value in known.items() if value} or None
            reply = self.store.add_message(turn.conversation.id, "assistant", "", MessageStatus.STREAMING, stats)
            return reply, built.messages
        self.store.update_message(turn.continuing.id, turn.prefix, MessageStatus.STREAMING)
        if self.engine.info.continues_replies:  # the model goes on from its own last word
            return turn.continuing, [*built.messages, ChatMessage("assistant", turn.prefix)]
        return turn.continuing, [*built.messages, ChatMessage("user", CONTINUE_INSTRUCTION)]

    def _stream(
        self, turn: Turn, reply: StoredMessage, prompt: list[ChatMessage], cancel: CancelToken
    ) -> Generator[TurnEvent, None, tuple[GenerationResult, list[Stage]]]:
        """Stream the reply, checkpointing its text; on any failure the partial reply is kept."""
        pieces: list[str] = [turn.prefix] if turn.prefix else []
        last_checkpoint = self.clock()
        stream = ReplyStream(self.engine, turn.style)

        def progress() -> dict[str, Any]:
            return {**reply.stats, "stages": [s.to_dict() for s in stream.stages], "mode": turn.style.mode}

        try:
            sampling = self.sampling(self.store.get(turn.conversation.id))
            if turn.continuing is not None and prompt[-1].role == "assistant":
                sampling = dataclasses.replace(sampling, continue_last=True)
            joined = not turn.prefix
            for item in stream.run(prompt, sampling, cancel):
                if isinstance(item, str):
                    if not joined and item:  # the space a continuation needs goes out with its first piece
                        item, joined = join_continuation(turn.prefix, item)[len(turn.prefix) :], True
                    pieces.append(item)
                    yield ReplyToken(item)
                elif not isinstance(item, StageProgress):
                    yield item
                # Every stage is checkpointed as it streams (a plan, a draft, the model's thinking),
                # not only the answer: a crash keeps them, and another process sees the reply alive.
                if self.clock() - last_checkpoint >= CHECKPOINT_S:
                    self.store.update_message(reply.id, "".join(pieces), stats=progress() if stream.stages else None)
                    last_checkpoint = self.clock()
        except BaseException as exc:
            done = {**progress(), "error": str(exc)}
            self._keep_partial(reply.id, "".join(pieces), continued=turn.continuing is not None, stats=done)
            raise
        assert stream.result is not None
        return stream.result, stream.stages

    def _save_reply(
        self, turn: Turn, reply: StoredMessage, built: BuiltContext, result: GenerationResult, stages: list[Stage]
    ) -> TurnFinished:
        result.stats.context = dict(built.breakdown)
        status = MessageStatus.STOPPED if result.finish_reason == "cancelled" else MessageStatus.COMPLETE
        if turn.continuing is not None:
            result.text = join_continuation(turn.prefix, result.text)
        self.store.update_message(reply.id, result.text, status, turn.record(result, stages))
        calls = [call.to_dict() for call in turn.calls]
        return TurnFinished(self.store.message(reply.id), result, turn.sources, calls, turn.memories)

    def _learn(self, turn: Turn, prompt: list[ChatMessage], reply: StoredMessage, cancel: CancelToken) -> MemoriesSaved:
        """Let memory learn from the exchange; what it kept is stored with the reply ("learned"),
        so the line under the reply is there again when the conversation is opened again."""
        assert self.memory is not None
        conversation = self.store.get(turn.conversation.id)
        profile = self.profile(conversation)
        if profile is None or turn.latest is None:
            return MemoriesSaved([])
        changes = self.memory.learn(
            self.engine,
            profile.id,
            conversation.id,
            conversation.title,
            turn.latest.content,
            reply.content,
            turn.latest.id,
            cancel,
            prompt,
        )
        if changes:
            learned = [{"action": c.action, "text": c.memory.text, "memory_id": c.memory.id} for c in changes]
            self.store.update_message(reply.id, reply.content, stats={**reply.stats, "learned": learned})
            reply = self.store.message(reply.id)
        return MemoriesSaved(changes, self.memory.take_notice(), reply)

    def _keep_partial(
        self, message_id: int, text: str, continued: bool = False, stats: dict[str, Any] | None = None
    ) -> None:
        worth_keeping = bool(text or continued or (stats and stats.get("stages")))
        if worth_keeping:
            self.store.update_message(message_id, text, MessageStatus.FAILED, stats)
        else:
            self.store.delete_message(message_id)
