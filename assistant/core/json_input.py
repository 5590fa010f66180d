"""Reading a JSON file a user or another program hands Hearth: parse, then validate with pydantic.

The files are conversation and memory exports; whatever is in them, the reader gets either a
validated model or one plain sentence naming the file and the place that is wrong ("conversation
#2, message #1: role must be one of 'system', 'user', 'assistant'"), never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)

# How a list's items are named in messages, by the list's field name.
ITEM_NAMES = {
    "conversations": "conversation",
    "messages": "message",
    "other_versions": "other version",
    "profiles": "profile",
    "memories": "memory",
}


def read_json(path: Path) -> Any:
    """The parsed file; ``ValueError`` with a plain reason when it is not readable JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path} could not be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    except RecursionError as exc:
        raise ValueError(f"{path} is nested too deeply to read") from exc


def validate(model: type[Model], data: Any, path: Path) -> Model:
    """``model`` from ``data``; ``ValueError`` naming the first problem in plain words."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{path}: {describe(exc)}") from exc


def describe(exc: ValidationError) -> str:
    """The first error of ``exc`` as 'where: what', with list items numbered from 1."""
    error = exc.errors(include_url=False)[0]
    where = where_of(error["loc"])
    what = _plain(error)
    return f"{where}: {what}" if where else what


def where_of(location: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    field = ""
    for step in location:
        if isinstance(step, int):
            parts.append(f"{ITEM_NAMES.get(field, 'item')} #{step + 1}")
            field = ""
        else:
            if field:
                parts.append(f"'{field}'")
            field = step
    if field:
        parts.append(f"'{field}'")
    return ", ".join(parts)


_WANTED = {
    "string": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "list": "a list",
    "dict": "an object",
    "model": "an object",
}


def _plain(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"must be {expected} (it is {error['input']!r:.60})"
    wanted = _WANTED.get(kind.removesuffix("_type").removesuffix("_parsing"))
    if wanted:
        return f"must be {wanted}"
    return str(error["msg"]).removeprefix("Value error, ")
