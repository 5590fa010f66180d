"""Inlining a tool schema's references (assistant/tools/schema.py), and the agent's use of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistant.engine.grammar import schema_problem
from assistant.tools.agent import ToolAgent, decision_schema
from assistant.tools.builtin import build_registry
from assistant.tools.registry import Tool
from assistant.tools.schema import MAX_NODES, SchemaError, inline_refs, without_patterns
from tests.fakes import ScriptedEngine

POINT = {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}


def test_local_refs_are_inlined_and_defs_dropped() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/P", "description": "first"}, "b": {"$ref": "#/definitions/P"}},
        "$defs": {"P": POINT},
        "definitions": {"P": POINT},
    }
    inlined = inline_refs(schema)
    assert inlined["properties"]["a"] == {"description": "first", **POINT}
    assert inlined["properties"]["b"] == POINT
    assert "$defs" not in inlined and "definitions" not in inlined


def test_a_property_may_be_called_like_a_keyword() -> None:
    schema = {"type": "object", "properties": {"$ref": {"type": "string"}, "pattern": {"type": "string"}}}
    assert inline_refs(schema) == schema
    assert without_patterns(schema) == schema


def test_a_recursive_definition_is_cut_where_it_recurses() -> None:
    node = {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}
    inlined = inline_refs({"$ref": "#/$defs/Node", "$defs": {"Node": node}})
    assert inlined["properties"]["next"]["type"][0] == "object", "any value where it recurses"
    assert schema_problem(inlined) is None


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"properties": {"x": {"$ref": "https://example.com/s.json"}}}, "not inside the schema"),
        ({"properties": {"x": {"$ref": "#/$defs/Missing"}}}, "points at nothing"),
        ("a string", "not a JSON object"),
    ],
)
def test_refs_that_cannot_be_followed_are_refused(schema: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        inline_refs(schema)


def test_an_exponential_expansion_hits_the_size_cap() -> None:
    # Each level refers to the one below six times: 6^8 copies if nothing stopped it.
    defs = {f"L{i}": {"type": "array", "prefixItems": [{"$ref": f"#/$defs/L{i + 1}"}] * 6} for i in range(8)}
    defs["L8"] = {"type": "integer"}
    with pytest.raises(SchemaError, match=str(MAX_NODES)):
        inline_refs({"$ref": "#/$defs/L0", "$defs": defs})


def test_deep_nesting_hits_the_depth_cap() -> None:
    schema: dict[str, Any] = {"type": "integer"}
    for _ in range(200):
        schema = {"type": "array", "items": schema}
    with pytest.raises(SchemaError, match="deeper"):
        inline_refs(schema)


def test_the_agent_leaves_out_a_tool_whose_decision_cannot_be_constrained() -> None:
    """A tool registered without the MCP checks still cannot sink the turn's grammar."""
    bad = Tool("bad", "Broken.", {"type": "object", "properties": {"x": {"type": "nope"}}}, lambda **_: "")
    registry = build_registry([]).extended(bad)
    assert schema_problem(decision_schema(registry)) is not None
    agent = ToolAgent(registry, ScriptedEngine(['{"tool": "none"}']))
    assert "bad" not in agent.registry.names() and "calculator" in agent.registry.names()
    assert schema_problem(agent.schema) is None
    assert "bad" not in json.dumps(agent.schema)
