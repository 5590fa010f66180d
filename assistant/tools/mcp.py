"""Tools from Model Context Protocol servers, spoken to over stdio.

The servers are the user's own choice, listed in ``mcp.json`` in the data directory in the usual
``{"mcpServers": {"name": {"command": ..., "args": [...], "env": {...}}}}`` shape. Each server's
tools join the registry as ``server__tool`` and need the user's approval unless the server's entry
says ``"approval": "allow"``.

Servers are isolated from each other: one that fails to start, answers nonsense, floods or stalls
costs its own tools (with a problem naming it, and its process stopped), never the others' or the
chat. A tool whose input schema cannot be constrained by a grammar is left out on its own.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.core.cancel import CancelToken
from assistant.core.messages import clean_json
from assistant.engine.grammar import schema_problem
from assistant.tools.mcp_client import (
    START_TIMEOUT_S,
    McpClient,
    McpError,
    McpServerConfig,
)
from assistant.tools.mcp_config import server_config
from assistant.tools.mcp_content import result_text
from assistant.tools.mcp_text import safe_line
from assistant.tools.registry import Tool, ToolError, arguments_model
from assistant.tools.schema import SchemaError, inline_refs, without_patterns

log = logging.getLogger(__name__)

__all__ = ["McpClient", "McpError", "McpServerConfig", "McpTools", "load_config", "tool_name"]

CONFIG_FILE = "mcp.json"
# A server that always answers with a nextCursor would otherwise be listed forever.
MAX_PAGES = 20
# More tools than this make a decision grammar no small model can use anyway.
MAX_TOOLS_PER_SERVER = 100
# A tool's description, and each description or title inside its input schema (a server once sent
# a 1 MB parameter description, which pushed every tool out of the turn).
MAX_DESCRIPTION = 1000
MAX_SCHEMA_TEXT = 300
# One tool's whole input schema, after the caps above: larger is not a schema a decision can use.
MAX_SCHEMA_CHARS = 8000


def load_config(data_dir: Path) -> list[McpServerConfig]:
    """The configured servers; none when the file does not exist. A file that cannot be read at all
    is an error naming what is wrong; one bad entry disables that server alone (its config carries
    the ``problem``, reported when the servers start)."""
    path = data_dir / CONFIG_FILE
    if not path.exists():
        return []
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise McpError(f"{path} could not be read: {exc}", hint="Fix the file or remove it.") from exc
    servers = document.get("mcpServers") if isinstance(document, dict) else None
    if not isinstance(servers, dict):
        raise McpError(f'{path} has no "mcpServers" object.', hint='Expected {"mcpServers": {"name": {...}}}.')
    configs = []
    for name, entry in servers.items():
        config = server_config(safe_line(str(name), 100), entry)
        if config is not None:
            configs.append(config)
    return configs


def tool_name(server: str, name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{name}")[:64]


class McpTools:
    """Every configured server, started together; ``problems`` says what was left out and why."""

    def __init__(self, configs: list[McpServerConfig], log_dir: Path) -> None:
        self.configs = configs
        self.log_dir = log_dir
        self.clients: list[McpClient] = []
        self.problems: list[str] = []
        self.tools: list[Tool] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self, late: Callable[[list[Tool], list[str]], None] | None = None) -> McpTools:
        """Every server at once, in parallel. Without ``late``, returns when each has started or
        failed. With it, returns at once and hands each server's tools and problems to ``late`` (on
        that server's start thread) when it is ready: nothing waits for a slow server."""
        outcomes: list[tuple[McpClient, list[Tool], list[str]] | None] = [None] * len(self.configs)

        def start_one(index: int) -> None:
            config = self.configs[index]
            outcome: tuple[McpClient, list[Tool], list[str]]
            if config.problem is not None:
                outcome = (McpClient(config, self.log_dir), [], [config.problem])
            else:
                outcome = _start_server(config, self.log_dir)
            outcomes[index] = outcome
            if late is not None:
                late(*self._accept(*outcome))

        threads = [
            threading.Thread(target=start_one, args=(i,), name=f"hearth-mcp-start-{i}", daemon=True)
            for i in range(len(self.configs))
        ]
        for thread in threads:
            thread.start()
        if late is not None:
            return self
        for thread in threads:
            thread.join()
        for outcome in outcomes:
            assert outcome is not None
            self._accept(*outcome)
        return self

    def _accept(self, client: McpClient, tools: list[Tool], problems: list[str]) -> tuple[list[Tool], list[str]]:
        """One server's outcome joins the others: its tools (a name already taken is left out)."""
        # They hold the server's own words (its errors, its stderr): shown on a terminal.
        said = [safe_line(problem, 2000) for problem in problems]
        accepted: list[Tool] = []
        with self._lock:
            if self._closed:
                client.close()
                return [], []
            if client.running:
                self.clients.append(client)
                taken = {item.name for item in self.tools}
                for item in tools:
                    if item.name in taken:
                        said.append(f'MCP server "{client.config.name}": a second tool named {item.name} was left out.')
                        continue
                    taken.add(item.name)
                    accepted.append(item)
            self.tools.extend(accepted)
            self.problems.extend(said)
        return accepted, said

    def close(self) -> None:
        with self._lock:
            self._closed = True
            clients, self.clients = list(self.clients), []
        for client in clients:
            client.close()


def _start_server(config: McpServerConfig, log_dir: Path) -> tuple[McpClient, list[Tool], list[str]]:
    """One server's tools and problems; on any failure its process is stopped and it has no tools."""
    client = McpClient(config, log_dir)
    problems: list[str] = []
    try:
        client.start()
        listed = _list_tools(client, problems)
        tools = _tools(client, listed, problems)
    except McpError as exc:
        client.close()
        return client, [], [exc.message]
    except Exception as exc:  # a server's nonsense must cost only its own tools
        client.close()
        return client, [], [f'MCP server "{config.name}" could not be used: {type(exc).__name__}: {exc}'[:500]]
    return client, tools, problems


def _list_tools(client: McpClient, problems: list[str]) -> list[Any]:
    """Every page of ``tools/list``, within the page cap and one start time-out in all."""
    entries: list[Any] = []
    cursor: Any = None
    deadline = time.monotonic() + START_TIMEOUT_S
    for _ in range(MAX_PAGES):
        left = deadline - time.monotonic()
        if left <= 0:
            raise McpError(f'MCP server "{client.config.name}" did not list its tools within {START_TIMEOUT_S:g} s.')
        page = client.request("tools/list", {"cursor": cursor} if cursor is not None else {}, left)
        tools = page.get("tools")
        if not isinstance(tools, list):
            raise McpError(f'MCP server "{client.config.name}" answered tools/list without a list of tools.')
        entries.extend(tools)
        cursor = page.get("nextCursor")
        if cursor is None or cursor == "" or len(entries) >= MAX_TOOLS_PER_SERVER:
            break
        if not isinstance(cursor, str):
            raise McpError(f'MCP server "{client.config.name}" sent a nextCursor that is not a string.')
    else:
        problems.append(
            f'MCP server "{client.config.name}" listed more than {MAX_PAGES} pages of tools; the rest were left out.'
        )
    if len(entries) > MAX_TOOLS_PER_SERVER:
        problems.append(
            f'MCP server "{client.config.name}" has over {MAX_TOOLS_PER_SERVER} tools; the rest were left out.'
        )
    return entries[:MAX_TOOLS_PER_SERVER]


def _tools(client: McpClient, entries: list[Any], problems: list[str]) -> list[Tool]:
    tools, nameless = [], 0
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            nameless += 1
            continue
        try:
            tools.append(_as_tool(client, entry))
        except SchemaError as exc:
            problems.append(
                f'MCP server "{client.config.name}": tool "{entry["name"][:64]}" was left out: {exc.message}.'
            )
        except Exception as exc:  # any other surprise in one tool's entry costs that tool only
            log.warning("MCP tool %r of %s could not be used", entry["name"][:64], client.config.name, exc_info=True)
            problems.append(
                f'MCP server "{client.config.name}": tool "{entry["name"][:64]}" was left out: '
                f"{type(exc).__name__}: {exc}"[:300]
            )
    if nameless:
        problems.append(f'MCP server "{client.config.name}": {nameless} tool entries without a name were left out.')
    return tools


def parameters(schema: Any) -> dict[str, Any]:
    """A server's input schema made usable in the decision grammar: references inlined, closed to
    extra keys, and checked on its own, so one bad tool is left out instead of failing them all.
    Raises SchemaError naming the problem."""
    if schema is None:
        schema = {}
    if not isinstance(schema, dict):
        raise SchemaError(f"its input schema is a {type(schema).__name__}, not an object")
    inlined = _capped(inline_refs(schema))
    if len(json.dumps(inlined)) > MAX_SCHEMA_CHARS:
        raise SchemaError(f"its input schema is over {MAX_SCHEMA_CHARS:,} characters, too large for a decision")
    properties = inlined.get("properties", {})
    if not isinstance(properties, dict) or not all(isinstance(value, dict) for value in properties.values()):
        raise SchemaError("its input schema's properties are not schemas")
    required = inlined.get("required", [])
    required = [r for r in required if isinstance(r, str) and r in properties] if isinstance(required, list) else []
    closed = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    problem = schema_problem(closed)
    if problem is None:
        return closed
    # Unanchored or unusual regex patterns are the common failure; the server still checks them.
    relaxed = without_patterns(closed)
    if schema_problem(relaxed) is None:
        return dict(relaxed)
    raise SchemaError(f"its input schema cannot be constrained by a grammar ({problem})")


def _capped(node: Any, key: str = "") -> Any:
    """The schema with every description and title made safe and capped; the rest as sent. A
    parameter name with control characters leaves the tool out (it must be sent back exactly)."""
    if isinstance(node, dict):
        capped = {}
        for name, value in node.items():
            if name == "properties" and isinstance(value, dict):
                for prop in value:
                    if safe_line(str(prop), 200) != prop:
                        raise SchemaError(f"its parameter {safe_line(str(prop), 64)!r} has control characters")
            if name in ("description", "title") and isinstance(value, str):
                capped[name] = safe_line(value, MAX_SCHEMA_TEXT)
            elif name == "examples":
                continue  # for people reading the schema; the model gets the descriptions
            else:
                capped[name] = _capped(value, name)
        return capped
    if isinstance(node, list):
        return [_capped(item) for item in node]
    return node


def _as_tool(client: McpClient, entry: dict[str, Any]) -> Tool:
    remote_name: str = entry["name"]  # as the server spelled it, to call it by
    config = client.config
    entry = clean_json(entry)  # no lone surrogates in what the grammar and the prompt get

    def call(arguments: dict[str, Any], cancel: CancelToken | None = None) -> str:
        """The tool's text; a result the server flags as an error raises ToolError with that text."""
        try:
            result = client.request(
                "tools/call", {"name": remote_name, "arguments": arguments}, config.timeout_s, cancel
            )
        except McpError as exc:
            raise ToolError(exc.message) from exc
        text = result_text(result)
        if result.get("isError") is True:
            raise ToolError(text or f"{remote_name} failed on the MCP server.")
        return text

    description = entry.get("description")
    # What the model and the user see: no escapes, controls or lone surrogates, one capped line.
    description = safe_line(description, MAX_DESCRIPTION) if isinstance(description, str) else ""
    name = tool_name(config.name, remote_name)
    schema = parameters(entry.get("inputSchema"))
    return Tool(
        name=name,
        description=f"{description or safe_line(remote_name, 64)} (MCP server {config.name})",
        parameters=schema,
        arguments=arguments_model(name, schema),
        function=lambda **arguments: call(arguments),
        approval=config.approval,
        # The registry abandons the call a little after the client has given up on the server.
        timeout_s=config.timeout_s + 2,
        cancellable=call,
    )
