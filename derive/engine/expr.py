"""Vocabulary of claims that SymPy lacks: a partial derivative that stays written, and
sums collapsed under the index ranges the engine knows."""
from __future__ import annotations

from itertools import product

import sympy as sp

from ..errors import NotSupported, as_expr
from ..model.network import Network, UnitIndex
from .sums import holds_throughout


class Partial(sp.Expr):
    """dX/dY as a textbook writes it; never evaluates by itself.

    The checker gives it a meaning by substitution, so a claim like
    delta_k = sum_m (dE/dy_m)(dy_m/da_k) can be printed exactly as written and proved.
    """

    is_commutative = True

    def __new__(cls, num: sp.Expr, den: sp.Expr):
        return super().__new__(cls, as_expr(num), as_expr(den))

    @property
    def num(self) -> sp.Expr:
        return self.args[0]

    @property
    def den(self) -> sp.Expr:
        return self.args[1]

    def _eval_derivative(self, s):
        raise TypeError("a written partial derivative has no derivative of its own")


class ExitSlope(sp.Symbol):
    """dE/dz_u through the edges that leave a frame only: an atom of a frame whose unit u
    also feeds units inside it, or whose output a claim differentiates by."""

    def __new__(cls, unit: str) -> "ExitSlope":
        obj = super().__new__(cls, f"exit[{unit}]", real=True)
        obj.unit = unit
        return obj

    def __getnewargs_ex__(self):
        return ((self.unit,), {})


class Total(Partial):
    """da_k/da_j: the total derivative along every path, written d, not the partial."""

    def _bpcheck_latex(self, printer) -> str:
        return rf"\frac{{d {printer._print(self.num)}}}{{d {printer._print(self.den)}}}"

    def _bpcheck_text(self, printer) -> str:
        return f"d{printer._print(self.num)}/d{printer._print(self.den)}"


def rebuilt(expr: sp.Basic, leaf) -> sp.Expr:
    """expr with each node that `leaf(node, rebuild)` gives a value for (not None)
    replaced, the rest rebuilt from their leaves up, each distinct node once (`rebuild`
    is this, for what a leaf holds outside its args). A deep graph's expressions share
    their sub-expressions (every slope holds its unit's whole weighted input), so a tree
    walk (xreplace, replace, atoms) would visit every path through them again.

    >>> x, y = sp.symbols("x y")
    >>> rebuilt(sp.sin(x) * sp.cos(x) + 1, lambda e, _: y if e == x else None)
    sin(y)*cos(y) + 1
    """
    memo: dict[sp.Basic, sp.Expr] = {}

    def go(e: sp.Basic) -> sp.Expr:
        out = memo.get(e)
        if out is None:
            out = leaf(e, go)
            if out is None:
                args = [go(a) for a in e.args]
                out = e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e
            memo[e] = out
        return out
    return go(expr)


def tree_size(expr: sp.Basic) -> int:
    """The nodes of an expression as a tree, each distinct sub-expression counted once
    with how often it occurs, so without walking every path of a deep graph's meaning.

    >>> x = sp.Symbol("x")
    >>> tree_size(sp.sin(x) * sp.cos(x) + sp.sin(x))
    8
    """
    memo: dict[sp.Basic, int] = {}

    def go(e: sp.Basic) -> int:
        if e not in memo:
            memo[e] = 1 + sum(go(a) for a in e.args)
        return memo[e]
    return go(expr)


def partials_read(expr: sp.Expr, F: sp.FunctionClass, atom) -> sp.Expr:
    """Each partial derivative of the undefined function F replaced by `atom(position)`,
    the position of the variable among F's arguments.

    SymPy writes dF/dx_m at a point as Subs(Derivative(F(.., xi, ..), xi), xi, point), or as
    a plain Derivative when the argument is a symbol."""

    def of_F(e: sp.Basic) -> bool:
        return isinstance(e, sp.Derivative) and getattr(e.expr, "func", None) == F

    def read(d: sp.Derivative) -> sp.Expr:
        (var, count), = d.variable_count
        if count != 1:
            raise NotSupported("second derivatives of the error are not supported")
        return atom(d.expr.args.index(var))

    # Subs first: replace() works bottom-up and would otherwise take the Derivative
    # inside a Subs out of its context.
    expr = expr.replace(lambda e: isinstance(e, sp.Subs) and of_F(e.expr), lambda e: read(e.expr))
    return expr.replace(of_F, read)


def collapse(expr: sp.Expr, net: Network, *, widths: dict | None = None) -> sp.Expr:
    """expr.doit() with every Piecewise over index ranges removed where the range holds.

    SymPy's Sum(...).diff(w[j, k]).doit() leaves Piecewise((value, (j >= 1) & (j <= n)),
    (0, True)). A UnitIndex of layer l ranges over 1..n_l, so the engine evaluates the
    conditions at every value in that range and keeps a branch only where Piecewise would
    select that same branch at all of them.
    `widths` gives the values of width symbols left in the upper limits of sums.
    """
    widths = widths or {}
    expr = expr.doit()

    def selected(pw: sp.Piecewise) -> sp.Expr:
        """The branch Piecewise picks at every index value in range, if it is one branch."""
        conds = [cond.xreplace(widths) for _, cond in pw.args]
        idx = sorted({s for c in conds for s in c.free_symbols if isinstance(s, UnitIndex)}, key=str)
        symbolic = {w for i in idx for w in [net.width(i.layer)] if isinstance(w, sp.Symbol)}
        if any(c.free_symbols - set(idx) - symbolic for c in conds):
            return pw
        if symbolic:  # every width at once: decide each condition on the whole range
            ranges = {i: (sp.Integer(1), net.width(i.layer)) for i in idx}
            return pw.args[0][0] if holds_throughout(conds[0], ranges) else pw
        picks = set()
        for values in product(*(net.units(i.layer) for i in idx)):
            at = dict(zip(idx, map(sp.Integer, values)))
            picks.add(next((n for n, c in enumerate(conds) if bool(c.xreplace(at))), None))
            if len(picks) > 1:
                return pw
        (pick,) = picks
        return pw if pick is None else pw.args[pick][0]

    return expr.replace(lambda e: isinstance(e, sp.Piecewise), selected)
