"""Passes over an equation's AST before it is bound to a network, each a Visitor or a
Transformer (latex/ast.py) that overrides only the nodes it cares about.

- `scoped`: each sum gets an index of its own (in sum_k ... + sum_k ... the two k may be
  units of different layers), wherever the sum stands, a power or a call included;
- `letters`, `free_letters`, `summed_letters`: the index letters an expression uses;

>>> from bpcheck.derive.latex.grammar import parse_expression
>>> from bpcheck.derive.latex.tex import to_latex
>>> [to_latex(s) for s in scoped([parse_expression(r"\\sum_k x_k + (\\sum_k y_k)^2")])]
['\\\\sum_{k} x_{k} + (\\\\sum_{k~2} y_{k~2})^{2}']
"""
from __future__ import annotations

from dataclasses import replace
from ..errors import UsageError
from .ast import Node, Sum, Symbol, Transformer, Visitor


class _Letters(Visitor):
    """Index letters: every one, the free ones (not bound by a sum around them), the
    summed ones."""

    def __init__(self):
        self.every: set[str] = set()
        self.free: set[str] = set()
        self.summed: set[str] = set()
        self.bound: list[str] = []

    def visit_Symbol(self, node: Symbol) -> None:
        self.every.update(node.sub)
        self.free.update(c for c in node.sub if not c.isdigit() and c not in self.bound)
        self.generic_visit(node)

    def visit_Sum(self, node: Sum) -> None:
        self.every.add(node.index)
        self.summed.add(node.index)
        self.bound.append(node.index)
        self.visit(node.body)
        self.bound.pop()


def _letters_of(node: Node) -> _Letters:
    v = _Letters()
    v.visit(node)
    return v


def letters(node: Node) -> set[str]:
    return _letters_of(node).every


def free_letters(node: Node) -> set[str]:
    return _letters_of(node).free


def summed_letters(node: Node) -> set[str]:
    return _letters_of(node).summed


class _Rename(Transformer):
    """One index letter renamed, where a sum of its own does not shadow it."""

    def __init__(self, old: str, new: str):
        self.old, self.new = old, new

    def visit_Symbol(self, node: Symbol) -> Symbol:
        node = replace(node, sub=tuple(self.new if c == self.old else c for c in node.sub))
        return self.generic_visit(node)

    def visit_Sum(self, node: Sum) -> Sum:
        return node if node.index == self.old else self.generic_visit(node)


class _Scope(Transformer):
    def __init__(self, free=()):
        self.seen: dict[str, int] = {c: 1 for c in free}

    def visit_Sum(self, node: Sum) -> Sum:
        if node.index in summed_letters(node.body):
            raise UsageError(f"the index {node.index} is summed twice, one sum inside the "
                             "other; give the inner sum a letter of its own")
        if node.index in self.seen:
            self.seen[node.index] += 1
            index = f"{node.index}~{self.seen[node.index]}"
            node = replace(node, index=index, body=_Rename(node.index, index).visit(node.body))
        else:
            self.seen[node.index] = 1
        return self.generic_visit(node)


def scoped(sides: list[Node], free=()) -> list[Node]:
    """Each sum with an index of its own, apart from the `free` letters too; a renamed
    index keeps its letter for display (k~2 prints as k')."""
    scope = _Scope(free)
    return [scope.visit(s) for s in sides]
