"""Normal form: every expression of the engine as a rational function of independent atoms.

e^(a_j) becomes a positive atom u_j; a value h(a_j) or a derivative h'(a_j) of an abstract
activation becomes an atom of its own; what is left of a logarithm becomes an atom too.
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

from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import as_expr


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
        return expr


def numerator(expr: sp.Expr) -> sp.Expr:
    """The expanded numerator of a rational function put over one denominator: zero
    exactly when the function is. A polynomial is its own numerator, and its expanded
    form is canonical, so the costly common denominator is formed only when needed."""
    expanded = sp.expand(expr)
    if expanded == 0 or not any(p.exp.is_negative for p in expanded.atoms(sp.Pow)):
        return expanded
    num, _ = sp.fraction(sp.together(expanded))
    return sp.expand(num)


def is_zero(expr: sp.Expr, form: NormalForm | None = None) -> bool:
    """True exactly when the expression is identically zero as a function of its atoms."""
    form = form or NormalForm()
    return numerator(form(expr)) == 0
