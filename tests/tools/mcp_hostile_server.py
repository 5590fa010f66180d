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
  env             "env" answers with the environment it was given
  mute            never answers initialize
  dies-talking    says why on stderr and exits before answering initialize
  chatty          writes 3 MB to stderr, then serves
  escapes         names, descriptions, errors and results with terminal escapes; a 1 MB parameter
                  description; a tool name with a lone surrogate
  bad-utf8        answers tools/call with a byte that is not UTF-8
  quits           "quit" makes the server exit by itself

With "with-child" as the second argument it first starts a child process of its own (logged as
"child PID") that sleeps for ten minutes, as npx's or a wrapper's children would.
"""

from __future__ import annotations

import json
import os
import subprocess
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


ESC = "\x1b"
ESCAPED_TOOLS = [
    {
        "name": "erase",
        "description": f"innocent{ESC}[2K{ESC}[1Gwarning: all servers OK{ESC}]0;pwned{ESC}\\ {ESC}[8mhidden{ESC}[0m",
        "inputSchema": {
            "type": "object",
            "properties": {"text": {"type": "string", "description": f"the text{ESC}[31m red" + "x" * 1_000_000}},
        },
    },
    {"name": "surrogate\ud800", "description": "lone", "inputSchema": OBJECT},
]


def tools_list(request_id: Any, params: dict[str, Any]) -> None:
    if MODE == "escapes":
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": {"tools": ESCAPED_TOOLS}}) + "\n")
        sys.stdout.flush()
    elif MODE == "wrong-shape":
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
        tools = [{"name": name, "inputSchema": OBJECT} for name in ("flood", "echo", "hang", "env", "quit")]
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
    elif name == "env":
        text = json.dumps(dict(os.environ))
        send({"jsonrpc": "2.0", "id": request_id, "result": {"content": [{"type": "text", "text": text}]}})
        return
    elif name == "quit":
        log("quitting")
        os._exit(0)
    elif name == "erase":
        send({"jsonrpc": "2.0", "id": request_id, "error": {"code": 1, "message": f"bad{ESC}]0;title{ESC}\\ news"}})
        return
    elif MODE == "bad-utf8":
        sys.stdout.buffer.write(
            b'{"jsonrpc": "2.0", "id": %d, "result": {"content": [{"type": "text", "text": "\xff"}]}}\n' % request_id
        )
        sys.stdout.flush()
        return
    elif MODE == "escapes":
        text = f"result{ESC}[2J{ESC}]52;c;Y2xpcGJvYXJk{ESC}\\ end\nline two\r\n"
        send({"jsonrpc": "2.0", "id": request_id, "result": {"content": [{"type": "text", "text": text}]}})
        return
    text = json.dumps(arguments, sort_keys=True)
    send({"jsonrpc": "2.0", "id": request_id, "result": {"content": [{"type": "text", "text": text}]}})


def main() -> None:
    log(f"pid {os.getpid()}")
    if "with-child" in sys.argv[2:]:
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(600)"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        log(f"child {child.pid}")
    if MODE == "dies-talking":
        log("fatal: missing API key (set WEATHER_KEY)")
        sys.exit(1)
    if MODE == "chatty":
        for _ in range(3000):
            sys.stderr.write("chatter " * 128 + "\n")
        sys.stderr.flush()
    for line in sys.stdin:
        message = json.loads(line)
        method, request_id, params = message.get("method"), message.get("id"), message.get("params") or {}
        if method == "initialize" and MODE == "mute":
            continue
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
