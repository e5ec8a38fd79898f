"""A recurrent layer's checks at T steps taken one step at a time, each state h_t an atom:
the work grows with T, where the unrolled map's grows with its paths (2^T for two units).

The truth is the chain rule on the unrolled graph, as the layered recursion takes a
network's layers: the true dE/dh_t is g_t plus what step t + 1 sends back, sum_k
D_(t+1)k dh_(t+1)k/dh_t, each differentiated from the step's forward map with D the
atoms of the true gradient at the next state; the tied weights' gradient is the sum of
each step's copy, sum_t sum_k D_tk dh_tk/dW with h_(t-1) held. A claim is proved when its
dh_t, written in its own dh_(t+1) as the atom, is the truth's in D, and each of its other
gradients, written in its dh_t, is the truth's in D_t: then, from the last step back,
each claimed dh_t is the true one, and so is every gradient. A refutation is a point of
the inputs and weights: each state is f(a_t) there, the truth's D computed back from the
last step, and the claim's own recursion evaluated.

>>> from bpcheck.derive.model.layers import Recurrent
>>> [(c.id, c.verdict.value) for c in step_checks(Recurrent("1", 1, units=1), rows=8)][:2]
[('layer1.rnn.x', 'proved'), ('layer1.rnn.W1', 'proved')]
"""
from __future__ import annotations

import random

import sympy as sp

from ..errors import TooMuchWork
from ..model.activation import KinkSide
from ..model.layers import Recurrent, grid
from .layer_claims import BACKWARD, WRONG
from .proof import Verdict
from .typed import (DIGITS, KINKS, TRIES, Block, LayerJacobian, TypedCheck, _defined, _entries,
                    _indices, is_zero, random_point, shared_value, value_at)


NOISE = sp.Float(10) ** (5 - DIGITS)  # below this, a difference is rounding's (typed.py's)


class _Steps:
    """The layer at T steps in atoms: inputs X, gradients G at the outputs, states S (h_t,
    row t - 1) and D (the true dE/dh_t); the truth in them, step by step."""

    def __init__(self, layer: Recurrent, rows: int):
        tag = layer.at.replace(".", "_")
        self.layer, self.T, n = layer, rows, layer.units
        self.X, self.G = grid(f"x{tag}", rows, layer.width), grid(f"g{tag}", rows, n)
        self.S, self.D = grid(f"h{tag}", rows, n), grid(f"dh{tag}", rows, n)
        f = layer.activation.scalar
        self.A = layer.pres_on(self.S, self.X)
        self.H = [[f(a) for a in row] for row in self.A]  # h_t from the state before it
        self.truth = self._truth()
        self._zero: dict[sp.Expr, bool] = {}

    def _back(self, t: int, v: sp.Expr) -> sp.Expr:
        """sum_k D_tk dh_tk/dv, step t's own map differentiated (0-based t)."""
        return sp.Add(*(d * sp.diff(h, v) for d, h in zip(self.D[t], self.H[t])))

    def _truth(self) -> dict[str, object]:
        T, n = self.T, self.layer.units
        out: dict[str, object] = {
            "h": {(t + 1, j + 1): self.G[t][j] + (self._back(t + 1, self.S[t][j]) if t + 1 < T
                                                 else 0)
                  for t in range(T) for j in range(n)},
            "x": tuple(tuple(self._back(t, x) for x in self.X[t]) for t in range(T))}
        for p, shape in self.layer.params().items():
            out[str(p)] = {ix: sp.Add(*(self._back(t, p[ix]) for t in range(T)))
                           for ix in _indices(shape)}
        return out

    def claims(self, backward) -> tuple[dict, dict]:
        """The claim one step at a time (in D), and whole (its own recursion, in S)."""
        return (backward(self.layer, self.X, self.G, states=self.S, given=self.D),
                backward(self.layer, self.X, self.G, states=self.S))

    def point(self, rng: random.Random) -> tuple[dict, dict]:
        """A point of X, G and the weights; with it each state f(a_t) and each true D_t
        (from the last step back): the values the atoms take there."""
        free = [*sum(self.X, ()), *sum(self.G, ())] + [
            p[ix] for p, shape in self.layer.params().items() for ix in _indices(shape)]
        point = random_point(free, rng)
        at = dict(point)
        for t, row in enumerate(self.H):
            at |= {s: value_at(h, at) for s, h in zip(self.S[t], row)}
        for t in reversed(range(self.T)):
            at |= {d: value_at(self.truth["h"][t + 1, j + 1], at)
                   for j, d in enumerate(self.D[t])}
        return point, at

    def zero(self, e: sp.Expr) -> bool:
        """is_zero, once for each difference (every check shares the claim's dh_t's)."""
        if e not in self._zero:
            self._zero[e] = is_zero(e)
        return self._zero[e]


def step_checks(layer: Recurrent, *, rows: int, seed: int = 0) -> list[TypedCheck]:
    """Every backward equation of the recurrent layer at `rows` steps decided step by step,
    then each wrong version of BPTT (must be refuted): the checks of engine/typed.py's
    layer_checks, with the same ids, for any T.

    >>> [c.verdict.value for c in step_checks(Recurrent("1", 1, units=2), rows=3)][-2:]
    ['refuted', 'refuted']
    """
    steps = _Steps(layer, rows)
    right = steps.claims(BACKWARD["rnn"])
    out = [_decide(steps, name, right, seed=seed) for name in steps.truth if name != "h"]
    for mistake, _, kind, wrong in WRONG:
        if kind == "rnn":
            claims = steps.claims(wrong)
            # the gradient the mistake is in: dE/dx where it is in dh_t, or the first
            # parameter's it changes (dW); told apart one step at a time, in the atoms
            name = "x" if claims[0]["h"] != right[0]["h"] else next(
                (k for k in claims[0] if k not in ("x", "h") and claims[0][k] != right[0][k]), "x")
            out.append(_decide(steps, name, claims, seed=seed, mistake=mistake))
    return out


def _decide(steps: _Steps, name: str, claims: tuple[dict, dict], *, seed: int,
            mistake: str = "") -> TypedCheck:
    """As engine/typed.decide_pairs: a point first, then the proof, then more points."""
    layer = steps.layer
    base = dict(id=f"layer{layer.at}.rnn.{name}" + (f".{mistake}" if mistake else ""),
                layer=layer.at, kind="rnn", gradient=name, mistake=mistake)
    rng = random.Random(seed)
    found = _differs_at(steps, name, claims[1], rng)
    if found:
        return TypedCheck(**base, verdict=Verdict.REFUTED, **found)
    local, truth = claims[0], steps.truth
    pairs = [(c, t) for key in ("h", name) for (_, c), (_, t)
             in zip(_entries(local[key]), _entries(truth[key]))]
    try:
        zero, note = all(steps.zero(c - t) for c, t in pairs), ""
    except TooMuchWork as e:  # undecided, the same on any machine
        zero, note = False, str(e)
    if zero:
        kink = any(e.has(KinkSide) for pair in pairs for e in pair)
        return TypedCheck(**base, verdict=Verdict.PROVED,
                          conditions=(KINKS["relu"],) if kink else ())
    for _ in range(TRIES * 4 - 1):
        found = _differs_at(steps, name, claims[1], rng)
        if found:
            return TypedCheck(**base, verdict=Verdict.REFUTED, **found)
    return TypedCheck(**base, verdict=Verdict.UNDECIDED, note=note or
                      f"no point of {TRIES * 4} tried differs, and the normal form is not zero")


def _differs_at(steps: _Steps, name: str, whole: dict, rng: random.Random) -> dict | None:
    """An entry where the claim (its own recursion) and the truth differ at a point. The
    claim's values by shared_value, each of its sub-expressions once (a ReLU side by its
    argument's): the recursion reads dh_(t+1) in every unit's dh_t, n^T paths as a tree."""
    point, at = steps.point(rng)
    memo = dict(at)
    for (entry, c), (_, t) in zip(_entries(whole[name]), _entries(steps.truth[name])):
        a, b = shared_value(c, memo), value_at(t, at)
        if _defined(a) and _defined(b) and abs(a - b) > NOISE:
            return dict(entry=entry, values=(sp.N(a, DIGITS), b), point=tuple(point.items()))
    return None


def step_jacobian(layer: Recurrent, *, rows: int, seed: int = 0) -> LayerJacobian:
    """Which entries of dh_s/dx_r vanish, by block, as engine/typed.jacobian says it: none
    where s < r (h_s is computed before x_r is read), and the others shown non-zero at a
    point, forward through the steps (dh_s/dx_r = dh_s/dh_(s-1) ... dh_(r+1)/dh_r dh_r/dx_r)."""
    steps, rng = _Steps(layer, rows), random.Random(seed)
    n, m, square = layer.units, layer.width, layer.units == layer.width
    groups: dict[tuple[str, str], list] = {}
    for s, r, k, j in ((s, r, k, j) for s in range(rows) for r in range(rows)
                       for k in range(n) for j in range(m)):
        key = ("same" if r == s else "other",
               ("same" if j == k else "other") if square else "any")
        groups.setdefault(key, []).append((s, r, k, j))
    seen = _nonzero(steps, rng)
    out = LayerJacobian(layer.at, "rnn")
    for (rws, fts), items in sorted(groups.items(), reverse=True):
        zero = sum(s < r for s, r, _, _ in items)
        shown = [seen[i] for i in items if i in seen]
        vanish = True if zero == len(items) else False if len(shown) == len(items) else None
        out.blocks.append(Block(rws, fts, vanish, len(items), shown[0] if shown else ""))
    return out


def _nonzero(steps: _Steps, rng: random.Random) -> dict[tuple, str]:
    """Each entry dh_s/dx_r (s >= r) non-zero at one of TRIES points, with its value."""
    T, n, found = steps.T, steps.layer.units, {}
    for _ in range(TRIES):
        _, at = steps.point(rng)
        # dh_t/d(h_(t-1), x_t) at the point; the first step reads no state
        slope = [[[value_at(sp.diff(h, v), at) if t or q >= n else 0
                   for q, v in enumerate((*(steps.S[t - 1] if t else [0] * n), *steps.X[t]))]
                  for h in steps.H[t]] for t in range(T)]
        for r in range(T):
            J = [[row[n + j] for j in range(len(steps.X[r]))] for row in slope[r]]
            for s in range(r, T):
                if s > r:  # one step on: dh_s/dh_(s-1) times what reached h_(s-1)
                    J = [[sum(slope[s][k][q] * J[q][j] for q in range(n))
                          for j in range(len(J[0]))] for k in range(n)]
                for k, row in enumerate(J):
                    for j, v in enumerate(row):
                        # clear of rounding: a product of floats is not 0 by accident
                        if _defined(v) and abs(v) > NOISE and (s, r, k, j) not in found:
                            found[s, r, k, j] = (f"dY[{s + 1},{k + 1}]/dX[{r + 1},{j + 1}] = "
                                                 f"{sp.Float(v, 6)}")
    return found
