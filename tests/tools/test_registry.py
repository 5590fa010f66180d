from __future__ import annotations

import threading
from typing import Literal

import pytest

from assistant.core.errors import HearthError
from assistant.tools.registry import ToolError, ToolRegistry, tool


def add(a: int, b: int = 2) -> int:
    """Add two numbers.

    a: the first number
    b: the second number
    """
    return a + b


def test_the_schema_comes_from_the_signature() -> None:
    item = tool(add)
    assert item.name == "add" and item.description == "Add two numbers."
    assert item.parameters == {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "description": "the first number"},
            "b": {"type": "integer", "description": "the second number", "default": 2},
        },
        "required": ["a"],
        "additionalProperties": False,
    }

    def pick(mode: Literal["fast", "slow"], tags: list[str] | None = None) -> str:
        """Pick."""
        return mode

    schema = tool(pick).parameters["properties"]
    assert schema["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert schema["tags"]["type"] == "array"


def test_duplicates_are_refused_and_unknown_names_list_the_valid_ones() -> None:
    registry = ToolRegistry()
    registry.register(tool(add))
    with pytest.raises(HearthError, match="already registered"):
        registry.register(tool(add))
    result = registry.execute("multiply", {})
    assert not result.ok and "Valid tools: add" in result.result


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "needs a"),
        ({"a": "one"}, "must be a integer"),
        ({"a": True}, "must be a integer"),
        ({"a": 1, "c": 3}, "has no parameter c"),
        ("not an object", "must be a JSON object"),
    ],
)
def test_bad_arguments_become_results(arguments: object, message: str) -> None:
    registry = ToolRegistry()
    registry.register(tool(add))
    result = registry.execute("add", arguments)
    assert not result.ok and message in result.result


def test_failures_and_timeouts_become_results_never_exceptions() -> None:
    def broken(x: int) -> int:
        """Breaks."""
        raise ValueError("internal bug")

    def refusing(x: int) -> int:
        """Refuses."""
        raise ToolError("not allowed")

    release = threading.Event()

    def slow(x: int) -> int:
        """Waits until the test ends."""
        release.wait(60)
        return x

    registry = ToolRegistry()
    for item in (tool(broken), tool(refusing), tool(slow, timeout_s=0.2)):
        registry.register(item)
    assert registry.execute("broken", {"x": 1}).result == "ValueError: internal bug"
    assert registry.execute("refusing", {"x": 1}).result == "not allowed"
    # The call is abandoned at its time-out while the function still runs.
    result = registry.execute("slow", {"x": 1})
    assert not result.ok and "did not finish within 0.2 s" in result.result
    assert not release.is_set()
    release.set()


def test_the_items_of_a_list_are_checked_too() -> None:
    def total(values: list[int]) -> int:
        """Sum."""
        return sum(values)

    registry = ToolRegistry()
    registry.register(tool(total))
    assert registry.execute("total", {"values": [1, 2, 3]}).result == "6"
    refused = registry.execute("total", {"values": [1, "two"]})
    assert not refused.ok and "values.1" in refused.result
    assert not registry.execute("total", {"values": "1, 2"}).ok


def test_a_tools_text_with_lone_surrogates_is_cleaned_where_it_enters_the_chat() -> None:
    def listing() -> str:
        """A file name that is not UTF-8, as os.walk gives it."""
        return "caf\udce9.txt"

    registry = ToolRegistry()
    registry.register(tool(listing))
    result = registry.execute("listing", {})
    assert result.ok and result.result == "caf\ufffd.txt"
    result.result.encode("utf-8")  # SQLite and the tokenizer can take it


def test_a_servers_parameter_names_need_not_be_python_names() -> None:
    from assistant.tools.registry import Tool, arguments_model

    parameters = {
        "type": "object",
        "properties": {"_x": {"type": "integer"}, "model_config": {"type": "string"}, "two words": {}},
        "required": ["_x"],
    }
    seen: list[dict[str, object]] = []
    registry = ToolRegistry()
    registry.register(
        Tool(
            "odd",
            "Odd names.",
            parameters,
            lambda **kw: seen.append(kw) or "ok",
            arguments=arguments_model("odd", parameters),
        )
    )
    assert registry.execute("odd", {"_x": 1, "model_config": "a", "two words": [1]}).ok
    assert seen == [{"_x": 1, "model_config": "a", "two words": [1]}]
    assert "needs _x" in registry.execute("odd", {"model_config": "a"}).result
    assert "'_x' must be a integer" in registry.execute("odd", {"_x": "one"}).result
