"""MCP results as readable text (assistant/tools/mcp_content.py): never raw JSON or base64."""

from __future__ import annotations

import base64

from assistant.tools.mcp_content import MAX_RESULT_CHARS, result_text

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
    assert len(result_text({"content": [{"type": "text", "text": "x" * 10**6}]})) == MAX_RESULT_CHARS
