"""Repairs of a written equation: each undoes one named mistake at one place (a weight's
indices swapped back, a transpose added or removed, a layer mark moved by one, the sign of
a side, one letter written for another). A refuted claim whose repair is proved is that
mistake, and the repair, in the user's own notation, is what the claim should have said
(commands/check.py); nothing is concluded from a repair that is not proved.

>>> from .grammar import parse
>>> from .tex import to_latex
>>> eq = parse(r"\\delta_j = h'(a_j) \\sum_k w_{jk} \\delta_k")
>>> [(m, to_latex(r.sides[1])) for m, r in repairs(eq, weight="w")][:1]
[('swapped-weight-indices', "h'(a_{j}) \\\\sum_{k} w_{kj} \\\\delta_{k}")]
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterator

from .ast import (Add, Equation, Frac, Grad, Mul, Neg, Node, Number, Paren, Partial,
                  Power, Sum, Symbol, Transformer, Transpose, Visitor)

MAX_REPAIRS = 24  # repairs tried at most: each is a whole check


class _At(Transformer):
    """Changes the n-th node (in reading order) that `pick` accepts, by `change`."""

    def __init__(self, pick: Callable[[Node], bool], change: Callable[[Node], Node | None], n: int):
        self.pick, self.change, self.n, self.seen, self.done = pick, change, n, 0, False

    def visit(self, node):
        if not self.done and self.pick(node):
            self.seen += 1
            if self.seen == self.n + 1:
                new = self.change(node)
                if new is not None:
                    self.done = True
                    return new
        return super().visit(node)


def _everywhere(eq: Equation, pick, change) -> Iterator[Equation]:
    """The equation changed at each place `pick` accepts, one place at a time."""
    for n in range(MAX_REPAIRS):
        t = _At(pick, change, n)
        sides = tuple(t.visit(s) for s in eq.sides)
        if not t.done:
            if t.seen <= n:
                return
            continue
        yield replace(eq, sides=sides)


def _shift(sup: Node, by: int) -> Node | None:
    """A layer mark moved by one: 2 to 3, l to l + 1, (l - 1) to (l)."""
    if isinstance(sup, Paren):
        inner = _shift(sup.body, by)
        return Paren(inner) if inner is not None else None
    if isinstance(sup, Number) and sup.text.isdigit():
        return Number(str(max(int(sup.text) + by, 0)))
    if isinstance(sup, Add) and isinstance(sup.terms[-1], (Number, Neg)):
        last = sup.terms[-1]
        value = (-int(last.body.text) if isinstance(last, Neg) and isinstance(last.body, Number)
                 else int(last.text) if isinstance(last, Number) else None)
        if value is None:
            return None
        value += by
        rest = sup.terms[:-1]
        if value == 0:
            return rest[0] if len(rest) == 1 else Add(rest)
        return Add(rest + ((Number(str(value)),) if value > 0 else (Neg(Number(str(-value))),)))
    if isinstance(sup, Symbol) and not sup.sub:
        return Add((sup, Number("1") if by > 0 else Neg(Number("1"))))
    return None


def _letters(eq: Equation) -> list[str]:
    found: list[str] = []

    class Letters(Visitor):
        def visit_Symbol(self, s):
            found.extend(c for c in s.sub if c.isalpha() and c not in found)
            if s.sup is not None:
                self.visit(s.sup)
    for side in eq.sides:
        Letters().visit(side)
    return found


class _Rename(Transformer):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new

    def visit_Symbol(self, s):
        return replace(s, sub=tuple(self.new if c == self.old else c for c in s.sub))


class _IntoSum(Transformer):
    """The n-th symbol inside a sum that carries `letter` gets the sum's own index there
    instead: the summed letter written back where the unit's own was put."""

    def __init__(self, letter: str, n: int):
        self.letter, self.n, self.seen, self.done, self.sums = letter, n, 0, False, []

    def visit_Sum(self, node):
        self.sums.append(node.index)
        out = self.generic_visit(node)
        self.sums.pop()
        return out

    def visit_Symbol(self, node):
        if self.done or not self.sums:
            return node
        for i, c in enumerate(node.sub):  # each place the letter stands, one at a time
            if c != self.letter:
                continue
            self.seen += 1
            if self.seen == self.n + 1:
                self.done = True
                return replace(node, sub=node.sub[:i] + (self.sums[-1],) + node.sub[i + 1:])
        return node


def _into_sums(eq: Equation, letters: list[str]) -> Iterator[Equation]:
    for letter in letters:
        for n in range(MAX_REPAIRS):
            t = _IntoSum(letter, n)
            sides = (eq.sides[0],) + tuple(t.visit(s) for s in eq.sides[1:])
            if not t.done:
                break
            yield replace(eq, sides=sides)


def _by_matrix(side: Node, is_weight) -> bool:
    """Whether a side is a derivative by a whole weight matrix (\\nabla_W J, dE/dW)."""
    by = side.wrt if isinstance(side, Grad) else side.den if isinstance(side, Partial) else None
    if isinstance(side, Frac) and isinstance(side.den, Partial):
        by = side.den
    return by is not None and is_weight(by) and not by.sub


def _batch_repairs(eq: Equation, pattern: str, size: Node) -> Iterator[tuple[str, Equation]]:
    """1/N put before a sum over the patterns, or before the whole right side; a 1/N
    taken away (1/N as a factor, X/N as X, X/N^2 as X/N), or the right side times N; the
    right side summed over the patterns (or averaged). Only for a claim about a batch
    (latex/batch.py)."""
    over = lambda n: isinstance(n, Sum) and n.index == pattern
    mean = Frac(Number("1"), size)
    yield from (("batch-mean-missing", r) for r in _everywhere(
        eq, over, lambda n: Mul((mean, n))))
    yield from (("batch-mean-extra", r) for r in _everywhere(
        eq, lambda n: isinstance(n, Mul) and mean in n.factors,
        lambda n: _without(n, mean)))
    yield from (("batch-mean-extra", r) for r in _everywhere(
        eq, lambda n: isinstance(n, Frac) and n.den == size and n != mean, lambda n: n.num))
    squared = (Power(size, Number("2")), replace(size, sup=Number("2")))  # N^2 as parsed
    yield from (("batch-mean-extra", r) for r in _everywhere(
        eq, lambda n: isinstance(n, Frac) and n.den in squared, lambda n: replace(n, den=size)))
    lhs, rhs = eq.sides
    factors = rhs.factors if isinstance(rhs, Mul) else (rhs,)
    yield ("batch-mean-missing", replace(eq, sides=(lhs, Mul((mean,) + factors))))
    yield ("batch-mean-extra", replace(eq, sides=(lhs, Mul((size, rhs)))))
    summed = Sum(index=pattern, body=rhs)
    yield ("batch-sum-missing", replace(eq, sides=(lhs, summed)))
    yield ("batch-sum-missing", replace(eq, sides=(lhs, Mul((mean, summed)))))


def _without(n: Mul, factor: Node) -> Node:
    rest = list(n.factors)
    rest.remove(factor)
    return rest[0] if len(rest) == 1 else Mul(tuple(rest))


def repairs(eq: Equation, *, weight: str,
            batch: tuple[str, Node] | None = None) -> Iterator[tuple[str, Equation]]:
    """(mistake id, the equation with that mistake undone at one place) for each place; the
    weight's symbol name (w, W, \\Theta) as the notation writes it, and, for a claim about
    a mini-batch, the notation's pattern letter and batch size."""
    if len(eq.sides) != 2:
        return
    if batch is not None:
        yield from _batch_repairs(eq, *batch)
    is_weight = lambda n: isinstance(n, Symbol) and n.name == weight
    bare = lambda n: n.body if isinstance(n, Paren) else n
    if _by_matrix(eq.sides[0], is_weight):  # a derivative by a matrix, in the other layout
        yield ("other-layout", replace(eq, sides=(eq.sides[0], Transpose(eq.sides[1]))))
    yield from (("swapped-weight-indices", r) for r in _everywhere(
        eq, lambda n: is_weight(n) and len(n.sub) == 2, lambda n: replace(n, sub=n.sub[::-1])))
    yield from (("swapped-weight-indices", r) for r in _everywhere(
        eq, lambda n: isinstance(n, Transpose) and is_weight(bare(n.body)), lambda n: n.body))
    yield from (("swapped-weight-indices", r) for r in _everywhere(
        eq, lambda n: is_weight(n) and not n.sub, lambda n: Transpose(n)))
    yield ("opposite-sign", replace(eq, sides=(eq.sides[0], Neg(eq.sides[1]))))
    yield from (("sum-over-wrong-index", r)
                for r in _into_sums(eq, _letters(replace(eq, sides=eq.sides[:1]))))
    for by in (1, -1):
        yield from (("wrong-layer", r) for r in _everywhere(
            eq, lambda n: isinstance(n, Symbol) and n.sup is not None and n.name != "e",
            lambda n, by=by: (lambda s: replace(n, sup=s) if s is not None else None)(_shift(n.sup, by))))
    # a letter of one side only, written where a letter of the other side only belongs
    left, right = _letters(replace(eq, sides=eq.sides[:1])), _letters(replace(eq, sides=eq.sides[1:]))
    for old, new in [(o, n) for o in right if o not in left for n in left if n not in right] \
            + [(o, n) for o in left if o not in right for n in right if n not in left]:
        yield ("index-mismatch", replace(eq, sides=tuple(_Rename(old, new).visit(s)
                                                          for s in eq.sides)))
