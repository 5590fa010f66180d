"""MCP results as readable text (assistant/tools/mcp_content.py): never raw JSON or base64."""

from __future__ import annotations

import base64
import json

from assistant.tools.mcp_content import MAX_RESULT_CHARS, result_text
from assistant.tools.registry import ToolRegistry

PNG = base64.b64encode(b"\x89PNG" + b"\0" * 1224).decode()


def test_blocks_of_every_kind_are_described() -> None:
    result = {
        "content": [
            {"type": "text", "text": "Here:"},
            {"type": "image", "mimeType": "image/png", "data": PNG},
            {"type": "audio", "mimeType": "audio/wav", "data": "AAAA"},
            {"type": "resource", "resource": {"uri": "file:///notes.txt", "text": "the notes"}},
            {"type": "resource", "resource": {"uri": "file:///a.bin", "mimeType": "application/zip", "blob": "AAAA"}},
            {"type": "resource_link", "name": "Doc", "uri": "demo://doc", "description": "a document"},
            {"type": "hologram"},
            "not a block",
        ]
    }
    assert result_text(result).splitlines() == [
        "Here:",
        "[image: image/png, 1.2 KB]",
        "[audio: audio/wav, 3 bytes]",
        "[resource: file:///notes.txt]",
        "the notes",
        "[resource: file:///a.bin, application/zip, 3 bytes]",
        "[resource link: Doc demo://doc] a document",
        "[hologram content not shown]",
        "[content the server sent malformed]",
    ]
    assert PNG not in result_text(result)


def test_structured_content_stands_in_for_missing_text_and_all_is_bounded() -> None:
    assert result_text({"content": [], "structuredContent": {"t": 36}}) == '{"t": 36}'
    assert result_text({"content": "nonsense"}) == ""
    cut = result_text({"content": [{"type": "text", "text": "x" * 10**6}]})
    assert cut.startswith("x" * MAX_RESULT_CHARS + "\n[cut: ")
    assert cut.endswith("[cut: the MCP server sent 1,000,000 characters; the first 20,000 are shown]")


def test_a_tool_entry_with_lone_surrogates_is_cleaned_for_the_model_but_called_by_its_own_name() -> None:
    """A server's half emoji (JSON "\\ud83d") in a description used to crash every tools-on turn in
    the tokenizer; odd parameter names used to make every call fail validation."""
    from types import SimpleNamespace

    from assistant.tools.mcp import _as_tool
    from assistant.tools.mcp_client import McpServerConfig

    calls: list[tuple[str, dict[str, object]]] = []

    def request(method: str, params: dict[str, object], timeout: float, cancel: object = None) -> dict[str, object]:
        calls.append((params["name"], params["arguments"]))  # type: ignore[arg-type]
        return {"content": [{"type": "text", "text": "done \ud83d"}]}

    client = SimpleNamespace(config=McpServerConfig("odd", "true"), request=request)
    entry = {
        "name": "pin\ud83d",
        "description": "Pins things \ud83d with care",
        "inputSchema": {"type": "object", "properties": {"_x": {"type": "integer", "description": "half \udce9"}}},
    }
    item = _as_tool(client, entry)  # type: ignore[arg-type]
    json.dumps(item.schema(), ensure_ascii=False).encode("utf-8")  # no lone surrogate left to crash on
    assert "\ufffd" in item.description
    registry = ToolRegistry()
    registry.register(item)
    result = registry.execute(item.name, {"_x": 3})
    assert result.ok and result.result == "done \ufffd"
    assert calls == [("pin\ud83d", {"_x": 3})]
