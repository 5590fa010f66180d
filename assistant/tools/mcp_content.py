"""An MCP tool result as text the model and the user can read.

Images, audio and binary resources are described, never pasted: base64 in the context would cost
thousands of tokens and tell a small model nothing. The text is made safe for a terminal and a
prompt (no escape sequences or control characters), and a text cut to fit says so.
"""

from __future__ import annotations

import json
from typing import Any

from assistant.tools.mcp_text import safe_text

MAX_RESULT_CHARS = 20_000


def result_text(result: dict[str, Any]) -> str:
    """The text of a ``tools/call`` result: its content blocks, else its structured content."""
    text = "\n".join(block_text(block) for block in _list(result.get("content")))
    if not text.strip() and "structuredContent" in result:
        text = json.dumps(result["structuredContent"], ensure_ascii=False)
    return _cut(safe_text(text, keep_newlines=True))


def _cut(text: str, limit: int = MAX_RESULT_CHARS) -> str:
    """At most ``limit`` characters, with a marker saying how much the server sent when cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[cut: the MCP server sent {len(text):,} characters; the first {limit:,} are shown]"


def block_text(block: Any) -> str:
    if not isinstance(block, dict):
        return "[content the server sent malformed]"
    kind = block.get("type")
    if kind == "text":
        text = block.get("text")
        return text if isinstance(text, str) else ""
    if kind in ("image", "audio"):
        return f"[{kind}: {_str(block.get('mimeType')) or 'unknown type'}, {_size(block.get('data'))}]"
    if kind == "resource":
        found = block.get("resource")
        resource: dict[str, Any] = found if isinstance(found, dict) else {}
        uri = _str(resource.get("uri")) or "no URI"
        if isinstance(resource.get("text"), str):
            return f"[resource: {uri}]\n{resource['text']}"
        mime = _str(resource.get("mimeType")) or "binary"
        return f"[resource: {uri}, {mime}, {_size(resource.get('blob'))}]"
    if kind == "resource_link":
        name, uri = _str(block.get("name")), _str(block.get("uri")) or "no URI"
        description = _str(block.get("description"))
        return f"[resource link: {name + ' ' if name else ''}{uri}]" + (f" {description}" if description else "")
    return f"[{_str(kind) or 'unknown'} content not shown]"


def human_size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _size(data: Any) -> str:
    """The decoded size of base64 data, without decoding it (it may be megabytes)."""
    if not isinstance(data, str):
        return "no data"
    return human_size(len(data) * 3 // 4 - data[-2:].count("="))


def _str(value: Any) -> str:
    return value[:1000] if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
