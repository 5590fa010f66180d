"""Exact arithmetic and algebra, without eval: an allow-listed expression tree evaluated by SymPy.

The expression is parsed with Python's ``ast`` and every node is checked against an allow-list
(numbers, + - * / // % **, a few named functions and constants, single-letter variables). Sizes
are bounded before anything is computed: the length of the input, the nesting depth, powers whose
result would have too many digits, and factorials of large numbers are refused with a reason.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from typing import Any

from assistant.tools.registry import ToolError

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_RESULT_DIGITS = 10_000
MAX_FACTORIAL = 3000

_FUNCTIONS = {
    "sqrt",
    "cbrt",
    "root",
    "exp",
    "log",
    "ln",
    "log10",
    "log2",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "abs",
    "floor",
    "ceiling",
    "ceil",
    "round",
    "factorial",
    "gcd",
    "lcm",
    "binomial",
    "solve",
    "simplify",
    "expand",
    "factor",
    "diff",
    "integrate",
    "degrees",
    "radians",
    "min",
    "max",
}
_CONSTANTS = {"pi", "e", "E", "tau", "oo", "inf"}
_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)


def normalise(expression: str) -> str:
    text = expression.strip().rstrip("?.!= ").strip()
    text = re.sub(r"^(what\s+is|what's|calculate|compute|evaluate|how\s+much\s+is)\s+", "", text, flags=re.I)
    text = text.replace("×", "*").replace("÷", "/").replace("−", "-").replace("^", "**")
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # 1,234,567 but not log(100, 10)
    text = re.sub(r"(\d+(?:\.\d+)?)\s*%\s*of\s+", r"(\1/100)*", text, flags=re.I)
    text = re.sub(r"(\d+(?:\.\d+)?)\s*%", r"(\1/100)", text)
    return re.sub(r"(?<![=<>!])=(?!=)", "==", text)  # an equation, "x^2 - 4 = 0", to solve


_PLAIN = re.compile(r"[\d\s.+\-*/()%]+|[\d\s.+\-*/()%]*\d\s*%\s*\(?\s*\d[\d\s.+\-*/()%]*")


def is_plain_arithmetic(message: str) -> bool:
    """True for a message that is nothing but an arithmetic expression ("What is 12 * 34?")."""
    text = normalise(message).replace("**", "*")
    if re.fullmatch(r"\s*\d{1,4}([-/.])\d{1,2}\1\d{1,4}\s*", text):
        return False  # a date, 2024-05-01 or 1/5/2024
    return bool(_PLAIN.fullmatch(text)) and bool(re.search(r"\d\s*[-+*/%]\s*[\d(]", text))


def _check(node: ast.AST, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ToolError(f"The expression is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(node, ast.Expression):
        _check(node.body, depth + 1)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, int | float) or isinstance(node.value, bool):
            raise ToolError("Only numbers are allowed as literals.")
    elif isinstance(node, ast.BinOp) and isinstance(node.op, _BINARY):
        _check(node.left, depth + 1)
        _check(node.right, depth + 1)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        _check(node.operand, depth + 1)
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
        _check(node.left, depth + 1)
        _check(node.comparators[0], depth + 1)
    elif isinstance(node, ast.Name):
        if node.id not in _CONSTANTS and not re.fullmatch(r"[a-z]", node.id):
            raise ToolError(f"Unknown name '{node.id}'. Variables are single letters; functions must be called.")
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords:
            raise ToolError("Only these functions can be used: " + ", ".join(sorted(_FUNCTIONS)) + ".")
        for argument in node.args:
            _check(argument, depth + 1)
    else:
        raise ToolError(f"'{type(node).__name__}' is not allowed in a calculation.")


def _digits(value: Any) -> float:
    """log10 of |value|, for bounds (0 for non-numbers, which sympy keeps symbolic)."""
    try:
        magnitude = abs(complex(value))
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return math.log10(magnitude) if magnitude > 0 else 0.0


def calculate(expression: str) -> str:
    """Exact arithmetic, powers, roots, logs, trigonometry, percentages and algebra.

    expression: e.g. "1234567890 * 9876543210", "sqrt(2) ^ 10", "15% of 80", "x^2 - 4 = 0", "factorial(30)"
    """
    if len(expression) > MAX_LENGTH:
        raise ToolError(f"The expression is longer than {MAX_LENGTH} characters.")
    text = normalise(expression)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ToolError(f"Not a calculation I can read: {exc.msg}.") from None
    _check(tree)
    import sympy

    value = _evaluate(tree.body, sympy)
    return _format(value, sympy)


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
        left, right = _evaluate(node.left, sympy), _evaluate(node.right, sympy)
        if isinstance(node.op, ast.Pow):
            if right.is_number and left.is_number and abs(float(right)) * max(_digits(left), 0.0) > MAX_RESULT_DIGITS:
                raise ToolError(f"The result would have more than {MAX_RESULT_DIGITS:,} digits.")
            return left**right
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
            raise ToolError("Division by zero.")
        if isinstance(node.op, ast.Mult) and _digits(left) + _digits(right) > MAX_RESULT_DIGITS:
            raise ToolError(f"The result would have more than {MAX_RESULT_DIGITS:,} digits.")
        operations: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
            ast.Add: lambda a, b: a + b,
            ast.Sub: lambda a, b: a - b,
            ast.Mult: lambda a, b: a * b,
            ast.Div: lambda a, b: a / b,
            ast.FloorDiv: lambda a, b: sympy.floor(a / b),
            ast.Mod: lambda a, b: a % b,
        }
        return operations[type(node.op)](left, right)
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    name = node.func.id
    args = [_evaluate(argument, sympy) for argument in node.args]
    if name == "factorial" and (len(args) != 1 or not args[0].is_number or abs(args[0]) > MAX_FACTORIAL):
        raise ToolError(f"factorial takes one number of at most {MAX_FACTORIAL}.")
    if name == "solve":
        equation = args[0]
        symbols = args[1:] or sorted(equation.free_symbols, key=str)[:1]
        return sympy.solve(equation, *symbols)
    functions = {
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
    try:
        return functions[name](*args)
    except TypeError as exc:
        raise ToolError(f"{name}: {exc}") from None


def _format(value: Any, sympy: Any) -> str:
    if isinstance(value, list | tuple):
        return "no solution" if not value else ", ".join(_format(v, sympy) for v in value)
    if isinstance(value, sympy.Equality):
        return _format(sympy.solve(value), sympy)
    exact = str(value)
    if getattr(value, "is_number", False) and not getattr(value, "is_Integer", False):
        try:
            approximate = str(sympy.N(value, 15))
        except (TypeError, ValueError):
            return exact
        approximate = re.sub(r"(\.\d*?)0+$", r"\1", approximate).rstrip(".")
        if approximate != exact:
            return f"{exact} ≈ {approximate}"
    return exact
