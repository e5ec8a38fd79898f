"""The AST of a backprop equation: frozen dataclasses, and one generic visitor.

A pass over the AST subclasses `Visitor` (to look) or `Transformer` (to rebuild) and
overrides only the node types it cares about, as Python's ast.NodeVisitor and
NodeTransformer do: `generic_visit` walks every other node's children, so no pass can
forget one (a sum inside a power is scoped like any other).

>>> class Letters(Visitor):
...     def __init__(self):
...         self.found = set()
...     def visit_Symbol(self, node):
...         self.found.update(node.sub)
...         self.generic_visit(node)
>>> v = Letters()
>>> v.visit(Power(Paren(Sum(index="k", body=Symbol("x", ("k",)))), Number("2")))
>>> v.found
{'k'}
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Union

@dataclass(frozen=True)
class Number:
    """A numeral as written: "2", "0.5"."""
    text: str


class Shift(str):
    r"""An index with arithmetic, as x_{i+m-1}, h_{t+1} and x_{2i} write it: a sum of terms,
    each a whole-number coefficient and a letter (None for a constant). It is also the text
    of the index, so a symbol prints as written; only a layer's slice reads what it means.

    >>> s = Shift(((1, "i"), (1, "m"), (-1, None)))
    >>> str(s), s.letters, s.value({"i": 2, "m": 3})
    ('i+m-1', ('i', 'm'), 4)
    """

    terms: tuple[tuple[int, str | None], ...]

    def __new__(cls, terms):
        text = ""
        for n, (c, letter) in enumerate(terms):
            sign = "-" if c < 0 else ("+" if n else "")
            size = abs(c)
            text += sign + (str(size) if letter is None else
                            ("" if size == 1 else str(size)) + letter)
        out = super().__new__(cls, text)
        out.terms = tuple(terms)
        return out

    def __reduce__(self):  # pickled as its terms (a catalogue's worker sends results back)
        return Shift, (self.terms,)

    @property
    def letters(self) -> tuple[str, ...]:
        return tuple(letter for _, letter in self.terms if letter is not None)

    def value(self, of: dict):
        """The index's value, each letter's from `of`."""
        return sum(c * (1 if letter is None else of[letter]) for c, letter in self.terms)


@dataclass(frozen=True)
class Symbol:
    r"""A letter or name with its scripts. name is "a", "\delta", "\mathcal{L}" or "net";
    sub is the index tokens ("k", "j", or a Shift, "i+m"); sup is the raw superscript."""
    name: str
    sub: tuple[str, ...] = ()
    sup: Node | None = None
    primes: int = 0
    bold: bool = False


@dataclass(frozen=True)
class Paren:
    """Parentheses that mean something: only as a superscript, w^{(2)}."""
    body: Node


@dataclass(frozen=True)
class Neg:
    body: Node


@dataclass(frozen=True)
class Add:
    """terms in order; a - b is Add((a, Neg(b)))."""
    terms: tuple[Node, ...]


@dataclass(frozen=True)
class Mul:
    """Juxtaposition, \\cdot, \\times, *: an ordinary (matrix) product, in order."""
    factors: tuple[Node, ...]


@dataclass(frozen=True)
class Hadamard:
    factors: tuple[Node, ...]


@dataclass(frozen=True)
class Frac:
    num: Node
    den: Node


@dataclass(frozen=True)
class Partial:
    """dX/dY, written with \\partial on both sides; `total` where written with a plain d
    (\\frac{dE_n}{da_j}): along every path from Y to X."""
    num: Node
    den: Node
    total: bool = False


@dataclass(frozen=True)
class Differential:
    """\\partial X outside a well-formed Partial, as in \\frac{\\partial E}{a_j}."""
    body: Node


@dataclass(frozen=True, kw_only=True)
class Sum:
    r"""\sum over index: from lower to upper, or over index_set (\sum_{k \in U_j})."""
    index: str
    lower: Node | None = None
    upper: Node | None = None
    index_set: Node | None = None
    body: Node


@dataclass(frozen=True)
class Call:
    """A function applied: func carries the name and the primes (h'(a) has primes=1)."""
    func: Symbol
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Power:
    base: Node
    exponent: Node


@dataclass(frozen=True)
class Transpose:
    body: Node


@dataclass(frozen=True)
class Grad:
    r"""\nabla_{wrt} body; wrt is None for a bare \nabla."""
    wrt: Node | None
    body: Node


@dataclass(frozen=True)
class Norm:
    body: Node


NODES = (Number, Symbol, Paren, Neg, Add, Mul, Hadamard, Frac, Partial, Differential, Sum, Call,
         Power, Transpose, Grad, Norm)
Node = Union[Number, Symbol, Paren, Neg, Add, Mul, Hadamard, Frac, Partial, Differential, Sum,
             Call, Power, Transpose, Grad, Norm]


@dataclass(frozen=True)
class Equation:
    r"""sides in order with the relations between them ("=", "\equiv", "\neq"); one side and
    no relation for a bare expression. notes are \text{...} prose around the equation."""
    sides: tuple[Node, ...]
    relations: tuple[str, ...] = ()
    tag: str | None = None
    notes: tuple[str, ...] = ()


def children(node) -> list:
    """The nodes directly inside a node, in field order."""
    out = []
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, NODES))
        elif isinstance(value, NODES):
            out.append(value)
    return out


class Visitor:
    """Walks an AST: visit_<NodeClass> where a pass defines one, generic_visit elsewhere."""

    def visit(self, node):
        return getattr(self, "visit_" + type(node).__name__, self.generic_visit)(node)

    def generic_visit(self, node):
        for child in children(node):
            self.visit(child)


class Transformer(Visitor):
    """Rebuilds an AST: each node's children transformed, the node rebuilt around them."""

    def generic_visit(self, node):
        changes = {}
        for f in fields(node):
            value = getattr(node, f.name)
            if isinstance(value, tuple) and any(isinstance(v, NODES) for v in value):
                changes[f.name] = tuple(self.visit(v) if isinstance(v, NODES) else v for v in value)
            elif isinstance(value, NODES):
                changes[f.name] = self.visit(value)
        return replace(node, **changes) if changes else node
