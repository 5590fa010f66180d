"""Server text made safe (assistant/tools/mcp_text.py), as it reaches the terminal and the prompt
from a real hostile server: escapes in names, descriptions, errors and results; a lone surrogate
in a tool name; a reply that is not UTF-8."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.tools.mcp import McpServerConfig, McpTools
from assistant.tools.mcp_text import safe_text
from assistant.tools.registry import ToolRegistry

HOSTILE = Path(__file__).with_name("mcp_hostile_server.py")


@pytest.fixture
def escapes(tmp_path: Path) -> Iterator[tuple[McpTools, ToolRegistry]]:
    config = McpServerConfig("escapes", sys.executable, [str(HOSTILE), "escapes"], timeout_s=60.0)
    servers = McpTools([config], tmp_path / "logs").start()
    yield servers, ToolRegistry().extended(*servers.tools)
    servers.close()


def _no_controls(text: str) -> None:
    assert not [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F], repr(text[:200])


def test_escape_sequences_are_removed_whole() -> None:
    assert safe_text("ok\x1b[2K\x1b[1Gwarning") == "okwarning"
    assert safe_text("\x1b]0;title\x07text \x1b]8;;http://x\x1b\\link") == "text link"
    assert safe_text("a\x9b31mb\u202ec") == "abc"
    assert safe_text("x\ud800y") == "x\ufffdy"
    assert safe_text("one\ntwo\tthree") == "one two three"
    assert safe_text("one\r\ntwo\tthree", keep_newlines=True) == "one\ntwo\tthree"


def test_descriptions_errors_and_results_from_a_server_are_safe(escapes: tuple[McpTools, ToolRegistry]) -> None:
    _, registry = escapes
    erase = registry.get("escapes__erase")
    _no_controls(erase.description + json.dumps(erase.parameters, ensure_ascii=False))
    assert erase.description.startswith("innocentwarning: all servers OK hidden")
    # The 1 MB parameter description is capped, so the tool stays in the decision.
    assert len(json.dumps(erase.parameters)) < 2000
    failed = registry.execute("escapes__erase", {"text": "x"})
    assert not failed.ok and "bad news" in failed.result
    _no_controls(failed.result)


def test_a_lone_surrogate_in_a_tool_name_is_called_without_an_encoding_error(
    escapes: tuple[McpTools, ToolRegistry],
) -> None:
    _, registry = escapes
    [name] = [n for n in registry.names() if n.startswith("escapes__surrogate")]
    called = registry.execute(name, {"text": "hi"})
    assert called.ok and "end\nline two" in called.result, called.result
    assert "UnicodeEncodeError" not in called.result
    _no_controls(called.result)


def test_a_reply_that_is_not_utf8_is_a_protocol_error_not_silence(tmp_path: Path) -> None:
    config = McpServerConfig("bytes", sys.executable, [str(HOSTILE), "bad-utf8"], timeout_s=120.0)
    servers = McpTools([config], tmp_path / "logs").start()
    try:
        result = ToolRegistry().extended(*servers.tools).execute("bytes__echo", {"text": "x"})
    finally:
        servers.close()
    assert not result.ok and "not valid UTF-8" in result.result and "did not answer" not in result.result


def test_hearth_tools_list_prints_no_escape_from_a_server(hearth_home: Path) -> None:
    hearth_home.mkdir(parents=True, exist_ok=True)
    config = {"mcpServers": {"escapes": {"command": sys.executable, "args": [str(HOSTILE), "escapes"]}}}
    (hearth_home / "mcp.json").write_text(json.dumps(config))
    listed = subprocess.run(
        [sys.executable, "-m", "assistant", "tools", "list"], capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    assert "escapes__erase(text) — innocentwarning: all servers OK" in listed.stdout
    _no_controls(listed.stdout + listed.stderr)
