"""Whether llama.cpp can constrain output to a schema (assistant/engine/grammar.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistant.core.cancel import CancelToken
from assistant.core.messages import ChatMessage
from assistant.engine.base import SamplingOptions, complete
from assistant.engine.grammar import schema_problem


def test_a_convertible_schema_has_no_problem() -> None:
    assert schema_problem({"type": "object", "properties": {"a": {"type": "integer"}}}) is None


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "nope"}}},
        {"type": "object", "properties": {"a": 5}},
        {"type": "string", "pattern": "unanchored"},
        {"oneOf": [{"properties": {"a": {"$ref": "#/$defs/X"}}, "$defs": {"X": {"type": "string"}}}]},
        {"$ref": "https://example.com/schema.json"},
    ],
)
def test_schemas_the_converter_rejects_are_named_not_raised(schema: dict[str, Any]) -> None:
    problem = schema_problem(schema)
    assert problem and len(problem) < 300


@pytest.mark.real_model
def test_a_schema_that_cannot_be_constrained_does_not_fail_the_generation(real_engine: Any) -> None:
    """Belt and braces behind the agent's check: any JSON object is allowed instead."""
    options = SamplingOptions(max_tokens=24, temperature=0.0, json_schema={"type": "nope"}, seed=0)
    result = complete(real_engine, [ChatMessage("user", "Say hi as JSON.")], options, CancelToken())
    assert result.text.lstrip().startswith("{")
    if result.finish_reason == "stop":
        assert isinstance(json.loads(result.text), dict)
