"""One entry of ``mcp.json``, checked with pydantic: a bad entry disables that server alone, with a
message that says which key is wrong and what it should be.

Keys other clients use (``autoApprove``, ``alwaysAllow``, ``description``) are ignored rather than
refused, so a file shared with another MCP client still works here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.tools.mcp_client import CALL_TIMEOUT_S, McpServerConfig
from assistant.tools.mcp_text import safe_line

REMOTE_TYPES = ("http", "streamable-http", "streamableHttp", "sse")


class ServerEntry(BaseModel):
    """A stdio server: the program to start, its arguments and environment, and how it is trusted."""

    model_config = ConfigDict(extra="ignore", strict=False)

    command: str = Field(min_length=1, description="the program that runs the server")
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict, description="variables the server gets besides the safe ones")
    cwd: str | None = None
    type: Literal["stdio"] = "stdio"
    approval: Literal["ask", "allow"] = Field("ask", description="ask before each call, or allow without asking")
    timeout_s: float = Field(CALL_TIMEOUT_S, gt=0, le=24 * 3600, description="seconds a call may take")
    disabled: bool = False


def server_config(name: str, entry: Any) -> McpServerConfig | None:
    """The entry as a config; None when it is disabled; a config with a ``problem`` when it is wrong."""
    if not isinstance(entry, dict):
        return _broken(name, f"its entry is a {type(entry).__name__}, not an object")
    if entry.get("disabled") is True:
        return None
    if entry.get("type") in REMOTE_TYPES or ("url" in entry and "command" not in entry):
        return _broken(
            name,
            f'"type": "{safe_line(str(entry.get("type", "http")), 40)}" servers (a "url") are not supported yet; '
            'only servers started with a "command"',
        )
    try:
        checked = ServerEntry.model_validate(entry)
    except ValidationError as exc:
        return _broken(name, "; ".join(_plain(error) for error in exc.errors()[:3]))
    if checked.disabled:
        return None
    return McpServerConfig(
        name, checked.command, checked.args, checked.env, checked.cwd, checked.approval, checked.timeout_s
    )


def _plain(error: Any) -> str:
    key = ".".join(str(part) for part in error.get("loc", ())) or "the entry"
    got = error.get("input")
    shown = "" if error.get("type") == "missing" else f" (it is {safe_line(repr(got), 60)})"
    return f'"{key}": {safe_line(str(error.get("msg", "is not valid")), 200).lower()}{shown}'


def _broken(name: str, reason: str) -> McpServerConfig:
    return McpServerConfig(name, "", problem=f'mcp.json: server "{name}" is left out: {reason}.')
