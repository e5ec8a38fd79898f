"""Every claim of a layered network's report, decided against the one truth.

A claim is first tried at a generic index, for every unit of its layer at once
(engine/generic.py); a claim that is not zero there, and every output-layer claim at a
concrete width, is tried unit by unit in its frame (engine/truth.py): the output layer
with the real loss (the base case), a hidden layer step with the error an undefined
function of the next layer (the lemma), a gradient with the error an undefined function of
its own layer. At symbolic width a claim is proved for every width, or refuted at a
concrete width where it fails (DESIGN.md, "Width").

>>> from bpcheck.derive.model.network import make_network
>>> d = Derivation(make_network(layers=(2, 3, 2), output="softmax", loss="ce"))
>>> [str(c.outcome.verdict) for c in d.checks if c.claim.id.startswith("output")]
['proved', 'refuted', 'proved']
"""
from __future__ import annotations

from dataclasses import replace
from functools import cached_property

import sympy as sp

from ..errors import BudgetExceeded
from ..model.network import Network
from ..model.notation import Notation
from .claims import Check, Claim, all_claims, bound_claim, instances, loss_domain
from .expr import Partial
from .generic import Generic
from .normal import NormalForm, numerator
from .proof import Instance, Outcome, Verdict, prove, time_budget
from .truth import Truth


class Derivation:
    """All checks of one network, proved in canonical symbols.

    >>> from bpcheck.derive.model.network import make_network
    >>> d = Derivation(make_network(layers=(2, 3, 2)))
    >>> str(d.check("hidden-delta", 1).outcome.verdict)
    'proved'
    """

    def __init__(self, net: Network, *, budget: float | None = 30.0, run: bool = True):
        self.net, self.budget = net, budget
        self.generic = Generic(net)
        self.checks: list[Check] = [Check(c, self.prove(c)) for c in all_claims(net)] if run else []
        self._bound = {(c.claim.id, c.claim.layer, c.claim.equation): c.outcome for c in self.checks}

    @cached_property
    def truth(self) -> Truth | None:
        """The one truth of the network's graph, built only when a claim is read unit by
        unit: a claim proved at a generic index never needs the graph (8448 edges at 8
        layers of 32)."""
        return None if self.net.symbolic else Truth(self.net.graph)

    def in_notation(self, claim: Claim, n: Notation) -> Outcome:
        """The claim as the notation writes it, bound back to the model and proved: the
        same quantity in every notation. A proof is reused where the bound equation is the
        model's own."""
        written = n.express(claim.equation)
        eq = sp.Eq(n.bind(written.lhs), n.bind(written.rhs), evaluate=False)
        key = (claim.id, claim.layer, eq)
        if key not in self._bound:
            self._bound[key] = self.prove(bound_claim(claim, eq))
        return self._bound[key]

    def verify(self, equation: sp.Eq, layer: int) -> Verdict | None:
        """A derivation step with the layer's delta alone on its left, proved like a claim;
        None for a step that only differentiates (it is derived, not claimed)."""
        net, lhs = self.net, equation.lhs
        if not (isinstance(lhs, sp.Indexed) and lhs.base == net.delta(layer)):
            return None
        claim = Claim("output-delta-general" if layer == net.L else "hidden-delta", layer,
                      equation, (lhs.indices[0],))
        key = (claim.id, layer, equation)  # the step that ends a part is a check's claim
        if key not in self._bound:
            self._bound[key] = self.prove(claim)
        return self._bound[key].verdict

    def check(self, id: str, layer: int | None = None) -> Check:
        for c in self.checks:
            if c.claim.id == id and (layer is None or c.claim.layer == layer):
                return c
        raise KeyError((id, layer))

    def prove(self, claim: Claim) -> Outcome:
        """Decide a claim; building its truth counts against the same time budget."""
        try:
            with time_budget(self.budget, clock="cpu"):
                if self.net.symbolic:
                    return self._kinked(self._every_width(claim), claim)
                return self._kinked(self._at_concrete_width(claim), claim)
        except BudgetExceeded as e:
            return Outcome(Verdict.UNDECIDED, note=e.why)

    # -- a concrete width ------------------------------------------------------------------
    def _at_concrete_width(self, claim: Claim) -> Outcome:
        if claim.kind == "hidden" and not claim.equation.has(Partial):
            (j,) = claim.free
            meaning = self.generic.delta_at(claim.layer, j)
            outcome = self._zero(claim.equation.lhs.xreplace(meaning),
                                 claim.equation.rhs.doit().xreplace(meaning))
            if outcome is not None:
                return outcome
        # every unit at once at a generic index, the output layer's too unless its loss has
        # a condition (Σt = 1), which only the units' own proof applies; what fails there
        # is tried unit by unit, for the condition or the counterexample
        if claim.kind != "output" or not self.net.loss.targets_sum_to_one:
            outcome = self._zero(*self._generic_sides(claim))
            if outcome is not None:
                return outcome
        return self.unit_by_unit(claim)

    def unit_by_unit(self, claim: Claim) -> Outcome:
        """The claim at every value of its free indices, each read in its frame: the
        output layer's with the real loss, the others with the error downstream left
        undefined; a counterexample is a point of the frame's variables."""
        output = claim.kind == "output"
        read = []
        for index, lhs, rhs in instances(claim, self.net):
            frame = self.truth.frame_of([lhs, rhs], real_loss=output)
            read.append(Instance(index, *self.truth.meanings([lhs, rhs], frame)))
        if not output:
            return prove(read, budget=None)
        domain, conditions = loss_domain(self.net)
        return prove(read, conditions=conditions, domain=domain, budget=None)

    def _generic_sides(self, claim: Claim) -> tuple[sp.Expr, sp.Expr]:
        """Both sides at the claim's generic indices, with their sums canonical."""
        meaning = self.generic.for_claim(claim.kind, claim.layer)
        return tuple(self.generic.canonical(meaning(side))
                     for side in (claim.equation.lhs, claim.equation.rhs))

    @staticmethod
    def _zero(lhs: sp.Expr, rhs: sp.Expr) -> Outcome | None:
        """Proved for every unit at once where the difference is zero, else None."""
        return Outcome(Verdict.PROVED) if numerator(NormalForm()(lhs - rhs)) == 0 else None

    # -- every width at once ----------------------------------------------------------------
    def _every_width(self, claim: Claim) -> Outcome:
        """Proved for every width when the canonical difference is zero; refuted when the
        claim fails at a concrete width; undecided, with the reason, otherwise."""
        lhs, rhs = self._generic_sides(claim)
        form = NormalForm()
        if numerator(form(lhs - rhs)) == 0:
            return Outcome(Verdict.PROVED, note="for every width")
        conditions = loss_domain(self.net)[1] if claim.kind == "output" else ()
        for cond in conditions:
            sub = {self.generic.canonical(old): new for old, new in cond.substitution}
            if numerator(form((lhs - rhs).xreplace(sub))) == 0:
                return Outcome(Verdict.PROVED, conditions=(cond.statement,),
                               note="for every width; needs the condition: without it the "
                                    "two sides differ")
        return self._at_some_width(claim)

    def _at_some_width(self, claim: Claim) -> Outcome:
        """A claim for every width that does not reduce to zero: look for a width where it
        fails, so that a refutation is a concrete point as always."""
        net, tried = self.net, []
        names = list(dict.fromkeys(w for w in net.widths if isinstance(w, sp.Symbol)))
        # equal widths, then different ones both ways, so that a sum over the wrong
        # layer's units shows
        for sizes in ([2] * len(names), [2 + n % 3 for n in range(len(names))],
                      [4 - n % 3 for n in range(len(names))]):
            at = dict(zip(names, sizes))
            concrete = replace(net, widths=tuple(at.get(w, w) for w in net.widths))
            outcome = Derivation(concrete, budget=None, run=False)._at_concrete_width(
                Claim(claim.id, claim.layer, claim.equation.xreplace(at), claim.free))
            widths = ", ".join(f"{w} = {v}" for w, v in at.items())
            tried.append(widths)
            if outcome.verdict is Verdict.REFUTED:
                return Outcome(Verdict.REFUTED, counterexample=outcome.counterexample,
                               residual=outcome.residual, note=f"fails at width {widths}")
        return Outcome(Verdict.UNDECIDED, note=(
            "at symbolic width the two sides' sums do not cancel term by term, and the claim "
            "holds at " + "; at ".join(tried) + ": no width was found where it fails"))

    def _kinked(self, outcome: Outcome, claim: Claim) -> Outcome:
        """A proof through a ReLU holds on each side of its kink, not at it: say so."""
        if outcome.verdict is not Verdict.PROVED or not self.net.activation(claim.layer).kink:
            return outcome
        j = claim.free[0]
        return Outcome(outcome.verdict, outcome.conditions
                       + (sp.Ne(self.net.pre(claim.layer)[j], 0),),
                       note=(outcome.note + "; " if outcome.note else "")
                       + "ReLU is not differentiable at 0: proved on each side of the kink")
