"""An independent numeric oracle: what a claim's two sides are at a point of the network,
by a forward pass of this file's own in mpmath and central differences, never by the
engine's derivatives, frames or normal forms.

A derivative dX/dY is taken as backprop texts mean it: Y nudged where it stands (a weighted
input, a unit's output, a weight), everything upstream of it held, the nudge carried
downstream, so Bishop's da_k/da_j is w_kj h'(a_j) and dE/da_j is delta_j. delta is
dE/d(weighted input) in the model's sign. At 50 digits with a step of 1e-20 the central
difference is good to about 30 digits; `differ` and `agree` leave a wide margin between.
"""
from __future__ import annotations

import random
from itertools import product

import mpmath as mp
import sympy as sp
from sympy.core.function import AppliedUndef

from bpcheck.derive.engine.expr import Partial
from bpcheck.derive.model.network import Network, role_of

mp.mp.dps = 50
STEP = mp.mpf("1e-20")
AGREE, DIFFER = mp.mpf("1e-18"), mp.mpf("1e-9")

ACT = {
    "identity": lambda v: v,
    "sigmoid": lambda v: 1 / (1 + mp.exp(-v)),
    "tanh": mp.tanh,
    "softplus": lambda v: mp.log(1 + mp.exp(v)),
    "relu": lambda v: v if v > 0 else mp.mpf(0),
}


def _softmax(v):
    m = max(v)
    e = [mp.exp(x - m) for x in v]
    s = mp.fsum(e)
    return [x / s for x in e]


def _loss(name: str, y, t):
    if name == "sse":
        return mp.fsum((a - b) ** 2 for a, b in zip(y, t)) / 2
    if name == "bce":
        return -mp.fsum(b * mp.log(a) + (1 - b) * mp.log(1 - a) for a, b in zip(y, t))
    if name == "ce":
        return -mp.fsum(b * mp.log(a) for a, b in zip(y, t))
    raise ValueError(name)


class Oracle:
    """One random point of a network with concrete activations: its inputs, weights,
    biases and targets (targets a distribution for the multiclass cross-entropy, in (0, 1)
    for the binary one)."""

    def __init__(self, net: Network, rng: random.Random):
        self.net = net
        r = lambda: mp.mpf(rng.randint(-80, 80)) / 40 + mp.mpf(rng.randint(1, 997)) / 100003
        w = net.widths
        self.x = [r() for _ in range(w[0])]
        self.W = {l: [[r() for _ in range(w[l - 1])] for _ in range(w[l])] for l in range(1, net.L + 1)}
        self.b = {l: [r() if net.bias else mp.mpf(0) for _ in range(w[l])] for l in range(1, net.L + 1)}
        t = [mp.mpf(rng.randint(1, 9)) / 10 for _ in range(w[-1])]
        self.t = [v / mp.fsum(t) for v in t] if net.loss.name == "ce" else t

    def forward(self, nudge: tuple = ()) -> dict:
        """Every quantity, with one of them nudged: (("pre", l, j), h), (("W", l, j, i), h),
        (("out", l, j), h), (("b", l, j), h), (("t", k), h) or (("x", i), h)."""
        net, at = self.net, dict([nudge]) if nudge else {}
        t = [v + at.get(("t", k + 1), 0) for k, v in enumerate(self.t)]
        out = {0: [v + at.get(("out", 0, i + 1), 0) for i, v in enumerate(self.x)]}
        pre = {}
        for l in range(1, net.L + 1):
            pre[l] = [mp.fsum((self.W[l][j][i] + at.get(("W", l, j + 1, i + 1), 0)) * out[l - 1][i]
                              for i in range(net.widths[l - 1]))
                      + self.b[l][j] + at.get(("b", l, j + 1), 0) + at.get(("pre", l, j + 1), 0)
                      for j in range(net.widths[l])]
            act = net.activation(l).name
            values = _softmax(pre[l]) if act == "softmax" else [ACT[act](v) for v in pre[l]]
            out[l] = [v + at.get(("out", l, j + 1), 0) for j, v in enumerate(values)]
        return {"pre": pre, "out": out, "t": t, "E": _loss(net.loss.name, out[net.L], t)}

    # -- a claim's sides ---------------------------------------------------------------
    def value(self, expr: sp.Expr, nudge: tuple = ()) -> mp.mpf:
        """expr at this point (sums written out, indices concrete)."""
        state = self.forward(nudge)
        return self._eval(expr, state, nudge)

    def _key(self, q: sp.Indexed) -> tuple:
        role, l = role_of(q.base)
        idx = tuple(int(i) for i in q.indices)
        return (role,) + ((l,) if l is not None else ()) + idx

    def _eval(self, e, state, nudge) -> mp.mpf:
        if e.is_Number:
            return mp.mpf(sp.Rational(e).p) / sp.Rational(e).q if e.is_Rational else mp.mpf(str(sp.N(e, 60)))
        if e == self.net.E:
            return state["E"]
        if isinstance(e, sp.Indexed):
            return self._quantity(e, state, nudge)
        if isinstance(e, Partial):
            return self._partial(e, nudge)
        if isinstance(e, (sp.Derivative, AppliedUndef)) and self._softmax(e):
            # softmax of its own weighted input, the others held: the unit's output
            f = e.expr if isinstance(e, sp.Derivative) else e
            unit = self._key(f.args[0])
            out = sp.IndexedBase(f"out{unit[1]}")[unit[2]]
            if isinstance(e, AppliedUndef):
                return self._eval(out, state, nudge)
            return self._difference(out, unit)
        if isinstance(e, sp.Derivative):
            (f, arg), = [(e.expr, e.variables[0])]
            act = ACT[self.net.activation(_layer_of(f)).name]
            return mp.diff(act, self._eval(arg, state, nudge))
        if isinstance(e, AppliedUndef):
            act = ACT[self.net.activation(_layer_of(e)).name]
            return act(self._eval(e.args[0], state, nudge))
        if isinstance(e, sp.KroneckerDelta):
            return mp.mpf(1 if e.args[0] == e.args[1] else 0)
        args = [self._eval(a, state, nudge) for a in e.args]
        if isinstance(e, sp.Add):
            return mp.fsum(args)
        if isinstance(e, sp.Mul):
            return mp.fprod(args)
        if isinstance(e, sp.Pow):
            return args[0] ** args[1]
        for f, g in ((sp.exp, mp.exp), (sp.log, mp.log), (sp.tanh, mp.tanh)):
            if isinstance(e, f):
                return g(args[0])
        raise TypeError(f"the oracle cannot evaluate {e!r}")

    def _softmax(self, e) -> bool:
        f = e.expr if isinstance(e, sp.Derivative) else e
        return self.net.activation(_layer_of(f)).name == "softmax"

    def _quantity(self, q: sp.Indexed, state, nudge) -> mp.mpf:
        key = self._key(q)
        role = key[0]
        if role == "pre":
            return state["pre"][key[1]][key[2] - 1]
        if role == "out":
            return state["out"][key[1]][key[2] - 1]
        if role == "t":
            return state["t"][key[1] - 1]
        if role == "W":
            return self.W[key[1]][key[2] - 1][key[3] - 1] + (nudge[1] if nudge and nudge[0] == key else 0)
        if role == "b":
            return self.b[key[1]][key[2] - 1] + (nudge[1] if nudge and nudge[0] == key else 0)
        if role == "delta":
            return self._difference(self.net.E, ("pre",) + key[1:])
        raise TypeError(f"the oracle has no quantity {q!r}")

    def _partial(self, e: Partial, nudge) -> mp.mpf:
        if nudge:
            raise TypeError("nested derivatives are not evaluated")
        return self._difference(e.args[0], self._key(e.args[1]))

    def _difference(self, num: sp.Expr, key: tuple) -> mp.mpf:
        up = self.value(num, (key, STEP))
        down = self.value(num, (key, -STEP))
        return (up - down) / (2 * STEP)


def _layer_of(f: AppliedUndef) -> int:
    name = f.func.__name__
    return int(name.lstrip("dphi"))


def sides_at(oracle: Oracle, claim, net: Network) -> list[tuple[mp.mpf, mp.mpf]]:
    """Both sides of a claim at every value of its free indices."""
    out = []
    for values in product(*(net.units(i.layer) for i in claim.free)):
        at = dict(zip(claim.free, map(sp.Integer, values)))
        lhs, rhs = (side.xreplace(at).doit() for side in (claim.equation.lhs, claim.equation.rhs))
        out.append((oracle.value(lhs), oracle.value(rhs)))
    return out


def judge(claims, net: Network, *, points: int = 3, seed: int = 0) -> str:
    """"agree" where both sides agree at every instance at every sampled point, "differ"
    where they differ clearly somewhere, "none" where an instance names a unit its layer
    does not have, "unclear" otherwise."""
    rng, worst = random.Random(seed), mp.mpf(0)
    for _ in range(points):
        oracle = Oracle(net, rng)
        for claim in claims:
            try:
                pairs = sides_at(oracle, claim, net)
            except IndexError:
                return "none"
            for lhs, rhs in pairs:
                gap = abs(lhs - rhs) / (1 + abs(lhs) + abs(rhs))
                worst = max(worst, gap)
                if gap > DIFFER:
                    return "differ"
    return "agree" if worst < AGREE else "unclear"
