"""The calculator's worker process: evaluates checked expressions with SymPy, one JSON line in, one out.

Started by calculator_sandbox.py as ``python -m assistant.tools.calculator_worker`` (in the
PyInstaller bundle, where ``-m`` does not exist, as ``hearth --calculator-worker``: see
packaging/launch.py). SymPy can hold the GIL for minutes inside one big-integer operation, so it
runs here, in a fresh interpreter, and not in a thread of the app.

The limits are set on this process with setrlimit, where the platform has ``resource``: address
space (a MemoryError is reported; a crash is seen by the parent), and CPU seconds per expression
(SIGXCPU ends the process, and the parent reports a time-out). Elsewhere only the parent's
wall-clock kill applies. The worker exits when its stdin closes, so it never outlives Hearth.

Protocol, one JSON object per line, ASCII only:
  worker -> {"ready": true}                                   once SymPy is imported
  parent -> {"id": 1, "expression": "2**64"}
  worker -> {"id": 1, "started": true}                        the request was read
  worker -> {"id": 1, "ok": true, "result": "18446744073709551616"}
         or {"id": 1, "ok": false, "kind": "refused" | "memory" | "error", "error": "why"}
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from assistant.core.worker_process import serve

WORKER_FLAG = "--calculator-worker"


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The reply to one request (without its id); never raises for a bad expression."""
    from assistant.tools.calculator_eval import Refused, evaluate

    expression = request.get("expression")
    if not isinstance(expression, str):
        return {"ok": False, "kind": "error", "error": "The request has no expression."}
    try:
        return {"ok": True, "result": evaluate(expression)}
    except Refused as exc:
        return {"ok": False, "kind": "refused", "error": str(exc)}
    except MemoryError:
        return {"ok": False, "kind": "memory", "error": "MemoryError"}
    except RecursionError:
        return {"ok": False, "kind": "refused", "error": "The expression is too complex to calculate."}
    except SystemError as exc:
        # Under the address-space limit an allocation can fail where CPython loses the MemoryError
        # it was making: "returned NULL without setting an exception" (seen in SymPy's expand).
        if "without setting an exception" in str(exc):
            return {"ok": False, "kind": "memory", "error": "MemoryError"}
        return {"ok": False, "kind": "error", "error": f"{type(exc).__name__}: {exc}"}
    except Exception as exc:  # SymPy's own failures (NotImplementedError, ...) are answers too
        return {"ok": False, "kind": "error", "error": f"{type(exc).__name__}: {exc}"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="calculator-worker")
    parser.add_argument("--cpu-seconds", type=float, default=3.0)
    parser.add_argument("--memory-mib", type=int, default=0, help="address-space limit; 0 for none")
    args = parser.parse_args(argv)
    return serve(answer, args.memory_mib, cpu_seconds=lambda request: args.cpu_seconds, prepare=_prepare)


def _prepare() -> None:
    # Printing a 10,000-digit integer must work; Python's default cap is 4,300 digits.
    sys.set_int_max_str_digits(20_000)
    import sympy  # noqa: F401  (the import is the slow part of starting; do it before "ready")

    import assistant.tools.calculator_eval  # noqa: F401


if __name__ == "__main__":
    raise SystemExit(main())
