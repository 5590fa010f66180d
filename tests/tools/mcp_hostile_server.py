"""An MCP server that misbehaves on purpose, one way per mode (the first argument).

Stdlib only, so it starts fast. What it receives that a test needs to see (a call arriving, a
cancellation) it writes to stderr, which Hearth keeps in the server's log file.

  wrong-shape     tools/list's result is a JSON list
  bad-entries     tools without names, a number, an inputSchema that is a string, a good tool
  endless-cursor  every tools/list page says there is another
  huge-line       answers tools/list with 100 MB and no newline
  deaf            "flood" stops reading stdin and pings 3000 times, then answers; stays deaf
  schemas         $defs/$ref, recursive, remote-$ref, unconstrainable and unanchored-pattern tools
  hang            "hang" never answers, logs the notifications/cancelled it gets
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

MODE = sys.argv[1] if len(sys.argv) > 1 else "bad-entries"
OBJECT: dict[str, Any] = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
POINT = {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}, "required": ["x", "y"]}
SCHEMAS: dict[str, Any] = {
    "refs": {
        "type": "object",
        "properties": {"point": {"$ref": "#/$defs/Point", "description": "where"}},
        "required": ["point"],
        "$defs": {"Point": POINT},
    },
    "recursive": {
        "type": "object",
        "properties": {"tree": {"$ref": "#/$defs/Node"}},
        "$defs": {
            "Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}
        },
    },
    "remote": {"type": "object", "properties": {"x": {"$ref": "https://example.com/schema.json"}}},
    "unconstrainable": {"type": "object", "properties": {"x": {"type": "no-such-type"}}},
    "unanchored": {"type": "object", "properties": {"code": {"type": "string", "pattern": "[A-Z]{3}"}}},
}


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def log(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def tools_list(request_id: Any, params: dict[str, Any]) -> None:
    if MODE == "wrong-shape":
        send({"jsonrpc": "2.0", "id": request_id, "result": [{"name": "x"}]})
    elif MODE == "bad-entries":
        entries = [{"description": "no name"}, 5, {"name": ""}, {"name": "stringy", "inputSchema": "a string"}]
        entries += [
            {"name": "echo", "inputSchema": {**OBJECT, "required": "text"}},
            {"name": "odd", "inputSchema": {"properties": {"a": 1}}},
        ]
        send({"jsonrpc": "2.0", "id": request_id, "result": {"tools": entries}})
    elif MODE == "endless-cursor":
        page = int(params.get("cursor") or 0)
        tool = {"name": f"page{page}", "inputSchema": OBJECT}
        send({"jsonrpc": "2.0", "id": request_id, "result": {"tools": [tool], "nextCursor": str(page + 1)}})
    elif MODE == "huge-line":
        chunk = "x" * (1024 * 1024)
        for _ in range(100):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        time.sleep(600)
    elif MODE == "schemas":
        tools = [{"name": name, "inputSchema": schema} for name, schema in SCHEMAS.items()]
        send({"jsonrpc": "2.0", "id": request_id, "result": {"tools": tools}})
    else:
        tools = [{"name": name, "inputSchema": OBJECT} for name in ("flood", "echo", "hang")]
        send({"jsonrpc": "2.0", "id": request_id, "result": {"tools": tools}})


def tools_call(request_id: Any, params: dict[str, Any]) -> None:
    name, arguments = params.get("name"), params.get("arguments", {})
    log(f"call {name} {request_id}")
    if name == "flood":
        for i in range(3000):
            send({"jsonrpc": "2.0", "id": f"ping{i}", "method": "ping"})
        send({"jsonrpc": "2.0", "id": request_id, "result": {"content": [{"type": "text", "text": "flooded"}]}})
        time.sleep(600)  # never reads again
    elif name == "hang":
        return  # the answer never comes
    text = json.dumps(arguments, sort_keys=True)
    send({"jsonrpc": "2.0", "id": request_id, "result": {"content": [{"type": "text", "text": text}]}})


def main() -> None:
    log(f"pid {os.getpid()}")
    for line in sys.stdin:
        message = json.loads(line)
        method, request_id, params = message.get("method"), message.get("id"), message.get("params") or {}
        if method == "initialize":
            info = {"name": f"hostile-{MODE}", "version": "0"}
            send(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "result": {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": info},
                }
            )
        elif method == "tools/list":
            tools_list(request_id, params)
        elif method == "tools/call":
            tools_call(request_id, params)
        elif method == "notifications/cancelled":
            log(f"cancelled {params.get('requestId')} {params.get('reason')}")
        elif request_id is not None and "method" in message:
            send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": "no"}})


if __name__ == "__main__":
    main()
