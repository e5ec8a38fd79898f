"""A network of typed layers decided layer by layer, each by its route: a recurrence one
time step at a time (engine/time_steps.py), so that its work grows with T, not with the
unrolled map's paths; every other layer on its forward map (engine/typed.py). Then the
loss's base case.

>>> from bpcheck.derive.model.layers import Recurrent, TypedNetwork
>>> net = TypedNetwork("rnn", rows=16, width=1, layers=(Recurrent("1", 1, units=2),))
>>> typed_report(net).worst.value
'proved'
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import BudgetExceeded
from ..model.layers import Layer, Recurrent, TypedNetwork, grid
from ..model.loss import loss as loss_named
from .proof import Verdict
from .time_steps import step_checks, step_jacobian
from .typed import LayerJacobian, TypedCheck, decide_gradient, jacobian, layer_checks as _on_map


def layer_checks(layer: Layer, *, rows: int, seed: int = 0) -> list[TypedCheck]:
    """The layer's backward equations and wrong versions, decided by its route."""
    if isinstance(layer, Recurrent):
        return step_checks(layer, rows=rows, seed=seed)
    return _on_map(layer, rows=rows, seed=seed)


def layer_jacobian(layer: Layer, *, rows: int, seed: int = 0) -> LayerJacobian:
    """Which entries of the layer's dY/dX vanish, by block, by its route."""
    if isinstance(layer, Recurrent):
        return step_jacobian(layer, rows=rows, seed=seed)
    return jacobian(layer, rows=rows, seed=seed)


@dataclass
class TypedReport:
    net: TypedNetwork
    checks: list[TypedCheck]
    jacobians: list[LayerJacobian]
    # where the budget ran out: why, and the layers (and "the loss") left unchecked
    ran_out: str = ""
    unchecked: tuple[str, ...] = ()

    @property
    def worst(self) -> Verdict:
        """Of the right checks: a wrong version is shown, not counted (at a size too small
        to show it, one kernel entry or one token, it is the right one, and proved)."""
        right = [c for c in self.checks if not c.mistake]
        if any(c.verdict is Verdict.REFUTED for c in right):
            return Verdict.REFUTED
        if self.ran_out or any(c.verdict is Verdict.UNDECIDED for c in right):
            return Verdict.UNDECIDED
        return Verdict.PROVED


def worst_with(report: TypedReport, verdicts) -> Verdict:
    """The report's worst verdict with more verdicts (a derivation's steps)."""
    seen = {report.worst, *verdicts}
    return next(v for v in (Verdict.REFUTED, Verdict.AMBIGUOUS, Verdict.UNDECIDED,
                            Verdict.PROVED) if v in seen)


def loss_check(net: TypedNetwork, *, seed: int = 0) -> TypedCheck:
    """The base case: dE/dY of the last layer, the loss's slope per entry, against the
    loss differentiated."""
    width = net.layers[-1].out
    Y, T = grid("y", net.rows, width), grid("t", net.rows, width)
    e = loss_named(net.loss)
    E = sp.Add(*(e.value(y, t) for y, t in zip(Y, T)))
    true = tuple(tuple(sp.diff(E, v) for v in row) for row in Y)
    claimed = tuple(tuple(e.slope(v, t) for v, t in zip(yr, tr)) for yr, tr in zip(Y, T))
    base = decide_gradient(Layer("out", width), "y", claimed, true, seed=seed)
    return TypedCheck(**{**base.__dict__, "id": f"loss.{net.loss}.y", "kind": "loss"})


def typed_report(net: TypedNetwork, *, seed: int = 0, progress=None) -> TypedReport:
    """Every layer's checks and Jacobian, then the loss's base case; `progress(done,
    total, what)` is told before each layer."""
    checks, jacs = [], []
    step = progress or (lambda done, total, what: None)
    parts = [f"layer {layer.at} ({layer.kind})" for layer in net.layers] + ["the loss"]
    done, now = 0, parts[0]
    try:
        for layer in net.layers:
            step(done, len(parts), now)
            checks += layer_checks(layer, rows=net.rows, seed=seed)
            now = f"{parts[done]}'s Jacobian"
            jacs.append(layer_jacobian(layer, rows=net.rows, seed=seed))
            done += 1
            now = parts[done]
        step(done, len(parts), now)
        checks.append(loss_check(net, seed=seed))
    except BudgetExceeded as e:  # what is finished is shown, and what is not is named
        return TypedReport(net, checks, jacs, ran_out=str(e),
                           unchecked=(now, *parts[done + 1:]))
    step(len(parts), len(parts), "")
    return TypedReport(net, checks, jacs)
