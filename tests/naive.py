"""The naive route, kept as an independent oracle: what a written equation means in a
concrete network when the whole forward pass is substituted, so that every quantity, delta
and partial derivative becomes an expression in the network's free variables (inputs,
weights, biases, targets). The engine never uses it (engine/truth.py reads a claim in its
frame); the tests compare with it, and bench/scaling.py times it.

A partial derivative dX/dY is taken as backprop texts mean it: X as a function of the
quantities of Y's layer (everything upstream held fixed), differentiated, then evaluated
at the forward pass. So Bishop's da_k/da_j is w_kj h'(a_j) for adjacent layers, and
dE/da_j is delta_j. The whole forward pass is substituted, which is exact and fine for the
small networks an equation is checked on; the report's proofs use the layer-local method.
"""
from __future__ import annotations

from functools import cached_property
from typing import Iterable

import sympy as sp
from sympy.core.function import AppliedUndef

from bpcheck.derive.engine.expr import Partial
from bpcheck.derive.errors import NotSupported
from bpcheck.derive.model.activation import KinkSide
from bpcheck.derive.model.network import Network, role_of


class Semantics:
    def __init__(self, net: Network):
        self.net = net
        self._cuts: dict[tuple[str, int], dict[sp.Basic, sp.Expr]] = {}

    # -- the forward pass from a cut ---------------------------------------------------------
    def from_cut(self, kind: str, q: int) -> dict[sp.Basic, sp.Expr]:
        """Every quantity at or after a cut, as expressions in the cut's variables.

        kind "pre": pre[q] free; kind "out": out[q] free (q = 0 is the whole network)."""
        key = (kind, q)
        if key in self._cuts:
            return self._cuts[key]
        net, value = self.net, {}
        if kind == "pre":
            pre = [net.pre(q)[j] for j in net.units(q)]
            outs = net.layer_outputs(q, pre)
            value.update({net.out(q)[j]: o for j, o in zip(net.units(q), outs)})
            start = q + 1
        else:
            outs = [net.out(q)[j] for j in net.units(q)]
            start = q + 1
        for l in range(start, net.L + 1):
            pre = [net.weighted_input(l, j, outs) for j in net.units(l)]
            value.update({net.pre(l)[j]: p for j, p in zip(net.units(l), pre)})
            outs = net.layer_outputs(l, pre)
            value.update({net.out(l)[j]: o for j, o in zip(net.units(l), outs)})
        value[net.E] = net.loss_value([value.get(net.out(net.L)[k], net.out(net.L)[k])
                                       for k in net.units(net.L)])
        self._cuts[key] = value
        return value

    @cached_property
    def forward(self) -> dict[sp.Basic, sp.Expr]:
        """Every quantity as an expression in inputs, weights, biases and targets."""
        return self.from_cut("out", 0)

    # -- meanings -------------------------------------------------------------------------
    def _cut_of(self, y: sp.Basic) -> tuple[str, int]:
        if not isinstance(y, sp.Indexed):
            raise NotSupported(f"a derivative with respect to {y} is not a quantity of the network")
        role, l = role_of(y.base)
        if role == "pre":
            return "pre", l
        if role == "out":
            return "out", l
        if role in ("W", "b"):
            return "out", l - 1
        if role == "t":
            return "out", 0
        raise NotSupported(f"a derivative with respect to {role} is not supported")

    def partial(self, x: sp.Expr, y: sp.Expr) -> sp.Expr:
        """dX/dY in the network, at the forward pass."""
        kind, q = self._cut_of(y)
        cut = self.from_cut(kind, q)
        x_at_cut = self._at(x, cut)
        d = sp.diff(x_at_cut, y)
        return self._at(d, self.forward)

    def _at(self, expr: sp.Expr, values: dict) -> sp.Expr:
        expr = slopes_as_functions(expr)
        # a ReLU's side belongs to its argument, which is substituted too
        kinks = {k: KinkSide(self._at(k.of, values)) for k in expr.atoms(KinkSide)}
        return expr.xreplace({**values, **kinks})

    def delta(self, d: sp.Indexed) -> sp.Expr:
        _, l = role_of(d.base)
        return self.partial(self.net.E, self.net.pre(l)[d.indices[0]])

    def meaning(self, expr: sp.Expr) -> sp.Expr:
        """The expression in the network's free variables."""
        net = self.net
        expr = expr.replace(lambda e: isinstance(e, Partial), lambda e: self.partial(
            self.meaning(e.num) if not _is_quantity(e.num, net) else e.num, e.den))
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and role_of(e.base)[0] == "delta",
                            self.delta)
        expr = expr.replace(_is_activation_slope, self._slope)
        expr = expr.replace(_is_activation_value(net), lambda e: self._value(e))
        return self._at(expr, self.forward)

    def _layer_of_phi(self, f: AppliedUndef) -> int:
        return int(f.func.__name__[3:])

    def _slope(self, d: sp.Derivative) -> sp.Expr:
        """f'(a) for the activation of a layer; for softmax, the diagonal entry dy_k/da_k."""
        l = self._layer_of_phi(d.expr)
        arg = d.expr.args[0]
        act = self.net.activation(l)
        if act.elementwise:
            x = arg if isinstance(arg, (sp.Indexed, sp.Symbol)) else sp.Dummy("x")
            slope = sp.diff(act.values([x], self.net.phi(l))[0], x)
            return slopes_as_functions(slope).xreplace({x: arg})
        if isinstance(arg, sp.Indexed) and role_of(arg.base) == ("pre", l):
            # f'(a_k) of softmax, as BP1 writes it: the diagonal entry dy_k/da_k
            k = arg.indices[0]
            return self.partial(self.net.out(l)[k], arg)
        raise NotSupported("the derivative of softmax at an expression is not one number")

    def _value(self, f: AppliedUndef) -> sp.Expr:
        l = self._layer_of_phi(f)
        act = self.net.activation(l)
        if act.elementwise:
            return act.values([f.args[0]], self.net.phi(l))[0]
        arg = f.args[0]
        if isinstance(arg, sp.Indexed) and role_of(arg.base) == ("pre", l):
            return self.net.out(l)[arg.indices[0]]
        raise NotSupported("softmax of one weighted input alone is not defined")


def slopes_as_functions(expr: sp.Expr) -> sp.Expr:
    """h'(x) of an abstract activation as dphi_l(x), an undefined function of its own, so
    that x may be replaced by an expression (SymPy cannot differentiate by one)."""
    def slope(f: AppliedUndef) -> sp.FunctionClass:
        return sp.Function(f"d{f.func.__name__}", real=True)

    expr = expr.replace(
        lambda e: isinstance(e, sp.Subs) and isinstance(e.expr, sp.Derivative) and _phi_layer(e.expr.expr),
        lambda e: slope(e.expr.expr)(*[e.point[e.variables.index(v)] if v in e.variables else v
                                       for v in e.expr.expr.args]))
    return expr.replace(
        lambda e: isinstance(e, sp.Derivative) and _phi_layer(e.expr) and len(e.variables) == 1,
        lambda e: slope(e.expr)(*e.expr.args))


def _is_quantity(e: sp.Basic, net: Network) -> bool:
    return e == net.E or isinstance(e, sp.Indexed)


def _phi_layer(e: sp.Basic) -> bool:
    return isinstance(e, AppliedUndef) and e.func.__name__.startswith("phi") \
        and e.func.__name__[3:].isdigit()


def _is_activation_slope(e: sp.Basic) -> bool:
    return isinstance(e, sp.Derivative) and _phi_layer(e.expr) and len(e.variables) == 1


def _is_activation_value(net: Network):
    return lambda e: _phi_layer(e) and not net.activation(int(e.func.__name__[3:])).abstract
