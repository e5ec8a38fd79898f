"""A worked example's network and all its numbers, exact (read by io/spec_file.py)."""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .network import Network, make_network


@dataclass(frozen=True)
class Spec:
    """A validated spec: the network and all its numbers, exact (SymPy Rationals).

    `weights[l - 1][j - 1][i - 1]` is W[l][j, i]; `biases` is None without biases.
    """

    source: str
    title: str
    layers: tuple[int, ...]
    hidden: str
    output: str
    loss: str
    bias: bool
    learning_rate: sp.Rational
    input: tuple[sp.Rational, ...]
    target: tuple[sp.Rational, ...]
    weights: tuple[tuple[tuple[sp.Rational, ...], ...], ...]
    biases: tuple[tuple[sp.Rational, ...], ...] | None

    def network(self) -> Network:
        return make_network(layers=self.layers, hidden=self.hidden, output=self.output,
                            loss=self.loss, bias=self.bias)
