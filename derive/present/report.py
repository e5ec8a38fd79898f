"""The report of one network as a reader sees it: every notation's forward equations,
derivation, checks and Jacobians, and the cross-notation table, each written in the
notation's symbols. Plain dataclasses built from the engine's results (`report_of`); they
render through `__rich_console__` for the terminal, `_repr_latex_` for notebooks and
`to_json()` for machines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import sympy as sp

from ..engine.claims import Claim
from ..engine.derivation import Derivation
from ..engine.jacobian import Jacobian
from ..engine.proof import Counterexample, Outcome, Verdict
from ..engine.steps import Step
from ..model.network import Network
from ..model.notation import Notation
from .console import render_report
from .printers import latex, layer_label, text_symbol
from .tex import escape
from .values import Rendered, counterexample_json, render

DELTA_CLAIMS = ("output-delta-canonical", "output-delta-diagonal", "output-delta-general")


@dataclass(frozen=True)
class CheckView:
    id: str
    layer: int
    layer_label: str
    claim: Rendered
    verdict: Verdict
    conditions: tuple[Rendered, ...] = ()
    note: str = ""
    counterexample: dict[str, Any] | None = None
    outcome_counterexample: Counterexample | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "layer": self.layer, "layer_label": self.layer_label,
                "claim_latex": self.claim.latex, "claim_text": self.claim.text,
                "verdict": str(self.verdict),
                "conditions": [c.latex for c in self.conditions],
                "note": self.note, "counterexample": self.counterexample}


@dataclass(frozen=True)
class StepView:
    why: str
    equation: Rendered
    verdict: Verdict | None = None
    conditions: tuple[Rendered, ...] = ()


@dataclass(frozen=True)
class JacobianView:
    kind: str
    layer: int
    partial: Rendered
    entry: Rendered
    vanishing: str
    zero: tuple[tuple[bool, ...], ...]
    # every entry of the concrete matrix in LaTeX, written where a document shows it
    entries: Callable[[], tuple[tuple[str, ...], ...]] = field(default=tuple, compare=False)

    @cached_property
    def cells(self) -> tuple[tuple[str, ...], ...]:
        return self.entries()

    @property
    def summary(self) -> str:
        return {"none": "no entry vanishes",
                "off-diagonal": "every off-diagonal entry vanishes identically; the diagonal does not",
                "all": "every entry vanishes identically",
                "some": "some entries vanish identically"}[self.vanishing]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "layer": self.layer, "partial_latex": self.partial.latex,
                "entry_latex": self.entry.latex, "entry_text": self.entry.text,
                "vanishing": self.vanishing, "summary": self.summary,
                "zero": [list(r) for r in self.zero]}


@dataclass(frozen=True)
class NotationReport:
    notation: Notation
    forward: tuple[Rendered, ...]
    notes: tuple[str, ...]
    derivation: tuple[tuple[str, tuple[StepView, ...]], ...]
    checks: tuple[CheckView, ...]
    jacobians: tuple[JacobianView, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.notation.name, "title": self.notation.title,
                "forward_latex": [f.latex for f in self.forward], "notes": list(self.notes),
                "derivation": [{"part": part, "steps": [
                    {"why": s.why, "latex": s.equation.latex,
                     "verdict": str(s.verdict) if s.verdict else None,
                     "conditions": [c.latex for c in s.conditions]} for s in steps]}
                    for part, steps in self.derivation],
                "checks": [c.to_json() for c in self.checks],
                "jacobians": [j.to_json() for j in self.jacobians]}


@dataclass(frozen=True)
class CrossRow:
    layer: int
    formulas: tuple[tuple[str, Rendered], ...]
    verdict: Verdict
    conditions: tuple[sp.Basic, ...] = ()


@dataclass(frozen=True)
class Report:
    net: Network
    notations: tuple[NotationReport, ...]
    cross: tuple[CrossRow, ...]
    translation: tuple[tuple[str, tuple[Rendered, ...]], ...]

    def network_json(self) -> dict[str, Any]:
        net = self.net
        return {"layers": [w if isinstance(w, int) else str(w) for w in net.widths],
                "hidden": net.hidden.name, "output": net.output.name,
                "loss": net.loss.name, "bias": net.bias,
                "weights": net.n_weights if isinstance(net.n_weights, int) else str(net.n_weights),
                "symbolic_widths": net.symbolic}

    def to_json(self) -> dict[str, Any]:
        return {"network": self.network_json(),
                "notations": [n.to_json() for n in self.notations],
                "cross_notation": [
                    {"layer": r.layer, "verdict": str(r.verdict),
                     "formulas": {name: f.latex for name, f in r.formulas}}
                    for r in self.cross]}

    def __rich_console__(self, console, options):
        yield from render_report(self, console, options)

    def _repr_latex_(self) -> str:
        """For Jupyter: each notation's checks, one aligned line each, with verdicts."""
        lines = []
        for r in self.notations:
            lines.append(rf"&\textbf{{{escape(r.notation.title)}}}")
            lines += [rf"&{c.claim.latex} && \text{{{c.id}: {c.verdict}}}" for c in r.checks]
        return "$$\\begin{aligned}" + r" \\ ".join(lines) + "\\end{aligned}$$"


# -- from the engine's results ------------------------------------------------------------

def _view(claim: Claim, outcome: Outcome, n: Notation, net: Network) -> CheckView:
    ce = outcome.counterexample
    return CheckView(claim.id, claim.layer, layer_label(n, net, claim.layer),
                     render(n.express(claim.equation), n, net), outcome.verdict,
                     tuple(render(c, n, net) for c in outcome.conditions), outcome.note,
                     counterexample_json(ce, n, net) if ce else None, ce)


NO_BIAS = ("this notation has no biases: a bias is a weight from an extra input held at 1, "
           "covered by weight-gradient")


def _notes(n: Notation, net: Network) -> tuple[str, ...]:
    h, f = (text_symbol(n.symbols[k]) for k in ("hidden_activation", "output_activation"))
    what = lambda a: "any elementwise activation" if a.abstract else a.name
    notes = [f"{h} is {what(net.hidden)} (hidden layers), {f} is {what(net.output)} (output layer)"
             if h != f else f"{h} is {what(net.hidden)} in the hidden layers and "
             f"{what(net.output)} in the output layer"]
    if net.bias and n.bias_style == "none":
        b = text_symbol(n.symbols["bias"])
        notes.append(f"This notation has no biases (a bias is a weight from an extra input "
                     f"unit held at 1). This network has them: {b} below is a bias, outside "
                     f"the notation; --no-bias gives the network the notation describes.")
    if net.bias and n.bias_style == "weight":
        notes.append("Biases are written as weights from a unit fixed at 1 (index 0).")
    if net.L > 2 and all(n.layer_marks[k] == "none" for k in ("weighted_input", "delta")):
        notes.append("This notation tells layers apart by index letters only: in a network "
                     "with several hidden layers their equations read alike; the layer column "
                     "of the checks says which is which.")
    if n.delta_sign == -1:
        notes.append("delta has the opposite sign here: delta = -dE/da, so the gradient is "
                     "-delta times the unit's input.")
    return tuple(notes)


Parts = list[tuple[str, list[Step], int]]  # (title, steps, layer) of the derivation


def report_of(derivation: Derivation, jacobians: list[Jacobian], parts: Parts,
              notations: list[Notation], *,
              progress: Callable[[int, str], None] | None = None) -> Report:
    """The report of a derivation in each notation: its claims, each bound back through the
    notation and proved (`Derivation.in_notation`), its steps and its Jacobians;
    `progress(done, stage)` is told before the cross-notation rows and each notation."""
    step = progress or (lambda done, stage: None)
    net = derivation.net
    verified = {id(s): derivation.verify(s.equation, layer) for _, steps, layer in parts
                for s in steps}
    step(0, "the notations compared")
    cross = _cross(derivation, notations)
    views = []
    for i, n in enumerate(notations, start=1):
        step(i, f"in {n.name}")
        views.append(_in_notation(derivation, jacobians, parts, verified, cross, n))
    step(len(notations) + 1, "")
    return Report(net, tuple(views), cross, _translation(net, notations))


def _in_notation(derivation, jacobians, parts, verified, cross, n: Notation) -> NotationReport:
    net = derivation.net
    forward = tuple(render(eq, n, net) for _, eq in net.forward_equations())
    steps = tuple((title, tuple(StepView(s.why, render(n.express(s.equation), n, net),
                                         verified[id(s)],
                                         tuple(render(c, n, net) for c in s.conditions))
                                for s in ss)) for title, ss, _ in parts)
    views = []
    for check in derivation.checks:
        claim = check.claim
        outcome = (Outcome(Verdict.NOT_APPLICABLE, note=NO_BIAS)
                   if claim.id == "bias-gradient" and n.bias_style == "none"
                   else derivation.in_notation(claim, n))
        views.append(_view(claim, outcome, n, net))
    views += [CheckView("cross-notation", row.layer, layer_label(n, net, row.layer),
                        dict(row.formulas)[n.name], row.verdict,
                        tuple(render(c, n, net) for c in row.conditions),
                        "this notation's delta with its sign, bound to the network: the "
                        "same quantity as in the others")
              for row in cross]
    return NotationReport(n, forward, _notes(n, net), steps, tuple(views),
                          tuple(_jacobian_view(J, n, net) for J in jacobians))


def _jacobian_view(J: Jacobian, n: Notation, net: Network) -> JacobianView:
    def entries():  # each entry of the concrete matrix only where it is shown
        return tuple(tuple("0" if zero else latex(J.entry_at(r, c), n, net)
                           for c, zero in enumerate(row, start=1))
                     for r, row in enumerate(J.zero, start=1))
    return JacobianView(J.kind, J.layer, render(J.partial, n, net), render(J.entry, n, net),
                        J.vanishing, J.zero, entries)


def _cross(derivation: Derivation, notations: list[Notation]) -> tuple[CrossRow, ...]:
    """For each layer, the delta formula of every notation, bound to the canonical model
    and proved equal to its sign times dE/da: the same quantity in every notation."""
    net, rows = derivation.net, []
    for l in range(net.L, 0, -1):
        if l == net.L:
            proved = [c for i in DELTA_CLAIMS for c in derivation.checks
                      if c.claim.id == i and c.outcome.verdict is Verdict.PROVED]
            check = proved[0] if proved else derivation.check("output-delta-general")
        else:
            check = derivation.check("hidden-delta", l)
        claim = check.claim
        outcomes = [derivation.in_notation(claim, n) for n in notations]
        verdicts = [o.verdict for o in outcomes]
        verdict = Verdict.PROVED if all(v is Verdict.PROVED for v in verdicts) else \
            Verdict.REFUTED if Verdict.REFUTED in verdicts else Verdict.UNDECIDED
        rows.append(CrossRow(l, tuple((n.name, render(n.express(claim.equation), n, net))
                                      for n in notations), verdict,
                             tuple(sorted({c for o in outcomes for c in o.conditions}, key=str))))
    return tuple(rows)


def _translation(net: Network, notations: list[Notation]) -> tuple[tuple[str, tuple[Rendered, ...]], ...]:
    """The same quantity in each notation: what the cross-notation proofs translate."""
    L = net.L
    l = L - 1 if L > 1 else L
    j, i = net.index("this", l, forward=True), net.index("prev", l - 1, forward=True)
    rows = [("weighted input of a unit", net.pre(l)[j]),
            ("output of a unit", net.out(l)[j]),
            ("network output", net.out(L)[net.index("this", L, forward=True)]),
            ("weight into a unit", net.W(l)[j, i]),
            ("delta", net.delta(l)[j]),
            ("target", net.t[net.index("this", L, forward=True)]),
            ("error", net.E)]
    # the quantity a notation's delta is: its sign times the model's
    out = [(label, tuple(render(n.bind(q) if label == "delta" else q, n, net) for n in notations))
           for label, q in rows]
    if net.bias:
        b = net.b(l)[j]
        out.append(("bias", tuple(render(b, n, net) if n.bias_style != "none"
                                  else Rendered("(none)", r"\text{(none)}") for n in notations)))
    return tuple(out)
