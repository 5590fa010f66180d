"""MCP servers that misbehave (tests/tools/mcp_hostile_server.py): each costs only its own tools,
its process is stopped, and the well-behaved server started beside it keeps working.

No assertion here measures time: each proves what happened (which message, which process is gone,
what the server logged) on a machine that may be slow.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.core.cancel import CancelToken
from assistant.engine.grammar import schema_problem
from assistant.tools.agent import ToolAgent, decision_schema
from assistant.tools.mcp import MAX_PAGES, McpServerConfig, McpTools
from assistant.tools.registry import ToolRegistry, ToolResult
from tests.fakes import ScriptedEngine

HOSTILE = Path(__file__).with_name("mcp_hostile_server.py")
DEMO = Path(__file__).with_name("mcp_test_server.py")


def _hostile(mode: str, **options: Any) -> McpServerConfig:
    return McpServerConfig(mode, sys.executable, [str(HOSTILE), mode], **options)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Any]:
    """Start the given hostile servers beside the well-behaved demo server."""
    started: list[McpTools] = []

    def start_servers(*configs: McpServerConfig) -> tuple[McpTools, ToolRegistry]:
        servers = McpTools([*configs, McpServerConfig("demo", sys.executable, [str(DEMO)])], tmp_path / "logs")
        started.append(servers.start())
        return servers, ToolRegistry().extended(*servers.tools)

    yield start_servers
    for servers in started:
        servers.close()


def _log(tmp_path: Path, server: str) -> str:
    return (tmp_path / "logs" / f"mcp-{server}.log").read_text()


def _assert_stopped(tmp_path: Path, server: str) -> None:
    """The server's own process (its pid, from its log) no longer exists."""
    pid = int(re.search(r"pid (\d+)", _log(tmp_path, server)).group(1))  # type: ignore[union-attr]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _wait_for_log(tmp_path: Path, server: str, text: str) -> None:
    """Until the server has logged ``text``; the bound only keeps a broken build from hanging."""
    seen = threading.Event()
    for _ in range(600):
        if text in _log(tmp_path, server):
            return
        seen.wait(0.1)
    raise AssertionError(f"{server} never logged {text!r}:\n{_log(tmp_path, server)}")


def _demo_works(registry: ToolRegistry) -> None:
    assert registry.execute("demo__add", {"a": 2, "b": 40}).result == "42"


def test_a_tools_list_of_the_wrong_shape_costs_only_that_server(start: Any, tmp_path: Path) -> None:
    servers, registry = start(_hostile("wrong-shape"))
    assert not [name for name in registry.names() if name.startswith("wrong-shape")]
    assert any('"wrong-shape"' in p and "tools/list" in p for p in servers.problems), servers.problems
    _assert_stopped(tmp_path, "wrong-shape")
    _demo_works(registry)


def test_malformed_tool_entries_are_left_out_one_by_one(start: Any) -> None:
    servers, registry = start(_hostile("bad-entries"))
    assert [n for n in registry.names() if n.startswith("bad-entries")] == ["bad-entries__echo"]
    problems = " ".join(servers.problems)
    assert '"bad-entries": tool "stringy" was left out: its input schema is a str' in problems
    assert 'tool "odd" was left out' in problems
    assert "3 tool entries without a name" in problems
    # Its "required" was a string: ignored, so nothing is required, and the tool still answers.
    assert registry.get("bad-entries__echo").parameters["required"] == []
    assert registry.execute("bad-entries__echo", {"text": "hi"}).result == '{"text": "hi"}'
    _demo_works(registry)


def test_an_endless_next_cursor_stops_at_the_page_cap(start: Any) -> None:
    servers, registry = start(_hostile("endless-cursor"))
    pages = [n for n in registry.names() if n.startswith("endless-cursor")]
    assert len(pages) == MAX_PAGES
    assert any(f"more than {MAX_PAGES} pages" in p for p in servers.problems)
    assert registry.execute("endless-cursor__page3", {"text": "x"}).ok
    _demo_works(registry)


def test_a_huge_line_without_newline_ends_that_server(start: Any, tmp_path: Path) -> None:
    servers, registry = start(_hostile("huge-line"))
    assert not [n for n in registry.names() if n.startswith("huge-line")]
    assert any('"huge-line" sent a message over 4 MiB' in p for p in servers.problems), servers.problems
    _assert_stopped(tmp_path, "huge-line")
    _demo_works(registry)


def test_a_server_that_stops_reading_neither_blocks_the_reader_nor_the_caller(start: Any, tmp_path: Path) -> None:
    _, registry = start(_hostile("deaf", timeout_s=5.0))
    # 3000 pings while it reads nothing: the replies back up, yet its answer behind them is read.
    flooded = registry.execute("deaf__flood", {"text": "x"})
    assert (flooded.ok, flooded.result) == (True, "flooded")
    # Its input is full now, or nearly (how many pongs fit before the pipe filled depends on timing):
    # the next request either cannot be written, which the write's time-out says and which stops the
    # server, or is written and never answered, which the call's time-out says. Either way the caller
    # gets a clear answer in bounded time and nothing else blocks.
    stuck = registry.execute("deaf__echo", {"text": "x"})
    assert not stuck.ok, stuck.result
    assert "stopped reading its input" in stuck.result or "did not answer tools/call" in stuck.result, stuck.result
    if "stopped reading its input" in stuck.result:
        _assert_stopped(tmp_path, "deaf")
        again = registry.execute("deaf__echo", {"text": "x"})
        assert not again.ok and "not running" in again.result
    _demo_works(registry)


def _run_until_the_server_has_it(tmp_path: Path, call: Any) -> tuple[CancelToken, list[Any]]:
    cancel, outcome = CancelToken(), []
    worker = threading.Thread(target=lambda: outcome.append(call(cancel)), daemon=True)
    worker.start()
    _wait_for_log(tmp_path, "hang", "call hang")
    cancel.cancel()
    worker.join(60)
    assert not worker.is_alive(), "the cancel did not end the call"
    return cancel, outcome


def test_stop_cancels_a_running_call_and_tells_the_server(start: Any, tmp_path: Path) -> None:
    _, registry = start(_hostile("hang", timeout_s=600.0))
    _, [result] = _run_until_the_server_has_it(tmp_path, lambda c: registry.execute("hang__hang", {"text": "x"}, c))
    assert not result.ok and "cancelled" in result.result
    _wait_for_log(tmp_path, "hang", "cancelled")
    assert "cancelled by the user" in _log(tmp_path, "hang")
    assert registry.execute("hang__echo", {"text": "still here"}).ok, "the server keeps working"


def test_the_agent_hands_the_turns_cancel_token_to_the_call(start: Any, tmp_path: Path) -> None:
    _, registry = start(_hostile("hang", timeout_s=600.0))
    engine = ScriptedEngine(['{"tool": "hang__hang", "arguments": {"text": "x"}}', '{"tool": "none"}'])
    agent = ToolAgent(registry, engine, approve=lambda item, args: True)
    _, [results] = _run_until_the_server_has_it(tmp_path, lambda c: list(agent.run("hang", c)))
    assert [(r.tool, r.ok) for r in results] == [("hang__hang", False)]
    assert isinstance(results[0], ToolResult) and "cancelled" in results[0].result
    _wait_for_log(tmp_path, "hang", "cancelled")


def test_schemas_are_inlined_or_their_tool_left_out_with_a_reason(start: Any) -> None:
    servers, registry = start(_hostile("schemas"))
    names = {n for n in registry.names() if n.startswith("schemas__")}
    assert names == {"schemas__refs", "schemas__recursive", "schemas__unanchored"}
    problems = " ".join(servers.problems)
    assert '"schemas": tool "remote" was left out' in problems and "not inside the schema" in problems
    assert '"schemas": tool "unconstrainable" was left out' in problems and "grammar" in problems
    refs = registry.get("schemas__refs").parameters["properties"]["point"]
    assert refs["description"] == "where" and refs["required"] == ["x", "y"]
    # The one decision schema over every tool, hostile ones included, still converts.
    assert schema_problem(decision_schema(registry)) is None
    echoed = registry.execute("schemas__refs", {"point": {"x": 1, "y": 2}})
    assert echoed.result == '{"point": {"x": 1, "y": 2}}'
    _demo_works(registry)
