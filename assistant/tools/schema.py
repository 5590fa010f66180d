"""Tool input schemas made self-contained, so each can sit inside the one decision schema.

Pydantic and the official MCP SDK write nested models as ``$defs`` plus ``{"$ref": "#/$defs/X"}``.
Such a reference points at the root of the tool's own schema; once that schema is placed under
``oneOf[i].properties.arguments`` of the decision schema the root is a different document and the
grammar cannot be built. Inlining every local reference removes the problem at its source.

A server is not trusted to be small or well-formed: references are followed to a bounded depth,
the inlined result has a bounded size (shared definitions can expand exponentially), a recursive
definition is cut where it recurses, and a reference outside the document (``https://...``, which
llama.cpp's converter would otherwise try to fetch) is refused.
"""

from __future__ import annotations

from typing import Any

from assistant.core.errors import HearthError

MAX_DEPTH = 64
MAX_NODES = 5_000
# Where a definition refers to itself the inlined copy stops, accepting any value: the server still
# validates what it receives, and the model keeps a usable tool instead of none. Spelled out because
# llama.cpp's converter rejects ``"items": {}`` (it then looks for prefixItems).
_ANY: dict[str, Any] = {"type": ["object", "array", "string", "number", "boolean", "null"]}
# Keywords whose value maps names to schemas, and keywords whose value is data, not a schema.
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_DATA = ("const", "enum", "default", "examples", "required")


class SchemaError(HearthError):
    """A tool's schema cannot be made into something a grammar can constrain."""


def inline_refs(schema: Any) -> dict[str, Any]:
    """A copy of ``schema`` with every local ``$ref`` replaced by what it points to, and no ``$defs``."""
    if not isinstance(schema, dict):
        raise SchemaError("the schema is not a JSON object")
    budget = [MAX_NODES]

    def visit(node: Any, depth: int, resolving: tuple[str, ...]) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise SchemaError(f"the schema expands to more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise SchemaError(f"the schema nests deeper than {MAX_DEPTH} levels")
        if isinstance(node, list):
            return [visit(item, depth + 1, resolving) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if ref is not None:
            if not isinstance(ref, str) or not ref.startswith("#"):
                raise SchemaError(f"the reference {str(ref)[:80]!r} is not inside the schema")
            if ref in resolving:
                return dict(_ANY)
            target = _pointer(schema, ref)
            # Keywords beside a $ref (a description, a default) are kept; the target's win on conflict
            # because they are what a value is checked against.
            siblings = {key: value for key, value in node.items() if key != "$ref"}
            resolved = visit(target, depth + 1, (*resolving, ref))
            return {**visit(siblings, depth + 1, resolving), **resolved} if siblings else resolved
        inlined: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("$defs", "definitions"):
                continue
            if key in _NAMED and isinstance(value, dict):
                # A mapping of names to schemas: a property may be called "$ref" or "pattern".
                inlined[key] = {name: visit(item, depth + 1, resolving) for name, item in value.items()}
            elif key in _DATA:
                inlined[key] = value
            elif key == "items" and value == {}:
                inlined[key] = dict(_ANY)  # what z.array(z.any()) and list[Any] write
            else:
                inlined[key] = visit(value, depth + 1, resolving)
        return inlined

    result = visit(schema, 0, ())
    assert isinstance(result, dict)
    return result


def _pointer(document: dict[str, Any], ref: str) -> Any:
    """The part of ``document`` a JSON pointer fragment names (RFC 6901 escapes included)."""
    node: Any = document
    for raw in ref[1:].lstrip("/").split("/") if ref not in ("#", "#/") else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaError(f"the reference {ref[:80]!r} points at nothing")
    return node


def without_patterns(schema: Any) -> Any:
    """The schema without ``pattern`` keywords: llama.cpp's converter accepts only anchored
    patterns of a regex subset, while many servers write others. The server checks them anyway."""
    if isinstance(schema, list):
        return [without_patterns(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "pattern" and isinstance(value, str):
            continue
        if key in _NAMED and isinstance(value, dict):
            kept[key] = {name: without_patterns(item) for name, item in value.items()}
        else:
            kept[key] = value if key in _DATA else without_patterns(value)
    return kept
