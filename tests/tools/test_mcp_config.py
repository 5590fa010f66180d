"""mcp.json entries checked one by one (assistant/tools/mcp_config.py): a wrong or unsupported
entry disables that server alone with a plain message; the others start and work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from assistant.tools.mcp import McpTools, load_config

HOSTILE = Path(__file__).with_name("mcp_hostile_server.py")
GOOD = {"command": sys.executable, "args": [str(HOSTILE), "hang"]}
BAD = {
    "web": {"type": "http", "url": "http://127.0.0.1:9/mcp"},
    "always": {**GOOD, "approval": "always"},
    "soon": {**GOOD, "timeout_s": "soon"},
    "words": {**GOOD, "args": "one two"},
    "nothing": {"args": []},
    "number": 5,
}


def _write(home: Path, servers: dict[str, object]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "mcp.json").write_text(json.dumps({"mcpServers": servers}))


def test_each_bad_entry_disables_its_server_alone(tmp_path: Path) -> None:
    _write(tmp_path, {**BAD, "good": GOOD, "stringy": {**GOOD, "timeout_s": "30"}, "off": {"disabled": True}})
    configs = load_config(tmp_path)
    assert [c.name for c in configs if c.problem is None] == ["good", "stringy"]
    assert next(c for c in configs if c.name == "stringy").timeout_s == 30.0, "a number in a string is fine"
    servers = McpTools(configs, tmp_path / "logs").start()
    try:
        names = {t.name for t in servers.tools}
        assert {"good__echo", "stringy__echo"} <= names
        assert not [n for n in names if not n.startswith(("good__", "stringy__"))]
        problems = "\n".join(servers.problems)
    finally:
        servers.close()
    assert len(servers.problems) == len(BAD), problems
    assert 'server "web" is left out: "type": "http" servers' in problems
    assert "server \"always\" is left out: \"approval\": input should be 'ask' or 'allow'" in problems
    assert "(it is 'always')" in problems
    assert 'server "soon" is left out: "timeout_s"' in problems
    assert 'server "words" is left out: "args"' in problems
    assert 'server "nothing" is left out: "command": field required' in problems
    assert 'server "number" is left out: its entry is a int' in problems


def test_the_cli_warns_plainly_and_keeps_the_good_server(hearth_home: Path) -> None:
    _write(hearth_home, {**BAD, "good": GOOD})
    listed = subprocess.run(
        [sys.executable, "-m", "assistant", "tools", "list"], capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    assert "good__echo(text)" in listed.stdout
    assert "Traceback" not in listed.stderr
    assert listed.stderr.count("warning: mcp.json: server ") == len(BAD), listed.stderr
