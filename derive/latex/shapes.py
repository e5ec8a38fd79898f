r"""Matrix and vector forms, read with shapes: each side as its entry (i, j), in the
notation's own indexed symbols, so the rest of reading sees only scalars.

Vectors are columns; a weight matrix has a row for each unit it feeds and a column for
each unit it leaves (W^{(k)} h^{(k-1)}); a gradient has the shape of what it differentiates
by (\nabla_W J is shaped like W); a Jacobian \partial a/\partial z has a row for each entry
of a and a column for each of z. A product of two columns, a sum of a column and a row, or
sides of different shapes do not exist: a `Mismatch` names both shapes. Where shapes fit
as written but not on the network (W δ where W^T δ was meant), the entries' indices ask
for units the network does not have; `Product.sizes` then says it in numbers.

>>> from bpcheck.derive.latex.grammar import parse_expression
>>> from bpcheck.derive.latex.tex import to_latex
>>> is_vec = lambda s: s.name in ("\\delta", "a")
>>> is_mat = lambda s: s.name == "w"
>>> shapes = Shapes(vector=is_vec, matrix=is_mat, used={"l"})
>>> sides = shapes.entries([parse_expression(r"\delta^{l} (a^{l-1})^T")])
>>> to_latex(sides[0])
'\\delta_{j}^{l} a_{k}^{l - 1}'
>>> shapes = Shapes(vector=is_vec, matrix=is_mat, used={"l"})
>>> to_latex(shapes.entries([parse_expression(r"(w^{l+1})^T \delta^{l+1}")])[0])
'\\sum_{m} w_{mj}^{l + 1} \\delta_{m}^{l + 1}'
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional

from ..errors import NotSupported
from .ast import (Add, Call, Frac, Grad, Hadamard, Mul, Neg, Node, Norm, Partial, Power, Sum,
                  Symbol, Transpose, Visitor, children)
from .tex import to_latex

FREE = ("j", "k", "i", "m", "p", "q", "r", "s")
SUMMED = ("m", "p", "q", "r", "s", "u", "v", "c", "d", "e", "f", "g")


@dataclass(frozen=True)
class Dim:
    """One side of a shape: the units of `symbol` (its "unit" index, or a weight's "to" or
    "from" index)."""
    symbol: Symbol
    slot: str


Shape = tuple[Optional[Dim], Optional[Dim]]  # rows, columns; None where there is one
SCALAR: Shape = (None, None)


class Mismatch(Exception):
    """Shapes that do not fit, whatever the network: the words name both."""


def describe(node: Node, shape: Shape) -> str:
    rows, cols = shape
    what = ("a number" if rows is cols is None else "a column" if cols is None
            else "a row" if rows is None else "a matrix")
    return f"{to_latex(node)} ({what})"


@dataclass(frozen=True)
class Product:
    """Where two shapes meet at an index letter: the columns of `left` and the rows of
    `right` in a product; the rows (or columns) of both in an entrywise operation or an
    equation."""
    left: Node
    right: Node
    left_dim: Dim
    right_dim: Dim
    letter: str
    what: tuple[str, str] = ("columns", "rows")
    reason: str = "their product does not exist"


ENTRYWISE = dict(what=("entries", "entries"), reason="they cannot be combined entry by entry")


class _Shape(Visitor):
    """Each node's shape; a Mismatch where two do not fit."""

    def __init__(self, owner: "Shapes"):
        self.o = owner

    def generic_visit(self, node: Node) -> Shape:
        for child in children(node):
            if self.visit(child) != SCALAR:
                raise NotSupported(f"{to_latex(node)}: a vector or matrix inside this is not "
                                   "read yet; write it entry by entry")
        return SCALAR

    def visit_Symbol(self, node: Symbol) -> Shape:
        if not node.sub and self.o.batch(node) is not None:  # a unit's quantity, per pattern
            units, patterns = Dim(node, "unit"), Dim(node, "pattern")
            return (patterns, units) if self.o.by_rows else (units, patterns)
        if not node.sub and self.o.matrix(node):
            return (Dim(node, "to"), Dim(node, "from"))
        if not node.sub and self.o.vector(node):
            return (Dim(node, "unit"), None)
        return SCALAR

    def visit_Neg(self, node: Neg) -> Shape:
        return self.visit(node.body)

    def visit_Transpose(self, node: Transpose) -> Shape:
        rows, cols = self.visit(node.body)
        return (cols, rows)

    def _same(self, node: Node, parts) -> Shape:
        shapes = [self.visit(p) for p in parts]
        shaped = [(p, s) for p, s in zip(parts, shapes) if s != SCALAR]
        for (p, s), (q, t) in zip(shaped, shaped[1:]):
            if (s[0] is None) != (t[0] is None) or (s[1] is None) != (t[1] is None):
                raise Mismatch(f"{describe(p, s)} and {describe(q, t)} have different shapes "
                               f"in {to_latex(node)}")
        return shaped[0][1] if shaped else SCALAR

    def visit_Add(self, node: Add) -> Shape:
        return self._same(node, node.terms)

    def visit_Hadamard(self, node: Hadamard) -> Shape:
        return self._same(node, node.factors)

    def visit_Mul(self, node: Mul) -> Shape:
        shape = SCALAR
        for i, f in enumerate(node.factors):
            s = self.visit(f)
            if s == SCALAR or shape == SCALAR:
                shape = s if shape == SCALAR else shape
                continue
            head = Mul(node.factors[:i]) if i > 1 else node.factors[0]
            if (shape[1] is None) != (s[0] is None):
                raise Mismatch(f"{describe(head, shape)} times {describe(f, s)} does not exist")
            if shape[1] is not None and (shape[1].slot == "pattern") != (s[0].slot == "pattern"):
                which = lambda d: "the patterns" if d.slot == "pattern" else "units"
                raise Mismatch(f"the columns of {to_latex(head)} are {which(shape[1])} and the "
                               f"rows of {to_latex(f)} {which(s[0])}: their product does not "
                               "exist")
            shape = (shape[0], s[1])
        return shape

    def visit_Call(self, node: Call) -> Shape:
        return self._same(node, node.args)

    def visit_Power(self, node: Power) -> Shape:
        if self.visit(node.exponent) != SCALAR:
            raise Mismatch(f"{to_latex(node)}: an exponent is a number")
        return self.visit(node.base)

    def visit_Frac(self, node: Frac) -> Shape:
        if self.visit(node.den) != SCALAR:
            raise NotSupported(f"{to_latex(node)}: division by a vector is not read; write "
                               "it entry by entry")
        return self.visit(node.num)

    def visit_Sum(self, node: Sum) -> Shape:
        return self.visit(node.body)

    def visit_Grad(self, node: Grad) -> Shape:
        if node.wrt is None:
            raise NotSupported("a gradient needs the quantity it is taken with respect to, "
                               "as in \\nabla_a C")
        if self.visit(node.body) != SCALAR:
            raise Mismatch(f"{to_latex(node)}: a gradient is of a number, and "
                           f"{describe(node.body, self.visit(node.body))} is not one")
        return self.visit(self.o.wrt(node.wrt))

    def visit_Partial(self, node: Partial) -> Shape:
        num, den = self.visit(node.num), self.visit(node.den)
        if num == SCALAR:
            return den
        if den == SCALAR:
            return num
        if num[1] is None and den[1] is None:
            return (num[0], den[0])  # a Jacobian: a row for each entry of num
        raise NotSupported(f"{to_latex(node)}: a derivative of a matrix, or by one, is not "
                           "read; write it entry by entry")

    def visit_Norm(self, node: Norm) -> Shape:
        if self.visit(node.body) != SCALAR:
            raise NotSupported(f"{to_latex(node)}: write a vector's norm as a sum, "
                               "\\sum_k (y_k - t_k)^2")
        return SCALAR


class Shapes:
    """A vector form's entries: `vector(symbol)` says whether a symbol written without its
    index is a vector of units, `matrix(symbol)` whether it is a weight matrix; `used` the
    letters the equation already uses."""

    def __init__(self, *, vector: Callable[[Symbol], bool], matrix: Callable[[Symbol], bool],
                 used: set[str], from_to: bool = False, output_layer: str = "",
                 batch: Callable[[Symbol], str | None] = lambda s: None, pattern: str = "",
                 by_rows: bool = False):
        # batch: a mini-batch's matrix (latex/batch.py) gives the name of the unit symbol
        # of each of its entries; a column per pattern (a row with `by_rows`), whose entry
        # is written with the pattern letter first (z_{ni})
        self.vector, self.matrix, self.from_to = vector, matrix, from_to
        self.batch, self.pattern, self.by_rows = batch, pattern, by_rows
        self.output_layer, self.used = output_layer, set(used) | ({pattern} if pattern else set())
        self.products: list[Product] = []
        self.placed: dict[tuple[Dim, str], Symbol] = {}  # (dim, letter): the entry carrying it
        self._shape = _Shape(self)

    def wrt(self, node: Node) -> Node:
        """What a gradient is taken by: Nielsen's \\nabla_a C is by the output layer's a."""
        if isinstance(node, Symbol) and node.sup is None and self.output_layer:
            return replace(node, sup=Symbol(self.output_layer))
        return node

    def shape(self, node: Node) -> Shape:
        return self._shape.visit(node)

    def _letter(self, dim: Dim, pool) -> str:
        """The letter of a dimension: the pattern letter for a batch's patterns."""
        return self.pattern if dim.slot == "pattern" else self.fresh(pool)

    def fresh(self, pool=SUMMED) -> str:
        c = next(c for c in pool if c not in self.used)
        self.used.add(c)
        return c

    def entries(self, sides: list[Node]) -> list[Node]:
        """Each side as its entry at letters of its own; the sides unchanged where all are
        numbers. A Mismatch where the sides' shapes differ."""
        shapes = [self.shape(s) for s in sides]
        if all(s == SCALAR for s in shapes):  # inner products may still be inside
            return [self.entry(s, None, None) for s in sides]
        for (p, s), (q, t) in zip(zip(sides, shapes), list(zip(sides, shapes))[1:]):
            if s != SCALAR and t != SCALAR and ((s[0] is None) != (t[0] is None)
                                                 or (s[1] is None) != (t[1] is None)):
                raise Mismatch(f"the sides have different shapes: {describe(p, s)}, "
                               f"{describe(q, t)}")
            if (s == SCALAR) != (t == SCALAR):
                raise Mismatch(f"the sides have different shapes: {describe(p, s)}, "
                               f"{describe(q, t)}")
            for k, what in ((0, "rows"), (1, "columns")):
                if s[k] and t[k] and (s[k].slot == "pattern") != (t[k].slot == "pattern"):
                    which = lambda d: "the patterns" if d.slot == "pattern" else "units"
                    raise Mismatch(f"the {what} of {to_latex(p)} are {which(s[k])} and those "
                                   f"of {to_latex(q)} {which(t[k])}: the sides have different "
                                   "shapes")
        rows, cols = shapes[0]
        i = self._letter(rows, FREE) if rows is not None else None
        j = self._letter(cols, FREE) if cols is not None else None
        out = [self.entry(s, i, j) for s in sides]
        shaped = [(p, s) for p, s in zip(sides, shapes) if s != SCALAR]
        for (p, s), (q, t) in zip(shaped, shaped[1:]):
            for k, letter, what in ((0, i, "rows"), (1, j, "columns")):
                if letter is not None and s[k] is not None:
                    self.products.append(Product(p, q, s[k], t[k], letter, (what, what),
                                                 "the sides have different shapes"))
        return out

    # -- entries -------------------------------------------------------------------------
    def entry(self, node: Node, i: str | None, j: str | None) -> Node:
        """The entry (i, j) of node; None for a side of one."""
        return getattr(self, "_entry_" + type(node).__name__, self._entry_scalar)(node, i, j)

    def _entry_scalar(self, node: Node, i, j) -> Node:
        return node

    def _entry_Symbol(self, node: Symbol, i, j) -> Node:
        rows, cols = self.shape(node)
        if rows is None:
            return node
        unit = self.batch(node)
        if unit is not None:  # pattern first, as in Bishop's z_{ni}
            sub = (i, j) if self.by_rows else (j, i)
            out = replace(node, name=unit, sub=sub)
        else:
            out = replace(node, sub=((j, i) if self.from_to else (i, j)) if cols else (i,))
        self.placed[(rows, i)] = out
        if cols is not None:
            self.placed[(cols, j)] = out
        return out

    def mismatches(self, layer_of: Callable[[Symbol], int | None], width: Callable[[int], int],
                   label: Callable[[int], str]) -> list[str]:
        """Where the shapes that meet do not fit the network, given each entry symbol's
        layer (a weight's: the layer it feeds): the sizes, or the layers where they agree."""
        out = []
        for p in self.products:
            dims = (p.left_dim, p.right_dim)
            if any(d.slot == "pattern" for d in dims):
                continue  # patterns meet patterns (visit_Mul): every batch has N of them
            symbols = [self.placed.get((d, p.letter)) for d in dims]
            layers = [layer_of(s) if s is not None else None for s in symbols]
            if None in layers:
                continue
            layers = [l - (d.slot == "from") for l, d in zip(layers, dims)]
            if layers[0] == layers[1]:
                continue
            n = [width(l) for l in layers]
            left, right = to_latex(p.left), to_latex(p.right)
            if n[0] != n[1]:
                out.append(f"{left} has {n[0]} {p.what[0]} and {right} {n[1]} {p.what[1]}: "
                           f"{p.reason}")
            else:
                out.append(f"the {p.what[0]} of {left} are the units of layer "
                           f"{label(layers[0])}, the {p.what[1]} of {right} those of layer "
                           f"{label(layers[1])}")
        return out

    def _entry_Neg(self, node: Neg, i, j) -> Node:
        return Neg(self.entry(node.body, i, j))

    def _entry_Transpose(self, node: Transpose, i, j) -> Node:
        return self.entry(node.body, j, i)

    def _entry_Add(self, node: Add, i, j) -> Node:
        return Add(tuple(self._each(node, t, i, j) for t in node.terms))

    def _entry_Hadamard(self, node: Hadamard, i, j) -> Node:
        return Mul(tuple(self._each(node, f, i, j) for f in node.factors))

    def _each(self, whole: Node, part: Node, i, j) -> Node:
        """One operand of an entrywise operation, its entry; its rows recorded against the
        first shaped operand's, so a reading can say where they differ in size."""
        shape = self.shape(part)
        if shape == SCALAR:
            return self.entry(part, None, None)
        first = next(p for p in _operands(whole) if self.shape(p) != SCALAR)
        if first is not part and shape[0] is not None:
            self.products.append(Product(first, part, self.shape(first)[0], shape[0], i,
                                         **ENTRYWISE))
        return self.entry(part, i, j)

    def _entry_Call(self, node: Call, i, j) -> Node:
        return replace(node, args=tuple(self.entry(a, i, j) for a in node.args))

    def _entry_Power(self, node: Power, i, j) -> Node:
        return Power(self.entry(node.base, i, j), self.entry(node.exponent, None, None))

    def _entry_Frac(self, node: Frac, i, j) -> Node:
        return Frac(self.entry(node.num, i, j), self.entry(node.den, None, None))

    def _entry_Sum(self, node: Sum, i, j) -> Node:
        return replace(node, body=self.entry(node.body, i, j))

    def _entry_Grad(self, node: Grad, i, j) -> Node:
        return Partial(self.entry(node.body, None, None), self.entry(self.wrt(node.wrt), i, j))

    def _entry_Partial(self, node: Partial, i, j) -> Node:
        num, den = self.shape(node.num), self.shape(node.den)
        if num == SCALAR:
            return Partial(self.entry(node.num, None, None), self.entry(node.den, i, j))
        if den == SCALAR:
            return Partial(self.entry(node.num, i, j), self.entry(node.den, None, None))
        return Partial(self.entry(node.num, i, None), self.entry(node.den, j, None))

    def _entry_Mul(self, node: Mul, i, j) -> Node:
        scalars = [self.entry(f, None, None) for f in node.factors if self.shape(f) == SCALAR]
        shaped = [f for f in node.factors if self.shape(f) != SCALAR]
        if not shaped:
            return Mul(tuple(scalars))
        return Mul(tuple(scalars) + (self._chain(shaped, i, j),)) if scalars \
            else self._chain(shaped, i, j)

    def _chain(self, factors: list[Node], i, j) -> Node:
        """The entry (i, j) of a product of shaped factors, left to right."""
        if len(factors) == 1:
            return self.entry(factors[0], i, j)
        head, last = factors[:-1], factors[-1]
        head_node = Mul(tuple(head)) if len(head) > 1 else head[0]
        inner = self.shape(head_node)[1]
        if inner is None:  # a column times a row: the outer product
            return _times(self._chain(head, i, None), self.entry(last, None, j))
        m = self._letter(inner, SUMMED)  # over the patterns, a sum over the batch
        self.products.append(Product(head_node, last, inner, self.shape(last)[0], m))
        return Sum(index=m, body=_times(self._chain(head, i, m), self.entry(last, m, j)))


def _times(a: Node, b: Node) -> Mul:
    return Mul((a.factors if isinstance(a, Mul) else (a,)) + (b.factors if isinstance(b, Mul) else (b,)))


def _operands(node: Node) -> tuple:
    return node.terms if isinstance(node, Add) else node.factors
