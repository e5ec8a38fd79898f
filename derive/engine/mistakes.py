"""The named mistakes: each a stable id, one sentence, and the change that makes it from a
correct right side. A refuted claim is matched against these variants of what its
quantity equals (engine/diagnose.py); a match is a proof that the claim is that variant.

>>> [m.id for m in MISTAKES][:3]
['missing-activation-derivative', 'derivative-at-wrong-argument', 'swapped-weight-indices']
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import sympy as sp
from sympy.core.function import AppliedUndef

from ..model.network import Network, UnitIndex, role_of
from .expr import Partial


@dataclass(frozen=True)
class Context:
    """What a variant is made from: the claim's left side, the right side it should have,
    and the layer and unit of the quantity the claim is about."""

    net: Network
    lhs: sp.Expr
    right: sp.Expr
    layer: int
    this: UnitIndex
    fresh: Callable[[str, int], UnitIndex]  # a new index letter of a role, in a layer


@dataclass(frozen=True)
class Mistake:
    id: str
    explanation: str
    variants: Callable[[Context], Iterator[sp.Expr]] = field(compare=False, repr=False)


def _slopes(e: sp.Expr) -> list[sp.Derivative]:
    """Each f'(a) of a layer's activation in an expression."""
    return [d for d in e.atoms(sp.Derivative) if isinstance(d.expr, AppliedUndef)
            and str(d.expr.func).startswith("phi")]


def _weights(e: sp.Expr) -> list[sp.Indexed]:
    return [q for q in e.atoms(sp.Indexed) if role_of(q.base)[0] == "W"]


def _no_slope(c: Context):
    if _slopes(c.right):
        yield c.right.xreplace({d: sp.Integer(1) for d in _slopes(c.right)})


def _wrong_argument(c: Context):
    """f'(a) written through its output with a in place of z (a(1 - a) for a sigmoid,
    1 - a^2 for tanh), or f' taken at the output z."""
    for d in _slopes(c.right):
        a = d.variables[0]
        role, l = role_of(a.base)
        act = c.net.activation(l)
        if role != "pre" or act.abstract or not act.elementwise:
            continue
        if act.slope_by_output is not None:
            yield c.right.xreplace({d: act.slope_by_output(a)})
        yield c.right.xreplace({d: act.slope_at(c.net.out(l)[a.indices])})


def _swapped(c: Context):
    ws = _weights(c.right)
    if ws:
        yield c.right.xreplace({w: w.base[w.indices[::-1]] for w in ws})


def _wrong_layer(c: Context):
    ws = _weights(c.right)
    for step in (-1, 1):
        moved = {w: c.net.W(role_of(w.base)[1] + step)[w.indices] for w in ws
                 if 1 <= role_of(w.base)[1] + step <= c.net.L}
        if moved and len(moved) == len(ws):
            yield c.right.xreplace(moved)


def _hidden_sum(c: Context) -> sp.Sum | None:
    """The sum over the next layer in a hidden delta's right side."""
    if not (isinstance(c.lhs, sp.Indexed) and role_of(c.lhs.base)[0] == "delta"):
        return None
    return next((s for s in c.right.atoms(sp.Sum)), None)


def _wrong_sum(c: Context):
    """The sum over the previous layer (w_ji delta_i), or the summed letter written where
    the claim's own belongs (w_kj delta_j)."""
    s = _hidden_sum(c)
    if s is None:
        return
    k, l, j = s.variables[0], c.layer, c.this
    if l >= 2:
        i = c.fresh("prev", l - 1)
        yield c.right.xreplace({s: sp.Sum(c.net.W(l)[j, i] * c.net.delta(l - 1)[i],
                                          (i, 1, c.net.width(l - 1)))})
    for q in s.function.atoms(sp.Indexed):
        if k in q.indices:
            body = s.function.xreplace({q: q.base[tuple(j if x == k else x for x in q.indices)]})
            yield c.right.xreplace({s: sp.Sum(body, *s.limits)})


def _every_later_layer(c: Context):
    """The chain rule summed over every later layer, not only the next: the paths through
    the layers between are counted again."""
    s = _hidden_sum(c)
    if s is None or c.net.L - c.layer < 2:
        return
    j, net = c.this, c.net
    terms = []
    for m in range(c.layer + 1, net.L + 1):
        k = c.fresh("next", m)
        terms.append(sp.Sum(net.delta(m)[k] * Partial(net.pre(m)[k], net.pre(c.layer)[j]),
                            (k, 1, net.width(m))))
    yield sp.Add(*terms)


def _sign(c: Context):
    yield -c.right


def _elementwise_softmax(c: Context):
    """An output delta of a softmax written as if the softmax were elementwise: only the
    k' = k term of the chain rule kept."""
    net, L = c.net, c.net.L
    if net.activation(L).elementwise or not (isinstance(c.lhs, sp.Indexed)
                                             and role_of(c.lhs.base) == ("delta", L)):
        return
    k, y = c.this, net.out(L)
    yield Partial(net.E, y[k]) * y[k] * (1 - y[k])


def _off_diagonal(c: Context):
    """A softmax Jacobian entry dy_k/da_j with the k != j entries dropped."""
    net, L = c.net, c.net.L
    if not isinstance(c.lhs, Partial) or net.activation(L).elementwise:
        return
    num, den = c.lhs.num, c.lhs.den
    if isinstance(num, sp.Indexed) and isinstance(den, sp.Indexed) \
            and role_of(num.base) == ("out", L) and role_of(den.base) == ("pre", L):
        k, j = num.indices[0], den.indices[0]
        yield sp.KroneckerDelta(k, j) * num * (1 - num)


def _kronecker_across(c: Context):
    """da_k/da_j of units in different layers read as the Kronecker delta I_kj (which is 0
    between units of different layers)."""
    if isinstance(c.lhs, Partial) and all(isinstance(q, sp.Indexed) for q in (c.lhs.num, c.lhs.den)):
        (rn, ln), (rd, ld) = role_of(c.lhs.num.base), role_of(c.lhs.den.base)
        if rn in ("pre", "out") and rd in ("pre", "out") and ln != ld:
            yield sp.Integer(0)


def _none(c: Context):
    return iter(())


def _averaged(c: Context):
    s = _hidden_sum(c)
    if s is not None:
        yield c.right.xreplace({s: s / (s.limits[0][2] - s.limits[0][1] + 1)})


MISTAKES: tuple[Mistake, ...] = (
    Mistake("missing-activation-derivative",
            "the derivative of the activation, h'(a), is left out", _no_slope),
    Mistake("derivative-at-wrong-argument",
            "the activation's derivative is taken at the wrong quantity: its form through the "
            "output (z(1 - z) for a sigmoid, 1 - z^2 for tanh) written with the weighted "
            "input, or h' taken at the output z instead of the weighted input a", _wrong_argument),
    Mistake("swapped-weight-indices",
            "the weight's two indices are swapped (w_jk for w_kj): in matrix form, a transpose "
            "missing or one too many", _swapped),
    Mistake("wrong-layer",
            "a quantity of the wrong layer (most often the weights): a layer mark off by one",
            _wrong_layer),
    Mistake("sum-over-wrong-index",
            "the sum runs over the wrong units: over the previous layer instead of the next, "
            "or with the summed letter where the unit's own belongs", _wrong_sum),
    Mistake("sum-over-every-later-layer",
            "the chain rule is summed over every later layer, not only the next one: a path "
            "through the layers between is counted again", _every_later_layer),
    Mistake("opposite-sign",
            "the sign is the opposite one: delta taken as -dE/da (or t - y for y - t)", _sign),
    Mistake("softmax-as-elementwise",
            "the softmax is treated as elementwise: every output depends on every weighted "
            "input of its layer, so the chain rule keeps a term for each output",
            _elementwise_softmax),
    Mistake("off-diagonal-terms-dropped",
            "the off-diagonal entries of the softmax Jacobian are dropped: "
            "dy_k/da_j = -y_k y_j for k != j, not 0", _off_diagonal),
    Mistake("kronecker-across-layers",
            "a Kronecker delta is written between units of different layers, where it is 0: "
            "the derivative goes through the weight between them and the activation",
            _kronecker_across),
    Mistake("fan-out-averaged",
            "the contributions of the units a unit sends to are averaged instead of summed",
            _averaged),
    Mistake("batch-mean-missing",
            "the 1/N of a mean over the mini-batch is missing: where the error is the mean "
            "of the patterns' errors, its gradient is the sum over the patterns divided by N",
            _none),
    Mistake("batch-mean-extra",
            "1/N is taken once too often: where the error is the sum of the patterns' errors "
            "its gradient has no 1/N, and where it is their mean, one", _none),
    Mistake("batch-sum-missing",
            "the sum over the patterns of the mini-batch is left out: the batch's error is "
            "the sum (or the mean) of the patterns' errors, and so is its gradient; one "
            "pattern's term stands for all of them", _none),
    Mistake("condition-left-out",
            "true only where the targets sum to 1, which this network's loss does not assume: "
            "the condition is left out", _none),
    Mistake("a-and-z-swapped",
            "the weighted input and the unit's output are written the other way round (as "
            "another book letters them)", _none),
    # found by repairing the written equation (latex/repairs.py), not by a variant here
    Mistake("other-layout",
            "the derivative by a matrix is written in the other layout: shaped like the "
            "matrix's transpose (numerator layout), where this notation shapes it like the "
            "matrix (denominator layout)", _none),
    Mistake("index-mismatch",
            "one index letter is written where another belongs: the two sides speak of "
            "different units", _none),
    Mistake("another-network",
            "the equation holds for another activation or loss (or without biases), not for "
            "this network's", _none),
    Mistake("shapes-do-not-fit",
            "the shapes do not fit: a product or a sum of a vector and a matrix that does not "
            "exist, or sides of different shapes", _none),
)

BY_ID = {m.id: m for m in MISTAKES}

# A refuted claim that is true in another convention names the mistake that convention
# undoes (commands/check.py reads the claim again in each).
CONVENTION_MISTAKES = {"delta_sign": "opposite-sign", "weight_order": "swapped-weight-indices",
                       "weight_mark": "wrong-layer", "a_and_z": "a-and-z-swapped",
                       "batch_mean": "batch-mean-extra", "batch_sum": "batch-mean-missing"}
