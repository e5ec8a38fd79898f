"""A point of the real network: values for its variables, and every quantity there.

A refutation is a point of the network itself, never of a frame's generalization: inputs,
weights, biases and targets (and, for an abstract activation, its value and slope at each
unit) are given values, the forward pass computes every a_u and z_u, and the backward pass
every delta_u and dE/dz_u. The values are exact rationals where every activation keeps
them rational (identity, ReLU, an abstract one's sampled values) and the loss is the sum of
squares; otherwise SymPy floats of PRECISION digits. A frame's expression is then
evaluated there (engine/truth.py): its variables, atoms and undefined functions all have
values at the point.

>>> from bpcheck.derive.model.network import make_network
>>> net = make_network(layers=(1, 1), output="identity", bias=False)
>>> p = Point(net.graph, {net.out(0)[1]: 2, net.W(1)[1, 1]: 3, net.t[1]: 1})
>>> p.a["1:1"], p.delta["1:1"]
(6, 5)
"""
from __future__ import annotations

import random
from functools import cached_property, lru_cache

import sympy as sp
from sympy.core.function import AppliedUndef

from ..model.activation import ACTIVATIONS, KinkSide
from ..model.graph import Graph, slope_function
from .expr import ExitSlope, rebuilt
from .frames import Frame

PRECISION = 60


@lru_cache(maxsize=None)
def _slope_of(name: str):
    """f' of a concrete elementwise activation, differentiated once."""
    s = sp.Dummy("s", real=True)
    d = sp.diff(ACTIVATIONS[name].scalar(s), s)
    return lambda x: d.xreplace({s: x})


@lru_cache(maxsize=None)
def _loss_slopes(loss, n: int):
    """dE/dy_k of a loss of n outputs, as functions of the outputs and targets."""
    y, t = sp.symbols(f"y1:{n + 1}", real=True), sp.symbols(f"t1:{n + 1}", real=True)
    value = loss.value(list(y), list(t))
    return y, t, [sp.diff(value, yk) for yk in y]


def exact(graph: Graph) -> bool:
    """Whether every value at a rational point is rational."""
    acts = [u.activation for u in graph.units if u.activation is not None]
    return graph.loss.name == "sse" and all(
        a.abstract or a.kink or a.name == "identity" for a in acts)


class KinkAtZero(ValueError):
    """A ReLU's argument is exactly 0 at the point: its derivative is not defined there."""


class Point:
    """The network at one point. `values` gives the variables; `abstract` each abstract
    unit's (value, slope). Values stay rational, or become floats when `floats`."""

    def __init__(self, graph: Graph, values: dict, *, abstract: dict | None = None,
                 floats: bool = False):
        self.graph, self.floats = graph, floats
        self.given = {q: sp.Rational(v) if isinstance(v, (int, str)) else v
                      for q, v in values.items()}
        self.values = {q: self._number(v) for q, v in self.given.items()}
        self.given_abstract = dict(abstract or {})
        self.abstract = {u: tuple(map(self._number, v)) for u, v in self.given_abstract.items()}
        self.a: dict[str, sp.Expr] = {}
        self.z: dict[str, sp.Expr] = {}
        self.slope: dict[str, sp.Expr] = {}
        for u in graph.units:
            self._forward(u.name)
        self.dz: dict[str, sp.Expr] = {}
        self.delta: dict[str, sp.Expr] = {}
        for u in reversed(graph.units):
            if u.kind != "input":
                self.delta_of(u.name)

    def _number(self, v) -> sp.Expr:
        v = sp.Rational(v) if isinstance(v, (int, str)) else v
        return sp.Float(v, PRECISION) if self.floats else v

    # -- the forward pass -----------------------------------------------------------------
    def _forward(self, u: str) -> None:
        unit, g = self.graph.unit(u), self.graph
        if unit.kind == "input":
            self.z[u] = self.values[unit.z]
            return
        a = sum((self.values[e.w] * self.z[e.source] for e in g.edges_into(u)), sp.Integer(0))
        self.a[u] = a + self.values[unit.bias] if unit.bias is not None else a
        act = unit.activation
        if act.abstract:
            self.z[u], self.slope[u] = self.abstract[u]
        elif act.kink:
            if self.a[u] == 0:
                raise KinkAtZero(u)
            self.z[u], self.slope[u] = (self.a[u], 1) if self.a[u] > 0 else (0, 0)
        elif act.elementwise:
            self.z[u], self.slope[u] = act.scalar(self.a[u]), _slope_of(act.name)(self.a[u])
        elif u == unit.group[-1]:  # the last of a vector activation's units: all of them
            zs = act.vector([self.a[m] for m in unit.group])
            self.z.update(zip(unit.group, zs))

    # -- the backward pass ----------------------------------------------------------------
    def _backward(self, u: str) -> None:
        """dE/dz_u: through every edge the unit sends, and the loss at an output."""
        g, unit = self.graph, self.graph.unit(u)
        dz = sum((self.values[g.edge(u, k).w] * self.delta_of(k) for k in g.succ(u)),
                 sp.Integer(0))
        if unit.kind == "output":
            dz += self.loss_slope(u)
        self.dz[u] = dz

    def delta_of(self, u: str) -> sp.Expr:
        """delta_u: through the activation's Jacobian, from dE/dz of its units."""
        if u not in self.delta:
            unit = self.graph.unit(u)
            if unit.vector:  # softmax: dz_m/da_u = z_m (I_mu - z_u)
                for m in unit.group:
                    if m not in self.dz:
                        self._backward(m)
                self.delta[u] = sum((self.z[m] * (int(m == u) - self.z[u]) * self.dz[m]
                                     for m in unit.group), sp.Integer(0))
            else:
                if u not in self.dz:
                    self._backward(u)
                self.delta[u] = self.slope[u] * self.dz[u]
        return self.delta[u]

    def loss_slope(self, k: str) -> sp.Expr:
        """dE/dy_k at the point, the loss differentiated by one output."""
        g = self.graph
        outs = g.outputs
        y, t, slopes = _loss_slopes(g.loss, len(outs))
        at = dict(zip(y, (self.z[o] for o in outs)))
        at.update(zip(t, (self.values[g.unit(o).target] for o in outs)))
        return slopes[outs.index(k)].xreplace(at)

    def exit_slope(self, u: str, frame: Frame) -> sp.Expr:
        """dE/dz_u through the edges that leave the frame (and the loss, for an output of a
        frame without the real loss)."""
        g = self.graph
        out = sum((self.values[g.edge(u, k).w] * self.delta_of(k) for k in g.succ(u)
                   if k not in frame.inside), sp.Integer(0))
        if g.unit(u).kind == "output" and not frame.real_loss:
            out += self.loss_slope(u)
        return out

    # -- a frame's expression here ----------------------------------------------------------
    @cached_property
    def known(self) -> dict[sp.Basic, sp.Expr]:
        """Every quantity's value here: the variables, each unit's a, z and delta."""
        values = dict(self.values)
        for q, (u, kind) in self.graph.symbols.items():
            if kind == "a" and u in self.a:
                values[q] = self.a[u]
            elif kind == "z":
                values[q] = self.z[u]
            elif kind == "delta" and u in self.a:
                values[q] = self.delta_of(u)
        return values

    def evaluate(self, expr: sp.Expr, frame: Frame) -> sp.Expr:
        """The value of an expression of the truth's, read in `frame`, at this point."""
        g, values = self.graph, self.known

        def own(f: AppliedUndef) -> sp.Expr:
            u = g.owners[f.func]
            return self.slope[u] if f.func == slope_function(g.unit(u).own) else self.z[u]

        def leaf(e: sp.Basic, evaluated) -> sp.Expr | None:
            if e in values:
                return values[e]
            if isinstance(e, ExitSlope):
                return self.exit_slope(e.unit, frame)
            if isinstance(e, AppliedUndef) and e.func in g.owners:
                v = own(e)
                return sp.Integer(v) if isinstance(v, int) else v  # a kink's slope is an int
            if isinstance(e, KinkSide):  # a side is the sign of its argument's value
                return sp.Integer(1 if evaluated(e.of) > 0 else 0)
            return None

        return sp.expand(rebuilt(expr, leaf))


def sample(graph: Graph, rng: random.Random, *, simplex: bool = False,
           unit_interval: bool = False) -> Point:
    """A random point: small rationals for inputs, weights and biases; targets in the
    loss's domain; each abstract unit's value and slope; floats where values cannot stay
    rational. A point where a ReLU sits on its kink is drawn again."""
    small = lambda: sp.Rational(rng.choice([-3, -2, -1, 1, 2, 3]), rng.choice([1, 2, 3, 4]))
    for _ in range(20):
        values = {q: small() for q in graph.variables()}
        targets = [graph.unit(k).target for k in graph.outputs]
        if simplex:
            weights = [rng.randint(1, 6) for _ in targets]
            values.update({t: sp.Rational(w, sum(weights)) for t, w in zip(targets, weights)})
        elif unit_interval:
            values.update({t: sp.Rational(rng.randint(1, 7), 8) for t in targets})
        abstract = {u.name: (small(), small()) for u in graph.units
                    if u.activation is not None and u.activation.abstract}
        try:
            return Point(graph, values, abstract=abstract, floats=not exact(graph))
        except KinkAtZero:
            continue
    raise KinkAtZero("no point away from every ReLU's kink was found")
