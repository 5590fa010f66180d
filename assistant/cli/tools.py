"""``hearth tools list`` and ``hearth tools run NAME 'JSON-ARGS'``."""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings, data_dir
from assistant.core.errors import HearthError
from assistant.tools.builtin import build_registry
from assistant.tools.registry import Tool, ToolRegistry

log = logging.getLogger(__name__)


def add_parsers(commands: Any) -> None:
    tools = commands.add_parser("tools", help="list the tools, or run one")
    actions = tools.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list")
    listing.add_argument("--json", action="store_true")
    run = actions.add_parser("run")
    run.add_argument("name")
    run.add_argument("arguments", nargs="?", default="{}", help='a JSON object, e.g. \'{"expression": "2^64"}\'')


def registry_for(
    settings: Settings, with_mcp: bool = True, only: str | None = None, background: bool = False
) -> ToolRegistry:
    """The built-in tools, with file access to the collections' folders and the settings' allow-list,
    plus the configured MCP servers' tools (their processes end with this one). With ``only`` (a
    tool's name), just the server that can have it is started: no waiting for the others. With
    ``background`` (a chat), nothing waits: each server's tools join the registry when it is ready."""
    from assistant.cli.library import open_library

    library = open_library(settings)
    roots = [Path(root) for collection in library.collections() for root in collection.roots]
    registry = build_registry(roots + list(settings.tools.allowed_folders))
    if with_mcp:
        if background:
            start_mcp_tools(only, registry)
        else:
            for item in start_mcp_tools(only):
                registry.register(item)
    return registry


def start_mcp_tools(only: str | None = None, joining: ToolRegistry | None = None) -> list[Tool]:
    """Start the servers in mcp.json; one that fails is reported on stderr and the rest still work.
    Ctrl-C while they start stops them and says so; SIGTERM and SIGHUP stop them before Hearth ends
    (and the watchdog ends them even when Hearth is killed). With ``joining``, returns at once and
    each server's tools are registered there when it is ready."""
    from assistant.tools.mcp import McpTools, load_config, tool_name
    from assistant.tools.mcp_client import stop_all

    configs = load_config(data_dir())
    if only is not None:
        configs = [c for c in configs if only.startswith(tool_name(c.name, ""))]
    if not configs:
        return []
    _stop_servers_on_signals()

    def late(tools: list[Tool], problems: list[str]) -> None:
        assert joining is not None
        for item in tools:
            try:
                joining.register(item)
            except HearthError as exc:
                problems.append(exc.message)
        for problem in problems:
            # Also logged: while a model loads, llama.cpp points stderr at /dev/null for a moment.
            log.warning("%s", problem)
            print(f"warning: {problem}", file=sys.stderr, flush=True)

    try:
        servers = McpTools(configs, data_dir() / "logs").start(late if joining is not None else None)
    except KeyboardInterrupt:
        stop_all()
        print("hearth: stopped while the MCP servers were starting.", file=sys.stderr)
        raise SystemExit(130) from None
    # Last in, first out: the servers that answered are closed politely, then any still starting
    # are killed (the watchdog would, a moment later).
    atexit.register(stop_all)
    atexit.register(servers.close)
    if joining is not None:
        return []
    for problem in servers.problems:
        log.warning("%s", problem)
        print(f"warning: {problem}", file=sys.stderr)
    return servers.tools


def _stop_servers_on_signals() -> None:
    """SIGTERM and SIGHUP end Hearth through its exit path (atexit closes the servers), after a
    kill of every server group so nothing is left if that path is slow."""
    from assistant.tools.mcp_client import stop_all

    def stop(signum: int, _frame: Any) -> None:
        stop_all()
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) in (signal.SIG_DFL, None):
            try:
                signal.signal(number, stop)
            except ValueError:
                return  # not the main thread: the watchdog still ends them with Hearth


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return _run(args, settings)
    except KeyboardInterrupt:
        print("hearth: stopped.", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, settings: Settings) -> int:
    registry = registry_for(settings, only=args.name if args.action == "run" else None)
    if args.action == "list":
        if args.json:
            print(json.dumps([t.schema() | {"approval": t.approval} for t in registry.tools()], indent=2))
        for item in [] if args.json else registry.tools():
            params = ", ".join(item.parameters["properties"])
            print(f"{item.name}({params}) — {item.description}")
        return 0
    try:
        arguments = json.loads(args.arguments)
    except json.JSONDecodeError as exc:
        raise HearthError(f"The arguments are not valid JSON: {exc}") from exc
    result = registry.execute(args.name, arguments)
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    return 0 if result.ok else 1
