"""``hearth chat`` and ``hearth ask``: a session opened from the arguments, turns streamed to the terminal."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from assistant import __version__
from assistant.chat.collection_refs import collection_refs, migrate_collection_refs
from assistant.chat.events import (
    HistoryFolded,
    MemoriesSaved,
    ReplyToken,
    ToolCalled,
    TurnEvent,
    TurnFinished,
    TurnNotice,
)
from assistant.chat.session import ChatSession
from assistant.config import Settings, database_path
from assistant.core.cancel import CancelToken
from assistant.core.errors import HearthError
from assistant.core.store import ConversationStore
from assistant.knowledge.citations import cited_numbers
from assistant.knowledge.retriever import Retrieved
from assistant.reasoning.modes import StageFinished
from assistant.reasoning.reply import TurnStyle


def add_parsers(commands: Any) -> None:
    chat_command = commands.add_parser("chat", help="interactive chat in the terminal (Ctrl-C stops a reply)")
    _model_options(chat_command)
    ask_command = commands.add_parser("ask", help="answer one message, streamed to stdout")
    ask_command.add_argument("text", help="the message; '-' reads it from stdin")
    _model_options(ask_command)


def _model_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--model", help="GGUF file to use instead of the configured one")
    sub.add_argument("--chat-format", help="chat format for a model without a template (chatml, llama3...)")
    sub.add_argument("--conversation", type=int, metavar="ID", help="continue this conversation")
    sub.add_argument("--json", action="store_true", help="print one JSON object per turn")
    sub.add_argument(
        "--collection", action="append", default=[], metavar="NAME", help="answer from this document collection"
    )
    sub.add_argument("--tools", action="store_true", help="let the model call tools in this conversation")
    sub.add_argument(
        "--approve-tools", action="store_true", help="run tools that need approval (file access) without asking"
    )
    sub.add_argument("--profile", metavar="NAME", help="start the conversation in this profile")
    sub.add_argument(
        "--mode",
        choices=["direct", "think", "refine", "vote"],
        default="direct",
        help="think: plan first; refine: draft, critique, revise; vote: several samples reconciled",
    )
    sub.add_argument("--rounds", type=int, help="refine: critique-and-revise rounds (1-3; default from settings)")
    sub.add_argument("--votes", type=int, help="vote: independent samples (default from settings)")
    sub.add_argument(
        "--show-probs", action="store_true", help="print each token's probability and its top 5 alternatives"
    )
    sub.add_argument(
        "--incognito", action="store_true", help="store nothing: no conversation, no memories (and recall none)"
    )


def _open_memory(args: argparse.Namespace, settings: Settings) -> Any:
    """Memory and profiles; a damaged memory store leaves chat working, with a warning."""
    from assistant.cli.memory import open_memory

    try:
        memory = open_memory(settings)
    except HearthError as exc:
        if args.profile:
            raise
        print(f"warning: {exc.user_text()}", file=sys.stderr)
        return None
    if args.profile:
        memory.profiles.get(args.profile)  # an unknown name fails now, listing the valid ones
    return memory


def _open_session(args: argparse.Namespace, settings: Settings) -> ChatSession:
    from assistant.engine.model_choice import open_engine

    if args.incognito and args.conversation:
        raise HearthError("An incognito conversation cannot continue a saved one.", "Leave out --conversation.")
    if getattr(args, "chat_format", None):
        settings.model.chat_format = args.chat_format
    memory = _open_memory(args, settings)
    profile = None
    if memory is not None:
        profile = memory.profiles.get(args.profile) if args.profile else memory.profiles.active()
    engine = open_engine(settings, getattr(args, "model", None) or (profile.model if profile else None))
    store = ConversationStore.incognito() if args.incognito else ConversationStore(database_path())
    retrieve = None
    continued = store.get(args.conversation).options if args.conversation else {}
    if getattr(args, "collection", None) or collection_refs(continued) or (profile is not None and profile.collections):
        from assistant.cli.library import open_library
        from assistant.cli.memory import shared_embedder

        library = open_library(settings, shared_embedder())
        # An unknown name fails now, listing the valid ones; the conversation stores the id.
        args.collection = [library.collection(name).uid for name in args.collection]
        migrate_collection_refs(store, library.collections())

        def retrieve(refs: list[str], question: str) -> Retrieved:
            return library.retrieve(question, refs)

    from assistant.cli.tools import registry_for

    return ChatSession(
        store,
        engine,
        settings,
        retrieve=retrieve,
        # MCP servers are separate processes: started only when this conversation may use tools.
        tools=registry_for(
            settings, with_mcp=bool(getattr(args, "tools", False) or settings.tools.agent), background=True
        ),
        approve=_approver(getattr(args, "approve_tools", False)),
        memory=memory,
        incognito=args.incognito,
    )


def _new_conversation(session: ChatSession, args: argparse.Namespace) -> int:
    profile = None
    if session.memory is not None:
        profiles = session.memory.profiles
        profile = profiles.get(args.profile) if args.profile else profiles.active()
    return session.create_conversation(profile).id


def _approver(approve_all: bool) -> Callable[[Any, dict[str, Any]], bool | str]:
    """Tools that need approval: allowed by --approve-tools, asked on a terminal, refused otherwise."""

    def approve(item: Any, arguments: dict[str, Any]) -> bool | str:
        if approve_all:
            return True
        if not sys.stdin.isatty():
            return False
        call = f"{item.name}({json.dumps(arguments, ensure_ascii=False)})"
        answer = input(f"\nAllow {call}? [y]es / [N]o / [a]lways / ne[v]er for this profile: ").strip().lower()
        return {"y": "once", "yes": "once", "a": "always", "always": "always", "v": "never", "never": "never"}.get(
            answer, False
        )

    return approve


def _use_collections(session: ChatSession, conversation_id: int, refs: list[str], tools: bool = False) -> None:
    """Make --collection (by then the collections' ids) and --tools stick to the conversation, as
    the GUI's checkboxes do."""
    if refs or tools:
        options = dict(session.store.get(conversation_id).options)
        if refs:
            options["collections"] = refs
        if tools:
            options["tools"] = True
        session.store.set_options(conversation_id, options)


@contextmanager
def _ctrl_c_stops(cancel: CancelToken) -> Iterator[None]:
    """While a reply streams, Ctrl-C cancels it instead of killing the program."""
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_turn(events: Iterator[TurnEvent], out: TextIO | None, notices: list[str] | None = None) -> TurnFinished | None:
    """Show a turn's events as they come (to ``out``, or nowhere for ``--json``); ``notices``
    collects what the user should know about the turn."""
    finished: TurnFinished | None = None
    for event in events:
        if isinstance(event, ReplyToken) and out is not None:
            out.write(event.text)
            out.flush()
        elif isinstance(event, ToolCalled) and out is not None:
            call = event.result
            state = "→" if call.ok else "✗"
            print(f"[{call.tool}({json.dumps(call.arguments, ensure_ascii=False)}) {state} {call.result[:200]}]")
        elif isinstance(event, TurnNotice):
            print(f"[note: {event.text}]", file=sys.stderr)
            if notices is not None:
                notices.append(event.text)
        elif isinstance(event, HistoryFolded) and out is not None:
            print(f"[{event.folded_messages} older messages were folded into the summary]", file=sys.stderr)
        elif isinstance(event, TurnFinished):
            finished = event
        elif isinstance(event, StageFinished) and out is not None:
            stage = event.stage
            print(f"[{stage.name}: {stage.tokens} tokens, {stage.duration_s:.1f} s]", file=sys.stderr)
        elif isinstance(event, MemoriesSaved):
            for change in event.changes if out is not None else []:
                print(f"[memory {change.action}: {change.memory.text}]", file=sys.stderr)
            if event.notice:
                print(f"memory: {event.notice}", file=sys.stderr)
    return finished


def format_token_probs(token_probs: list[dict[str, Any]]) -> str:
    """One line per token: its probability, then the alternatives the model weighed."""
    lines = ["token probabilities (p, then the top alternatives):"]
    for entry in token_probs:
        alternatives = "  ".join(f"{alt['token']!r} {alt['p']:.2f}" for alt in entry["top"])
        lines.append(f"{entry['token']!r:>16} {entry['p']:.2f}   {alternatives}")
    return "\n".join(lines)


def turn_json(conversation_id: int, finished: TurnFinished, notices: list[str] | None = None) -> dict[str, Any]:
    """One turn as JSON. Every retrieved passage is under ``sources``; ``cited`` says which the
    answer cites (the window shows those as sources, the others folded away)."""
    numbers = [int(source["n"]) for source in finished.sources]
    cited = set(cited_numbers(finished.result.text, numbers))
    return {
        "conversation_id": conversation_id,
        "message_id": finished.reply.id,
        "answer": finished.result.text,
        "finish_reason": finished.result.finish_reason,
        "stats": finished.stats.to_dict(),
        "sources": [
            {
                **{key: source[key] for key in ("n", "path", "page", "heading", "score", "text")},
                "cited": source["n"] in cited,
            }
            for source in finished.sources
        ],
        "notices": notices or [],
        "tool_calls": finished.tool_calls,
        "memories": finished.memories,
        "stages": [
            {key: stage[key] for key in ("name", "text", "tokens", "duration_s")}
            for stage in finished.reply.stats.get("stages", [])
        ],
        **({"token_probs": finished.result.token_probs} if finished.result.token_probs is not None else {}),
    }


def json_error(exc: HearthError) -> dict[str, Any]:
    """What ``--json`` answers for a line it cannot serve, as the command's own errors are answered."""
    return {"error": exc.message, "hint": exc.hint, "kind": type(exc).__name__}


def _style(args: argparse.Namespace, settings: Settings) -> TurnStyle:
    rounds = args.rounds or settings.reasoning.refine_rounds
    votes = args.votes or settings.reasoning.votes
    return TurnStyle(args.mode, rounds, votes, args.show_probs)


def send(
    session: ChatSession, conversation_id: int, text: str, as_json: bool, style: TurnStyle | None = None
) -> TurnFinished | None:
    cancel = CancelToken()
    with _ctrl_c_stops(cancel):
        events = session.send(conversation_id, text, cancel, style)
        notices: list[str] = []
        finished = _run_turn(events, None if as_json else sys.stdout, notices)
    if finished is None:
        return None
    if as_json:
        print(json.dumps(turn_json(conversation_id, finished, notices), ensure_ascii=False), flush=True)
    else:
        for source in finished.sources:
            page = f", page {source['page']}" if source.get("page") else ""
            print(f"\n[{source['n']}] {source['path']}{page}", end="")
        if finished.result.token_probs:
            print("\n" + format_token_probs(finished.result.token_probs), end="")
        if finished.result.finish_reason == "cancelled":
            print("\n[stopped]", end="")
        elif finished.result.finish_reason == "length":
            print("\n[cut off at the reply length limit]", end="")
        print(flush=True)
    return finished


def ask(args: argparse.Namespace, settings: Settings) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    session = _open_session(args, settings)
    try:
        conversation_id = args.conversation or _new_conversation(session, args)
        _use_collections(session, conversation_id, args.collection, args.tools)
        finished = send(session, conversation_id, text, args.json, _style(args, settings))
    finally:
        session.engine.close()
    return 130 if finished and finished.result.finish_reason == "cancelled" else 0


def chat(args: argparse.Namespace, settings: Settings) -> int:
    session = _open_session(args, settings)
    store = session.store
    conversation_id = args.conversation or _new_conversation(session, args)
    store.get(conversation_id)
    _use_collections(session, conversation_id, args.collection, args.tools)
    interactive = sys.stdin.isatty() and not args.json
    if interactive:
        print(f"Hearth {__version__} · {session.engine.info.name} · conversation {conversation_id}")
        print("/new  /list  /open ID  /quit — Ctrl-C stops a reply, Ctrl-D leaves.")
    try:
        while True:
            try:
                line = input("\nyou> " if interactive else "")
            except EOFError:
                break
            except KeyboardInterrupt:
                print("\n(Ctrl-D or /quit leaves)")
                continue
            text = line.strip()
            if not text:
                continue
            if interactive and text.startswith("/"):
                new_id = _chat_command(store, text, conversation_id, lambda: _new_conversation(session, args))
                if new_id is None:
                    break
                conversation_id = new_id
                continue
            if interactive:
                print("hearth> ", end="", flush=True)
            try:
                send(session, conversation_id, text, args.json, _style(args, settings))
            except HearthError as exc:
                if args.json:
                    # One bad line (too long for the context, say) is answered, and the session goes on.
                    print(json.dumps(json_error(exc), ensure_ascii=False), flush=True)
                    continue
                if not interactive:
                    raise
                print(f"\n{exc.user_text()}", file=sys.stderr)
    finally:
        session.engine.close()
    return 0


def _chat_command(store: ConversationStore, text: str, current: int, new: Callable[[], int]) -> int | None:
    """Handle a /command; returns the conversation to continue in, or None to leave."""
    command, _, argument = text.partition(" ")
    if command in ("/quit", "/exit"):
        return None
    if command == "/new":
        conversation_id = new()
        print(f"New conversation {conversation_id}.")
        return conversation_id
    if command == "/list":
        for conversation in store.conversations(limit=20):
            marker = "*" if conversation.id == current else " "
            print(f"{marker}{conversation.id:>5}  {conversation.title}  ({conversation.message_count} messages)")
        return current
    if command == "/open":
        try:
            conversation = store.get(int(argument))
        except (ValueError, HearthError):
            print("Usage: /open ID (see /list)")
            return current
        for message in store.messages(conversation.id)[-6:]:
            print(f"{'you' if message.role == 'user' else 'hearth'}> {message.content}")
        return conversation.id
    print("Commands: /new  /list  /open ID  /quit")
    return current
