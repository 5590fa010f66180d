"""A small MCP server for the tests, built on the official SDK and spoken to over stdio."""

from __future__ import annotations

import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

server = MCPServer("hearth-test")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def shout(text: str) -> str:
    """Return the text in capitals."""
    return text.upper()


class Point(BaseModel):
    x: int
    y: int


@server.tool()
def move(point: Point, dx: int) -> str:
    """Move a point right by dx (its schema is $defs and a $ref, as the SDK writes nested models)."""
    return f"{point.x + dx},{point.y}"


@server.tool()
def fail(reason: str) -> str:
    """Always fails with the given reason."""
    # A deliberate ToolError: any other exception is logged as a rich traceback, which takes over
    # a second on a busy machine, longer than the tests' 2 s time-out.
    raise ToolError(f"fail: {reason}")


@server.tool()
def sleep(seconds: float) -> str:
    """Sleep, then say so."""
    time.sleep(seconds)
    return f"slept {seconds}"


if __name__ == "__main__":
    if "--crash" in sys.argv:
        sys.exit(3)
    server.run("stdio")
