"""Claims: an equation in the model's symbols, read for all values of its free indices.

The report's claims are built here from the network, each with a stable id; a claim read
from LaTeX is one too (latex/reading.py). `instances` writes a claim at every value of its
free indices, and `loss_domain` says where targets may be sampled and which side condition
a loss may need (Σ t = 1 for the multiclass cross-entropy).

>>> from bpcheck.derive.model.network import make_network
>>> [c.id for c in output_claims(make_network())]
['output-delta-general', 'output-delta-diagonal', 'output-delta-canonical']
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import sympy as sp

from ..model.network import Network, UnitIndex, role_of
from .expr import Partial, rebuilt
from .proof import Condition, Domain, Outcome

CHECK_IDS = (
    "output-delta-general",
    "output-delta-diagonal",
    "output-delta-canonical",
    "hidden-delta",
    "weight-gradient",
    "bias-gradient",
    "cross-notation",
)


@dataclass(frozen=True)
class Claim:
    """An equation in canonical symbols, read for all values of its free indices."""

    id: str
    layer: int
    equation: sp.Eq
    free: tuple[UnitIndex, ...]
    batch: int = 0  # the mini-batch size it is written at (latex/batch.py); 0: one pattern
    alike: str = ""  # why it is decided with every pattern of the batch alike only

    @property
    def of_batch(self) -> bool:
        """About a mini-batch (latex/batch.py), not one pattern."""
        return bool(self.batch or self.alike)

    @property
    def kind(self) -> str:
        """"output", "hidden" or "gradient": which part of the network it is about."""
        if self.id.startswith("output-delta"):
            return "output"
        return "gradient" if self.id in ("weight-gradient", "bias-gradient") else "hidden"


@dataclass(frozen=True)
class Check:
    claim: Claim
    outcome: Outcome


def output_claims(net: Network) -> list[Claim]:
    """Nielsen's (37) and (38), and Bishop's delta = y - t, at the output layer."""
    L = net.L
    k, m = net.index("this", L), net.index("sum", L)
    delta, y, a, E = net.delta(L), net.out(L), net.pre(L), net.E
    general = sp.Sum(sp.Mul(Partial(E, y[m]), Partial(y[m], a[k]), evaluate=False),
                     (m, 1, net.width(L)))
    diagonal = sp.Mul(Partial(E, y[k]), sp.Derivative(net.phi(L)(a[k]), a[k]), evaluate=False)
    canonical = sp.Add(y[k], -net.t[k], evaluate=False)
    return [Claim(cid, L, sp.Eq(delta[k], rhs, evaluate=False), (k,))
            for cid, rhs in (("output-delta-general", general),
                             ("output-delta-diagonal", diagonal),
                             ("output-delta-canonical", canonical))]


def hidden_claim(net: Network, l: int) -> Claim:
    """Bishop's (5.56) at layer l: delta_j = h'(a_j) sum_k w_kj delta_k."""
    j, k = net.index("this", l), net.index("next", l + 1)
    rhs = sp.Mul(sp.Derivative(net.phi(l)(net.pre(l)[j]), net.pre(l)[j]),
                 sp.Sum(sp.Mul(net.W(l + 1)[k, j], net.delta(l + 1)[k], evaluate=False),
                        (k, 1, net.width(l + 1))),
                 evaluate=False)
    return Claim("hidden-delta", l, sp.Eq(net.delta(l)[j], rhs, evaluate=False), (j,))


def gradient_claims(net: Network, l: int) -> list[Claim]:
    """dE/dw_ji = delta_j z_i and dE/db_j = delta_j at layer l."""
    j, i = net.index("this", l), net.index("prev", l - 1)
    claims = [Claim("weight-gradient", l, sp.Eq(
        Partial(net.E, net.W(l)[j, i]),
        sp.Mul(net.delta(l)[j], net.out(l - 1)[i], evaluate=False), evaluate=False), (j, i))]
    if net.bias:
        claims.append(Claim("bias-gradient", l, sp.Eq(
            Partial(net.E, net.b(l)[j]), net.delta(l)[j], evaluate=False), (j,)))
    return claims


def all_claims(net: Network) -> list[Claim]:
    """Every claim of the report, the output layer first, then each hidden layer from the
    output side, then the gradients of each layer."""
    out = output_claims(net)
    out += [hidden_claim(net, l) for l in range(net.L - 1, 0, -1)]
    for l in range(net.L, 0, -1):
        out += gradient_claims(net, l)
    return out


def index_values(claim: Claim, net: Network) -> list[dict]:
    """Every value of the claim's free indices, {index: number}, first index slowest."""
    return [dict(zip(claim.free, map(sp.Integer, values)))
            for values in product(*(net.units(i.layer) for i in claim.free))]


def instances(claim: Claim, net: Network) -> list[tuple[tuple, sp.Expr, sp.Expr]]:
    """(index, lhs, rhs) at every value of the claim's free indices, sums written out."""
    out = []
    for at in index_values(claim, net):
        lhs, rhs = (_written_out(side.xreplace(at)) for side in (claim.equation.lhs, claim.equation.rhs))
        out.append((tuple((i, int(v)) for i, v in at.items()), lhs, rhs))
    return out


_UNEVALUATED = (sp.Sum, sp.Product, sp.Derivative, sp.Subs)


def _written_out(side: sp.Expr) -> sp.Expr:
    """The side with its sums written out and its derivatives taken; a side with none of
    them is left as it is (doit would rebuild it whole, per unit, for nothing). A sum over
    numbers is the terms added, one for each value: SymPy's doit first looks for a closed
    form, which is most of a worked example's time at width 32."""
    if not side.has(*_UNEVALUATED):
        return side

    def leaf(e: sp.Basic, again) -> sp.Expr | None:
        if _over_numbers(e):
            return again(_terms(e))
        if isinstance(e, _UNEVALUATED):  # what is left, taken on its own, its sums out first
            return e.func(*map(again, e.args)).doit()
        return None
    return rebuilt(side, leaf)


def _over_numbers(e: sp.Basic) -> bool:
    return isinstance(e, sp.Sum) and len(e.limits) == 1 and all(
        isinstance(b, sp.Integer) for b in e.limits[0][1:])


def _terms(e: sp.Sum) -> sp.Expr:
    (k, lo, hi), = e.limits
    return sp.Add(*[e.function.xreplace({k: sp.Integer(v)}) for v in range(int(lo), int(hi) + 1)])


def loss_domain(net: Network) -> tuple[Domain, tuple[Condition, ...]]:
    """Where targets may be sampled, and the side condition a loss may need."""
    L = net.L
    t = () if net.symbolic else tuple(net.t[k] for k in net.units(L))
    domain = Domain(t, simplex=net.loss.targets_sum_to_one,
                    unit_interval=net.loss.needs_unit_interval)
    conditions: tuple[Condition, ...] = ()
    if net.loss.targets_sum_to_one:
        m = net.index("sum", L)
        total = sp.Sum(net.t[m], (m, 1, net.width(L)))
        # at symbolic width the sum itself is replaced; at a concrete one, the last target
        impose = ((total, sp.Integer(1)),) if net.symbolic else ((t[-1], 1 - sp.Add(*t[:-1])),)
        conditions = (Condition(sp.Eq(total, 1), impose),)
    return domain, conditions


def bound_claim(claim: Claim, equation: sp.Eq) -> Claim:
    """The same claim, written differently (in a notation, then bound back)."""
    return Claim(claim.id, claim.layer, equation, claim.free, claim.batch, claim.alike)


def absent(expr: sp.Expr, net: Network) -> sp.Indexed | None:
    """A quantity of an instance that the network does not have: a unit past its layer's
    width (the same letter on units of two layers, read as one number, can ask for one)."""
    for q in sorted(expr.atoms(sp.Indexed), key=str):
        role, l = role_of(q.base)
        layers = (l, l - 1) if role == "W" else (net.L,) if role == "t" else (l,)
        if any(i.is_Integer and int(i) not in net.units(k) for i, k in zip(q.indices, layers)):
            return q
    return None
