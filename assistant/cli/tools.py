"""``hearth tools list`` and ``hearth tools run NAME 'JSON-ARGS'``."""

from __future__ import annotations

import argparse
import atexit
import json
import sys
from pathlib import Path
from typing import Any

from assistant.config import Settings, data_dir
from assistant.core.errors import HearthError
from assistant.tools.builtin import build_registry
from assistant.tools.registry import Tool, ToolRegistry


def add_parsers(commands: Any) -> None:
    tools = commands.add_parser("tools", help="list the tools, or run one")
    actions = tools.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list")
    listing.add_argument("--json", action="store_true")
    run = actions.add_parser("run")
    run.add_argument("name")
    run.add_argument("arguments", nargs="?", default="{}", help='a JSON object, e.g. \'{"expression": "2^64"}\'')


def registry_for(settings: Settings, with_mcp: bool = True) -> ToolRegistry:
    """The built-in tools, with file access to the collections' folders and the settings' allow-list,
    plus the configured MCP servers' tools (their processes end with this one)."""
    from assistant.cli.library import open_library

    library = open_library(settings)
    roots = [Path(root) for collection in library.collections() for root in collection.roots]
    registry = build_registry(roots + list(settings.tools.allowed_folders))
    if with_mcp:
        for item in start_mcp_tools():
            registry.register(item)
    return registry


def start_mcp_tools() -> list[Tool]:
    """Start the servers in mcp.json; one that fails is reported on stderr and the rest still work."""
    from assistant.tools.mcp import McpTools, load_config

    servers = McpTools(load_config(data_dir()), data_dir() / "logs").start()
    atexit.register(servers.close)
    for problem in servers.problems:
        print(f"warning: {problem}", file=sys.stderr)
    return servers.tools


def run(args: argparse.Namespace, settings: Settings) -> int:
    registry = registry_for(settings)
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
