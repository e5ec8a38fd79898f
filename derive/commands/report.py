"""bpcheck report: derive and prove the deltas of a network in each notation.

>>> from bpcheck.derive.io.notation_file import load_notations
>>> from bpcheck.derive.model.network import make_network
>>> r = build_report(make_network(), load_notations("bishop"))
>>> [c.verdict.value for c in r.notations[0].checks][:3]
['proved', 'proved', 'proved']
"""
from __future__ import annotations

from typing import Callable

from ..engine.derivation import Derivation
from ..engine.jacobian import jacobians, output_activation
from ..engine.steps import gradient_steps, hidden_steps, output_steps
from ..model.network import Network
from ..model.notation import Notation
from ..present.report import Parts, Report, report_of


def build_report(net: Network, notations: list[Notation], *, budget: float | None = 30.0,
                 progress: Callable[[int, int, str], None] | None = None) -> Report:
    """Every claim proved, the derivation step by step, every Jacobian, in each notation;
    `progress(done, total, stage)` is told before each stage (a wide report takes a while)."""
    step = progress or (lambda done, total, stage: None)
    total = 4 + len(notations)  # derivation, Jacobians, steps, comparison, each notation
    step(0, total, "the derivation")
    derivation = Derivation(net, budget=budget)
    step(1, total, "the Jacobians")
    jacs = jacobians(net, budget=budget)
    out_J = next((J for J in jacs if J.kind == "output-activation"), None) or output_activation(net)
    parts: Parts = [("output layer", output_steps(net, out_J), net.L)]
    if net.L > 1:
        l = net.L - 1
        parts.append(("hidden layer (shown for the layer before the output; every layer alike)",
                      hidden_steps(net, l), l))
    parts.append(("gradients (shown for the first layer of weights)", gradient_steps(net, 1), 1))
    step(2, total, "the steps proved")
    return report_of(derivation, jacs, parts, notations,
                     progress=lambda done, stage: step(3 + done, total, stage))
