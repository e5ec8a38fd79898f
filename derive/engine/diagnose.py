"""What a refuted claim should have said, and which known mistake it is.

For a claim about a quantity the engine knows (a delta, the gradient of a weight or bias, a
partial derivative within a layer or into the next), `diagnose` writes what the quantity
equals, in the claim's own index letters, and proves it. Each named mistake
(engine/mistakes.py) changes that right side; the claim is matched against every variant,
and a match is a proof that the claim is that variant (the two sides are one expression,
or the engine proves them equal), never a guess from how the claim was written.

>>> from bpcheck.derive.io.notation_file import load_notation
>>> from bpcheck.derive.model.network import make_network, UnitIndex
>>> net, n = make_network(), load_notation("bishop")
>>> j, k = UnitIndex("=j", 1), UnitIndex("=k", 2)
>>> wrong = sp.Eq(net.delta(1)[j], sp.Sum(net.W(2)[k, j] * net.delta(2)[k], (k, 1, 2)))
>>> d = diagnose(Claim("check", 1, wrong, (j,)), net, Truth(net.graph), notation=n)
>>> d.id
'missing-activation-derivative'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import sympy as sp

from ..model.network import Network, UnitIndex, role_of
from ..model.notation import Notation
from .claims import Claim, absent, instances, loss_domain
from .proof import Condition, Domain
from .decide import decide
from .expr import Partial
from .mistakes import MISTAKES, Context, Mistake
from .proof import Verdict
from .truth import Truth


@dataclass(frozen=True)
class Diagnosis:
    """Why a claim is wrong: the mistake it is (proved), what it should say (proved, in
    canonical symbols), and a convention under which it is true, in words."""

    mistake: Mistake | None = None
    correct: sp.Eq | None = None
    convention: str = ""
    repaired: str = ""  # the user's own LaTeX with the mistake undone, proved
    conditions: tuple[sp.Eq, ...] = ()  # what the right equation's proof needed

    @property
    def id(self) -> str | None:
        return self.mistake.id if self.mistake else None

    def __bool__(self) -> bool:
        return bool(self.mistake or self.correct is not None or self.convention or self.repaired)


class _Letters:
    """New index letters for a right side, none of them one the claim already uses."""

    def __init__(self, claim: Claim, notation: Notation, L: int):
        self.used = {i.role[1:] for i in claim.equation.atoms(UnitIndex) if i.role.startswith("=")}
        # a letter the claim sums over a layer with is the one to sum that layer with again
        self.summed = {}
        for s in claim.equation.atoms(sp.Sum):
            for v, *_ in s.limits:
                if isinstance(v, UnitIndex) and v.role.startswith("="):
                    self.summed.setdefault(v.layer, v)
        self.n, self.L = notation, L

    def __call__(self, role: str, layer: int) -> UnitIndex:
        if layer in self.summed:
            return self.summed.pop(layer)
        table = self.n.output_letters if layer == self.L and role in self.n.output_letters \
            else self.n.letters
        base = table.get(role, "m")
        letter = base
        while letter in self.used:
            letter += "'"
        self.used.add(letter)
        return UnitIndex("=" + letter, layer)


def _candidates(lhs: sp.Expr, net: Network, fresh) -> Iterator[sp.Expr]:
    """What the left side may equal, the most specific form first."""
    if isinstance(lhs, Partial) and lhs.num == net.E and isinstance(lhs.den, sp.Indexed):
        role, l = role_of(lhs.den.base)
        idx = lhs.den.indices
        if role == "pre":
            yield from _delta(net, l, idx[0], fresh)
        elif role == "W":
            yield net.delta(l)[idx[0]] * net.out(l - 1)[idx[1]]
        elif role == "b":
            yield net.delta(l)[idx[0]]
        elif role == "out" and l == net.L and net.loss.slope is not None:
            yield net.loss.slope(lhs.den, net.t[idx[0]])
        return
    if isinstance(lhs, sp.Indexed) and role_of(lhs.base)[0] == "delta":
        yield from _delta(net, role_of(lhs.base)[1], lhs.indices[0], fresh)
        return
    if isinstance(lhs, Partial) and all(isinstance(q, sp.Indexed) for q in (lhs.num, lhs.den)):
        yield from _jacobian(net, lhs.num, lhs.den)


def _slope(net: Network, l: int, j: sp.Expr) -> sp.Expr:
    a = net.pre(l)[j]
    return sp.Derivative(net.phi(l)(a), a)


def _delta(net: Network, l: int, j: sp.Expr, fresh) -> Iterator[sp.Expr]:
    if l == net.L:
        y, t = net.out(l), net.t
        yield y[j] - t[j]
        if net.loss.slope is not None:
            if net.activation(l).elementwise:
                yield net.loss.slope(y[j], t[j]) * _slope(net, l, j)
            m = fresh("sum", l)
            yield sp.Sum(net.loss.slope(y[m], t[m]) * Partial(y[m], net.pre(l)[j]),
                         (m, 1, net.width(l)))
    elif 1 <= l < net.L:
        k = fresh("next", l + 1)
        yield _slope(net, l, j) * sp.Sum(net.W(l + 1)[k, j] * net.delta(l + 1)[k],
                                         (k, 1, net.width(l + 1)))


def _jacobian(net: Network, num: sp.Indexed, den: sp.Indexed) -> Iterator[sp.Expr]:
    (rn, ln), (rd, ld) = role_of(num.base), role_of(den.base)
    k, j = num.indices[0], den.indices[0]
    if (rn, rd) == ("pre", "pre") and ln == ld:
        yield sp.KroneckerDelta(k, j)
    elif (rn, rd) == ("pre", "pre") and ln == ld + 1:
        yield net.W(ln)[k, j] * _slope(net, ld, j)
    elif (rn, rd) == ("pre", "out") and ln == ld + 1:
        yield net.W(ln)[k, j]
    elif (rn, rd) == ("out", "pre") and ln == ld and ln >= 1:
        if net.activation(ln).elementwise:
            yield sp.KroneckerDelta(k, j) * _slope(net, ln, j)
        else:
            yield num * (sp.KroneckerDelta(k, j) - net.out(ln)[j])
    elif (rn, rd) == ("out", "pre") and ln == ld + 1:
        if net.activation(ln).elementwise:
            yield _slope(net, ln, k) * net.W(ln)[k, j] * _slope(net, ld, j)
        else:
            m = UnitIndex("=m" if "m" not in {str(x) for x in (k, j)} else "=n", ln)
            yield sp.Sum(Partial(num, net.pre(ln)[m]) * net.W(ln)[m, j], (m, 1, net.width(ln))) \
                * _slope(net, ld, j)
    elif (rn, rd) == ("pre", "W") and ln == role_of(den.base)[1]:
        yield sp.KroneckerDelta(k, den.indices[0]) * net.out(ln - 1)[den.indices[1]]


def equal(claim: Claim, lhs: sp.Expr, rhs: sp.Expr, net: Network,
          truth: Truth) -> tuple[sp.Eq, ...] | None:
    """Whether two expressions are one quantity at every value of the claim's free
    indices (one expression when written out, or proved equal by the engine): the
    conditions the proof needed, or None where they are not proved equal."""
    cases = instances(Claim(claim.id, claim.layer, sp.Eq(lhs, rhs, evaluate=False),
                            claim.free), net)
    if all(sp.expand(l - r) == 0 for _, l, r in cases):
        return ()
    if any(absent(l - r, net) is not None for _, l, r in cases):
        return None
    domain, conditions = loss_domain(net)
    outcome = decide(net.graph, cases, conditions=conditions, domain=domain, truth=truth,
                     residual=False)  # only whether they are equal
    return outcome.conditions if outcome.verdict is Verdict.PROVED else None


def diagnose(claim: Claim, net: Network, truth: Truth, *, notation: Notation) -> Diagnosis:
    """The right side the claim should have and the named mistake it is, each proved; an
    empty Diagnosis where the engine knows neither. The right side shown is the most
    specific form that holds (y - t where it does); the mistakes are looked for in every
    form that holds, so a factor dropped from the general form is found too."""
    lhs, written = claim.equation.lhs, claim.equation.rhs
    if lhs.could_extract_minus_sign() and not lhs.is_Add:  # an update: -dE/dw = ... per eta
        lhs, written = -lhs, -written
        claim = Claim(claim.id, claim.layer, sp.Eq(lhs, written, evaluate=False), claim.free)
    fresh = _Letters(claim, notation, net.L)
    shown = None
    for right in _candidates(lhs, net, fresh):
        if absent(right, net) is not None:
            continue
        conditions = equal(claim, lhs, right, net, truth)
        if conditions is None:
            continue
        shown = shown or (sp.Eq(lhs, right, evaluate=False), conditions)
        node = (lhs.den if isinstance(lhs, Partial) else lhs)
        context = Context(net, lhs, right, role_of(node.base)[1], node.indices[0], fresh)
        for mistake in MISTAKES:
            for variant in mistake.variants(context):
                if variant != right and equal(claim, written, variant, net, truth) is not None:
                    return Diagnosis(mistake, shown[0], conditions=shown[1])
    return Diagnosis(None, shown[0], conditions=shown[1]) if shown else Diagnosis()


def needs_targets_summing_to_one(claims, net: Network, truth: Truth) -> bool:
    """Whether claims refuted on a network whose loss does not assume that the targets sum
    to 1 are proved where they do: the condition was left out."""
    if net.loss.targets_sum_to_one or net.symbolic:
        return False
    t = tuple(net.t[k] for k in net.units(net.L))
    condition = Condition(sp.Eq(sp.Add(*t), 1), ((t[-1], 1 - sp.Add(*t[:-1])),))
    domain = Domain(t, simplex=True, unit_interval=net.loss.needs_unit_interval)
    for claim in claims:
        cases = instances(claim, net)
        if any(absent(l - r, net) is not None for _, l, r in cases):
            return False
        outcome = decide(net.graph, cases, conditions=(condition,), domain=domain, truth=truth,
                         residual=False)
        if outcome.verdict is not Verdict.PROVED or not outcome.conditions:
            return False
    return True
