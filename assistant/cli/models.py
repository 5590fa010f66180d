"""``hearth models``: the GGUF files Hearth can use, with what their headers say."""

from __future__ import annotations

import argparse
import json
from typing import Any

from assistant.config import Settings


def add_parsers(commands: Any) -> None:
    models = commands.add_parser("models", help="the GGUF models Hearth can use")
    actions = models.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list")
    listing.add_argument("--json", action="store_true")


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
        print(json.dumps(rows, ensure_ascii=False, indent=2))
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
