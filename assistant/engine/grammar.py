"""Can a JSON schema be turned into a llama.cpp grammar? Asked before a schema is relied on.

The decision schema is one ``oneOf`` over every tool, so one schema the converter rejects would
fail every tools-on turn. Checking each tool's schema on its own when it is registered, and the
combined schema before a turn, lets the bad one be left out instead.
"""

from __future__ import annotations

import json
import threading
from typing import Any

# Schemas are checked again on every turn; converting a large one takes milliseconds, so the
# answers are kept (bounded: a long-running window meets only as many schemas as it has tools).
_MAX_CACHED = 512
_cache: dict[str, str | None] = {}
_lock = threading.Lock()


def schema_problem(schema: dict[str, Any]) -> str | None:
    """None when llama.cpp can constrain output to ``schema``; otherwise what it said was wrong."""
    key = json.dumps(schema)
    with _lock:
        if key in _cache:
            return _cache[key]
    problem = _convert(key)
    with _lock:
        if len(_cache) >= _MAX_CACHED:
            _cache.clear()
        _cache[key] = problem
    return problem


def _convert(schema_json: str) -> str | None:
    # Lazily: llama_cpp loads the native library, which the window need not wait for.
    try:
        from llama_cpp.llama_grammar import json_schema_to_gbnf
    except ImportError:
        return None  # no converter to ask (an HTTP engine only): the server judges the schema

    try:
        json_schema_to_gbnf(schema_json)
    except RecursionError:
        return "the schema nests too deeply"
    except Exception as exc:  # the converter signals problems with asserts, TypeErrors and ValueErrors alike
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return None
