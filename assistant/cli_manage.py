"""``hearth conversations …`` and ``hearth models …``: managing what is stored, printed plainly."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from assistant.config import Settings
from assistant.core.errors import HearthError
from assistant.core.store import ConversationStore
from assistant.core.transfer import export_json, import_json, to_markdown, to_record


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
            print(to_markdown(conversation, messages), end="")
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
    from assistant.cli_memory import open_memory
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
        text = "\n---\n\n".join(to_markdown(store.get(i), store.messages(i)) for i in ids)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"Wrote {len(ids)} conversation(s) to {args.output}.", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def run_models(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.engine.catalogue import list_models
    from assistant.engine.gguf import human_bytes, human_count

    entries = list_models(settings)
    rows: list[dict[str, Any]] = []
    for entry in entries:
        row: dict[str, Any] = {"path": str(entry.path), "source": entry.source}
        if entry.info is not None:
            info = entry.info
            row.update(
                name=info.name,
                architecture=info.architecture,
                parameters=info.parameter_count,
                quantization=info.quantization,
                file_size=info.file_size,
                context_length=info.context_length,
                chat_template=info.chat_template is not None,
                estimated_ram=info.estimated_ram_bytes(settings.model.n_ctx),
                estimated_ram_n_ctx=settings.model.n_ctx,
            )
        else:
            row["error"] = entry.error.message if entry.error else "unreadable"
        rows.append(row)
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print("No models found. Put .gguf files in the models folder or pass --model.")
    for row in rows:
        print(f"{row.get('name', '?')}  [{row['source']}]\n  {row['path']}")
        if "error" in row:
            print(f"  unusable: {row['error']}")
            continue
        print(
            f"  {row['architecture']}, {human_count(row['parameters'])} parameters, {row['quantization']}, "
            f"{human_bytes(row['file_size'])}, trained context {row['context_length'] or '?'} tokens, "
            f"chat template {'yes' if row['chat_template'] else 'NO (set a chat format)'}, "
            f"about {human_bytes(row['estimated_ram'])} RAM at {row['estimated_ram_n_ctx']} tokens of context"
        )
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
