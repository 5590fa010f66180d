"""Exact arithmetic and algebra, without eval: an allow-listed expression tree evaluated by SymPy.

The expression is parsed with Python's ``ast`` here, in Hearth's process, and every node is checked
against an allow-list (numbers, + - * / // % **, a few named functions and constants, single-letter
variables); the input's length and nesting depth are bounded. Only an expression that passes is
sent to the calculator's worker process (calculator_sandbox.py), which evaluates it with SymPy
(calculator_eval.py) under CPU, memory and wall-clock limits and refuses giant results.
"""

from __future__ import annotations

import ast
import re

from assistant.tools.calculator_sandbox import default_worker
from assistant.tools.registry import ToolError

MAX_LENGTH = 2000
MAX_DEPTH = 40

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


def checked(expression: str) -> str:
    """The expression, normalised, once it has passed the size limits and the allow-list; a
    ToolError otherwise. This runs in Hearth's own process and is instant, so a refusal of
    disallowed syntax never starts the worker."""
    if len(expression) > MAX_LENGTH:
        raise ToolError(f"The expression is longer than {MAX_LENGTH} characters.")
    text = normalise(expression)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ToolError(f"Not a calculation I can read: {exc.msg}.") from None
    except (MemoryError, RecursionError):
        raise ToolError(f"The expression is nested more than {MAX_DEPTH} levels deep.") from None
    _check(tree)
    return text


def calculate(expression: str) -> str:
    """Exact arithmetic, powers, roots, logs, trigonometry, percentages and algebra.

    expression: e.g. "1234567890 * 9876543210", "sqrt(2) ^ 10", "15% of 80", "x^2 - 4 = 0", "factorial(30)"
    """
    text = checked(expression)  # first: a refusal here never starts the worker
    return default_worker().evaluate(text)
