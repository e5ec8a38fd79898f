"""Normal form: every expression of the engine as a rational function of independent atoms.

e^(a_j) becomes a positive atom u_j; a value h(a_j) or a derivative h'(a_j) of an abstract
activation becomes an atom of its own; what is left of a logarithm becomes an atom too, and
so does each root (sqrt(var + epsilon) of a normalisation).
Sigmoid, tanh, softmax, their derivatives and the derivatives of the cross-entropies are
then rational functions of the atoms, and whether a rational function is identically
zero is decidable: put it over one denominator and expand the numerator.

Atoms are treated as independent, which can only make a difference look *less* zero
than it is, never more: so "zero" is a proof, and "not zero" is confirmed by evaluating
the original expressions at a point before anything is called refuted.

>>> import sympy as sp
>>> a = sp.IndexedBase("pre1", real=True)[1]
>>> s = 1 / (1 + sp.exp(-a))
>>> is_zero(sp.diff(s, a) - s * (1 - s))
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import TooMuchWork, as_expr


def _is_applied_derivative(e: sp.Basic) -> bool:
    return isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef)


@dataclass
class NormalForm:
    """Rewrites expressions into atoms; one instance keeps the atoms of one proof."""

    atoms: dict[sp.Basic, sp.Symbol] = field(default_factory=dict)

    def _atom(self, what: sp.Basic, *, positive: bool = False) -> sp.Symbol:
        if what not in self.atoms:
            self.atoms[what] = sp.Symbol(f"_atom{len(self.atoms)}", positive=positive or None)
        return self.atoms[what]

    def _exp(self, arg: sp.Expr) -> sp.Expr:
        # e^(sum c_m m) = prod u_m^c_m, one positive atom u_m = e^m for each monomial m of
        # the exponent, so that e^(-x) and 1/e^x are the same; a non-integer coefficient
        # keeps its whole term as one atom.
        result = sp.Integer(1)
        for term in sp.Add.make_args(sp.expand(arg)):
            coeff, monomial = term.as_coeff_Mul()
            if coeff.is_Integer and monomial != 1:
                result *= self._atom(sp.exp(monomial), positive=True) ** int(coeff)
            else:
                result *= self._atom(sp.exp(term), positive=True)
        return result

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        expr = as_expr(expr)
        # a sum left at symbolic width (width.py made it canonical) is one atom
        expr = expr.replace(lambda e: isinstance(e, sp.Sum), self._atom)
        expr = expr.replace(sp.tanh, lambda x: (sp.exp(2 * x) - 1) / (sp.exp(2 * x) + 1))
        expr = expr.replace(_is_applied_derivative, self._atom)
        expr = expr.replace(lambda e: isinstance(e, AppliedUndef), self._atom)
        expr = expr.replace(sp.exp, self._exp)
        expr = expr.replace(sp.log, lambda x: self._atom(sp.log(x)))
        # b^(p/q) = r^p, one atom r for each q-th root (a normalisation's sqrt(var + eps))
        expr = expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer,
                            lambda e: self._atom(e.base ** sp.Rational(1, e.exp.q)) ** e.exp.p)
        return expr


# The most terms a normal form's numerator may have: 25,000 took about 5 s to expand
# here, 500,000 about a minute; no proof of the tests, the catalogue or a report has
# needed more than 70, so this leaves room for far larger claims than any of them.
WORK_LIMIT = 100_000


def numerator(expr: sp.Expr, *, limit: int = WORK_LIMIT) -> sp.Expr:
    """The expanded numerator of a rational function put over one denominator: zero
    exactly when the function is. A polynomial is its own numerator, and its expanded
    form is canonical, so the costly common denominator is formed only when needed.
    TooMuchWork where it could have more than `limit` terms (expansion_bound)."""
    terms = expansion_bound(expr, cap=limit + 1)
    if terms > limit:
        raise TooMuchWork(terms, limit)
    expanded = sp.expand(expr)
    if expanded == 0 or not any(p.exp.is_negative for p in expanded.atoms(sp.Pow)):
        return expanded
    num, _ = sp.fraction(sp.together(expanded))
    return sp.expand(num)


def expansion_bound(expr: sp.Expr, *, cap: int = 10 ** 12) -> int:
    """At most how many terms the numerator of expr has once put over one denominator and
    expanded (a count of products formed, not a time), up to `cap`: what the expansion's
    work grows with. Each node's (numerator terms, denominator factors); a sum's common
    denominator is the least common multiple of its terms' factors, each distinct factor
    counted once, as SymPy's together() forms it; a factor is a power of a sum expanded,
    as numerator() expands before it puts anything over one denominator. Linear in the
    distinct nodes.

    >>> x, y, z = sp.symbols("x y z")
    >>> expansion_bound((x + y + z) ** 2), expansion_bound(x / (1 + y) + z / (1 + y) + 1)
    (6, 4)
    """
    size: dict[sp.Basic, int] = {}  # a denominator factor's own numerator terms
    memo: dict[sp.Basic, tuple[int, dict]] = {}
    sat = lambda v: min(v, cap)  # noqa: E731  (saturated: a count past the cap is the cap)

    def power(n: int, k: int) -> int:
        return cap if n > 1 and k > 64 else sat(math.comb(n + k - 1, k)) if n else 0

    def go(e: sp.Basic) -> tuple[int, dict]:
        if e in memo:
            return memo[e]
        if e.is_Add or e.is_Mul:
            parts = [go(a) for a in e.args]
            den: dict[sp.Basic, int] = {}
            for _, d in parts:
                for f, x in d.items():
                    den[f] = max(den.get(f, 0), x) if e.is_Add else den.get(f, 0) + x
            if e.is_Add:  # each term brought over the common denominator
                num = sat(sum(sat(n * _product(size, den, d, cap)) for n, d in parts))
            else:
                num = 1
                for n, _ in parts:
                    num = sat(num * n)
            out = (num, den)
        elif e.is_Pow and e.exp.is_Integer:
            n, d = go(e.base)
            k = int(e.exp)
            if k >= 0:
                out = (power(n, k), {f: x * k for f, x in d.items()})
            else:  # 1/b^k: b's denominator comes up; b^k, expanded (numerator() expands
                # first), is a new factor of its own, the same only as the same power of b
                size[e] = power(n, -k)
                out = (_product(size, {f: x * -k for f, x in d.items()}, {}, cap), {e: 1})
        else:  # an atom, a number, or what the normal form left whole
            out = (1, {})
        memo[e] = out
        return out
    return go(as_expr(expr))[0]


def _product(size: dict, den: dict, have: dict, cap: int) -> int:
    """The terms a numerator is multiplied by to bring its factors `have` up to `den`."""
    out = 1
    for f, x in den.items():
        for _ in range(x - have.get(f, 0)):
            out = min(out * size[f], cap)
    return out


def is_zero(expr: sp.Expr, form: NormalForm | None = None) -> bool:
    """True exactly when the expression is identically zero as a function of its atoms."""
    form = form or NormalForm()
    return numerator(form(expr)) == 0
