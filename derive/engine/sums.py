"""Sums at symbolic width: the part of a proof that holds for every width at once.

With n a symbol, a layer's weighted input is Sum(w_ki z_i, (i, 1, n)); differentiating
it gives a KroneckerDelta inside the sum, which picks out one term when the index lies
in the sum's range (DESIGN.md, "Width"). What is left is a rational function of sums.
Two expressions are then compared by putting each sum in a canonical form:

- linear: a sum of a sum of terms is the sum of the sums, and a factor that does not
  depend on the summed index comes out of the sum;
- a KroneckerDelta of the summed index keeps the one term it picks, when the index it
  is compared with ranges over the same units;
- the summed index gets a name fixed by the sum's nesting, so that the same sum built
  twice is the same expression.

Each rule is an identity, and the sums that remain are then taken as independent atoms
(normal.py), so a zero is a proof; a non-zero difference is refuted, if it is wrong, at a
concrete width (checks.py), never here.

>>> import sympy as sp
>>> n = sp.Symbol("n", integer=True, positive=True)
>>> i, k = sp.symbols("i k", cls=sp.Dummy, integer=True, positive=True)
>>> w, d = sp.IndexedBase("w"), sp.IndexedBase("d")
>>> c = sp.Symbol("c")
>>> canonical(sp.Sum(c * w[i] * d[i], (i, 1, n))) == canonical(c * sp.Sum(d[k] * w[k], (k, 1, n)))
True
"""
from __future__ import annotations

from itertools import product
from typing import Callable

import sympy as sp

_BOUND = "_s"


def bound(depth: int) -> sp.Symbol:
    """The canonical name of a summed index, by how many sums lie inside its sum."""
    return sp.Symbol(f"{_BOUND}{depth}", integer=True, positive=True)


def _depth(expr: sp.Expr) -> int:
    inner = [int(s.name[len(_BOUND):]) for s in expr.free_symbols
             if s.name.startswith(_BOUND) and s.name[len(_BOUND):].isdigit()]
    bound_inside = [int(v.name[len(_BOUND):]) for s in expr.atoms(sp.Sum) for v, *_ in s.limits
                    if v.name.startswith(_BOUND) and v.name[len(_BOUND):].isdigit()]
    return max(inner + bound_inside, default=-1) + 1


def canonical(expr: sp.Expr, *, same_range: Callable[[sp.Expr, sp.Expr, sp.Expr], bool] | None = None) -> sp.Expr:
    """Every Sum of expr rewritten linearly, with KroneckerDeltas of its index taken and
    its index named canonically. `same_range(x, lo, hi)` says whether x takes exactly the
    values lo..hi (default: never assumed, so such a term stays a sum)."""
    same_range = same_range or (lambda x, lo, hi: False)

    def one(s: sp.Sum) -> sp.Expr:
        if len(s.limits) != 1:
            return one(sp.Sum(sp.Sum(s.function, *s.limits[:-1]), s.limits[-1]))
        var, lo, hi = s.limits[0]
        total = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(s.function)):
            inside, outside = [], []
            for f in sp.Mul.make_args(term):
                (inside if var in f.free_symbols else outside).append(f)
            picked = _picked(inside, var)
            if picked is not None and same_range(picked, lo, hi):
                rest = [f for f in inside if not _is_delta_of(f, var)]
                total += sp.Mul(*outside) * sp.Mul(*rest).xreplace({var: picked})
                continue
            if not inside:
                total += sp.Mul(*outside) * (hi - lo + 1)
                continue
            body = sp.Mul(*inside)
            name = bound(_depth(body))
            total += sp.Mul(*outside) * sp.Sum(body.xreplace({var: name}), (name, lo, hi))
        return total

    # bottom-up, so that inner sums are canonical before the sums that contain them
    return expr.replace(lambda e: isinstance(e, sp.Sum), one)


def _is_delta_of(f: sp.Expr, var: sp.Symbol) -> bool:
    return isinstance(f, sp.KroneckerDelta) and var in f.args


def _picked(factors: list[sp.Expr], var: sp.Symbol) -> sp.Expr | None:
    deltas = [f for f in factors if _is_delta_of(f, var)]
    if len(deltas) != 1:
        return None
    a, b = deltas[0].args
    other = b if a == var else a
    return None if var in other.free_symbols else other


def holds_throughout(condition: sp.Basic, ranges: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]]) -> bool | None:
    """Whether a conjunction of linear inequalities in the indices holds for every value
    of each index in its range, widths symbolic: a linear inequality holds on a box
    exactly when it holds at every corner. None when the condition is not of that form."""
    parts = condition.args if isinstance(condition, sp.And) else (condition,)
    if condition is sp.true:
        return True
    if not all(isinstance(p, (sp.LessThan, sp.GreaterThan, sp.StrictLessThan,
                              sp.StrictGreaterThan)) for p in parts):
        return None
    idx = sorted({s for p in parts for s in p.free_symbols if s in ranges}, key=str)
    if idx and any(sp.Poly(p.lhs - p.rhs, *idx).total_degree() > 1 for p in parts):
        return None
    for corner in product(*(ranges[i] for i in idx)):
        at = dict(zip(idx, corner))
        for p in parts:
            value = p.xreplace(at)
            if value is not sp.true:
                # a symbolic width: decide n >= 1, n >= n, n + 1 > n by the sign of the difference
                d = sp.expand(value.lhs - value.rhs)
                sign = {sp.GreaterThan: d.is_nonnegative, sp.StrictGreaterThan: d.is_positive,
                        sp.LessThan: d.is_nonpositive, sp.StrictLessThan: d.is_negative}[type(value)] \
                    if isinstance(value, sp.core.relational.Relational) else value is sp.true
                if sign is not True:
                    return False if sign is False else None
    return True
