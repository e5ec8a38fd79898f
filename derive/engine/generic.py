"""The truth's fast path: a layered network's claims at a generic index, for every unit of a
layer at once, at a concrete width or at every width (DESIGN.md, "Width").

A layer's weighted input is a sum over the layer before, differentiated with its
KroneckerDelta collapsed under the index's range; the chain rule into the next layer is a
sum over that layer, with its deltas kept as atoms (the induction hypothesis); the output
layer's loss is a sum over the outputs. Sums keep a symbolic upper limit (a Dummy standing
for a concrete width) so that they are not unrolled, and are made canonical
(engine/sums.py) before the normal form compares them. What holds here holds for every
unit; what does not is tried unit by unit in the truth's frames (engine/truth.py).

>>> from bpcheck.derive.model.network import make_network
>>> net = make_network(layers=(2, 3, 2))
>>> j = net.index("this", 1)
>>> Generic(net).delta_at(1, j)[net.delta(1)[j]]  # doctest: +ELLIPSIS
Derivative(phi1(pre1[this@1]), pre1[this@1])*W2[1, this@1]*delta2[1] + ...
"""
from __future__ import annotations

from typing import Callable

import sympy as sp

from ..model.network import Network, UnitIndex
from .expr import Partial, collapse, partials_read
from .sums import canonical

Meaning = Callable[[sp.Expr], sp.Expr]


class Generic:
    """Meanings at generic indices: `for_claim` gives the meaning of a claim's written
    quantities by its kind (output, hidden layer step, gradient)."""

    def __init__(self, net: Network):
        self.net = net
        self._deltas: dict[tuple, dict] = {}

    # -- sums over a layer ----------------------------------------------------------------
    def sum_limit(self, l: int) -> tuple[sp.Expr, dict]:
        """The upper limit of a sum over layer l, kept a symbol so that doit() does not
        unroll it, and the width it stands for."""
        w = self.net.width(l)
        if isinstance(w, sp.Symbol):
            return w, {}
        n = sp.Dummy("n", integer=True, positive=True)
        return n, {n: w}

    def weighted_input(self, l: int, k: sp.Expr, *, of_pre: bool) -> tuple[sp.Expr, dict]:
        """a^l_k as a sum over layer l-1: of its outputs z (for gradients) or of its
        weighted inputs through the activation (for the layer step)."""
        net = self.net
        n, widths = self.sum_limit(l - 1)
        i = sp.Dummy("i", integer=True, positive=True)
        z = (net.activation(l - 1).value_at(net.pre(l - 1), i, n, net.phi(l - 1)) if of_pre
             else net.out(l - 1)[i])
        total = sp.Sum(net.W(l)[k, i] * z, (i, 1, n))
        return (total + net.b(l)[k] if net.bias else total), widths

    def d(self, expr: sp.Expr, wrt: sp.Expr, widths: dict) -> sp.Expr:
        return collapse(sp.diff(expr, wrt), self.net, widths=widths).xreplace(widths)

    def chain(self, l: int, wrt: sp.Expr) -> sp.Expr:
        """dE/d(wrt) = sum_k (dE/da^l_k) (da^l_k/d(wrt)), for a quantity that reaches the
        error only through the weighted inputs of layer l: the chain rule, written once.
        E = G(a^l) for whatever network lies downstream, and dG/da^l_k is delta^l_k."""
        net = self.net
        k = sp.Dummy("k", integer=True, positive=True)
        n, widths = self.sum_limit(l)
        a_k, inner = self.weighted_input(l, k, of_pre=isinstance(wrt, sp.Indexed)
                                         and wrt.base == net.pre(l - 1))
        term = net.delta(l)[k] * self.d(a_k, wrt, inner)
        return collapse(sp.Sum(term, (k, 1, n)), net, widths=widths).xreplace(widths)

    def canonical(self, expr: sp.Expr) -> sp.Expr:
        net = self.net
        same = lambda x, lo, hi: lo == 1 and isinstance(x, UnitIndex) and net.width(x.layer) == hi
        return canonical(collapse(expr, net), same_range=same)

    # -- meanings ----------------------------------------------------------------------------
    def for_claim(self, kind: str, layer: int) -> Meaning:
        """The meaning of the written quantities of an "output", "hidden" or "gradient"
        claim about `layer`."""
        if kind == "output":
            return self.output
        return self._downstream(layer, gradient=kind == "gradient")

    def _downstream(self, l: int, *, gradient: bool) -> Meaning:
        """A hidden-layer or gradient claim: the layer's own deltas and derivatives by the
        chain rule, the deltas of the layer whose deltas are given kept as atoms."""
        net = self.net
        own = l if gradient else l + 1

        def partial(p: Partial) -> sp.Expr:
            num, den = p.num, p.den
            if num == net.E and isinstance(den, sp.Indexed):
                if den.base == net.pre(own):
                    return net.delta(own)[den.indices[0]]
                if den.base in (net.W(own), net.b(own)) or (not gradient and den.base == net.pre(l)):
                    return self.chain(own, den)
            if isinstance(num, sp.Indexed) and num.base == net.pre(own):
                a_k, widths = self.weighted_input(own, num.indices[0],
                                                  of_pre=den.base == net.pre(own - 1))
                return self.d(a_k, den, widths)
            return p

        def meaning(expr: sp.Expr) -> sp.Expr:
            expr = expr.replace(lambda e: isinstance(e, Partial), partial)
            if not gradient:
                act, phi = net.activation(l), net.phi(l)
                expr = expr.replace(
                    lambda e: isinstance(e, sp.Derivative) and getattr(e.expr, "func", None) == phi,
                    lambda e: act.derivative(e.variables[0], phi))
                expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == net.delta(l),
                                    lambda e: self.chain(own, net.pre(l)[e.indices[0]]))
            return expr
        return meaning

    def output(self, expr: sp.Expr) -> sp.Expr:
        """The output layer's written quantities: the real loss, a sum over the output
        units, differentiated."""
        net, L = self.net, self.net.L
        n, widths = self.sum_limit(L)
        a, Y, t, phi = net.pre(L), net.out(L), net.t, net.phi(L)
        y = lambda x: net.output.value_at(a, x, n, phi)
        m = sp.Dummy("m", integer=True, positive=True)
        E_of_Y = sp.Sum(net.loss.value([Y[m]], [t[m]]), (m, 1, n))
        E = sp.Sum(net.loss.value([y(m)], [t[m]]), (m, 1, n))
        d = lambda e, x: collapse(sp.diff(e, x), net, widths=widths).xreplace(widths)
        outputs = lambda e: e.replace(lambda q: isinstance(q, sp.Indexed) and q.base == Y,
                                      lambda q: y(q.indices[0]).xreplace(widths))

        def partial(p: Partial) -> sp.Expr:
            num, den = p.num, p.den
            if not isinstance(den, sp.Indexed):
                return p
            if num == net.E and den.base == a:
                return d(E, den)
            if num == net.E and den.base == Y:
                return outputs(d(E_of_Y, den))
            if isinstance(num, sp.Indexed) and num.base == Y and den.base == a:
                return d(y(num.indices[0]), den)
            return p

        expr = expr.replace(lambda e: isinstance(e, Partial), partial)
        expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and getattr(e.expr, "func", None) == phi,
                            lambda e: d(y(e.variables[0].indices[0]), e.variables[0]))
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == net.delta(L),
                            lambda e: d(E, a[e.indices[0]]))
        return outputs(expr)

    def delta_at(self, l: int, j: UnitIndex) -> dict[sp.Basic, sp.Expr]:
        """delta^l_j at a generic index j, at a concrete width, for every unit of the layer
        at once: SymPy takes the chain rule through an undefined F of the next layer's
        weighted inputs once, and each one's sum over layer l collapses its KroneckerDelta
        under the range of j. One differentiation a layer, not one a unit."""
        key = (l, j)
        if key not in self._deltas:
            self._deltas[key] = self._delta_at(l, j)
        return self._deltas[key]

    def _delta_at(self, l: int, j: UnitIndex) -> dict[sp.Basic, sp.Expr]:
        net = self.net
        i = sp.Dummy("i", integer=True, positive=True)
        act, phi, aj = net.activation(l), net.phi(l), net.pre(l)[j]
        F = sp.Function(f"F{l + 1}")
        applied = [sp.Function(f"_inner{k}")(aj) for k in net.units(l + 1)]
        unit = dict(zip(applied, net.units(l + 1)))
        # da_k/da_j once, at a generic k: k is only a subscript of the weights and the bias,
        # and a_j holds no k, so differentiating and then setting k is setting k and then
        # differentiating, for each unit k of the next layer
        k = UnitIndex("next", l + 1)
        slope = collapse(sp.diff(sp.Sum(net.W(l + 1)[k, i] * act.values([net.pre(l)[i]], phi)[0],
                                        (i, 1, net.width(l))) + (net.b(l + 1)[k] if net.bias else 0),
                                 aj), net)
        d = sp.diff(F(*applied), aj)
        d = d.replace(lambda x: isinstance(x, sp.Derivative) and x.expr in unit,
                      lambda x: slope.xreplace({k: sp.Integer(unit[x.expr])}))
        return {net.delta(l)[j]: partials_read(d, F, lambda m: net.delta(l + 1)[m + 1]),
                sp.Derivative(phi(aj), aj): act.derivative(aj, phi)}
