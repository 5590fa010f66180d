"""What a server process gets and how it ends (assistant/tools/mcp_process.py with the client):
the SDK's safe environment, a capped log whose tail explains a failed start, and no server or
child of one left running after Hearth ends, however it ends.

Hearth is run as the real CLI in a process of its own and killed each way; the servers are the
hostile test server (which logs its pid and its child's) and the reference server-everything.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.tools.mcp import McpServerConfig, McpTools
from assistant.tools.mcp_process import LOG_CAP_BYTES
from assistant.tools.registry import ToolRegistry

HOSTILE = Path(__file__).with_name("mcp_hostile_server.py")
EVERYTHING = (
    Path(__file__).parents[2] / "build/mcp-npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
)
SECRETS = {
    "HF_TOKEN": "hf_secret",
    "AWS_SECRET_ACCESS_KEY": "aws_secret",
    "OPENAI_API_KEY": "sk-secret",
    "GITHUB_TOKEN": "ghp_secret",
}


def _hostile(name: str, mode: str, *extra: str, **options: Any) -> McpServerConfig:
    return McpServerConfig(name, sys.executable, [str(HOSTILE), mode, *extra], **options)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Any]:
    servers: list[McpTools] = []

    def start(*configs: McpServerConfig) -> tuple[McpTools, ToolRegistry]:
        servers.append(McpTools(list(configs), tmp_path / "logs").start())
        return servers[-1], ToolRegistry().extended(*servers[-1].tools)

    yield start
    for each in servers:
        each.close()


def test_a_server_gets_the_safe_environment_and_its_own_env_only(started: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    _, registry = started(_hostile("env", "env", env={"WEATHER_KEY": "given"}))
    seen = json.loads(registry.execute("env__env", {"text": "x"}).result)
    assert not set(SECRETS) & set(seen), seen
    assert seen["WEATHER_KEY"] == "given" and seen["PATH"] == os.environ["PATH"]
    assert set(seen) <= {"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "LC_CTYPE"} | {
        "TZ",
        "TMPDIR",
        "WEATHER_KEY",
        "LC_CTYPE",  # set by Python itself when it coerces the C locale
    }


@pytest.mark.skipif(not EVERYTHING.exists() or shutil.which("node") is None, reason="needs build/mcp-npm and node")
def test_the_reference_servers_get_env_does_not_see_hearths_secrets(
    started: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    servers, registry = started(McpServerConfig("everything", "node", [str(EVERYTHING), "stdio"], timeout_s=60.0))
    assert servers.problems == []
    result = registry.execute("everything__get-env", {})
    assert result.ok and '"PATH"' in result.result
    assert not [value for value in SECRETS.values() if value in result.result], result.result


def test_a_chatty_servers_log_is_capped_and_rotated(started: Any, tmp_path: Path) -> None:
    servers, registry = started(_hostile("chatty", "chatty"))
    assert registry.execute("chatty__echo", {"text": "x"}).ok
    servers.close()  # its stderr is read to the end
    log, older = tmp_path / "logs" / "mcp-chatty.log", tmp_path / "logs" / "mcp-chatty.log.1"
    assert log.stat().st_size <= LOG_CAP_BYTES and older.stat().st_size <= LOG_CAP_BYTES
    assert "chatter" in log.read_text()


def test_a_server_that_dies_at_start_shows_what_it_said(started: Any) -> None:
    servers, _ = started(_hostile("weather", "dies-talking"))
    [problem] = servers.problems
    assert '"weather" exited' in problem and "fatal: missing API key (set WEATHER_KEY)" in problem, problem


def _pids(log: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"(?:pid|child) (\d+)", log.read_text())]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def _wait(condition: Any, what: str) -> None:
    """Until ``condition()``; the bound only keeps a broken build from hanging the suite."""
    pause = threading.Event()
    for _ in range(600):
        if condition():
            return
        pause.wait(0.05)
    raise AssertionError(what)


def _assert_all_gone(pids: list[int]) -> None:
    assert pids
    for pid in pids:
        _wait(lambda pid=pid: _gone(pid), f"server process {pid} outlived Hearth")


def test_a_server_that_exits_by_itself_takes_its_children_along(started: Any, tmp_path: Path) -> None:
    _, registry = started(_hostile("quits", "quits", "with-child"))
    pids = _pids(tmp_path / "logs" / "mcp-quits.log")
    assert len(pids) == 2
    assert not registry.execute("quits__quit", {"text": "x"}).ok
    _assert_all_gone(pids)


@pytest.fixture
def hearth_with_servers(hearth_home: Path) -> Iterator[Any]:
    """Run the real CLI with two servers behind a shell wrapper, each with a child of its own."""
    hearth_home.mkdir(parents=True, exist_ok=True)
    running: list[subprocess.Popen[str]] = []

    def hearth(mode: str, *args: str) -> tuple[subprocess.Popen[str], list[Path]]:
        servers = {}
        for name in ("one", "two"):
            wrapped = f'"{sys.executable}" "{HOSTILE}" {mode} with-child; true'
            servers[name] = {"command": "/bin/sh", "args": ["-c", wrapped], "timeout_s": 600}
        (hearth_home / "mcp.json").write_text(json.dumps({"mcpServers": servers}))
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        running.append(process)
        return process, [hearth_home / "logs" / f"mcp-{name}.log" for name in servers]

    yield hearth
    for process in running:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _started(logs: list[Path], text: str) -> bool:
    return all(log.exists() and text in log.read_text() for log in logs)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGKILL", "SIGHUP"])
def test_hearth_ended_by_a_signal_during_a_call_leaves_no_server(hearth_with_servers: Any, how: str) -> None:
    process, logs = hearth_with_servers("hang", "tools", "run", "one__hang", '{"text": "x"}')
    _wait(lambda: _started(logs[:1], "call hang"), "the call never reached the server")
    assert not logs[1].exists(), "a command for one server's tool does not start (or wait for) the others"
    pids = _pids(logs[0])
    process.send_signal(getattr(signal, how))
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr
    _assert_all_gone(pids)


def test_ctrl_c_while_a_server_never_answers_start_up(hearth_with_servers: Any) -> None:
    process, logs = hearth_with_servers("mute", "tools", "list")
    _wait(lambda: _started(logs, "child"), "the servers never started")
    pids = [pid for log in logs for pid in _pids(log)]
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "Traceback" not in stderr and "stopped while the MCP servers were starting" in stderr, stderr
    _assert_all_gone(pids)


def test_hearth_exiting_normally_leaves_no_server(hearth_with_servers: Any) -> None:
    process, logs = hearth_with_servers("hang", "tools", "list")
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "one__hang" in stdout and "two__hang" in stdout
    _assert_all_gone([pid for log in logs for pid in _pids(log)])


def test_a_chat_does_not_wait_for_a_server_that_never_answers(hearth_with_servers: Any) -> None:
    """The chat reads its input while the servers start; this one ends (no input) before the
    server's start-up time-out, so the warning about it is never reached, and the server is gone."""
    process, logs = hearth_with_servers("mute", "chat", "--tools", "--json")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "did not answer initialize" not in stderr, stderr
    for pid in [pid for log in logs if log.exists() for pid in _pids(log)]:
        _wait(lambda pid=pid: _gone(pid), f"server process {pid} outlived Hearth")
