"""Tools from Model Context Protocol servers, spoken to over stdio.

The servers are the user's own choice, listed in ``mcp.json`` in the data directory in the usual
``{"mcpServers": {"name": {"command": ..., "args": [...], "env": {...}}}}`` shape. Each server's
tools join the registry as ``server__tool`` and need the user's approval unless the server's entry
says ``"approval": "allow"``.

The client is small and synchronous on purpose: newline-delimited JSON-RPC on the child's pipes,
one reader thread matching responses to requests, so it runs on any worker thread without an event
loop. A server that fails to start, crashes or stalls costs its own tools, never the chat.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from assistant.core.errors import HearthError
from assistant.tools.registry import Tool, ToolError, arguments_model

CONFIG_FILE = "mcp.json"
PROTOCOL_VERSION = "2025-06-18"
START_TIMEOUT_S = 20.0
CALL_TIMEOUT_S = 30.0
_MAX_RESULT_CHARS = 20_000


class McpError(HearthError):
    """A server could not be configured, started or understood."""


@dataclass(frozen=True)
class McpServerConfig:
    name: str
    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    approval: Literal["ask", "allow"] = "ask"
    timeout_s: float = CALL_TIMEOUT_S


def load_config(data_dir: Path) -> list[McpServerConfig]:
    """The configured servers; none when the file does not exist. A broken file is an error that
    names what is wrong, since silently ignoring it would hide the user's tools."""
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
        if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
            raise McpError(f'{path}: server "{name}" needs a "command" (only stdio servers are supported).')
        if entry.get("disabled") is True:
            continue
        args, env = entry.get("args", []), entry.get("env", {})
        if not (isinstance(args, list) and all(isinstance(a, str) for a in args)):
            raise McpError(f'{path}: "args" of server "{name}" must be a list of strings.')
        if not (isinstance(env, dict) and all(isinstance(v, str) for v in env.values())):
            raise McpError(f'{path}: "env" of server "{name}" must map names to strings.')
        approval = entry.get("approval", "ask")
        if approval not in ("ask", "allow"):
            raise McpError(f'{path}: "approval" of server "{name}" must be "ask" or "allow".')
        timeout = entry.get("timeout_s", CALL_TIMEOUT_S)
        configs.append(McpServerConfig(str(name), entry["command"], args, env, entry.get("cwd"), approval, timeout))
    return configs


class McpClient:
    """One running server: start it, list its tools, call them, stop it."""

    def __init__(self, config: McpServerConfig, log_dir: Path) -> None:
        self.config = config
        self.log_path = log_dir / f"mcp-{re.sub(r'[^A-Za-z0-9_.-]', '_', config.name)}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, dict[str, Any]] = {}
        self._arrived = threading.Condition()
        self._write_lock = threading.Lock()
        self._exit_reason: str | None = None
        self.server_name = config.name

    # ----- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self._process = subprocess.Popen(
                [self.config.command, *self.config.args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=self.config.cwd,
                env={**os.environ, **self.config.env},
            )
        except OSError as exc:
            raise McpError(
                f'MCP server "{self.config.name}" could not be started: {exc}',
                hint=f"Check its command in {CONFIG_FILE}.",
            ) from exc
        finally:
            log.close()
        assert self._process.stdout is not None
        threading.Thread(
            target=self._read, args=(self._process.stdout,), name=f"hearth-mcp-{self.config.name}", daemon=True
        ).start()
        info = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "hearth", "version": "0.1"},
            },
            timeout_s,
        )
        self.server_name = str(info.get("serverInfo", {}).get("name") or self.config.name)
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def close(self) -> None:
        process = self._process
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None

    # ----- protocol -----------------------------------------------------------------------------

    def list_tools(self) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self.request("tools/list", {"cursor": cursor} if cursor else {})
            tools.extend(t for t in page.get("tools", []) if isinstance(t, dict) and isinstance(t.get("name"), str))
            cursor = page.get("nextCursor")
            if not cursor:
                return tools

    def call_tool(self, name: str, arguments: dict[str, Any]) -> str:
        """The tool's text; a result the server flags as an error raises ToolError with that text."""
        try:
            result = self.request("tools/call", {"name": name, "arguments": arguments}, self.config.timeout_s)
        except McpError as exc:
            raise ToolError(exc.message) from exc
        text = _content_text(result.get("content", []))
        if not text and "structuredContent" in result:
            text = json.dumps(result["structuredContent"], ensure_ascii=False)
        if result.get("isError"):
            raise ToolError(text or f"{name} failed on the MCP server.")
        return text[:_MAX_RESULT_CHARS]

    def request(self, method: str, params: dict[str, Any], timeout_s: float = CALL_TIMEOUT_S) -> dict[str, Any]:
        request_id = next(self._ids)
        with self._arrived:
            self._pending[request_id] = {}
        self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        with self._arrived:
            answered = self._arrived.wait_for(
                lambda: self._pending[request_id] or self._exit_reason is not None, timeout_s
            )
            response = self._pending.pop(request_id)
        if not response:
            if answered:
                raise McpError(f'MCP server "{self.config.name}" {self._exit_reason}.', hint=f"See {self.log_path}.")
            # Tell the server to drop it; the answer, if it ever comes, is ignored.
            with contextlib.suppress(McpError):
                self._send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}})
            raise McpError(f'MCP server "{self.config.name}" did not answer {method} within {timeout_s:g} s.')
        if "error" in response:
            error = response["error"]
            message = error.get("message", "unknown error") if isinstance(error, dict) else str(error)
            raise McpError(f'MCP server "{self.config.name}": {message}')
        result = response.get("result")
        return result if isinstance(result, dict) else {}

    def _send(self, message: dict[str, Any]) -> None:
        process = self._process
        if process is None or process.stdin is None or self._exit_reason is not None:
            raise McpError(f'MCP server "{self.config.name}" is not running.')
        data = (json.dumps(message, ensure_ascii=False) + "\n").encode()
        try:
            with self._write_lock:
                process.stdin.write(data)
                process.stdin.flush()
        except (OSError, ValueError) as exc:
            raise McpError(f'MCP server "{self.config.name}" stopped accepting requests: {exc}') from exc

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            try:
                message = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue  # servers sometimes print stray lines; the spec says stdout is JSON only
            if not isinstance(message, dict):
                continue
            if "method" in message and "id" in message:
                self._answer_server_request(message)
            elif "id" in message:
                with self._arrived:
                    if message["id"] in self._pending:
                        self._pending[message["id"]] = message
                        self._arrived.notify_all()
        process = self._process
        code = process.wait() if process is not None else None
        with self._arrived:
            self._exit_reason = f"exited (code {code})" if code is not None else "closed its output"
            self._arrived.notify_all()

    def _answer_server_request(self, message: dict[str, Any]) -> None:
        # Hearth offers no sampling, roots or elicitation to servers; ping must be answered.
        if message["method"] == "ping":
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"], "result": {}}
        else:
            reply = {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "Not supported"}}
        with contextlib.suppress(McpError):
            self._send(reply)


def _content_text(content: Any) -> str:
    parts = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif block.get("type") == "resource" and isinstance(block.get("resource"), dict):
            parts.append(str(block["resource"].get("text", f"[resource {block['resource'].get('uri', '')}]")))
        else:
            parts.append(f"[{block.get('type', 'unknown')} content not shown]")
    return "\n".join(parts)


def _parameters(schema: Any) -> dict[str, Any]:
    """The server's input schema, closed to extra keys so a constrained decision stays within it."""
    schema = schema if isinstance(schema, dict) else {}
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = [r for r in schema.get("required", []) if r in properties]
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def tool_name(server: str, name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{name}")[:64]


class McpTools:
    """Every configured server, started together; ``problems`` says which ones could not start."""

    def __init__(self, configs: list[McpServerConfig], log_dir: Path) -> None:
        self.configs = configs
        self.log_dir = log_dir
        self.clients: list[McpClient] = []
        self.problems: list[str] = []
        self.tools: list[Tool] = []

    def start(self) -> McpTools:
        for config in self.configs:
            client = McpClient(config, self.log_dir)
            try:
                client.start()
                listed = client.list_tools()
            except McpError as exc:
                client.close()
                self.problems.append(exc.message)
                continue
            self.clients.append(client)
            self.tools.extend(_as_tool(client, entry) for entry in listed)
        return self

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()


def _as_tool(client: McpClient, entry: dict[str, Any]) -> Tool:
    remote_name = entry["name"]

    def call(**arguments: Any) -> str:
        return client.call_tool(remote_name, arguments)

    description = str(entry.get("description") or remote_name).strip()
    name = tool_name(client.config.name, remote_name)
    parameters = _parameters(entry.get("inputSchema"))
    return Tool(
        name=name,
        description=f"{description} (MCP server {client.config.name})",
        parameters=parameters,
        arguments=arguments_model(name, parameters),
        function=call,
        approval=client.config.approval,
        # The registry abandons the call a little after the client has given up on the server.
        timeout_s=client.config.timeout_s + 2,
    )
