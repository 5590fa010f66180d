"""MCP servers nobody here wrote: mcp-server-time and mcp-server-git (PyPI, the dev extra) and the
reference server-everything (npm, installed into build/mcp-npm by `make test`).

Together their tools must fit one decision grammar, their answers read as text (an image is
described, a resource shows its URI and text), and a long-running tool can be stopped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.core.cancel import CancelToken
from assistant.engine.grammar import schema_problem
from assistant.tools.agent import decision_schema
from assistant.tools.mcp import McpServerConfig, McpTools
from assistant.tools.registry import ToolRegistry, ToolResult

EVERYTHING = (
    Path(__file__).parents[2] / "build/mcp-npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
)
needs_everything = pytest.mark.skipif(
    not EVERYTHING.exists() or shutil.which("node") is None,
    reason="server-everything is installed by `make test` (build/mcp-npm) and needs node",
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[McpTools, ToolRegistry, Path]]:
    repo = tmp_path_factory.mktemp("repo")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "notes.txt").write_text("hello\n")
    configs = [
        McpServerConfig("time", sys.executable, ["-m", "mcp_server_time", "--local-timezone", "UTC"]),
        McpServerConfig("git", sys.executable, ["-m", "mcp_server_git", "--repository", str(repo)]),
    ]
    if EVERYTHING.exists() and shutil.which("node"):
        configs.append(McpServerConfig("everything", "node", [str(EVERYTHING), "stdio"], timeout_s=120.0))
    started = McpTools(configs, tmp_path_factory.mktemp("logs")).start()
    yield started, ToolRegistry().extended(*started.tools), repo
    started.close()


def test_every_tool_of_every_server_fits_one_decision_grammar(servers: tuple[McpTools, ToolRegistry, Path]) -> None:
    mcp, registry, _ = servers
    assert mcp.problems == []
    assert {"time__get_current_time", "git__git_status"} <= set(registry.names())
    assert schema_problem(decision_schema(registry)) is None


def test_the_time_server_answers(servers: tuple[McpTools, ToolRegistry, Path]) -> None:
    result = servers[1].execute("time__get_current_time", {"timezone": "UTC"})
    assert result.ok and '"timezone": "UTC"' in result.result


def test_the_git_server_answers(servers: tuple[McpTools, ToolRegistry, Path]) -> None:
    _, registry, repo = servers
    result = registry.execute("git__git_status", {"repo_path": str(repo)})
    assert result.ok and "notes.txt" in result.result
    # git_log's optional timestamps are anyOf string/null in its schema; leaving them out is fine.
    assert not registry.execute("git__git_log", {"repo_path": str(repo)}).ok, "no commits yet: an error result"


@needs_everything
def test_everything_text_image_and_resources(servers: tuple[McpTools, ToolRegistry, Path]) -> None:
    registry = servers[1]
    assert registry.execute("everything__echo", {"message": "hi"}).result == "Echo: hi"
    assert "5" in registry.execute("everything__get-sum", {"a": 2, "b": 3}).result
    image = registry.execute("everything__get-tiny-image", {}).result
    assert "[image: image/png, " in image and " KB]" in image
    assert "iVBOR" not in image and '"data"' not in image, "no base64, no raw JSON"
    text = registry.execute("everything__get-resource-reference", {"resourceType": "Text", "resourceId": 1}).result
    assert "[resource: demo://resource/dynamic/text/1]\nResource 1:" in text
    blob = registry.execute("everything__get-resource-reference", {"resourceType": "Blob", "resourceId": 2}).result
    assert "[resource: demo://resource/dynamic/blob/2, " in blob
    links = registry.execute("everything__get-resource-links", {"count": 2}).result
    assert "[resource link: " in links
    structured = registry.execute("everything__get-structured-content", {"location": "Chicago"}).result
    assert '"temperature"' in structured


@needs_everything
def test_everything_long_running_operation_completes_and_can_be_stopped(
    servers: tuple[McpTools, ToolRegistry, Path],
) -> None:
    registry = servers[1]
    short = registry.execute("everything__trigger-long-running-operation", {"duration": 1, "steps": 2})
    assert short.ok and "completed" in short.result
    cancel, outcome = CancelToken(), []

    def call() -> None:
        outcome.append(
            registry.execute("everything__trigger-long-running-operation", {"duration": 600, "steps": 600}, cancel)
        )

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    # Most likely running by then (not asserted: test_mcp_hostile proves the server is told).
    threading.Event().wait(1.0)
    cancel.cancel()
    worker.join(60)
    assert not worker.is_alive()
    [stopped] = outcome
    assert isinstance(stopped, ToolResult) and not stopped.ok and "cancelled" in stopped.result
    assert registry.execute("everything__echo", {"message": "still"}).result == "Echo: still"
