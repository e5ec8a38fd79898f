"""Passes over an equation's AST before it is bound to a network, each a Visitor or a
Transformer (latex/ast.py) that overrides only the nodes it cares about.

- `scoped`: each sum gets an index of its own (in sum_k ... + sum_k ... the two k may be
  units of different layers), wherever the sum stands, a power or a call included;
- `letters`, `free_letters`, `summed_letters`: the index letters an expression uses;
- `Componentize`: a vector form (Nielsen's BP1a and BP2) as its component c.

>>> from bpcheck.derive.latex.grammar import parse_expression
>>> from bpcheck.derive.latex.tex import to_latex
>>> [to_latex(s) for s in scoped([parse_expression(r"\\sum_k x_k + (\\sum_k y_k)^2")])]
['\\\\sum_{k} x_{k} + (\\\\sum_{k~2} y_{k~2})^{2}']
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from ..engine.checking import shown
from ..errors import NotSupported, UsageError
from .ast import (Grad, Hadamard, Mul, Node, Partial, Power, Sum, Symbol, Transpose,
                  Transformer, Visitor)


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
    def __init__(self):
        self.seen: dict[str, int] = {}

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


def scoped(sides: list[Node]) -> list[Node]:
    """Each sum with an index of its own; a renamed index keeps its letter for display
    (k~2 prints as k')."""
    scope = _Scope()
    return [scope.visit(s) for s in sides]


class UsesVectors(Visitor):
    """Whether an expression is written with vectors: a quantity without its unit index,
    a gradient, a Hadamard product or a transpose."""

    def __init__(self, is_unit_vector: Callable[[Symbol], bool]):
        self.is_unit_vector, self.found = is_unit_vector, False

    def visit_Symbol(self, node: Symbol) -> None:
        self.found |= self.is_unit_vector(node)
        self.generic_visit(node)

    def visit_Grad(self, node: Grad) -> None:
        self.found = True

    visit_Hadamard = visit_Transpose = visit_Grad


class Componentize(Transformer):
    """A vector expression's component c: delta^L -> delta^L_c, W^T v -> sum_m W_mc v_m.

    `vector(symbol)` says whether a symbol written without its index is a vector of units
    (or of biases), `matrix(symbol)` whether it is a weight matrix; `from_to` whether the
    notation writes a weight's indices from, to."""

    def __init__(self, c: str, *, vector, matrix, from_to: bool, output_layer: str = ""):
        self.c, self.vector, self.matrix = c, vector, matrix
        self.from_to, self.output_layer = from_to, output_layer

    def _at(self, c: str) -> "Componentize":
        return Componentize(c, vector=self.vector, matrix=self.matrix, from_to=self.from_to,
                            output_layer=self.output_layer)

    def visit_Symbol(self, node: Symbol) -> Symbol:
        return replace(node, sub=(self.c,)) if not node.sub and self.vector(node) else node

    def visit_Hadamard(self, node: Hadamard) -> Mul:
        return Mul(tuple(self.visit(f) for f in node.factors))

    def visit_Grad(self, node: Grad) -> Partial:
        wrt = node.wrt
        if not isinstance(wrt, Symbol):
            raise NotSupported("a gradient needs the quantity it is taken with respect to, "
                               "as in \\nabla_a C")
        if wrt.sup is None and self.output_layer:
            wrt = replace(wrt, sup=Symbol(self.output_layer))
        return Partial(node.body, replace(wrt, sub=(self.c,)))

    def visit_Transpose(self, node: Transpose) -> Node:
        raise NotSupported("a transpose must stand before the vector it multiplies, as in "
                           "(w^{l+1})^T \\delta^{l+1}")

    def visit_Power(self, node: Power) -> Power:
        return Power(self.visit(node.base), node.exponent)

    def visit_Mul(self, node: Mul) -> Node:
        factors = list(node.factors)
        for i, f in enumerate(factors[:-1]):
            matrix, transposed = (f.body, True) if isinstance(f, Transpose) else (f, False)
            if isinstance(matrix, Symbol) and not matrix.sub and self.matrix(matrix):
                m = next(l for l in ("m", "p", "q", "r", "s", "u", "v") if l != self.c)
                order = (m, self.c) if transposed else (self.c, m)
                order = order[::-1] if self.from_to else order
                rest = Mul(tuple(factors[i + 1:])) if len(factors) > i + 2 else factors[i + 1]
                total = Sum(index=m, body=Mul((replace(matrix, sub=order), self._at(m).visit(rest))))
                head = [self.visit(y) for y in factors[:i]]
                return Mul(tuple(head + [total])) if head else total
        return Mul(tuple(self.visit(f) for f in factors))
