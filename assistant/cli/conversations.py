"""``hearth conversations …`` and ``hearth models …``: managing what is stored, printed plainly."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.core.conversation_files import export_json, import_json, to_markdown, to_record
from assistant.core.errors import HearthError
from assistant.core.store import ConversationStore
from assistant.knowledge.citations import source_lines


def add_parsers(commands: Any) -> None:
    conversations = commands.add_parser("conversations", help="list, search, export... saved conversations")
    conv = conversations.add_subparsers(dest="action", required=True)
    conv_list = conv.add_parser("list")
    conv_list.add_argument("--json", action="store_true")
    show = conv.add_parser("show")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    search = conv.add_parser("search")
    search.add_argument("query")
    rename = conv.add_parser("rename")
    rename.add_argument("id", type=int)
    rename.add_argument("title")
    delete = conv.add_parser("delete")
    delete.add_argument("id", type=int)
    export = conv.add_parser("export")
    export.add_argument("ids", type=int, nargs="*", metavar="ID")
    export.add_argument("--all", action="store_true", help="export every conversation")
    export.add_argument("--format", choices=["md", "json"], default="md")
    export.add_argument("-o", "--output", type=Path, help="file to write; stdout when absent")
    imp = conv.add_parser("import")
    imp.add_argument("file", type=Path)
    conv.add_parser(
        "salvage", help="copy what can be read from a damaged conversation database into a new one (the old is kept)"
    )


def run_salvage(path: Path) -> int:
    """Salvage the conversation database at ``path``: readable rows into a new file, the old set aside."""
    from assistant.core.salvage import salvage

    if not path.exists():
        raise HearthError(f"There is no conversation database at {path}.")
    print(salvage(path).summary())
    return 0


def run_conversations(args: argparse.Namespace, store: ConversationStore) -> int:
    action = args.action
    if action == "list":
        conversations = store.conversations()
        if args.json:
            _print_json([_summary(c) for c in conversations])
        elif not conversations:
            print("No conversations yet. Start one with 'hearth chat'.")
        for c in [] if args.json else conversations:
            print(f"{c.id:>5}  {_when(c.updated_at)}  {c.message_count:>4} msgs  {c.title}")
    elif action == "show":
        conversation = store.get(args.id)
        messages = store.messages(args.id)
        if args.json:
            _print_json(to_record(conversation, messages))
        else:
            print(to_markdown(conversation, messages, source_lines), end="")
    elif action == "search":
        hits = store.search(args.query)
        if not hits:
            print(f"Nothing matches '{args.query}'.")
        for hit in hits:
            print(f"{hit.conversation.id:>5}  {hit.conversation.title}\n       {hit.snippet}")
    elif action == "rename":
        store.rename(args.id, args.title)
        print(f"Renamed conversation {args.id}.")
    elif action == "delete":
        title = store.get(args.id).title
        store.delete(args.id)
        _forget_digest(args.id)
        print(f"Deleted conversation {args.id} ({title}).")
    elif action == "export":
        return _export(args, store)
    elif action == "import":
        imported, skipped = import_json(store, args.file)
        for c in imported:
            print(f"Imported conversation {c.id}: {c.title} ({c.message_count} messages)")
        for title in skipped:
            print(f"Skipped '{title}': it is already here.")
    return 0


def _forget_digest(conversation_id: int) -> None:
    """The conversation's summary in memory goes with it; memories drawn from it stay
    (``hearth memory forget --conversation ID`` removes those too)."""
    from assistant.cli.memory import open_memory
    from assistant.config import load_settings

    try:
        memory = open_memory(load_settings())
    except HearthError:
        return
    try:
        if memory.store.digest(conversation_id) is not None:
            memory.store.forget_digest(conversation_id)
    finally:
        memory.close()


def _export(args: argparse.Namespace, store: ConversationStore) -> int:
    ids = [c.id for c in store.conversations()] if args.all else list(args.ids)
    if not ids:
        raise HearthError("Name the conversations to export, or pass --all.")
    if args.format == "json":
        text = export_json(store, ids)
    else:
        text = "\n---\n\n".join(to_markdown(store.get(i), store.messages(i), source_lines) for i in ids)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"Wrote {len(ids)} conversation(s) to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _summary(conversation: Any) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "title": conversation.title,
        "messages": conversation.message_count,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
    }


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
