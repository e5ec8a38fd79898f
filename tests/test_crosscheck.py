"""The independent oracle: central finite differences of a forward pass written here, in
mpmath at 50 digits, must agree with every formula the engine proved, at random points.

Nothing of the engine's is used to compute the reference numbers: the forward pass,
the activations and the losses below are this file's own.
"""
from __future__ import annotations

import random

import mpmath as mp
import pytest
import sympy as sp

from bpcheck.derive.model.activation import KinkSide
from bpcheck.derive.engine.proof import Verdict
from bpcheck.derive.engine.claims import instances
from bpcheck.derive.model.graph import slope_function

from conftest import mp_activations, HIDDEN, PAIRS, derivation

mp.mp.dps = 50
STEP = mp.mpf("1e-18")
TOLERANCE = mp.mpf("1e-25")

# the abstract activation is checked with stand-ins (a claim about every f holds for these)
STAND_IN = {"hidden": (sp.atan, mp.atan), "output": (lambda x: x + x**3 / 3, lambda x: x + x**3 / 3)}

SCALAR = mp_activations()


def activate(name, role, pre):
    if name == "softmax":
        e = [mp.exp(x) for x in pre]
        return [v / mp.fsum(e) for v in e]
    f = STAND_IN[role][1] if name == "abstract" else SCALAR[name]
    return [f(x) for x in pre]


def loss(name, y, t):
    if name == "sse":
        return mp.fsum((a - b) ** 2 for a, b in zip(y, t)) / 2
    if name == "bce":
        return -mp.fsum(b * mp.log(a) + (1 - b) * mp.log(1 - a) for a, b in zip(y, t))
    return -mp.fsum(b * mp.log(a) for a, b in zip(y, t))


class Oracle:
    """A network at a point, and the loss as a function of any one quantity in it."""

    def __init__(self, net, rng):
        self.net = net
        r = lambda: mp.mpf(rng.randint(-90, 90)) / 40
        self.W = {l: [[r() for _ in range(net.widths[l - 1])] for _ in range(net.widths[l])]
                  for l in range(1, net.L + 1)}
        self.b = {l: [r() if net.bias else mp.mpf(0) for _ in range(net.widths[l])]
                  for l in range(1, net.L + 1)}
        self.x = [r() for _ in range(net.widths[0])]
        n = net.widths[-1]
        if net.loss.targets_sum_to_one:
            w = [rng.randint(1, 5) for _ in range(n)]
            self.t = [mp.mpf(v) / sum(w) for v in w]
        else:
            self.t = [mp.mpf(rng.randint(1, 7)) / 8 for _ in range(n)]
        self.pre, self.out = self.forward()

    def forward(self, start=None, start_pre=None, W=None, b=None):
        net, W, b = self.net, W or self.W, b or self.b
        out, pre = {0: self.x}, {}
        for l in range(1, net.L + 1):
            if start == l:
                pre[l] = start_pre
            else:
                pre[l] = [mp.fsum(W[l][j][i] * out[l - 1][i] for i in range(net.widths[l - 1]))
                          + b[l][j] for j in range(net.widths[l])]
            out[l] = activate(net.activation(l).name, "output" if l == net.L else "hidden",
                              pre[l])
        return pre, out

    def E(self, **kw):
        pre, out = self.forward(**kw)
        return loss(self.net.loss.name, out[self.net.L], self.t)

    def central(self, f):
        return (f(STEP) - f(-STEP)) / (2 * STEP)

    def d_pre(self, l, j):
        def f(h):
            p = list(self.pre[l]); p[j] += h
            return self.E(start=l, start_pre=p)
        return self.central(f)

    def d_weight(self, l, j, i):
        def f(h):
            W = {k: [row[:] for row in v] for k, v in self.W.items()}; W[l][j][i] += h
            return self.E(W=W)
        return self.central(f)

    def d_bias(self, l, j):
        def f(h):
            b = {k: v[:] for k, v in self.b.items()}; b[l][j] += h
            return self.E(b=b)
        return self.central(f)

    def values(self):
        """Every canonical quantity at this point, the deltas from finite differences."""
        net, v = self.net, {}
        for l in range(net.L + 1):
            for j in range(net.widths[l]):
                v[net.out(l)[j + 1]] = self.out[l][j]
                if l:
                    v[net.pre(l)[j + 1]] = self.pre[l][j]
                    v[net.delta(l)[j + 1]] = self.d_pre(l, j)
                    v[net.b(l)[j + 1]] = self.b[l][j]
                    for i in range(net.widths[l - 1]):
                        v[net.W(l)[j + 1, i + 1]] = self.W[l][j][i]
        for k, t in enumerate(self.t):
            v[net.t[k + 1]] = t
        return v


def numeric(expr, net, values):
    """The engine's expression at the oracle's point, at 50 digits."""
    for l in range(1, net.L + 1):
        role = "output" if l == net.L else "hidden"
        expr = expr.replace(net.phi(l), STAND_IN[role][0]).doit()
    kinks = {k: sp.Integer(1 if values[k.of] > 0 else 0) for k in expr.atoms(KinkSide)}
    expr = expr.xreplace(kinks).xreplace({q: sp.Float(mp.nstr(v, 60), 60) for q, v in values.items()})
    return mp.mpf(str(sp.N(expr, 55)))


def written_out(d, claim, lhs, rhs):
    """The right side of an instance in the network's own quantities: an output claim's
    derivatives given their meaning by the engine's truth (the real loss), a hidden one's
    h'(a_j) by its activation; each unit's own function written as its layer's h again."""
    net = d.net
    if claim.id.startswith("output-delta"):
        rhs = d.truth.meanings([rhs], d.truth.frame_of([lhs, rhs], real_loss=True))[0]
    elif claim.id == "hidden-delta":
        l, phi = claim.layer, net.phi(claim.layer)
        rhs = rhs.replace(lambda e: isinstance(e, sp.Derivative) and getattr(e.expr, "func", None) == phi,
                          lambda e: net.activation(l).derivative(e.variables[0], phi))
    for u in net.graph.units:
        if u.own is not None:
            s = sp.Dummy("s")
            rhs = rhs.replace(u.own, u.written).replace(
                slope_function(u.own), sp.Lambda(s, sp.Derivative(u.written(s), s)))
    return rhs


def reference(claim, index, oracle, values):
    """What the left side of an instance must equal, from finite differences alone."""
    idx = [v - 1 for _, v in index]
    l = claim.layer
    if claim.id == "weight-gradient":
        return oracle.d_weight(l, *idx)
    if claim.id == "bias-gradient":
        return oracle.d_bias(l, *idx)
    return values[oracle.net.delta(l)[idx[0] + 1]]


@pytest.mark.parametrize("output,loss", PAIRS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_proved_formula_agrees_with_finite_differences(hidden, output, loss):
    d = derivation((2, 3, 2), hidden, output, loss)
    oracle = Oracle(d.net, random.Random(f"{hidden}-{output}-{loss}"))
    values = oracle.values()
    checked = 0
    for check in d.checks:
        claim = check.claim
        if check.outcome.verdict is not Verdict.PROVED:
            continue
        for index, lhs, rhs in instances(claim, d.net):
            got = numeric(written_out(d, claim, lhs, rhs), d.net, values)
            want = reference(claim, index, oracle, values)
            assert abs(got - want) <= TOLERANCE * (1 + abs(want)), (claim.id, index, got, want)
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("layers", [(3, 4, 4, 2), (2, 2, 3, 2, 2)])
def test_deep_networks_agree_with_finite_differences(layers):
    d = derivation(layers, "tanh", "sigmoid", "bce")
    oracle = Oracle(d.net, random.Random(str(layers)))
    values = oracle.values()
    for l in range(1, d.net.L):
        claim = d.check("hidden-delta", l).claim
        for index, lhs, rhs in instances(claim, d.net):
            got = numeric(written_out(d, claim, lhs, rhs), d.net, values)
            want = reference(claim, index, oracle, values)
            assert abs(got - want) <= TOLERANCE * (1 + abs(want))


def test_the_oracle_itself_catches_a_wrong_formula():
    """A formula that drops the activation's derivative must disagree with the oracle."""
    d = derivation((2, 3, 2), "tanh", "identity", "sse")
    oracle = Oracle(d.net, random.Random(1))
    values = oracle.values()
    net = d.net
    wrong = sp.Add(*[net.W(2)[k, 1] * net.delta(2)[k] for k in (1, 2)])
    assert abs(numeric(wrong, net, values) - values[net.delta(1)[1]]) > mp.mpf("1e-6")
