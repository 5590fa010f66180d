"""``hearth memory …`` and ``hearth profiles …``: the user's memories and profiles, in plain text."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.config import Settings, data_dir, database_path
from assistant.core.errors import HearthError
from assistant.core.units import counted
from assistant.knowledge.embedder import Embedder
from assistant.memory.long_term import LongTermMemory
from assistant.memory.profiles import TOOL_POLICIES


@functools.cache
def shared_embedder() -> Embedder:
    """One embedder per process, shared by the library and memory (torch loads once)."""
    from assistant.knowledge.library import default_embedder

    return default_embedder()


def open_memory(settings: Settings) -> LongTermMemory:
    return LongTermMemory(data_dir(), settings.memory, shared_embedder)


def add_parsers(commands: Any) -> None:
    memory = commands.add_parser("memory", help="what Hearth remembers about you")
    actions = memory.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--all-profiles", action="store_true")
    search = actions.add_parser("search", help="memories most related to a question (as recall finds them)")
    search.add_argument("query")
    search.add_argument("--json", action="store_true")
    add = actions.add_parser("add")
    add.add_argument("text")
    add.add_argument("--kind", choices=["fact", "preference", "decision"], default="fact")
    edit = actions.add_parser("edit")
    edit.add_argument("id", type=int)
    edit.add_argument("text")
    forget = actions.add_parser("forget", help="delete a memory, or a conversation and every memory from it")
    target = forget.add_mutually_exclusive_group(required=True)
    target.add_argument("id", type=int, nargs="?", help="the memory's id")
    target.add_argument("--conversation", type=int, metavar="ID")
    clear = actions.add_parser("clear", help="delete every memory of the active profile")
    clear.add_argument("--yes", action="store_true", help="do not ask")
    export = actions.add_parser("export", help="memories and profiles as JSON")
    export.add_argument("-o", "--output", type=Path)
    imp = actions.add_parser("import")
    imp.add_argument("file", type=Path)

    profiles = commands.add_parser("profiles", help="your profiles: instructions, facts about you, defaults")
    p_actions = profiles.add_subparsers(dest="action", required=True)
    p_list = p_actions.add_parser("list")
    p_list.add_argument("--json", action="store_true")
    for name in ("create", "edit"):
        sub = p_actions.add_parser(name)
        sub.add_argument("name")
        sub.add_argument("--rename", help="new name" if name == "edit" else argparse.SUPPRESS)
        sub.add_argument("--instructions", help="custom instructions (the system prompt)")
        sub.add_argument("--about", help="facts about you, given to the model in every conversation")
        sub.add_argument("--model", help="default GGUF model for this profile")
        sub.add_argument("--temperature", type=float)
        sub.add_argument("--collection", action="append", metavar="NAME", help="default document collection")
        sub.add_argument("--tool", nargs=2, action="append", metavar=("TOOL", "|".join(TOOL_POLICIES)))
    p_actions.add_parser("use").add_argument("name")
    p_actions.add_parser("delete").add_argument("name")


def run_memory(args: argparse.Namespace, settings: Settings) -> int:
    memory = open_memory(settings)
    profile = memory.profiles.active()
    try:
        if args.action == "list":
            items = memory.store.memories(None if args.all_profiles else profile.id)
            if args.json:
                _print_json([m.to_dict() for m in items])
            elif not items:
                print(f"Nothing remembered yet for profile {profile.name}.")
            for m in [] if args.json else items:
                print(f"{m.id:>5}  {_when(m.updated_at)}  [{m.kind}] {m.text}")
        elif args.action == "search":
            found = memory.store.similar(profile.id, args.query, 10)
            if args.json:
                _print_json([m.to_dict() for m in found])
            for m in [] if args.json else found:
                print(f"{m.id:>5}  {m.similarity:.2f}  {m.text}")
        elif args.action == "add":
            change = memory.remember(profile.id, _candidate(args.text, args.kind))
            print(f"Memory {change.memory.id} {change.action}: {change.memory.text}")
        elif args.action == "edit":
            edited = memory.store.update(args.id, args.text)
            print(f"Memory {edited.id} is now: {edited.text}")
        elif args.action == "forget":
            return _forget(args, memory)
        elif args.action == "clear":
            items = memory.store.memories(profile.id)
            if not args.yes and not _confirm(f"Delete all {len(items)} memories of profile {profile.name}?"):
                return 1
            print(f"Deleted {counted(memory.store.delete([m.id for m in items]), 'memory', 'memories')}.")
        elif args.action == "export":
            from assistant.memory.memory_files import export_memory

            text = json.dumps(export_memory(memory), ensure_ascii=False, indent=2)
            if args.output:
                args.output.write_text(text + "\n", encoding="utf-8")
                print(f"Wrote {args.output}.")
            else:
                print(text)
        elif args.action == "import":
            from assistant.memory.memory_files import import_memory

            created, added = import_memory(memory, args.file)
            print(f"Imported {counted(added, 'memory', 'memories')} and {counted(created, 'profile')}.")
    finally:
        memory.close()
    return 0


def _forget(args: argparse.Namespace, memory: LongTermMemory) -> int:
    if args.conversation is None:
        text = memory.store.get(args.id).text
        memory.store.delete([args.id])
        print(f"Forgot memory {args.id}: {text}")
        return 0
    from assistant.core.store import ConversationStore

    store = ConversationStore(database_path())
    try:
        title = store.get(args.conversation).title
        forgotten = memory.forget_conversation(args.conversation)
        store.delete(args.conversation)
    finally:
        store.close()
    print(f"Forgot conversation {args.conversation} ({title}) and {counted(forgotten, 'memory', 'memories')} from it.")
    return 0


def run_profiles(args: argparse.Namespace, settings: Settings) -> int:
    memory = open_memory(settings)
    profiles = memory.profiles
    try:
        if args.action == "list":
            active = profiles.active().id
            if args.json:
                _print_json([p.to_dict() | {"id": p.id, "active": p.id == active} for p in profiles.all()])
            for p in [] if args.json else profiles.all():
                mark = "*" if p.id == active else " "
                print(f"{mark} {p.name}  {p.about_me[:60]!r}" if p.about_me else f"{mark} {p.name}")
        elif args.action in ("create", "edit"):
            values = _profile_values(args, profiles.get(args.name).to_dict() if args.action == "edit" else {})
            if args.action == "create":
                profile = profiles.create(args.name, **values)
            else:
                profile = profiles.update(args.name, **values)
            print(f"Profile {profile.name} {'created' if args.action == 'create' else 'saved'}.")
        elif args.action == "use":
            print(f"Now using profile {profiles.use(args.name).name}.")
        elif args.action == "delete":
            deleted = memory.delete_profile(args.name)
            print(f"Deleted profile {deleted.name} and its memories; its conversations now use the first profile.")
    finally:
        memory.close()
    return 0


def _profile_values(args: argparse.Namespace, current: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if getattr(args, "rename", None):
        values["name"] = args.rename
    if args.instructions is not None:
        values["instructions"] = args.instructions
    if args.about is not None:
        values["about_me"] = args.about
    if args.model is not None:
        values["model"] = args.model or None
    if args.temperature is not None:
        values["sampling"] = {**current.get("sampling", {}), "temperature": args.temperature}
    if args.collection:
        values["collections"] = args.collection
    if args.tool:
        approvals = dict(current.get("tool_approvals", {}))
        for tool, policy in args.tool:
            if policy not in TOOL_POLICIES:
                raise HearthError(f"'{policy}' is not a tool policy; use one of {', '.join(TOOL_POLICIES)}.")
            approvals[tool] = policy
        values["tool_approvals"] = approvals
    return values


def _candidate(text: str, kind: str) -> Any:
    from assistant.memory.extraction import Candidate

    return Candidate(" ".join(text.split()), kind)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        print(f"{question} Pass --yes to confirm.", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))
