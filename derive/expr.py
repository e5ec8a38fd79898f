"""Vocabulary of claims that SymPy lacks: a partial derivative that stays written, and
sums collapsed under the index ranges the engine knows."""
from __future__ import annotations

import sympy as sp

from .network import Network, UnitIndex


class Partial(sp.Expr):
    """dX/dY as a textbook writes it; never evaluates by itself.

    The checker gives it a meaning by substitution, so a claim like
    delta_k = sum_m (dE/dy_m)(dy_m/da_k) can be printed exactly as written and proved.
    """

    is_commutative = True

    def __new__(cls, num: sp.Expr, den: sp.Expr):
        return super().__new__(cls, sp.sympify(num), sp.sympify(den))

    @property
    def num(self) -> sp.Expr:
        return self.args[0]

    @property
    def den(self) -> sp.Expr:
        return self.args[1]

    def _eval_derivative(self, s):
        raise TypeError("a written partial derivative has no derivative of its own")


def collapse(expr: sp.Expr, net: Network, *, widths: dict | None = None) -> sp.Expr:
    """expr.doit() with every Piecewise over index ranges removed where the range holds.

    SymPy's Sum(...).diff(w[j, k]).doit() leaves Piecewise((value, (j >= 1) & (j <= n)),
    (0, True)). A UnitIndex of layer l ranges over 1..n_l, so the engine checks the
    condition at every value in that range and keeps the branch that holds at all of them.
    `widths` gives the values of width symbols left in the upper limits of sums.
    """
    widths = widths or {}
    expr = expr.doit()

    def holds_everywhere(cond: sp.Basic) -> bool:
        cond = cond.xreplace(widths)
        idx = sorted((s for s in cond.free_symbols if isinstance(s, UnitIndex)), key=str)
        if not idx or cond.free_symbols - set(idx):
            return cond == sp.true
        from itertools import product
        ranges = [net.units(i.layer) for i in idx]
        return all(bool(cond.xreplace(dict(zip(idx, map(sp.Integer, v)))))
                   for v in product(*ranges))

    def first_branch(pw: sp.Piecewise) -> sp.Expr:
        for value, cond in pw.args:
            if holds_everywhere(cond):
                return value
        return pw

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), first_branch)
