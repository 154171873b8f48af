"""Formulas declared once, as data: named steps of arithmetic over named inputs.

A chapter declares its formula as a :class:`Formula` and evaluates it with :func:`evaluate` (on floats or numpy
arrays alike); the page's what-if charts translate the very same steps into Vega expressions
(:mod:`aicompute.present.interactive`), so the sliders and the records cannot drift apart. A step may use only
numbers, names (inputs or earlier steps), brackets, unary minus and + − × ÷: arithmetic that Python and Vega evaluate
the same way, operation by operation.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass
from functools import cached_property

BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def parse(expression: str) -> ast.expr:
    """The expression as a tree, refused with a clear ValueError if it uses anything but plain arithmetic."""
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError as err:
        raise ValueError(f"cannot read the formula step {expression!r}: {err.msg}") from err
    for node in ast.walk(tree):
        if not _plain_arithmetic(node):
            raise ValueError(f"formula step {expression!r} uses {type(node).__name__}: only numbers, names and + - * /")
    return tree


def _plain_arithmetic(node: ast.AST) -> bool:
    if isinstance(node, ast.BinOp):
        return type(node.op) in BINARY
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.USub)
    if isinstance(node, ast.Constant):
        return type(node.value) in (int, float)  # not bool, not str
    return isinstance(node, ast.Name | ast.Load | ast.USub) or type(node) in BINARY


def names_in(tree: ast.expr) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


@dataclass(frozen=True)
class Formula:
    """``inputs`` (names) and ``steps``: (name, expression) pairs in order; a step may use inputs and earlier steps."""

    inputs: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        known = set(self.inputs)
        if len(known) != len(self.inputs):
            raise ValueError(f"formula inputs repeat a name: {self.inputs}")
        for name, expression in self.steps:
            if not name.isidentifier() or name in known:
                raise ValueError(f"formula step name {name!r} must be a new identifier")
            unknown = names_in(parse(expression)) - known
            if unknown:
                raise ValueError(f"formula step {name!r} uses {sorted(unknown)} before they are defined")
            known.add(name)

    @cached_property
    def trees(self) -> tuple[tuple[str, ast.expr], ...]:
        return tuple((name, parse(expression)) for name, expression in self.steps)


def _value(tree: ast.expr, values: dict):
    if isinstance(tree, ast.Constant):
        return tree.value
    if isinstance(tree, ast.Name):
        return values[tree.id]
    if isinstance(tree, ast.UnaryOp):
        return -_value(tree.operand, values)
    return BINARY[type(tree.op)](_value(tree.left, values), _value(tree.right, values))


def evaluate(formula: Formula, inputs: dict) -> dict:
    """Every input and step of ``formula`` at ``inputs`` (floats or numpy arrays), in declaration order."""
    missing = [name for name in formula.inputs if name not in inputs]
    if missing:
        raise ValueError(f"formula needs the inputs {missing}")
    values = {name: inputs[name] for name in formula.inputs}
    for name, tree in formula.trees:
        values[name] = _value(tree, values)
    return values
