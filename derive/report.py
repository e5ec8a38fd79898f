"""The report of one network: every notation's forward equations, derivation, checks and
Jacobians, and the cross-notation table. Plain dataclasses; they render through
`__rich_console__` for the terminal and `to_json()` for machines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from .checks import Check, Claim, Derivation, bound_claim
from .jacobian import Jacobian, jacobians, output_activation
from .network import Network, UnitIndex
from .notation import Notation
from .proof import Counterexample, Outcome, Verdict
from .render import latex, layer_label, text
from .steps import Step, gradient_steps, hidden_steps, output_steps

DELTA_CLAIMS = ("output-delta-canonical", "output-delta-diagonal", "output-delta-general")


@dataclass(frozen=True)
class Rendered:
    text: str
    latex: str


def render(expr: sp.Basic, n: Notation, net: Network) -> Rendered:
    return Rendered(text(expr, n, net), latex(expr, n, net))


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
    cells: tuple[tuple[str, ...], ...] = ()  # every entry of the concrete matrix, LaTeX

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
        from .console import render_report
        yield from render_report(self, console, options)

    def _repr_latex_(self) -> str:
        """For Jupyter: each notation's checks, one aligned line each, with verdicts."""
        lines = []
        for r in self.notations:
            lines.append(rf"&\textbf{{{_tex_text(r.notation.title)}}}")
            lines += [rf"&{c.claim.latex} && \text{{{c.id}: {c.verdict}}}" for c in r.checks]
        return "$$\\begin{aligned}" + r" \\ ".join(lines) + "\\end{aligned}$$"


def _tex_text(text: str) -> str:
    from .export import escape
    return escape(text)


# -- building --------------------------------------------------------------------------

def shown(v: sp.Expr, write, approx: str = "≈") -> str:
    """A value exact where short (a rational, ln 2), else its first 12 digits; `write`
    prints the exact form (as text or as LaTeX)."""
    s = write(v)
    if v.is_Rational:
        return s
    return f"{s} {approx} {sp.N(v, 12)}" if len(s) <= 16 else f"{approx} {sp.N(v, 12)}"


def _value(v: sp.Expr, n: Notation, net: Network) -> str:
    return shown(v, lambda e: text(e, n, net))


def counterexample_json(ce: Counterexample, n: Notation, net: Network) -> dict[str, Any]:
    from .activation import KinkSide  # a ReLU's side follows from its argument's sign
    return {"index": {text(i, n, net): v for i, v in ce.index},
            "point": {text(q, n, net): _value(v, n, net) for q, v in ce.point
                      if not isinstance(q, KinkSide)},
            "lhs": _value(ce.lhs, n, net), "rhs": _value(ce.rhs, n, net),
            "exact": ce.exact}


def _view(claim: Claim, outcome: Outcome, n: Notation, net: Network) -> CheckView:
    ce = outcome.counterexample
    return CheckView(claim.id, claim.layer, layer_label(n, net, claim.layer),
                     render(n.express(claim.equation), n, net), outcome.verdict,
                     tuple(render(c, n, net) for c in outcome.conditions), outcome.note,
                     counterexample_json(ce, n, net) if ce else None, ce)


class _Prover:
    """Proves each notation's claims as bound back to the canonical model, reusing a
    proof when the bound equation is the canonical one."""

    def __init__(self, derivation: Derivation):
        self.derivation = derivation
        self.cache: dict[tuple[str, int, sp.Eq], Outcome] = {
            (c.claim.id, c.claim.layer, c.claim.equation): c.outcome for c in derivation.checks}

    def outcome(self, claim: Claim, n: Notation) -> Outcome:
        written = n.express(claim.equation)
        eq = sp.Eq(n.bind(written.lhs), n.bind(written.rhs), evaluate=False)
        key = (claim.id, claim.layer, eq)
        if key not in self.cache:
            self.cache[key] = self.derivation.prove(bound_claim(claim, eq))
        return self.cache[key]


def _verify_step(step: Step, derivation: Derivation, layer: int) -> Verdict | None:
    """A step with the layer's delta alone on the left is proved like a claim."""
    net = derivation.net
    lhs = step.equation.lhs
    if not (isinstance(lhs, sp.Indexed) and lhs.base == net.delta(layer)):
        return None
    claim = Claim("output-delta-general" if layer == net.L else "hidden-delta", layer,
                  step.equation, (lhs.indices[0],))
    return derivation.prove(claim).verdict


def _notes(n: Notation, net: Network) -> tuple[str, ...]:
    from .render import text_symbol
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


def build_report(net: Network, notations: list[Notation], *, budget: float | None = 30.0) -> Report:
    derivation = Derivation(net, budget=budget)
    prover = _Prover(derivation)
    jacs = jacobians(net, budget=budget)
    out_J = next((J for J in jacs if J.kind == "output-activation"), None) or output_activation(net)
    out_steps = output_steps(net, out_J)
    parts_canonical: list[tuple[str, list[Step], int]] = [("output layer", out_steps, net.L)]
    if net.L > 1:
        l = net.L - 1
        parts_canonical.append((f"hidden layer (shown for the layer before the output; every "
                                f"layer alike)", hidden_steps(net, l), l))
    parts_canonical.append(("gradients (shown for the first layer of weights)",
                            gradient_steps(net, 1), 1))
    verified = {id(s): _verify_step(s, derivation, layer)
                for _, steps, layer in parts_canonical for s in steps}

    cross = _cross(derivation, prover, notations)
    reports = []
    for n in notations:
        forward = tuple(render(eq, n, net) for _, eq in net.forward_equations())
        derivation_view = tuple(
            (title, tuple(StepView(s.why, render(n.express(s.equation), n, net), verified[id(s)],
                                   tuple(render(c, n, net) for c in s.conditions))
                          for s in steps))
            for title, steps, _ in parts_canonical)
        views = []
        for check in derivation.checks:
            claim = check.claim
            if claim.id == "bias-gradient" and n.bias_style == "none":
                views.append(_view(claim, Outcome(Verdict.NOT_APPLICABLE, note=(
                    "this notation has no biases: a bias is a weight from an extra input "
                    "held at 1, covered by weight-gradient")), n, net))
                continue
            views.append(_view(claim, prover.outcome(claim, n), n, net))
        views += [CheckView("cross-notation", row.layer, layer_label(n, net, row.layer),
                            dict(row.formulas)[n.name], row.verdict,
                            tuple(render(c, n, net) for c in row.conditions),
                            "this notation's delta with its sign, bound to the network: the "
                            "same quantity as in the others")
                  for row in cross]
        reports.append(NotationReport(n, forward, _notes(n, net), derivation_view, tuple(views),
                                      tuple(_jacobian_view(J, n, net) for J in jacs)))
    return Report(net, tuple(reports), cross, _translation(net, notations))


def _jacobian_view(J: Jacobian, n: Notation, net: Network) -> JacobianView:
    cells = tuple(tuple("0" if zero else latex(J.entry_at(r, c), n, net)
                        for c, zero in enumerate(row, start=1))
                  for r, row in enumerate(J.zero, start=1))
    return JacobianView(J.kind, J.layer, render(J.partial, n, net), render(J.entry, n, net),
                        J.vanishing, J.zero, cells)


def _cross(derivation: Derivation, prover: "_Prover",
           notations: list[Notation]) -> tuple[CrossRow, ...]:
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
        formulas, verdicts, conditions = [], [], set()
        for n in notations:
            formulas.append((n.name, render(n.express(claim.equation), n, net)))
            outcome = prover.outcome(claim, n)
            verdicts.append(outcome.verdict)
            conditions.update(outcome.conditions)
        verdict = Verdict.PROVED if all(v is Verdict.PROVED for v in verdicts) else \
            Verdict.REFUTED if Verdict.REFUTED in verdicts else Verdict.UNDECIDED
        rows.append(CrossRow(l, tuple(formulas), verdict, tuple(sorted(conditions, key=str))))
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
    out = []
    for label, q in rows:
        cells = []
        for n in notations:
            r = render(q, n, net)
            if label == "delta" and n.delta_sign == -1:
                r = Rendered(f"-{r.text}", f"-{r.latex}")
            cells.append(r)
        out.append((label, tuple(cells)))
    if net.bias:
        b = net.b(l)[j]
        out.append(("bias", tuple(render(b, n, net) if n.bias_style != "none"
                                  else Rendered("(none)", r"\text{(none)}") for n in notations)))
    return tuple(out)
