r"""Mini-batches: a claim about N patterns read as a claim about one pattern and N.

Bishop's E = Σ_n E_n (or a mean, (1/N) Σ_n E_n, as a notation says in its [pattern]
table) makes ∂E/∂w_ji = Σ_n δ_nj z_ni a claim about every batch. A claim that is linear in
the batch, `Σ_n D(p_n) + R = 0` for every N and every N patterns p_1 .. p_N, holds exactly
when `N D(p) + R = 0` for every N and every one pattern p: take all N patterns alike for
one way; for the other, D(p) = -R/N for every p, so the sum is -R. So a sum over the
patterns is N times its body at one pattern, the total error N E_n (or E_n for a mean),
∂E/∂w_ji is N ∂E_n/∂w_ji (or ∂E_n/∂w_ji), and ∂E/∂a_nj, about pattern n's own quantity,
is ∂E_n/∂a_nj (or that over N). What is not linear in the batch (a product or a power of
sums over patterns, one pattern's quantity beside the batch's) is not read: the
reduction would not be exact.

The batch size N is left a symbol; latex/binding.py decides the claim at as many values
of N as its degree in N needs, which proves it for every N.

>>> from bpcheck.derive.io.notation_file import load_notation
>>> from bpcheck.derive.model.network import make_network
>>> from .grammar import parse_expression
>>> from .reader import Reader
>>> from .tex import to_latex
>>> reader = Reader(load_notation("bishop"), make_network(), {})
>>> sides, batched, _ = per_pattern([parse_expression(r"\frac{\partial E}{\partial w_{ji}}"),
...                                parse_expression(r"\sum_n \delta_{nj} z_{ni}")], reader)
>>> batched, [to_latex(s) for s in sides]
(True, ['N \\frac{\\partial E_{n}}{\\partial w_{ji}}', 'N \\delta_{nj} z_{ni}'])
"""
from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from ..errors import NotSupported
from .ast import (Frac, Grad, Mul, Node, Number, Partial, Sum, Symbol, Transformer, Visitor,
                  children)
from .grammar import parse_expression
from .reader import ROLES, UNIT_ROLES, Reader
from .tex import to_latex

CONST, PATTERN, BATCH = 0, 1, 2  # the same in every pattern; one pattern's; the batch's


class _Kinds(Visitor):
    """Each node's kind, and what the claim writes of the batch. Raises where the claim is
    not linear in the batch."""

    def __init__(self, reader: Reader):
        self.r, self.pattern = reader, reader.n.pattern
        self.kinds: dict[Node, int] = {}
        self.inside = 0                 # sums over the patterns around the node
        self.sums = self.size = self.total = self.named = False
        self.batch: Node | None = None  # a quantity of the whole batch
        self.loose: Node | None = None  # one pattern's quantity outside a sum over them

    def visit(self, node: Node) -> int:
        kind = super().visit(node)
        self.kinds[node] = kind
        if kind == BATCH and self.batch is None:
            self.batch = node
        return kind

    def generic_visit(self, node: Node) -> int:
        return max((self.visit(c) for c in children(node)), default=CONST)

    def _once(self, node: Node, kinds: list[int], what: str) -> int:
        """Linear in the batch: at most one part of the batch's, and then the rest constant."""
        if BATCH in kinds and sum(k != CONST for k in kinds) > 1:
            raise NotSupported(f"{to_latex(node)}: {what} of the whole batch's quantities is "
                               "not linear in the batch, and only a linear claim is decided "
                               "exactly from one pattern")
        return max(kinds, default=CONST)

    def _flat(self, node: Node, kinds: list[int], what: str) -> int:
        """Where the batch may not enter at all: a power, a function, a norm."""
        if BATCH in kinds:
            raise NotSupported(f"{to_latex(node)}: {what} of the whole batch's quantities is "
                               "not linear in the batch, and only a linear claim is decided "
                               "exactly from one pattern")
        return max(kinds, default=CONST)

    def visit_Symbol(self, node: Symbol) -> int:
        keys, _ = self.r.keys_of(node)
        roles = {ROLES[k] for k in keys}
        marked = any(self.r.n.layer_marks.get(k, "none") != "none" for k in keys)
        if node.sup is not None and not marked:  # a power
            return self._flat(node, [self.visit(replace(node, sup=None)),
                                     self.visit(node.sup)], "a power")
        if "N" in roles:
            self.size = True
            return CONST
        if len(node.sub) > 1 and node.sub[0] == self.pattern or (
                "E" in roles and node.sub == (self.pattern,)):
            self.named = self.named or not self.inside
            return self._pattern(node)
        if roles == {"E"} and not node.sub:
            self.total = True
            return BATCH
        return self._pattern(node) if roles & set(UNIT_ROLES) else CONST

    def _pattern(self, node: Node) -> int:
        if not self.inside and self.loose is None:
            self.loose = node
        return PATTERN

    def is_total(self, node: Node) -> bool:
        return isinstance(node, Symbol) and not node.sub and node.sup is None and \
            {ROLES[k] for k in self.r.keys_of(node)[0]} == {"E"}

    def visit_Partial(self, node: Partial) -> int:
        if self.is_total(node.num):
            self.total = True
            return BATCH if self.visit(node.den) == CONST else PATTERN
        return self._once(node, [self.visit(node.num), self.visit(node.den)], "a derivative")

    def visit_Grad(self, node: Grad) -> int:
        if node.wrt is not None and self.is_total(node.body):
            self.total = True
            return BATCH if self.visit(node.wrt) == CONST else PATTERN
        return self.generic_visit(node)

    def visit_Mul(self, node) -> int:
        return self._once(node, [self.visit(f) for f in node.factors], "a product")

    visit_Hadamard = visit_Mul

    def visit_Frac(self, node: Frac) -> int:
        num, den = self.visit(node.num), self.visit(node.den)
        if den == BATCH or (num == BATCH and den != CONST):
            raise NotSupported(f"{to_latex(node)}: a quotient of the whole batch's quantities "
                               "is not linear in the batch, and only a linear claim is decided "
                               "exactly from one pattern")
        return max(num, den)

    def visit_Power(self, node) -> int:
        return self._flat(node, [self.visit(node.base), self.visit(node.exponent)], "a power")

    def visit_Call(self, node) -> int:
        return self._flat(node, [self.visit(a) for a in node.args], "a function")

    def visit_Norm(self, node) -> int:
        return self._flat(node, [self.visit(node.body)], "a norm")

    def visit_Sum(self, node: Sum) -> int:
        if node.index != self.pattern:
            return self.visit(node.body)
        self.sums = True
        self.inside += 1
        body = self.visit(node.body)
        self.inside -= 1
        if body == BATCH:
            raise NotSupported(f"{to_latex(node)}: the whole batch's quantity inside a sum over "
                               f"its patterns; inside the sum over {self.pattern}, write "
                               f"pattern {self.pattern}'s")
        return BATCH


class _PerPattern(Transformer):
    """The batch's quantities as N (or 1) times one pattern's."""

    def __init__(self, kinds: _Kinds, *, size: Symbol, error: Symbol, mean: bool):
        self.k, self.size, self.error, self.mean = kinds, size, error, mean

    def _times(self, node: Node, of: int) -> Node:
        """A derivative of the total error, by what it is taken with respect to."""
        if of == CONST:
            return node if self.mean else Mul((self.size, node))
        return Frac(node, self.size) if self.mean else node

    def visit_Symbol(self, node: Symbol) -> Node:
        if self.k.is_total(node):
            return self._times(self.error, CONST)
        return self.generic_visit(node)

    def visit_Partial(self, node: Partial) -> Node:
        if self.k.is_total(node.num):
            den = self.visit(node.den)
            return self._times(replace(node, num=self.error, den=den), self.k.kinds[node.den])
        return self.generic_visit(node)

    def visit_Grad(self, node: Grad) -> Node:
        if node.wrt is not None and self.k.is_total(node.body):
            return self._times(replace(node, body=self.error, wrt=self.visit(node.wrt)),
                               self.k.kinds[node.wrt])
        return self.generic_visit(node)

    def visit_Sum(self, node: Sum) -> Node:
        if node.index != self.k.pattern:
            return self.generic_visit(node)
        lower_ok = node.lower is None or node.lower == Number("1")
        upper_ok = node.upper is None or node.upper == self.size
        if not (lower_ok and upper_ok) or node.index_set is not None:
            raise NotSupported(f"{to_latex(node)}: a sum over part of the batch is not "
                               f"supported; sum over every pattern, \\sum_{{{node.index}=1}}"
                               f"^{{{to_latex(self.size)}}}, or leave the limits out")
        body = self.visit(node.body)
        return Mul((self.size,) + (body.factors if isinstance(body, Mul) else (body,)))


class PerPattern(NamedTuple):
    """A claim's sides about one pattern and N; whether it is about a batch; and, where
    it sets one pattern's quantity beside the batch's, the words for why it is decided
    with every pattern of the batch alike only (a refutation is then still a batch, N
    copies of a pattern; a proof is not a proof for patterns that differ)."""

    sides: list[Node]
    batch: bool = False
    alike: str = ""


def per_pattern(sides: list[Node], reader: Reader) -> PerPattern:
    """The sides of a claim about a mini-batch as sides about one pattern and the batch
    size N (PerPattern). A claim is about a batch where it sums over the patterns, writes
    N, or writes the error without its pattern index beside a pattern's quantity (E with
    δ_nj: E is then the batch's, Bishop's E = Σ_n E_n). Other claims are about one
    pattern, and bare E is that pattern's E_n."""
    n = reader.n
    if not n.pattern:
        return PerPattern(sides)
    kinds = _Kinds(reader)
    for s in sides:
        kinds.visit(s)
    if not (kinds.sums or kinds.size or (kinds.total and kinds.named)):
        return PerPattern(sides)
    alike = ""
    if kinds.batch is not None and kinds.loose is not None:
        alike = (f"{to_latex(kinds.loose)} is one pattern's, beside {to_latex(kinds.batch)}, "
                 "the whole batch's")
    error = parse_expression(n.symbols["error"])
    if isinstance(error, Symbol) and error.sub != (n.pattern,):
        error = replace(error, sub=(n.pattern,))  # E_p where the notation writes E for both
    change = _PerPattern(kinds, size=parse_expression(n.batch.size), error=error,
                         mean=n.batch.total == "mean")
    return PerPattern([change.visit(s) for s in sides], True, alike)
