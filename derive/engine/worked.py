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

import operator
from dataclasses import dataclass
from functools import reduce

import sympy as sp

from ..errors import BudgetExceeded, NotSupported, UsageError
from ..model.activation import KinkSide
from ..model.network import Network, role_of
from ..model.spec import Spec
from .claims import Claim, all_claims, index_values, instances
from .derivation import Derivation
from .expr import Partial, rebuilt
from .proof import Verdict
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
        self._keys: dict[tuple, sp.Expr] = {}

    def __setitem__(self, q: sp.Basic, v: sp.Expr) -> None:
        self.values[q] = v
        if isinstance(q, sp.Indexed) and all(i.is_Integer for i in q.indices):
            # at_index looks it up by base and subscripts
            self._keys[q.base, tuple(int(i) for i in q.indices)] = v

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
        def leaf(e: sp.Basic, _) -> sp.Expr | None:
            if e in self.values:
                return self.values[e]
            return self.side(e) if isinstance(e, KinkSide) else None
        return self._number(rebuilt(expr, leaf), expr)

    def at_index(self, expr: sp.Expr, index: dict) -> sp.Expr:
        """A formula with free indices, at the indices `index` gives: each sum added term
        by term over the point's numbers, each quantity looked up by its evaluated
        subscripts, so no unit's instance of the formula is written out.

        >>> at, W, x = _Point("", 25), sp.IndexedBase("W"), sp.IndexedBase("x")
        >>> j, i = sp.symbols("j i", integer=True)
        >>> at[W[2, 1]], at[W[2, 2]], at[x[1]], at[x[2]] = 3, 5, sp.Rational(1, 2), 2
        >>> at.at_index(sp.Sum(W[j, i] * x[i], (i, 1, 2)), {j: 2})
        23/2
        """
        # numbers are added and multiplied as numbers (Add(...) and Mul(...) would first
        # sort and flatten their arguments as expressions), and a quantity is looked up by
        # its base and subscripts (building each Indexed would deduce its assumptions)
        def go(e: sp.Basic, env: dict) -> sp.Expr:
            if e in env:
                return env[e]
            if isinstance(e, sp.Sum) and len(e.limits) == 1:
                (k, lo, hi), = e.limits
                return reduce(operator.add, [go(e.function, {**env, k: sp.Integer(v)}) for v
                                             in range(int(go(lo, env)), int(go(hi, env)) + 1)],
                              sp.Integer(0))
            if isinstance(e, sp.Indexed):
                return self._keys[e.base, tuple(int(go(i, env)) for i in e.indices)]
            if isinstance(e, KinkSide):
                return self.side(KinkSide(e.of.xreplace(env)))
            if isinstance(e, (sp.Sum, sp.Derivative, sp.Subs, sp.Product)):
                raise NotSupported(f"no value for {e} term by term")
            if isinstance(e, (sp.Add, sp.Mul)):
                return reduce(operator.add if e.is_Add else operator.mul,
                              [go(a, env) for a in e.args])
            if isinstance(e, sp.Pow):
                return go(e.base, env) ** go(e.exp, env)
            return e.func(*[go(a, env) for a in e.args]) if e.args else e
        return self._number(go(expr, dict(index)), expr)

    def _number(self, v: sp.Expr, expr: sp.Expr) -> sp.Expr:
        """A value at the working precision, exact while rational."""
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


def _forward(net: Network, at: _Point) -> None:
    """The forward pass from the engine's own expressions of the network: each layer's
    generic formula at every unit."""
    for l in range(1, net.L + 1):
        j = net.index("this", l, forward=True)
        pre, act = net.weighted_sum(l, j), net.activation(l)
        for v in net.units(l):
            at[net.pre(l)[v]] = at.at_index(pre, {j: sp.Integer(v)})
        if act.elementwise:  # one formula for every unit of the layer
            out = act.values([net.pre(l)[j]], net.phi(l))[0]
            for v in net.units(l):
                at[net.out(l)[v]] = at.at_index(out, {j: sp.Integer(v)})
        else:
            for v, y in zip(net.units(l), net.layer_outputs(l)):
                at[net.out(l)[v]] = at(y)


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

    _forward(net, at)
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
        # h'(a_j) sum_k w_kj delta_k at each j, the deltas known, its slope h' taken once
        claim, act, phi = _proved(d, claims, "hidden-delta", l), net.activation(l), net.phi(l)
        (j,), rhs = claim.free, claim.equation.rhs
        slope = sp.Derivative(phi(net.pre(l)[j]), net.pre(l)[j])
        rhs = rhs.xreplace({slope: act.derivative(net.pre(l)[j], phi)})
        for index in index_values(claim, net):
            at[claim.equation.lhs.xreplace(index)] = at.at_index(rhs, index)
    gradients: list[tuple[sp.Indexed, sp.Expr]] = []
    for l in range(1, L + 1):
        ids = ("weight-gradient", "bias-gradient") if net.bias else ("weight-gradient",)
        for id in ids:
            claim = _proved(d, claims, id, l)
            lhs, rhs = claim.equation.lhs, claim.equation.rhs
            assert isinstance(lhs, Partial) and lhs.num == E
            gradients += [(lhs.den.xreplace(index), at.at_index(rhs, index))
                          for index in index_values(claim, net)]
    eta = spec.learning_rate
    updated = tuple((p, at(at[p] - eta * g)) for p, g in gradients)
    return Worked(spec, net, digits, tuple(at.values.items()), loss, tuple(gradients), updated)
