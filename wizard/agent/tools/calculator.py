"""A safe calculator: arithmetic parsed with ``ast`` and evaluated node by node, never ``eval``.

Allowed: numbers, ``+ - * / // % **``, parentheses, unary ``+``/``-``, the constants ``pi``,
``e``, ``tau`` and a few math functions. Limits stop an expression from eating the machine:
its length, its number of nodes, the size of integer literals and of powers.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

from wizard.agent.tools.base import Tool, ToolError

MAX_EXPRESSION_CHARS = 200
MAX_NODES = 100
MAX_LITERAL_DIGITS = 60
MAX_EXPONENT = 1000
MAX_RESULT_BITS = 4096

_OPERATORS: dict[type, Callable] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Callable] = {
    "sqrt": math.sqrt, "abs": abs, "round": round, "floor": math.floor, "ceil": math.ceil,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "log": math.log, "log10": math.log10,
    "log2": math.log2, "exp": math.exp, "min": min, "max": max,
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
_FRIENDLY = str.maketrans({"×": "*", "÷": "/", "−": "-"})


def calculate(expression: str) -> int | float:
    """The value of an arithmetic expression.

    Raises:
        ToolError: anything that is not plain arithmetic, too big, or undefined (÷ 0, √-1).
    """
    if not isinstance(expression, str) or not expression.strip():
        raise ToolError("There is no calculation to do.")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"That calculation is too long (over {MAX_EXPRESSION_CHARS} characters).")
    text = expression.translate(_FRIENDLY).strip()
    if "^" in text:
        raise ToolError("Write powers with ** (for example 2**10), not ^.")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise ToolError(f"That is not a calculation I can read: {expression!r}.") from exc
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ToolError("That calculation has too many parts.")
    try:
        value = _evaluate(tree.body)
    except ZeroDivisionError as exc:
        raise ToolError("That calculation divides by zero.") from exc
    except (ValueError, OverflowError) as exc:
        raise ToolError(f"That calculation has no answer I can give ({exc}).") from exc
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError("The result is too large to show.")
    return value


def _evaluate(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ToolError("Only numbers can be calculated.")
        if isinstance(node.value, int) and abs(node.value) >= 10 ** MAX_LITERAL_DIGITS:
            raise ToolError("A number in that calculation is too long.")
        return node.value
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise ToolError(f"I do not know {node.id!r}; only numbers, pi, e and tau.")
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        if isinstance(node.op, ast.Mult) and isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_RESULT_BITS:
                raise ToolError("The result is too large to show.")
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
        if node.keywords or not node.args or len(node.args) > 10:
            raise ToolError(f"{node.func.id} takes one or a few numbers.")
        args = [_evaluate(arg) for arg in node.args]
        try:
            return _FUNCTIONS[node.func.id](*args)
        except TypeError as exc:
            raise ToolError(f"{node.func.id} cannot take those numbers.") from exc
    raise ToolError("Only numbers, + - * / // % ** and parentheses (and sqrt, log, sin …) are allowed.")


def _check_power(base: int | float, exponent: int | float) -> None:
    if abs(exponent) > MAX_EXPONENT:
        raise ToolError(f"Powers above {MAX_EXPONENT} are too large to calculate.")
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if base.bit_length() * exponent > MAX_RESULT_BITS:
            raise ToolError("The result is too large to show.")


def format_number(value: int | float) -> str:
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.12g}"
    return str(value)


def calculator_tool() -> Tool:
    def run(arguments: dict) -> str:
        expression = arguments["expression"]
        return f"{expression} = {format_number(calculate(expression))}"

    return Tool(
        name="calculator",
        description="Calculate arithmetic exactly, e.g. 17*23 or sqrt(2)/3.",
        parameters={"type": "object", "properties": {"expression": {"type": "string", "maxLength": 120}},
                    "required": ["expression"], "additionalProperties": False},
        run=run, example={"expression": "17*23"},
    )
