"""Jacobian report: which partial derivatives between layers vanish identically.

For each map a^l -> a^{l+1} between weighted inputs (Bishop's da_k/da_j in (5.55)) and
for the output activation a^L -> y (Nielsen's da^L_k/dz^L_j in (37)), the generic entry
is derived by differentiating the generic sum (KroneckerDelta collapsed under the index
ranges), and each entry of the concrete matrix is decided zero or not zero exactly.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import BudgetExceeded
from .expr import Partial, collapse
from ..model.network import Network, UnitIndex
from .normal import is_zero
from .proof import time_budget


@dataclass(frozen=True)
class Jacobian:
    """d of[row] / d wrt[col]; `zero[r][c]` is True where the entry is identically zero."""

    kind: str  # "layer" or "output-activation"
    layer: int  # the layer the map leads into
    of: sp.IndexedBase
    wrt: sp.IndexedBase
    row: UnitIndex
    col: UnitIndex
    entry: sp.Expr
    zero: tuple[tuple[bool, ...], ...]  # empty at symbolic width: no concrete matrix

    @property
    def partial(self) -> Partial:
        return Partial(self.of[self.row], self.wrt[self.col])

    def entry_at(self, row: int, col: int) -> sp.Expr:
        """The entry of the concrete matrix (1-based), the KroneckerDelta evaluated."""
        return self.entry.xreplace({self.row: sp.Integer(row), self.col: sp.Integer(col)}).doit()

    @property
    def vanishing(self) -> str:
        """'none', 'off-diagonal' or 'all' or 'some', in words the report can use."""
        if not self.zero:
            return self._generic_vanishing()
        flat = [z for row in self.zero for z in row]
        if not any(flat):
            return "none"
        if all(flat):
            return "all"
        square = len(self.zero) == len(self.zero[0])
        if square and all(z == (r != c) for r, row in enumerate(self.zero) for c, z in enumerate(row)):
            return "off-diagonal"
        return "some"


    def _generic_vanishing(self) -> str:
        """The pattern at every width, from the generic entry."""
        off, on = _off_and_on(self.entry, self.row, self.col)
        return "all" if off and on else "off-diagonal" if off else "none" if not on else "some"


def _off_and_on(entry: sp.Expr, row: UnitIndex, col: UnitIndex) -> tuple[bool, bool]:
    """Whether the generic entry vanishes off the diagonal and on it: a Kronecker delta of
    row and column is 0 off it and 1 on it."""
    deltas = {d for d in entry.atoms(sp.KroneckerDelta) if set(d.args) == {row, col}}
    # SymPy's 0 and 1, not ints: an entry that is a bare delta becomes the number itself
    off = is_zero(entry.xreplace({d: sp.S.Zero for d in deltas}))
    on = is_zero(entry.xreplace({d: sp.S.One for d in deltas}).xreplace({row: col}))
    return off, on


def _pattern(entry: sp.Expr, row: UnitIndex, col: UnitIndex, rows, cols) -> tuple | None:
    """The concrete matrix's zeros, decided once from the generic entry instead of entry by
    entry, where that is sound: every subscript in it is the row or the column index itself
    and the two meet only in their Kronecker delta. Then two symbols can be one only where
    row and column are equal, so every entry off the diagonal vanishes exactly when the
    generic one with the delta 0 does, and every entry on it when the generic one with row
    set to column does. Otherwise None: each entry is decided on its own.
    """
    entry = entry.doit()  # as each entry is decided: d a_k/d a_j is a Kronecker delta
    indexed = entry.atoms(sp.Indexed)
    if any(not set(x.indices) <= {row, col} for x in indexed):
        return None  # a number or an expression for a subscript: a[1] is a[j] where j = 1
    deltas = {d for d in entry.atoms(sp.KroneckerDelta) if set(d.args) == {row, col}}
    if entry.xreplace({x: sp.Dummy() for x in indexed | deltas}).has(row, col):
        return None  # the index itself in the expression
    off, on = _off_and_on(entry, row, col)
    return tuple(tuple(on if r == c else off for c in cols) for r in rows)


def layer_map(net: Network, l: int) -> Jacobian:
    """da^{l+1}_k / da^l_j: every entry w_kj h'(a_j), none vanishes identically."""
    k, j = net.index("next", l + 1), net.index("this", l)
    i = sp.Dummy("i", integer=True, positive=True)
    generic = sp.Sum(net.W(l + 1)[k, i] * net.phi(l)(net.pre(l)[i]), (i, 1, net.width(l)))
    if net.bias:
        generic += net.b(l + 1)[k]
    entry = collapse(sp.diff(generic, net.pre(l)[j]), net)
    if isinstance(entry, sp.Mul):  # w_kj h'(a_j), the weight first as in Bishop (5.56)
        entry = sp.Mul(*sorted(entry.args, key=lambda f: not isinstance(f, sp.Indexed)),
                       evaluate=False)
    J = Jacobian("layer", l + 1, net.pre(l + 1), net.pre(l), k, j, entry, ())
    if net.symbolic:
        return J
    # the concrete matrix's zeros from the generic entry, or else each entry decided exactly
    rows = _pattern(entry, k, j, net.units(l + 1), net.units(l)) or tuple(
        tuple(is_zero(J.entry_at(kk, jj)) for jj in net.units(l)) for kk in net.units(l + 1))
    return Jacobian("layer", l + 1, net.pre(l + 1), net.pre(l), k, j, entry, rows)


def output_activation(net: Network) -> Jacobian:
    """dy_m / da_k of the output activation: diagonal for elementwise, full for softmax."""
    L = net.L
    m, k = net.index("sum", L), net.index("this", L)
    a, y = net.pre(L), net.out(L)
    act = net.output
    if act.elementwise:
        entry = collapse(sp.diff(net.phi(L)(a[m]), a[k]), net)
    else:
        # Differentiate the generic softmax, then write e^(a_m) / sum_i e^(a_i) back as y_m.
        # The sum's limit stays a symbol so that doit() does not unroll it.
        i = sp.Dummy("i", integer=True, positive=True)
        n = sp.Dummy("n", integer=True, positive=True)
        total = sp.Sum(sp.exp(a[i]), (i, 1, n))
        S = sp.Dummy("S", positive=True)
        d = collapse(sp.diff(sp.exp(a[m]) / total, a[k]), net, widths={n: net.width(L)})
        d = d.xreplace({total: S})
        d = d.xreplace({sp.exp(a[m]): y[m] * S, sp.exp(a[k]): y[k] * S})
        entry = sp.factor_terms(sp.expand(d))
    if net.symbolic:
        return Jacobian("output-activation", L, y, a, m, k, entry, ())
    rows = _pattern(entry, m, k, net.units(L), net.units(L)) or _each_output_entry(net)
    return Jacobian("output-activation", L, y, a, m, k, entry, rows)


def _each_output_entry(net: Network) -> tuple[tuple[bool, ...], ...]:
    ys, a = net.layer_outputs(net.L), net.pre(net.L)
    return tuple(tuple(is_zero(sp.diff(ys[mm - 1], a[kk])) for kk in net.units(net.L))
                 for mm in net.units(net.L))


def jacobians(net: Network, *, budget: float | None = None) -> list[Jacobian]:
    """Every map's Jacobian; a map whose entries take longer than the budget to decide
    is left out, and the report says so."""
    out = []
    for make, args in [(layer_map, (net, l)) for l in range(1, net.L)] + [(output_activation, (net,))]:
        try:
            with time_budget(budget, clock="cpu"):
                out.append(make(*args))
        except BudgetExceeded:
            pass
    return out
