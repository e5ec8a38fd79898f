"""Worked examples: one network at one point, every number of one step of backpropagation.

A spec (io/spec_file.py) gives a network and all its numbers; `compute` runs the forward
pass through the engine's own expressions, then takes every delta and every gradient from
the formulas the engine derived and proved (the output-delta-general claim for the output
layer, the hidden-delta claim layer by layer backwards, the weight- and bias-gradient
claims), never from a separate hand-written backprop. A claim that is not proved is not used.

Values stay exact (fractions, or decimals where they terminate) while they are rational,
which they are for identity and ReLU networks on a rational spec; where an activation
makes a value irrational it is evaluated with 15 guard digits and shown to `digits`
significant digits.

>>> from bpcheck.derive.io.spec_file import parse_spec
>>> ex = compute(parse_spec('''layers = [1, 1]
... output = "identity"
... loss = "sse"
... bias = false
... learning_rate = "1/2"
... input = [2]
... target = [1]
... weights = { "1" = [[1]] }''', source="tiny.toml"))
>>> ex.loss, ex.gradient(ex.net.W(1)[1, 1]), ex.after(ex.net.W(1)[1, 1])
(1/2, 2, 0)
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import NotSupported, UsageError
from ..model.activation import KinkSide
from ..model.network import Network, role_of
from ..model.spec import Spec
from .claims import Claim, all_claims, instances
from .derivation import Derivation
from .expr import Partial
from .proof import BudgetExceeded, Verdict
from .truth import Truth

MAX_DIGITS = 50
GUARD_DIGITS = 15


@dataclass(frozen=True, eq=False)
class Worked:
    """Every number of one step of backpropagation, by canonical quantity.

    `values`: W, b (before the step), out0 (the input), t, and for each layer pre, out and
    delta (canonical: delta = +dE/d pre); `gradients`: each weight and bias with dE/d it;
    `updated`: each weight and bias after w - eta dE/dw."""

    spec: Spec
    net: Network
    digits: int
    values: tuple[tuple[sp.Basic, sp.Expr], ...]
    loss: sp.Expr
    gradients: tuple[tuple[sp.Indexed, sp.Expr], ...]
    updated: tuple[tuple[sp.Indexed, sp.Expr], ...]

    def value(self, q: sp.Basic) -> sp.Expr:
        """The value of a canonical quantity at the point (before the step)."""
        return dict(self.values)[q]

    def gradient(self, p: sp.Indexed) -> sp.Expr:
        return dict(self.gradients)[p]

    def after(self, p: sp.Indexed) -> sp.Expr:
        return dict(self.updated)[p]

    @property
    def exact(self) -> bool:
        """Every number is rational, and shown exactly."""
        nums = [v for _, v in self.values + self.gradients + self.updated] + [self.loss]
        return all(v.is_Rational for v in nums)


class _Point:
    """The numbers of the network at the spec's point, and the evaluation of an engine
    expression there: exact while rational, else a Float at the working precision."""

    def __init__(self, source: str, precision: int):
        self.source, self.precision = source, precision
        self.values: dict[sp.Basic, sp.Expr] = {}

    def __setitem__(self, q: sp.Basic, v: sp.Expr) -> None:
        self.values[q] = v

    def __getitem__(self, q: sp.Basic) -> sp.Expr:
        return self.values[q]

    def side(self, k: KinkSide) -> sp.Integer:
        """The ReLU's side at this point: 1 where its argument is positive, 0 where not."""
        v = self(k.of)
        if v == 0:
            role, l = role_of(k.of.base)
            raise UsageError(f"{self.source}: ReLU is not differentiable at 0: unit "
                             f"{k.of.indices[0]} of layer {l} has weighted input exactly 0 "
                             "here; change one of its weights, its bias or the input")
        return sp.Integer(1 if v > 0 else 0)

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        kinks = {k: self.side(k) for k in expr.atoms(KinkSide)}
        v = expr.xreplace(kinks).xreplace(self.values)
        if v.free_symbols:
            raise AssertionError(f"no value for {sorted(map(str, v.free_symbols))} in {expr}")
        if v.is_Rational:
            return v
        v = sp.N(v, self.precision)
        if not v.is_Number or not v.is_finite:
            raise NotSupported(f"{self.source}: a value is not a real number here ({v}); "
                               "is an output at 0 or 1 under a cross-entropy?")
        return v


def _proved(d: Derivation, claims: dict, id: str, layer: int) -> Claim:
    """The engine's claim, which must be proved before a number is computed from it (only
    the claims a number comes from: not the output formulas that other networks use)."""
    claim = claims[id, layer]
    o = d.prove(claim)
    if o.verdict is not Verdict.PROVED:
        if o.verdict is Verdict.UNDECIDED and "time budget" in o.note:
            raise BudgetExceeded()  # the command is undecided for want of time, not refused
        why = f"{o.verdict}: {o.note}" if o.note else str(o.verdict)
        raise NotSupported(f"the engine did not prove {id} at layer {layer} ({why}); a worked "
                           "example computes from proved formulas only")
    return claim


def compute(spec: Spec, *, digits: int = 10, budget: float | None = 30.0) -> Worked:
    """One step of backpropagation on the spec's network, every delta and gradient from the
    engine's proved formulas. `budget`: seconds each proof may take (see Derivation)."""
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= MAX_DIGITS:
        raise UsageError(f"--digits {digits!r}: give an integer from 1 to {MAX_DIGITS}")
    net = spec.network()
    L, E = net.L, net.E
    at = _Point(spec.source, digits + GUARD_DIGITS)
    for l in range(1, L + 1):
        for j in net.units(l):
            for i in net.units(l - 1):
                at[net.W(l)[j, i]] = spec.weights[l - 1][j - 1][i - 1]
            if net.bias:
                at[net.b(l)[j]] = spec.biases[l - 1][j - 1]
    for i in net.units(0):
        at[net.out(0)[i]] = spec.input[i - 1]
    for k in net.units(L):
        at[net.t[k]] = spec.target[k - 1]

    # forward: the engine's own expressions of the network
    for l in range(1, L + 1):
        for j in net.units(l):
            at[net.pre(l)[j]] = at(net.weighted_input(l, j))
        for j, y in zip(net.units(l), net.layer_outputs(l)):
            at[net.out(l)[j]] = at(y)
    loss = at(net.loss_value())

    # backward: the proved claims, the output layer first, then layer by layer
    d = Derivation(net, budget=budget, run=False)
    claims = {(c.id, c.layer): c for c in all_claims(net)}
    truth = Truth(net.graph)
    for index, lhs, rhs in instances(_proved(d, claims, "output-delta-general", L), net):
        (_, k), = index  # each written dE/dy, dy/da of the claim, with the real loss
        frame = truth.frame_of([lhs, rhs], real_loss=True)
        at[net.delta(L)[k]] = at(truth.meanings([rhs], frame)[0])
    for l in range(L - 1, 0, -1):
        act, phi = net.activation(l), net.phi(l)
        for index, _, rhs in instances(_proved(d, claims, "hidden-delta", l), net):
            (_, j), = index  # h'(a_j) sum_k w_kj delta_k, the deltas known
            slope = sp.Derivative(phi(net.pre(l)[j]), net.pre(l)[j])
            at[net.delta(l)[j]] = at(rhs.xreplace({slope: act.derivative(net.pre(l)[j], phi)}))
    gradients: list[tuple[sp.Indexed, sp.Expr]] = []
    for l in range(1, L + 1):
        ids = ("weight-gradient", "bias-gradient") if net.bias else ("weight-gradient",)
        for id in ids:
            for _, lhs, rhs in instances(_proved(d, claims, id, l), net):
                assert isinstance(lhs, Partial) and lhs.num == E
                gradients.append((lhs.den, at(rhs)))
    eta = spec.learning_rate
    updated = tuple((p, at(at[p] - eta * g)) for p, g in gradients)
    return Worked(spec, net, digits, tuple(at.values.items()), loss, tuple(gradients), updated)
