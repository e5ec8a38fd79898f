"""The theorem for every depth as a reader follows it, in each notation: the lemma, the
base case and the induction, each with its statement in words, its claim and verdict, and
the derivation that proves it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..engine.steps import hidden_steps, output_steps
from ..engine.jacobian import output_activation
from ..engine.theorem import BASE, INDUCTION, LAYER, LEMMA, NAMES, OUTPUT, Theorem, induction
from ..model.network import Network
from ..model.notation import Notation
from .console import render_depth
from .report import CheckView, StepView, _view
from .values import render


@dataclass(frozen=True)
class Part:
    """One part of the theorem: what it says in words, the claim, how it is derived."""

    title: str
    words: str
    check: CheckView
    steps: tuple[StepView, ...] = ()

    def to_json(self) -> dict[str, Any]:
        c = self.check
        return {"id": c.id, "title": self.title, "statement": self.words,
                "layer_label": c.layer_label, "claim_latex": c.claim.latex,
                "claim_text": c.claim.text, "verdict": str(c.verdict),
                "conditions": [x.latex for x in c.conditions], "note": c.note,
                "counterexample": c.counterexample,
                "steps": [{"why": s.why, "latex": s.equation.latex,
                           "verdict": str(s.verdict) if s.verdict else None} for s in self.steps]}


@dataclass(frozen=True)
class TheoremView:
    notation: Notation
    parts: tuple[Part, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.notation.name, "title": self.notation.title,
                "checks": [p.to_json() for p in self.parts]}


@dataclass(frozen=True)
class DepthReport:
    net: Network  # the stand-in: layers l-1, l, l+1, L; widths symbols
    theorems: tuple[TheoremView, ...]

    def to_json(self) -> dict[str, Any]:
        net = self.net
        return {"network": {"depth": "any", "layers": list(NAMES),
                            "widths": [str(w) for w in net.widths], "hidden": net.hidden.name,
                            "output": net.output.name, "loss": net.loss.name, "bias": net.bias},
                "notations": [t.to_json() for t in self.theorems]}

    def __rich_console__(self, console, options):
        yield from render_depth(self, console, options)


def depth_report_of(theorem: Theorem, notations: list[Notation]) -> DepthReport:
    """The theorem in each notation: each part's claim bound back and proved there."""
    d, net = theorem.derivation, theorem.derivation.net
    lemma_steps, base_steps = hidden_steps(net, LAYER), output_steps(net, output_activation(net))
    verified = {id(s): d.verify(s.equation, layer)
                for steps, layer in ((lemma_steps, LAYER), (base_steps, OUTPUT)) for s in steps}
    out = []
    for n in notations:
        steps = lambda ss: tuple(StepView(s.why, render(n.express(s.equation), n, net),
                                          verified[id(s)],
                                          tuple(render(c, n, net) for c in s.conditions))
                                 for s in ss)
        lemma, base = d.in_notation(theorem.lemma, n), d.in_notation(theorem.base, n)
        views = (_renamed(_view(theorem.lemma, lemma, n, net), LEMMA),
                 _renamed(_view(theorem.base, base, n, net), BASE),
                 _renamed(_view(theorem.lemma, induction(lemma, base), n, net), INDUCTION,
                          label="every l < L"))
        out.append(TheoremView(n, _parts(net, views, steps(lemma_steps), steps(base_steps))))
    return DepthReport(net, tuple(out))


def _parts(net: Network, views, lemma_steps, base_steps) -> tuple[Part, ...]:
    what = "any elementwise activation" if net.hidden.abstract else net.hidden.name
    lemma, base, every = views
    return (
        Part("Lemma: one layer step",
             f"Whatever network lies downstream of layer l+1, write the error as an "
             f"undefined function of that layer's weighted inputs, with its partial "
             f"derivatives as layer l+1's deltas. Then for every unit of layer l, at "
             f"every width, with {what} as the hidden activation:", lemma, lemma_steps),
        Part("Base case: the output layer",
             f"The output layer L with the real loss ({net.loss.name}) and output "
             f"activation ({net.output.name}), at every width:", base, base_steps),
        Part("Induction: every depth",
             "On L - l. The base case gives the output layer's deltas. If layer l+1's "
             "deltas are the derivatives of the error, the lemma, with the rest of the "
             "network as the undefined function, gives layer l's. So for every depth L "
             "and every hidden layer l < L:", every))


def _renamed(view: CheckView, id: str, *, label: str | None = None) -> CheckView:
    return replace(view, id=id, layer_label=label or view.layer_label)
