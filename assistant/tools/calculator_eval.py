"""SymPy evaluation of an expression the parent has already parsed and checked (calculator.py).

This runs only inside the calculator's worker process (calculator_worker.py), so it imports no more
than ``ast``, ``math`` and SymPy, and raises ``Refused`` (not the registry's ToolError) for the
parent to turn into a tool error. Cheap bounds refuse the obvious giants before SymPy starts on
them (powers, products, factorials, binomials, rounding); whatever slips past meets the worker's
CPU, memory and wall-clock limits and the result-size cap instead.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from typing import Any

MAX_RESULT_DIGITS = 10_000
MAX_RESULT_CHARS = 10_000
MAX_FACTORIAL = 3000

TOO_MANY_DIGITS = f"The result would have more than {MAX_RESULT_DIGITS:,} digits."
TOO_LONG = f"The result would be longer than {MAX_RESULT_CHARS:,} characters."


class Refused(Exception):
    """A calculation refused with a reason the user can read."""


def evaluate(text: str) -> str:
    """The answer to a normalised, checked expression, as Hearth shows it ("1/2 ≈ 0.5")."""
    import sympy

    tree = ast.parse(text, mode="eval")
    try:
        answer = _format(_evaluate(tree.body, sympy), sympy)
    except ValueError as exc:
        # Python refuses to print integers longer than sys.get_int_max_str_digits() (set by the worker).
        if "integer string conversion" in str(exc):
            raise Refused(TOO_LONG) from None
        raise
    if len(answer) > MAX_RESULT_CHARS:
        raise Refused(TOO_LONG)
    return answer


def _log10(value: Any) -> float | None:
    """log10 of |value| for a finite non-zero number (exact for big integers and fractions, which
    ``complex()`` cannot hold); None for zero, infinities and symbols."""
    if getattr(value, "is_Rational", False):
        if value.p == 0:
            return None
        return math.log10(abs(int(value.p))) - math.log10(int(value.q))
    try:
        magnitude = abs(complex(value))
    except (TypeError, ValueError):
        return None
    except OverflowError:
        return math.inf
    if magnitude == 0 or not math.isfinite(magnitude):
        return None if magnitude == 0 else math.inf
    return math.log10(magnitude)


def _digits(value: Any) -> float:
    """About how many digits |value| has (0 for non-numbers, which SymPy keeps symbolic)."""
    logarithm = _log10(value)
    return max(logarithm, 0.0) if logarithm is not None else 0.0


def _power_digits(base: Any, exponent: Any) -> float:
    """About how many digits base**exponent takes to write exactly.

    A fraction's power writes both numerator and denominator, so 0.9^30000000 (9^n / 10^n) is
    huge although its value is tiny: the size is |n| * (digits of p + digits of q), not |n| *
    log10|base|. 0, 1 and -1 stay small whatever the exponent."""
    if not (getattr(base, "is_number", False) and getattr(exponent, "is_number", False)):
        return 0.0
    size = _log10(exponent)
    if size is None:
        return 0.0
    if getattr(base, "is_Rational", False):
        if base.p == 0 or abs(base.p) == base.q:
            return 0.0
        per_unit = math.log10(abs(int(base.p))) + math.log10(int(base.q))
    else:
        logarithm = _log10(base)
        if logarithm is None:
            return 0.0
        per_unit = abs(logarithm)
    if per_unit == 0:
        return 0.0
    total = size + math.log10(per_unit)  # in log space: the exponent itself may have 400 digits
    return math.inf if total > 300 else float(10**total)


def _binomial_digits(n: Any, k: Any) -> float:
    """log10 of binomial(n, k) for integers, from log-gamma (0 where SymPy keeps it symbolic)."""
    if not (getattr(n, "is_Integer", False) and getattr(k, "is_Integer", False)):
        return 0.0
    big, small = int(n), int(k)
    if big < 0 or small < 0 or small > big:
        return 0.0
    logarithm = math.lgamma(big + 1) - math.lgamma(small + 1) - math.lgamma(big - small + 1)
    return logarithm / math.log(10)


def _evaluate(node: ast.AST, sympy: Any) -> Any:
    if isinstance(node, ast.Constant):
        value = node.value
        return sympy.Integer(value) if isinstance(value, int) else sympy.Rational(str(value))
    if isinstance(node, ast.Name):
        constants = {"pi": sympy.pi, "e": sympy.E, "E": sympy.E, "tau": 2 * sympy.pi, "oo": sympy.oo, "inf": sympy.oo}
        return constants.get(node.id) or sympy.Symbol(node.id)
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, sympy)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Compare):
        return sympy.Eq(_evaluate(node.left, sympy), _evaluate(node.comparators[0], sympy))
    if isinstance(node, ast.BinOp):
        return _binary(node, _evaluate(node.left, sympy), _evaluate(node.right, sympy), sympy)
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise Refused(f"'{type(node).__name__}' is not allowed in a calculation.")
    return _call(node.func.id, [_evaluate(argument, sympy) for argument in node.args], sympy)


def _binary(node: ast.BinOp, left: Any, right: Any, sympy: Any) -> Any:
    if isinstance(node.op, ast.Pow):
        if _power_digits(left, right) > MAX_RESULT_DIGITS:
            raise Refused(TOO_MANY_DIGITS)
        return left**right
    if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
        raise Refused("Division by zero.")
    if isinstance(node.op, ast.Mult) and _digits(left) + _digits(right) > MAX_RESULT_DIGITS:
        raise Refused(TOO_MANY_DIGITS)
    operations: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b,
        ast.FloorDiv: lambda a, b: sympy.floor(a / b),
        ast.Mod: lambda a, b: a % b,
    }
    return operations[type(node.op)](left, right)


def _call(name: str, args: list[Any], sympy: Any) -> Any:
    if name == "factorial" and (len(args) != 1 or not args[0].is_number or abs(args[0]) > MAX_FACTORIAL):
        raise Refused(f"factorial takes one number of at most {MAX_FACTORIAL}.")
    if name == "binomial" and len(args) == 2 and _binomial_digits(*args) > MAX_RESULT_DIGITS:
        raise Refused(TOO_MANY_DIGITS)
    if name == "round" and len(args) == 2 and args[1].is_number and abs(args[1]) > MAX_RESULT_DIGITS:
        raise Refused(f"round keeps at most {MAX_RESULT_DIGITS:,} decimal places.")
    if name == "solve":
        if not args:
            raise Refused("solve needs an equation.")
        equation = args[0]
        symbols = args[1:] or sorted(equation.free_symbols, key=str)[:1]
        return sympy.solve(equation, *symbols)
    functions: dict[str, Callable[..., Any]] = {
        "sqrt": sympy.sqrt,
        "cbrt": sympy.cbrt,
        "root": sympy.root,
        "exp": sympy.exp,
        "ln": sympy.log,
        "log": sympy.log,
        "log10": lambda x: sympy.log(x, 10),
        "log2": lambda x: sympy.log(x, 2),
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tan": sympy.tan,
        "asin": sympy.asin,
        "acos": sympy.acos,
        "atan": sympy.atan,
        "sinh": sympy.sinh,
        "cosh": sympy.cosh,
        "tanh": sympy.tanh,
        "abs": sympy.Abs,
        "floor": sympy.floor,
        "ceiling": sympy.ceiling,
        "ceil": sympy.ceiling,
        "round": lambda x, n=0: round(x, n),
        "factorial": sympy.factorial,
        "gcd": sympy.gcd,
        "lcm": sympy.lcm,
        "binomial": sympy.binomial,
        "simplify": sympy.simplify,
        "expand": sympy.expand,
        "factor": sympy.factor,
        "diff": sympy.diff,
        "integrate": sympy.integrate,
        "degrees": lambda x: x * 180 / sympy.pi,
        "radians": lambda x: x * sympy.pi / 180,
        "min": sympy.Min,
        "max": sympy.Max,
    }
    if name not in functions:
        raise Refused(f"Unknown function '{name}'.")
    try:
        return functions[name](*args)
    except TypeError as exc:
        raise Refused(f"{name}: {exc}") from None


def _format(value: Any, sympy: Any) -> str:
    if isinstance(value, list | tuple):
        return "no solution" if not value else ", ".join(_format(v, sympy) for v in value)
    if isinstance(value, sympy.Equality):
        return _format(sympy.solve(value), sympy)
    exact = str(value)
    if len(exact) > MAX_RESULT_CHARS:
        raise Refused(TOO_LONG)  # before asking for a decimal approximation of a giant
    if getattr(value, "is_number", False) and not getattr(value, "is_Integer", False):
        try:
            approximate = str(sympy.N(value, 15))
        except (TypeError, ValueError):
            return exact
        approximate = re.sub(r"(\.\d*?)0+$", r"\1", approximate).rstrip(".")
        if approximate != exact:
            return f"{exact} ≈ {approximate}"
    return exact
