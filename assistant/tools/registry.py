"""Tools: plain Python functions whose JSON schema is read from their signature and docstring.

Executing a tool never raises into the chat: bad arguments, unknown names, failures and time-outs
all become a ``ToolResult`` with ``ok=False`` and a message the model (and the user) can read.
"""

from __future__ import annotations

import inspect
import re
import threading
import time
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

from assistant.core.errors import HearthError

_JSON_TYPES: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}


class ToolError(Exception):
    """Raised inside a tool for a failure the model should read (bad input, refused path...)."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any]
    # The tool's own default: "allow" runs without asking; "ask" needs the user's yes. A profile
    # can override it per tool (always allow, ask, never).
    approval: Literal["allow", "ask"] = "allow"
    timeout_s: float = 10.0

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


@dataclass
class ToolResult:
    tool: str
    arguments: dict[str, Any]
    result: str
    ok: bool
    duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "arguments": self.arguments,
            "result": self.result,
            "ok": self.ok,
            "duration_s": round(self.duration_s, 4),
        }


def _json_type(annotation: Any) -> dict[str, Any]:
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(annotation) if a is not type(None)]
        return _json_type(options[0]) if len(options) == 1 else {}
    if origin is Literal:
        return {"type": "string", "enum": list(get_args(annotation))}
    if origin in (list, tuple):
        (item,) = get_args(annotation)[:1] or (str,)
        return {"type": "array", "items": _json_type(item)}
    if annotation in _JSON_TYPES:
        return {"type": _JSON_TYPES[annotation]}
    raise TypeError(f"unsupported parameter type {annotation!r}")


def _docstring_parts(function: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    doc = inspect.getdoc(function) or ""
    summary, _, rest = doc.partition("\n\n")
    described: dict[str, str] = {}
    for line in rest.splitlines():
        match = re.match(r"\s*(\w+)\s*:\s*(.+)", line)
        if match:
            described[match.group(1)] = match.group(2).strip()
    return " ".join(summary.split()), described


def tool(
    function: Callable[..., Any],
    name: str | None = None,
    approval: Literal["allow", "ask"] = "allow",
    timeout_s: float = 10.0,
) -> Tool:
    """Make a Tool from a typed function; its docstring's first paragraph describes it."""
    description, described = _docstring_parts(function)
    hints = typing.get_type_hints(function)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for parameter in inspect.signature(function).parameters.values():
        schema = _json_type(hints.get(parameter.name, str))
        if parameter.name in described:
            schema["description"] = described[parameter.name]
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter.name)
        else:
            schema["default"] = parameter.default
        properties[parameter.name] = schema
    parameters = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return Tool(name or function.__name__, description, parameters, function, approval, timeout_s)


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, item: Tool) -> Tool:
        if item.name in self._tools:
            raise HearthError(f"A tool called '{item.name}' is already registered.")
        self._tools[item.name] = item
        return item

    def extended(self, *extra: Tool) -> ToolRegistry:
        """A copy with more tools (e.g. one bound to the conversation being answered)."""
        copy = ToolRegistry()
        for item in [*self._tools.values(), *extra]:
            copy.register(item)
        return copy

    def names(self) -> list[str]:
        return sorted(self._tools)

    def tools(self) -> list[Tool]:
        return [self._tools[name] for name in self.names()]

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            valid = ", ".join(self.names()) or "none"
            raise HearthError(f"There is no tool '{name}'. Valid tools: {valid}.") from None

    def execute(self, name: str, arguments: Any) -> ToolResult:
        """Run a tool; every failure comes back as a result, never as an exception."""
        started = time.perf_counter()
        args = arguments if isinstance(arguments, dict) else {}

        def failed(message: str) -> ToolResult:
            return ToolResult(name, args, message, ok=False, duration_s=time.perf_counter() - started)

        try:
            item = self.get(name)
        except HearthError as exc:
            return failed(exc.message)
        if not isinstance(arguments, dict):
            return failed(f"Arguments for {name} must be a JSON object.")
        problem = _check_arguments(item, arguments)
        if problem:
            return failed(problem)
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["value"] = item.function(**arguments)
            except ToolError as exc:
                outcome["error"] = str(exc)
            except Exception as exc:  # a tool's bug must not end the chat
                outcome["error"] = f"{type(exc).__name__}: {exc}"

        worker = threading.Thread(target=run, name=f"hearth-tool-{name}", daemon=True)
        worker.start()
        worker.join(item.timeout_s)
        if worker.is_alive():
            return failed(f"{name} did not finish within {item.timeout_s:g} s and was abandoned.")
        if "error" in outcome:
            return failed(outcome["error"])
        return ToolResult(name, args, str(outcome.get("value", "")), ok=True, duration_s=time.perf_counter() - started)


def _check_arguments(item: Tool, arguments: dict[str, Any]) -> str | None:
    properties = item.parameters.get("properties", {})
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        return f"{item.name} has no parameter {', '.join(unknown)}; its parameters are {', '.join(properties)}."
    missing = [p for p in item.parameters.get("required", []) if p not in arguments]
    if missing:
        return f"{item.name} needs {', '.join(missing)}."
    checks: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "array": list,
    }
    for key, value in arguments.items():
        expected = properties[key].get("type")
        python_type = checks.get(expected) if isinstance(expected, str) else None
        wrong_bool = isinstance(value, bool) and expected in ("integer", "number")
        if python_type is not None and (not isinstance(value, python_type) or wrong_bool):
            return f"{item.name}: '{key}' must be a {expected}."
        if "enum" in properties[key] and value not in properties[key]["enum"]:
            return f"{item.name}: '{key}' must be one of {', '.join(properties[key]['enum'])}."
    return None
