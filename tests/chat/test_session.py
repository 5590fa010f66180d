"""The chat session's flow on the scripted engine; tests assert on what the engine received."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from assistant.chat.events import HistoryFolded, ReplyStarted, ReplyToken, TurnFinished, UserMessageSaved
from assistant.chat.session import ChatSession
from assistant.chat.summary import SUMMARY_INSTRUCTIONS
from assistant.config import Settings
from assistant.core.cancel import CancelToken
from assistant.core.errors import EmptyPromptError, EngineError, PromptTooLongError
from assistant.core.messages import MessageStatus
from assistant.core.store import ConversationStore
from tests.fakes import ScriptedEngine


def _session(store: ConversationStore, engine: ScriptedEngine, **context: object) -> ChatSession:
    settings = Settings()
    settings.context.system_prompt = "You are a test."
    for key, value in context.items():
        setattr(settings.context, key, value)
    return ChatSession(store, engine, settings)


def test_a_turn_saves_question_then_streams_and_saves_the_reply(store: ConversationStore) -> None:
    engine = ScriptedEngine(["Hello there, friend."])
    session = _session(store, engine)
    conversation = store.create()
    events = session.send(conversation.id, "Hi!")
    saved = next(events)
    assert isinstance(saved, UserMessageSaved)
    # Committed before generation starts.
    assert [m.content for m in store.messages(conversation.id)] == ["Hi!"]
    started = next(events)
    assert isinstance(started, ReplyStarted)
    assert store.message(started.message_id).status == MessageStatus.STREAMING
    rest = list(events)
    tokens = [e.text for e in rest if isinstance(e, ReplyToken)]
    finished = rest[-1]
    assert isinstance(finished, TurnFinished)
    assert "".join(tokens) == "Hello there, friend."
    assert finished.reply.status == MessageStatus.COMPLETE
    assert finished.reply.content == "Hello there, friend."
    assert finished.reply.stats["context"]["system"] > 0
    assert [(m.role, m.content) for m in engine.history[0]] == [("system", "You are a test."), ("user", "Hi!")]


def test_history_is_sent_on_the_next_turn(store: ConversationStore) -> None:
    engine = ScriptedEngine(["First answer.", "Second answer."])
    session = _session(store, engine)
    conversation = store.create()
    list(session.send(conversation.id, "one"))
    list(session.send(conversation.id, "two"))
    assert [m.content for m in engine.history[1]] == ["You are a test.", "one", "First answer.", "two"]


def test_conversation_system_prompt_overrides_the_default(store: ConversationStore) -> None:
    engine = ScriptedEngine()
    conversation = store.create(system_prompt="Speak like a pirate.")
    list(_session(store, engine).send(conversation.id, "hi"))
    assert engine.history[0][0].content == "Speak like a pirate."


def test_reply_is_checkpointed_while_it_streams(store: ConversationStore) -> None:
    ticks = itertools.count()
    engine = ScriptedEngine(["a b c d e f"])
    session = ChatSession(store, engine, Settings(), clock=lambda: float(next(ticks)))  # one second per look
    conversation = store.create()
    seen_during_stream = []
    for event in session.send(conversation.id, "go"):
        if isinstance(event, ReplyToken):
            reply = store.messages(conversation.id)[-1]
            seen_during_stream.append(reply.content)
    assert seen_during_stream[-1].strip() == "a b c d e"  # saved up to the token before the last
    assert store.messages(conversation.id)[-1].content == "a b c d e f"


def test_stop_keeps_the_partial_reply_marked_stopped(store: ConversationStore) -> None:
    engine = ScriptedEngine(["one two three four five six"])
    session = _session(store, engine)
    conversation = store.create()
    cancel = CancelToken()
    events = []
    for event in session.send(conversation.id, "count", cancel):
        events.append(event)
        if isinstance(event, ReplyToken) and event.text.strip() == "two":
            cancel.cancel()
    finished = events[-1]
    assert isinstance(finished, TurnFinished)
    assert finished.result.finish_reason == "cancelled"
    reply = store.messages(conversation.id)[-1]
    assert reply.status == MessageStatus.STOPPED and reply.content == "one two"


def test_a_failing_engine_keeps_what_was_written(store: ConversationStore) -> None:
    class Breaking(ScriptedEngine):
        def stream(self, messages, options, cancel):  # type: ignore[no-untyped-def]
            yield "partial "
            raise EngineError("the model fell over")

    session = _session(store, Breaking())
    conversation = store.create()
    with pytest.raises(EngineError):
        list(session.send(conversation.id, "hi"))
    user, reply = store.messages(conversation.id)
    assert user.content == "hi"
    assert reply.status == MessageStatus.FAILED and reply.content == "partial "


def test_a_failure_before_any_text_leaves_no_empty_reply(store: ConversationStore) -> None:
    engine = ScriptedEngine([EngineError("boom")])
    conversation = store.create()
    with pytest.raises(EngineError):
        list(_session(store, engine).send(conversation.id, "hi"))
    assert [m.role for m in store.messages(conversation.id)] == ["user"]


def test_empty_prompt_saves_nothing(store: ConversationStore) -> None:
    engine = ScriptedEngine()
    conversation = store.create()
    with pytest.raises(EmptyPromptError):
        list(_session(store, engine).send(conversation.id, "  \n\t "))
    assert store.messages(conversation.id) == [] and engine.history == []


def test_a_message_too_long_for_the_model_is_refused_before_saving(store: ConversationStore) -> None:
    engine = ScriptedEngine(n_ctx=300)
    conversation = store.create()
    with pytest.raises(PromptTooLongError):
        list(_session(store, engine, reply_reserve=50).send(conversation.id, "word " * 500))
    assert store.messages(conversation.id) == [] and engine.history == []


def test_old_turns_are_folded_into_a_summary_written_by_the_model(store: ConversationStore) -> None:
    def respond(messages: list) -> str:
        if messages[0].content == SUMMARY_INSTRUCTIONS:
            return "SUMMARY-TEXT the user asked numbered questions"
        return "reply " * 30

    engine = ScriptedEngine(n_ctx=400, responder=respond)
    session = _session(store, engine, reply_reserve=60)
    conversation = store.create()
    folded = []
    for n in range(12):
        for event in session.send(conversation.id, f"question number {n} " + "filler " * 20):
            if isinstance(event, HistoryFolded):
                folded.append(event)
        if folded:
            break
    assert folded, "the conversation outgrew the window without a fold"
    summary_prompts = [h[1].content for h in engine.history if h[0].content == SUMMARY_INSTRUCTIONS]
    assert "question number 0" in summary_prompts[0]  # the oldest turn was given to the model
    assert all(engine.prompt_tokens(h) < engine.n_ctx for h in engine.history)  # every call fitted
    stored = store.get(conversation.id)
    assert stored.summary.startswith("SUMMARY-TEXT") and stored.summary_through > 0
    last_prompt = engine.history[-1]
    assert "SUMMARY-TEXT" in last_prompt[0].content  # the summary is in the next turn's context
    assert "question number 0" not in " ".join(m.content for m in last_prompt)
    # Nothing was deleted: every question is still in the conversation.
    questions = [m.content for m in store.messages(conversation.id) if m.role == "user"]
    assert all(q.startswith(f"question number {n} ") for n, q in enumerate(questions))


def test_regenerate_keeps_the_earlier_reply_as_a_version(store: ConversationStore) -> None:
    engine = ScriptedEngine(["first try", "second try", "next answer"])
    session = _session(store, engine)
    conversation = store.create()
    list(session.send(conversation.id, "hi"))
    first = store.messages(conversation.id)[-1]
    list(session.regenerate(conversation.id))
    shown = store.messages(conversation.id)
    assert [m.content for m in shown] == ["hi", "second try"]
    assert (shown[-1].version, shown[-1].versions) == (2, 2)
    assert [m.content for m in engine.history[1]] == ["You are a test.", "hi"]  # not the first try
    store.choose_version(first.id)
    assert [m.content for m in store.messages(conversation.id)] == ["hi", "first try"]
    list(session.send(conversation.id, "and then?"))
    # What the model is sent is the chosen path only.
    assert [m.content for m in engine.history[-1]] == ["You are a test.", "hi", "first try", "and then?"]


def test_edit_makes_a_branch_with_its_own_replies(store: ConversationStore) -> None:
    engine = ScriptedEngine(["a1", "a2", "a2 edited", "a3 on the edit"])
    session = _session(store, engine)
    conversation = store.create()
    list(session.send(conversation.id, "q1"))
    list(session.send(conversation.id, "q2"))
    q2 = store.messages(conversation.id)[2]
    list(session.edit_and_resend(conversation.id, q2.id, "q2 better"))
    assert [m.content for m in store.messages(conversation.id)] == ["q1", "a1", "q2 better", "a2 edited"]
    assert engine.history[-1][-1].content == "q2 better" and "q2" not in [m.content for m in engine.history[-1]]
    list(session.send(conversation.id, "q3"))
    edited = store.messages(conversation.id)[2]
    assert (edited.version, edited.versions) == (2, 2)
    store.choose_version(q2.id)
    assert [m.content for m in store.messages(conversation.id)] == ["q1", "a1", "q2", "a2"]
    store.choose_version(edited.id)  # back: the edit's own thread, as it was left
    assert [m.content for m in store.messages(conversation.id)] == [
        "q1",
        "a1",
        "q2 better",
        "a2 edited",
        "q3",
        "a3 on the edit",
    ]


def test_a_regenerate_that_fails_before_it_begins_shows_the_old_reply(store: ConversationStore) -> None:
    engine = ScriptedEngine(["kept", RuntimeError("engine broke")])
    session = _session(store, engine)
    conversation = store.create()
    list(session.send(conversation.id, "hi"))
    with pytest.raises(RuntimeError):
        list(session.regenerate(conversation.id))
    shown = store.messages(conversation.id)
    assert [m.content for m in shown] == ["hi", "kept"] and shown[-1].versions == 1


@pytest.mark.real_model
def test_folding_on_the_real_model_keeps_the_conversation_going(store: ConversationStore, model_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.config import ModelSettings
    from assistant.engine.llama import LlamaEngine

    engine = LlamaEngine(model_path, ModelSettings(n_ctx=512))
    try:
        settings = Settings()
        settings.context.reply_reserve = 96
        settings.sampling.max_tokens = 60
        settings.sampling.temperature = 0.0
        session = ChatSession(store, engine, settings)
        conversation = store.create()
        folds = []
        for n in range(14):
            for event in session.send(conversation.id, f"Fact {n}: my cat number {n} is called Tom{n}. Note it."):
                if isinstance(event, HistoryFolded):
                    folds.append(event)
                elif isinstance(event, TurnFinished):
                    assert event.stats.prompt_tokens < 512 - 60  # every turn fitted its window
            if folds:
                break
        assert folds, "twelve turns should overflow a 512-token window"
        stored = store.get(conversation.id)
        assert stored.summary.strip() and stored.summary_through > 0
        assert all(m.status == MessageStatus.COMPLETE for m in store.messages(conversation.id))
    finally:
        engine.close()


def test_conversation_options_override_the_default_sampling(store: ConversationStore) -> None:
    engine = ScriptedEngine()
    conversation = store.create()
    store.set_options(conversation.id, {"temperature": 0.1, "max_tokens": 7})
    list(_session(store, engine).send(conversation.id, "hi"))
    assert engine.options[-1].temperature == 0.1 and engine.options[-1].max_tokens == 7
    assert engine.options[-1].top_p == Settings().sampling.top_p


def test_continue_appends_to_the_stopped_reply(store: ConversationStore) -> None:
    engine = ScriptedEngine(["one two three four", "five six"])
    session = _session(store, engine)
    conversation = store.create()
    cancel = CancelToken()
    for event in session.send(conversation.id, "count", cancel):
        if isinstance(event, ReplyToken) and event.text.strip() == "two":
            cancel.cancel()
    finished = next(e for e in session.continue_reply(conversation.id) if isinstance(e, TurnFinished))
    reply = store.messages(conversation.id)[-1]
    assert reply.content == "one two five six" == finished.reply.content
    assert reply.status == MessageStatus.COMPLETE
    assert len(store.messages(conversation.id)) == 2  # the same message grew; none was added
    sent = engine.history[-1]
    assert sent[-2].role == "assistant" and sent[-2].content == "one two"
    assert sent[-1].role == "user" and "Continue" in sent[-1].content


def test_continue_after_a_sentence_starts_with_a_space_in_the_stream_and_the_store(store: ConversationStore) -> None:
    engine = ScriptedEngine(["Zek came back at the time.", "Zek said nothing."])
    session = _session(store, engine)
    conversation = store.create()
    list(session.send(conversation.id, "tell me"))
    events = list(session.continue_reply(conversation.id))
    streamed = "Zek came back at the time." + "".join(e.text for e in events if isinstance(e, ReplyToken))
    assert store.messages(conversation.id)[-1].content == "Zek came back at the time. Zek said nothing." == streamed


def test_preview_shows_the_coming_turn(store: ConversationStore) -> None:
    engine = ScriptedEngine()
    session = _session(store, engine)
    conversation = store.create()
    list(session.send(conversation.id, "hello there"))
    empty = session.preview(conversation.id)
    with_draft = session.preview(conversation.id, "a draft with several words in it")
    assert with_draft.breakdown["history"] > empty.breakdown["history"] > 0
    assert engine.pending == 0 and len(engine.history) == 1  # a preview generates nothing


def test_a_message_with_lone_surrogates_is_stored_and_answered(store: ConversationStore) -> None:
    """Half a surrogate pair (pasted, or an undecodable byte escaped) used to make SQLite raise."""
    engine = ScriptedEngine(["Answered."])
    session = ChatSession(store, engine, Settings())
    conversation = store.create()
    events = list(session.send(conversation.id, "caf\udce9 \ud83d?"))
    assert isinstance(events[-1], TurnFinished) and events[-1].reply.content == "Answered."
    assert store.messages(conversation.id)[0].content == "caf\ufffd \ufffd?"


def test_a_session_on_live_settings_reads_them_at_each_turn(store: ConversationStore, tmp_path: Path) -> None:
    """The window's sessions are built once per model load; a change of the settings reaches the
    next turn of a conversation already open, without a new session."""
    from assistant.config import SettingsStore

    live = SettingsStore(Settings(), tmp_path / "settings.json")
    engine = ScriptedEngine()
    session = ChatSession(store, engine, live)
    conversation = store.create()
    list(session.send(conversation.id, "first"))
    assert (engine.options[-1].temperature, engine.options[-1].max_tokens) == (0.7, 512)

    def change(settings: Settings) -> None:
        settings.sampling.temperature, settings.sampling.max_tokens = 0.0, 20
        settings.context.system_prompt = "Be brief."
        settings.context.reply_reserve = 100

    live.edit(change)
    list(session.send(conversation.id, "second"))
    assert (engine.options[-1].temperature, engine.options[-1].max_tokens) == (0.0, 20)
    assert engine.history[-1][0].content == "Be brief."
    assert session.builder.reply_reserve == 100
