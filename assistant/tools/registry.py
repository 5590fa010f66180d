"""Tools: plain Python functions whose JSON schema is read from their signature and docstring.

Executing a tool never raises into the chat: bad arguments, unknown names, failures and time-outs
all become a ``ToolResult`` with ``ok=False`` and a message the model (and the user) can read.
"""

from __future__ import annotations

import inspect
import re
import threading
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from assistant.core.cancel import CancelToken
from assistant.core.errors import HearthError
from assistant.core.messages import clean_text
from assistant.tools.schema import inline_refs


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
    # Validates the model's arguments before the function sees them; built from the signature (or,
    # for a server's tool, from its schema's top-level properties) by ``arguments_model``.
    arguments: type[BaseModel] | None = None
    # For a tool that can stop early (an MCP call): called instead of ``function`` with the checked
    # arguments and the turn's cancel token, so Stop reaches the call itself.
    cancellable: Callable[[dict[str, Any], CancelToken | None], Any] | None = None

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
    """Make a Tool from a typed function; its docstring's first paragraph describes it.

    Its parameters become a pydantic model (strict: no "5" for 5, no true for 1, items of lists
    checked), whose JSON schema is what the model is shown and constrained to.
    """
    description, described = _docstring_parts(function)
    hints = typing.get_type_hints(function)
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(function).parameters.values():
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (
            hints.get(parameter.name, str),
            Field(default, description=described.get(parameter.name)),
        )
    name = name or function.__name__
    model = create_model(f"{name}_arguments", __config__=_STRICT, **fields)
    return Tool(name, description, model_schema(model), function, approval, timeout_s, model)


_CANCEL_POLL_S = 0.05
_STRICT = ConfigDict(extra="forbid", strict=True)
_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list,
    "object": dict,
}


def arguments_model(name: str, parameters: dict[str, Any]) -> type[BaseModel]:
    """A validator for a JSON schema written elsewhere (an MCP server's): its top-level properties,
    which are required and their types; the server checks the rest itself."""
    properties = parameters.get("properties", {})
    required = set(parameters.get("required", []))
    fields: dict[str, Any] = {}
    for index, (key, schema) in enumerate(properties.items()):
        declared = schema.get("type") if isinstance(schema, dict) else None
        annotation = _JSON_TYPES.get(declared, Any) if isinstance(declared, str) else Any
        # The server's names go in as aliases: "_x" or "model_config" are fine JSON but not field names.
        fields[f"p{index}"] = (annotation, Field(... if key in required else None, alias=key))
    return create_model(f"{name}_arguments", __config__=_STRICT, **fields)


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema as a grammar wants it: no titles, optional values without null."""
    # Nested models come as $defs and $refs, which would point at the wrong root once the schema
    # sits inside the decision schema: inlined here.
    schema = inline_refs(_tidy(model.model_json_schema()))
    schema.setdefault("required", [])
    return {key: schema[key] for key in ("type", "properties", "required", "additionalProperties") if key in schema}


def _tidy(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_tidy(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1:
            rest = {key: value for key, value in schema.items() if key != "anyOf"}
            if rest.get("default", 0) is None:
                del rest["default"]
            return _tidy({**kept[0], **rest})
    tidied: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs") and isinstance(value, dict):
            tidied[key] = {name: _tidy(item) for name, item in value.items()}
        else:
            tidied[key] = _tidy(value)
    return tidied


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

    def execute(self, name: str, arguments: Any, cancel: CancelToken | None = None) -> ToolResult:
        """Run a tool; every failure comes back as a result, never as an exception. A cancel
        stops waiting for it (and reaches a cancellable tool, which tells its server)."""
        started = time.perf_counter()
        args = arguments if isinstance(arguments, dict) else {}

        def failed(message: str) -> ToolResult:
            return ToolResult(name, args, clean_text(message), ok=False, duration_s=time.perf_counter() - started)

        try:
            item = self.get(name)
        except HearthError as exc:
            return failed(exc.message)
        if not isinstance(arguments, dict):
            return failed(f"Arguments for {name} must be a JSON object.")
        try:
            validated = _validated(item, arguments)
        except ValidationError as exc:
            return failed(_explain(item, exc))
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                if item.cancellable is not None:
                    outcome["value"] = item.cancellable(validated, cancel)
                else:
                    outcome["value"] = item.function(**validated)
            except ToolError as exc:
                outcome["error"] = str(exc)
            except Exception as exc:  # a tool's bug must not end the chat
                outcome["error"] = f"{type(exc).__name__}: {exc}"

        worker = threading.Thread(target=run, name=f"hearth-tool-{name}", daemon=True)
        worker.start()
        deadline = time.monotonic() + item.timeout_s
        while worker.is_alive() and time.monotonic() < deadline:
            # In slices only when there is a token to look at: a Stop must not wait out the time-out.
            worker.join(min(_CANCEL_POLL_S, deadline - time.monotonic()) if cancel is not None else item.timeout_s)
            if cancel is not None and cancel.cancelled and worker.is_alive():
                return failed(f"{name} was cancelled.")
        if worker.is_alive():
            return failed(f"{name} did not finish within {item.timeout_s:g} s and was abandoned.")
        if "error" in outcome:
            return failed(outcome["error"])
        # A tool's text may carry lone surrogates (file names that are not UTF-8, a server's half emoji):
        # cleaned here, where it enters the chat, before SQLite or the tokenizer sees it.
        text = clean_text(str(outcome.get("value", "")))
        return ToolResult(name, args, text, ok=True, duration_s=time.perf_counter() - started)


def _validated(item: Tool, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments as the function receives them: checked, and only those the model gave
    (a function's own defaults fill the rest; a server's tool must not be sent invented nulls)."""
    model = item.arguments or arguments_model(item.name, item.parameters)
    checked = model.model_validate(arguments)
    return checked.model_dump(by_alias=True, exclude_unset=True)


def _explain(item: Tool, error: ValidationError) -> str:
    """The first problem, in words the model can act on."""
    properties = item.parameters.get("properties", {})
    # A parameter the tool does not have explains a missing one best ("wrong" instead of "expression").
    problems = sorted(error.errors(), key=lambda p: {"extra_forbidden": 0, "missing": 1}.get(p["type"], 2))
    problem = problems[0]
    where = ".".join(str(part) for part in problem["loc"])
    kind = problem["type"]
    key = str(problem["loc"][0]) if problem["loc"] else ""
    if kind == "extra_forbidden":
        return f"{item.name} has no parameter {key}; its parameters are {', '.join(properties) or 'none'}."
    if kind == "missing":
        return f"{item.name} needs {where}."
    expected = properties.get(key, {}).get("type") if isinstance(properties.get(key), dict) else None
    if expected and len(problem["loc"]) == 1 and kind != "literal_error":
        return f"{item.name}: '{key}' must be a {expected}."
    return f"{item.name}: '{where}': {problem['msg']}."
