"""How long the calculator takes to answer or refuse hostile expressions, and its normal latency.

    .venv/bin/python bench/calculator.py [--repeat N]

(a) Each hostile case: wall-clock time of one ``calculate()`` call as the chat sees it, starting
    with a warm worker (a warm-up "1 + 1" first, not timed), and its outcome. "where" says who
    decided: "parent" is the allow-list in Hearth's own process (no worker involved), "worker" is
    the SymPy worker process (a bound, the result cap, or a limit that killed it).
(b) A normal expression ("1234567890 * 9876543210"): warm = one call to a running worker (median
    of N); cold = a fresh worker: spawning the interpreter, importing SymPy, and the first answer
    (median of 3). Worst case: the integrate(...) time-out sent to a fresh worker (start + 3 s).
Target: every hostile case under 5 s; warm normal latency a few milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.tools.calculator import calculate, checked
from assistant.tools.calculator_sandbox import CalculatorWorker, default_worker
from assistant.tools.registry import ToolError

HOSTILE = [
    "0.9^30000000",
    "(-0.5)^(10^9)",
    "10^10^10",
    "(10^400)^(10^9)",
    "binomial(10^6, 5*10^5)",
    "expand((x+1)^3000)",
    "integrate(exp(x^2)*sin(x)^50, x)",
    "factorial(3000)",
    "factorial(factorial(20))",
    "sqrt(" * 41 + "2" + ")" * 41,
    "1" * 1_000_000,
]
NORMAL = "1234567890 * 9876543210"


def label(expression: str) -> str:
    return expression if len(expression) <= 36 else f"{expression[:20]}… ({len(expression):,} chars)"


def hostile_table() -> None:
    print(f"{'expression':<40} {'time s':>7}  {'where':<6}  outcome")
    for expression in HOSTILE:
        default_worker().evaluate("1 + 1")  # warm: a previous case may have killed the worker
        try:
            checked(expression)
            where = "worker"
        except ToolError:
            where = "parent"
        started = time.perf_counter()
        try:
            outcome = f"answer, {len(calculate(expression)):,} chars"
        except ToolError as exc:
            outcome = f"refused: {exc}"
        print(f"{label(expression):<40} {time.perf_counter() - started:>7.3f}  {where:<6}  {outcome}")


def latency(repeat: int) -> None:
    worker = default_worker()
    worker.evaluate(NORMAL)
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        worker.evaluate(NORMAL)
        warm.append(time.perf_counter() - started)
    cold = []
    for _ in range(3):
        fresh = CalculatorWorker()
        started = time.perf_counter()
        fresh.evaluate(NORMAL)
        cold.append(time.perf_counter() - started)
        fresh.close()
    fresh = CalculatorWorker()
    started = time.perf_counter()
    with contextlib.suppress(ToolError):
        fresh.evaluate(checked(HOSTILE[6]))
    worst = time.perf_counter() - started
    fresh.close()
    print(f"\nnormal expression {NORMAL!r}")
    print(f"  warm worker, one call:                      median {statistics.median(warm) * 1000:.2f} ms (n={repeat})")
    print(f"  cold worker, spawn + import + first answer: median {statistics.median(cold):.3f} s (n=3)")
    print(f"worst case, a time-out on a cold worker ({HOSTILE[6]}): {worst:.3f} s (n=1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    hostile_table()
    latency(args.repeat)


if __name__ == "__main__":
    main()
