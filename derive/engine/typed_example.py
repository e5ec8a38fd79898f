"""A worked numeric example on a network of typed layers (`example --net FILE`): an input,
targets and every parameter drawn from a seed (small fractions), then every number of the
forward pass and of the backward pass, each layer's gradients from its backward equations,
the ones `report --net` proves, and proved here too before a number is shown.

Exact fractions where every value is rational (dense layers, ReLU), else numbers of
`digits` significant digits (computed with ten more).

>>> from bpcheck.derive.model.layers import Dense, TypedNetwork
>>> ex = typed_example(TypedNetwork("d", rows=1, width=2, layers=(Dense("1", 2, units=1),)))
>>> ex.loss, ex.layers[0].dX
(1/2, ((1, 1/2),))
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import sympy as sp

from ..errors import UsageError
from ..model.activation import KinkSide
from ..model.layers import EPSILON, Grid, Layer, Recurrent, TypedNetwork, flat, grid
from ..model.loss import loss as loss_named
from .layer_claims import BACKWARD
from .proof import Verdict
from .typed import _indices, shared_value
from .typed_net import layer_checks

VALUES = (-2, -1, 1, 2)
DENOMINATORS = (1, 2, 4)
DRAWS = 20  # draws from one seed tried for values clear of every kink


class _AtKink(Exception):
    """A ReLU's input, or two entries of a max pooling's window, equal at the drawn values."""


@dataclass
class LayerNumbers:
    """One layer's numbers: its input X and output Y, its parameters, the error's gradient
    at its output G, and the gradients its backward equations give."""

    at: str
    kind: str
    X: Grid
    Y: Grid
    params: dict[str, dict[tuple, sp.Expr]] = field(default_factory=dict)
    G: Grid = ()
    dX: Grid = ()
    dparams: dict[str, dict[tuple, sp.Expr]] = field(default_factory=dict)
    proved: bool = False


@dataclass
class TypedExample:
    net: TypedNetwork
    seed: int
    digits: int
    targets: Grid
    loss: sp.Expr
    layers: list[LayerNumbers]
    epsilon: sp.Expr
    draw: int = 0  # the seed's draws before it that put a value at a kink

    @property
    def proved(self) -> bool:
        return all(n.proved for n in self.layers)


def _draw(rng: random.Random) -> sp.Rational:
    return sp.Rational(rng.choice(VALUES), rng.choice(DENOMINATORS))


def _at(expr, values: dict, digits: int) -> sp.Expr:
    """The expression's number at the values: exact where rational; a ReLU's side 1 or 0
    by the sign of its argument, which must not be 0 (no slope at the kink)."""
    # each shared sub-expression once, from the values up (a recurrence's h_t is in every
    # later step: substituted as a tree, its work would double with each step)
    e = shared_value(sp.Integer(expr) if isinstance(expr, int) else expr, dict(values),
                     digits + 10)
    if not e.is_number and e.atoms(KinkSide):
        raise _AtKink()
    # chop: a value that is 0 (tokens sharing an entry) shows as 0, not as rounding noise
    return e if e.is_Rational else sp.N(e, digits + 10, chop=True)


def _grid(rows, values: dict, digits: int) -> Grid:
    return tuple(tuple(_at(v, values, digits) for v in row) for row in rows)


def typed_example(net: TypedNetwork, *, seed: int = 0, digits: int = 10,
                  epsilon: sp.Rational = sp.Rational(1, 100)) -> TypedExample:
    """Every number of one forward and backward pass at values drawn from `seed`: its first
    draw where no value is at a kink (a ReLU's input 0, a tie in a max pooling's window,
    where there is no slope), else its next, up to DRAWS."""
    for draw in range(DRAWS):
        try:
            return _example(net, random.Random(seed if not draw else f"{seed}.{draw}"),
                            seed=seed, draw=draw, digits=digits, epsilon=epsilon)
        except _AtKink:
            continue
    kinks = [what for kind, what in (("relu", "a ReLU's input is 0"), ("maxpool",
             "two entries of a max pooling's window are equal")) if _has(net, kind)]
    raise UsageError(f"in each of {DRAWS} draws from --seed {seed}, {' or '.join(kinks)} "
                     "somewhere, where there is no slope; try another --seed")


def _has(net: TypedNetwork, kind: str) -> bool:
    return any(kind in (layer.kind, getattr(layer, "function", "")) for layer in flat(net.layers))


def _example(net: TypedNetwork, rng: random.Random, *, seed: int, draw: int, digits: int,
             epsilon: sp.Rational) -> TypedExample:
    X = tuple(tuple(_draw(rng) for _ in range(net.width)) for _ in range(net.rows))
    values: dict[sp.Basic, sp.Expr] = {EPSILON: epsilon}
    layers = []
    for layer in flat(net.layers):
        for p, shape in layer.params().items():
            values.update({p[ix]: _draw(rng) for ix in _indices(shape)})
    for layer in net.layers:
        Y = _forward(layer, X, values, digits)
        layers.append(LayerNumbers(layer.at, layer.kind, X, Y, _params(layer, values)))
        X = Y
    e = loss_named(net.loss)
    T = tuple(_target(rng, net.loss, len(row)) for row in X)
    E = _at(sp.Add(*(e.value(y, t) for y, t in zip(X, T))), values, digits)
    G = _grid(((e.slope(y, t) for y, t in zip(yr, tr)) for yr, tr in zip(X, T)), values, digits)
    for numbers, layer in zip(reversed(layers), reversed(net.layers)):
        grads, at = _backward(layer, numbers, G, values, digits)
        numbers.G = G
        numbers.dX = _grid(grads["x"], at, digits)
        numbers.dparams = {k: {ix: _at(v, at, digits) for ix, v in d.items()}
                           for k, d in grads.items() if k != "x"}
        numbers.proved = all(c.verdict is Verdict.PROVED
                             for c in layer_checks(layer, rows=net.rows, seed=seed)
                             if not c.mistake)
        G = numbers.dX
    return TypedExample(net, seed, digits, T, E, layers, epsilon, draw)


def _forward(layer: Layer, X: Grid, values: dict, digits: int) -> Grid:
    """The layer's output numbers; a recurrence's a step at a time, each from the number of
    the state before (as one expression h_T nests every step, and SymPy's checks of each
    tanh's argument as it is built walk it all)."""
    if not isinstance(layer, Recurrent):
        return _grid(layer.forward(X), values, digits)
    h, Y = [0] * layer.units, []
    for x in X:
        h = [_at(layer.activation.scalar(a), values, digits) for a in layer.pre(h, x)]
        Y.append(tuple(h))
    return tuple(Y)


def _backward(layer: Layer, numbers: LayerNumbers, G: Grid, values: dict,
              digits: int) -> tuple[dict, dict]:
    """The layer's backward equations at its numbers, and the values to read them at. A
    recurrence's are taken a step at a time, as its claim says (each dh_t from the number
    of dh_(t+1), each state its output's number): its whole recursion holds dh_(t+1) in
    every unit's dh_t, and as one expression its work would grow like units^T."""
    if not isinstance(layer, Recurrent):
        return BACKWARD[layer.kind](layer, numbers.X, G), values
    D = grid(f"dh{layer.at.replace('.', '_')}", len(numbers.X), layer.units)
    grads = BACKWARD["rnn"](layer, numbers.X, G, states=numbers.Y, given=D)
    at = dict(values)
    for t in reversed(range(len(D))):
        at |= {d: _at(grads["h"][t + 1, j + 1], at, digits) for j, d in enumerate(D[t])}
    return {k: v for k, v in grads.items() if k != "h"}, at


def _target(rng: random.Random, loss: str, width: int) -> tuple:
    """Targets: drawn like the input; for cross-entropy a one-hot row."""
    if loss == "ce":
        hot = rng.randrange(width)
        return tuple(sp.Integer(int(k == hot)) for k in range(width))
    return tuple(_draw(rng) for _ in range(width))


def _params(layer: Layer, values: dict) -> dict[str, dict[tuple, sp.Expr]]:
    return {str(p): {ix: values[p[ix]] for ix in _indices(shape)}
            for p, shape in layer.params().items()}


