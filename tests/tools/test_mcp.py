"""MCP: a real server (the official SDK, started by the tests over stdio) whose tools join the registry."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.chat.events import ToolCalled, TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core.store import ConversationStore
from assistant.engine.grammar import schema_problem
from assistant.tools.agent import decision_schema
from assistant.tools.builtin import build_registry
from assistant.tools.mcp import McpError, McpServerConfig, McpTools, load_config
from assistant.tools.mcp_client import McpClient
from assistant.tools.registry import ToolRegistry
from tests.fakes import ScriptedEngine

SERVER = Path(__file__).with_name("mcp_test_server.py")


def _config(name: str = "demo", *extra: str, **options: Any) -> McpServerConfig:
    return McpServerConfig(name, sys.executable, [str(SERVER), *extra], **options)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[McpTools]:
    servers = McpTools([_config(timeout_s=2.0)], tmp_path / "logs").start()
    yield servers
    servers.close()


def _registry(servers: McpTools) -> ToolRegistry:
    registry = build_registry([])
    for item in servers.tools:
        registry.register(item)
    return registry


def test_a_servers_tools_join_the_registry_and_answer(demo: McpTools) -> None:
    assert demo.problems == []
    registry = _registry(demo)
    assert {"demo__add", "demo__shout", "demo__fail", "demo__sleep", "demo__move", "calculator"} <= set(
        registry.names()
    )
    add = registry.get("demo__add")
    assert add.approval == "ask", "MCP tools need approval unless the user's config says otherwise"
    assert add.parameters["required"] == ["a", "b"] and add.parameters["additionalProperties"] is False
    assert "Add two integers" in add.description
    result = registry.execute("demo__add", {"a": 2, "b": 40})
    assert (result.ok, result.result) == (True, "42")
    assert registry.execute("demo__shout", {"text": "quiet"}).result == "QUIET"


def test_server_errors_and_bad_arguments_become_results(demo: McpTools) -> None:
    registry = _registry(demo)
    failed = registry.execute("demo__fail", {"reason": "nope"})
    assert not failed.ok and "fail" in failed.result
    wrong = registry.execute("demo__add", {"a": "two", "b": 1})
    assert not wrong.ok and "'a' must be a integer" in wrong.result
    assert registry.execute("demo__add", {"a": 1, "b": 1}).result == "2", "the server still works"


def test_a_stalled_call_times_out_and_the_server_keeps_working(demo: McpTools) -> None:
    registry = _registry(demo)
    stalled = registry.execute("demo__sleep", {"seconds": 30})
    # The client's own time-out answered (naming the server), not the registry abandoning the thread.
    assert not stalled.ok and "did not answer tools/call within 2 s" in stalled.result
    assert "demo" in stalled.result and "abandoned" not in stalled.result
    assert registry.execute("demo__add", {"a": 3, "b": 4}).result == "7"


def test_a_server_that_dies_is_a_clear_result_not_a_hang(demo: McpTools) -> None:
    registry = _registry(demo)
    process = demo.clients[0]._process
    assert process is not None
    process.kill()
    process.wait()
    result = registry.execute("demo__add", {"a": 1, "b": 2})
    # Noticed as a dead server (its pipe or its exit), not waited out as a slow one.
    assert not result.ok and "demo" in result.result
    assert "did not answer" not in result.result and "abandoned" not in result.result


def test_a_ref_schema_from_the_sdk_is_inlined_and_the_decision_grammar_compiles(demo: McpTools) -> None:
    """The SDK writes a nested model as $defs and a $ref: inlined, it can sit in the shared oneOf."""
    registry = _registry(demo)
    move = registry.get("demo__move")
    assert "$defs" not in json.dumps(move.parameters) and "$ref" not in json.dumps(move.parameters)
    assert move.parameters["properties"]["point"]["required"] == ["x", "y"]
    assert schema_problem(decision_schema(registry)) is None
    assert registry.execute("demo__move", {"point": {"x": 1, "y": 2}, "dx": 3}).result == "4,2"


def test_servers_that_cannot_start_are_reported_and_the_others_work(tmp_path: Path) -> None:
    configs = [
        _config("crashes", "--crash"),
        McpServerConfig("missing", str(tmp_path / "no-such-program")),
        _config("works"),
    ]
    servers = McpTools(configs, tmp_path / "logs").start()
    try:
        assert [t.name for t in servers.tools if t.name.startswith("works__")]
        assert not [t for t in servers.tools if not t.name.startswith("works__")]
        assert len(servers.problems) == 2
        assert any("crashes" in p and "exited" in p for p in servers.problems)
        assert any("missing" in p and "could not be started" in p for p in servers.problems)
    finally:
        servers.close()
    assert all(client._process is None for client in servers.clients)


def test_config_file(tmp_path: Path) -> None:
    assert load_config(tmp_path) == []
    (tmp_path / "mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "demo": {"command": "python3", "args": ["server.py"], "env": {"X": "1"}},
                    "trusted": {"command": "t", "approval": "allow"},
                    "off": {"command": "x", "disabled": True},
                }
            }
        )
    )
    configs = load_config(tmp_path)
    assert [(c.name, c.args, c.env, c.approval) for c in configs] == [
        ("demo", ["server.py"], {"X": "1"}, "ask"),
        ("trusted", [], {}, "allow"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{broken", "could not be read"),
        ('{"servers": {}}', 'no "mcpServers"'),
        ('{"mcpServers": []}', 'no "mcpServers"'),
    ],
)
def test_a_config_file_that_cannot_be_read_names_the_problem(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "mcp.json").write_text(content)
    with pytest.raises(McpError, match=message):
        load_config(tmp_path)


def test_the_agent_asks_before_an_mcp_tool_runs(demo: McpTools, store: ConversationStore) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []
    decisions = [json.dumps({"tool": "demo__shout", "arguments": {"text": "hi"}}), json.dumps({"tool": "none"})]

    def run(answer: bool) -> ToolCalled:
        engine = ScriptedEngine([*decisions, "done"])
        session = ChatSession(
            store,
            engine,
            Settings(),
            tools=_registry(demo),
            approve=lambda item, args: asked.append((item.name, args)) or answer,
        )
        conversation = store.create()
        store.set_options(conversation.id, {"tools": True})
        return next(e for e in session.send(conversation.id, "shout hi") if isinstance(e, ToolCalled))

    refused = run(False)
    assert asked == [("demo__shout", {"text": "hi"})]
    assert not refused.result.ok and "did not approve" in refused.result.result
    allowed = run(True)
    assert allowed.result.ok and allowed.result.result == "HI"


def test_cli_lists_and_runs_mcp_tools(hearth_home: Path) -> None:
    hearth_home.mkdir(parents=True, exist_ok=True)
    config = {"mcpServers": {"demo": {"command": sys.executable, "args": [str(SERVER)]}}}
    (hearth_home / "mcp.json").write_text(json.dumps(config))

    def hearth(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=60)

    listed = json.loads(hearth("tools", "list", "--json").stdout)
    assert {"name": "demo__add", "approval": "ask"}.items() <= next(
        t for t in listed if t["name"] == "demo__add"
    ).items()
    ran = hearth("tools", "run", "demo__add", '{"a": 20, "b": 22}')
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["result"] == "42"
    assert (hearth_home / "logs" / "mcp-demo.log").exists()


@pytest.mark.real_model
def test_the_bundled_model_calls_an_mcp_tool_through_the_grammar(
    demo: McpTools, store: ConversationStore, model_path: Path
) -> None:
    """The server's own schemas (with their titles) become part of the decision grammar."""
    from assistant.config import ModelSettings
    from assistant.engine.llama import LlamaEngine

    registry = ToolRegistry()
    for item in demo.tools:
        if item.name in ("demo__add", "demo__shout"):
            registry.register(item)
    engine = LlamaEngine(model_path, ModelSettings(n_ctx=2048))
    try:
        settings = Settings()
        settings.sampling.max_tokens = 30
        session = ChatSession(store, engine, settings, tools=registry, approve=lambda item, args: True)
        conversation = store.create()
        store.set_options(conversation.id, {"tools": True})
        events = list(session.send(conversation.id, "Add the integers 2 and 3 with the add tool."))
        calls = [e.result for e in events if isinstance(e, ToolCalled)]
        assert calls, "the model called no tool"
        assert calls[0].tool in ("demo__add", "demo__shout") and calls[0].ok, calls[0]
        if calls[0].tool == "demo__add":
            a, b = calls[0].arguments["a"], calls[0].arguments["b"]
            assert calls[0].result == str(a + b), "the real server computed it"
        assert events[-1].stats.context["tool_results"] > 0  # type: ignore[union-attr]
    finally:
        engine.close()


@pytest.mark.real_model
def test_the_bundled_model_completes_a_tools_turn_with_a_ref_schema_tool(
    demo: McpTools, store: ConversationStore, real_engine: Any
) -> None:
    """On main one $defs/$ref tool failed the grammar of every tools-on turn ("Generation failed")."""
    registry = _registry(demo)
    assert "demo__move" in registry.names()
    settings = Settings()
    settings.sampling.max_tokens = 20
    session = ChatSession(store, real_engine, settings, tools=registry, approve=lambda item, args: True)
    conversation = store.create()
    store.set_options(conversation.id, {"tools": True})
    events = list(session.send(conversation.id, "Move the point (1, 2) right by 3 with the move tool."))
    assert isinstance(events[-1], TurnFinished), events[-1]
    for call in (e.result for e in events if isinstance(e, ToolCalled)):
        assert "not valid JSON" not in call.result, "the decision was constrained"


def test_a_server_started_through_a_wrapper_is_stopped_with_it(tmp_path: Path) -> None:
    """npx, uvx and shell scripts start the real server as their child: a server that no longer
    reads its input outlives the end of it, and stopping the wrapper alone left it running."""
    import os

    hostile = Path(__file__).with_name("mcp_hostile_server.py")
    # "deaf" stops reading its input after a flood call, so the end of its input does not end it.
    command = f'"{sys.executable}" "{hostile}" deaf; true'
    servers = McpTools([McpServerConfig("wrapped", "/bin/sh", ["-c", command], timeout_s=5.0)], tmp_path / "logs")
    started: list[int] = []
    real_start = McpClient.start

    def start_and_note(self: McpClient, timeout_s: float = 10.0) -> None:
        try:
            real_start(self, timeout_s)
        finally:
            process = self._process
            if process is not None:
                children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
                if children.exists():
                    started.extend(int(pid) for pid in children.read_text().split())

    try:
        McpClient.start = start_and_note  # type: ignore[method-assign]
        servers.start()
        flood = next(t for t in servers.tools if t.name.endswith("__flood"))
        assert flood.function(text="x") == "flooded"
    finally:
        McpClient.start = real_start  # type: ignore[method-assign]
        servers.close()
    assert started, "the shell ran the server as its child"

    def gone(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"

    # A SIGKILL is delivered asynchronously: wait for its effect (generously), rather than look once.
    for pid in started:
        for _ in range(600):
            if gone(pid):
                break
            time.sleep(0.05)
        assert gone(pid), f"the wrapped server {pid} is still running"
