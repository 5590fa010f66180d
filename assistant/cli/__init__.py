"""The ``hearth`` command: parses arguments, calls the layers below, prints. Nothing else lives here.

One module per command group (chat, conversations, library, tools, memory, models), each with its
``add_parsers``; ``main`` hands the parsed arguments to the group's runner."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from assistant import __version__
from assistant.config import apply_offline_environment, data_dir, database_path, load_settings
from assistant.core import logs
from assistant.core.errors import HearthError
from assistant.core.storage_errors import storage_error
from assistant.core.store import ConversationStore


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hearth", description="A private, offline assistant.")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    parser.add_argument(
        "--smoke-test",
        nargs=2,
        dest="top_smoke_test",
        metavar=("OUT.png", "PROMPT"),
        help="open the window, send PROMPT, save a screenshot, print one JSON line and exit",
    )
    commands = parser.add_subparsers(dest="command")

    gui = commands.add_parser("gui", help="open the desktop window (the default)")
    gui.add_argument(
        "--smoke-test",
        nargs=2,
        metavar=("OUT.png", "PROMPT"),
        help="send PROMPT, wait for the reply, save a screenshot, print one JSON line and exit",
    )

    from assistant.cli import chat, conversations, library, memory, models, tools

    for group in (chat, conversations, library, tools, memory, models):
        group.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    started_at = time.perf_counter()
    apply_offline_environment()
    # Bytes that are not UTF-8 on stdin (a file in another encoding, binary piped by mistake) become
    # U+FFFD instead of a UnicodeDecodeError, for `ask -` and for `chat` alike.
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
    args = build_parser().parse_args(argv)
    with contextlib.suppress(OSError):
        logs.install(data_dir() / "logs")  # hearth.log, and uncaught exceptions written there
    try:
        if args.command in (None, "gui"):
            from assistant.app import run_gui

            smoke = getattr(args, "smoke_test", None) or args.top_smoke_test
            return run_gui((Path(smoke[0]), smoke[1]) if smoke else None, started_at)
        settings = load_settings()
        if args.command in ("chat", "ask"):
            from assistant.cli.chat import ask, chat

            return (chat if args.command == "chat" else ask)(args, settings)
        if args.command == "conversations":
            from assistant.cli.conversations import run_conversations, run_salvage

            if args.action == "salvage":  # the one command that must not open the store first
                return run_salvage(database_path())
            return run_conversations(args, ConversationStore(database_path()))
        if args.command in ("index", "collections", "search"):
            from assistant.cli.library import run

            return run(args, settings)
        if args.command == "tools":
            from assistant.cli.tools import run as run_tools

            return run_tools(args, settings)
        if args.command in ("memory", "profiles"):
            from assistant.cli.memory import run_memory, run_profiles

            return (run_memory if args.command == "memory" else run_profiles)(args, settings)
        if args.command == "models":
            from assistant.cli.models import run_models

            return run_models(args, settings)
    except HearthError as exc:
        logs.log.warning("%s: %s", args.command or "gui", exc.user_text())
        print(f"hearth: {exc.user_text()}", file=sys.stderr)
        if getattr(args, "json", False):
            # A script reading stdout gets an answer it can parse, not an empty stream.
            error = {"error": exc.message, "hint": exc.hint, "kind": type(exc).__name__}
            print(json.dumps(error, ensure_ascii=False))
        return 1
    except BrokenPipeError:
        return 0
    except Exception as exc:  # nothing raw reaches the terminal: the traceback goes to hearth.log
        logs.log.exception("hearth %s failed", args.command)
        told = storage_error(exc, data_dir(), "Hearth's data folder")
        message = told.user_text() if told is not None else f"Something went wrong: {type(exc).__name__}: {exc}"
        print(f"hearth: {message}\n{logs.where()}".rstrip(), file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
