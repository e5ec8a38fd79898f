"""Losses of one pattern, as expressions in the outputs y and the targets t."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import sympy as sp

from ..errors import unknown


@dataclass(frozen=True)
class Loss:
    """A loss E(y, t).

    `targets_sum_to_one`: the loss is meant for target distributions (sum_k t_k = 1), a
    condition the checker may use, and then states, when a claim needs it.
    `needs_unit_interval`: the loss takes logs of y and 1 - y, so outputs must lie in (0, 1).
    """

    name: str
    description: str
    value: Callable[[Sequence[sp.Expr], Sequence[sp.Expr]], sp.Expr]
    needs_unit_interval: bool = False
    targets_sum_to_one: bool = False
    # dE/dy_k at one output, each loss being a sum over the outputs
    slope: Callable[[sp.Expr, sp.Expr], sp.Expr] | None = None


LOSSES: dict[str, Loss] = {
    l.name: l
    for l in (
        Loss("sse", "sum of squares 1/2 sum_k (y_k - t_k)^2",
             lambda y, t: sp.Rational(1, 2) * sp.Add(*[(yk - tk) ** 2 for yk, tk in zip(y, t)]),
             slope=lambda y, t: y - t),
        Loss("bce", "binary cross-entropy -sum_k [t_k ln y_k + (1 - t_k) ln(1 - y_k)]",
             lambda y, t: -sp.Add(*[tk * sp.log(yk) + (1 - tk) * sp.log(1 - yk)
                                    for yk, tk in zip(y, t)]),
             needs_unit_interval=True, slope=lambda y, t: (y - t) / (y * (1 - y))),
        Loss("ce", "multiclass cross-entropy -sum_k t_k ln y_k",
             lambda y, t: -sp.Add(*[tk * sp.log(yk) for yk, tk in zip(y, t)]),
             needs_unit_interval=True, targets_sum_to_one=True, slope=lambda y, t: -t / y),
    )
}


def loss(name: str) -> Loss:
    if name not in LOSSES:
        raise unknown("loss", name, tuple(LOSSES))
    return LOSSES[name]
