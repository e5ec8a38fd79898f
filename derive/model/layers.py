"""Networks of typed layers: dense, activation, softmax, layer norm, batch norm, residual
blocks and attention, each a map from a grid X of rows by features to a grid Y.

The rows are the patterns of a mini-batch (batch norm's statistics run down them) or the
tokens of a sequence (attention mixes them); every other kind maps each row on its own.
A layer is data and its forward map; the engine (engine/typed.py) differentiates the map
for the truth and proves each published backward equation against it.

>>> net = TypedNetwork("ln", rows=1, width=3, layers=(LayerNorm("1", 3),), loss="sse")
>>> y = net.layers[0].forward(grid("x", 1, 3))
>>> len(y), len(y[0]), sorted(map(str, net.layers[0].params()))
(1, 3, ['beta1', 'gamma1'])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy as sp

from .activation import ACTIVATIONS, Activation

Grid = tuple[tuple[sp.Expr, ...], ...]  # rows by features
EPSILON = sp.Symbol("epsilon", positive=True)  # a normalisation's epsilon: any positive value


def grid(name: str, rows: int, cols: int) -> Grid:
    """A grid of fresh variables name[r, c], 1-based."""
    base = sp.IndexedBase(name, real=True)
    return tuple(tuple(base[r, c] for c in range(1, cols + 1)) for r in range(1, rows + 1))


def columns(X: Grid) -> list[tuple[sp.Expr, ...]]:
    return list(zip(*X))


def _mean(xs) -> sp.Expr:
    xs = list(xs)
    return sp.Add(*xs) / len(xs)


def normalised(xs) -> tuple[list[sp.Expr], sp.Expr, sp.Expr]:
    """(x-hat, mean, variance) of a list: (x - mu) / sqrt(var + epsilon), the variance
    divided by the count, as Ioffe and Szegedy and Ba et al. define it."""
    xs = list(xs)
    mu = _mean(xs)
    var = _mean((x - mu) ** 2 for x in xs)
    return [(x - mu) / sp.sqrt(var + EPSILON) for x in xs], mu, var


class Exp(sp.Function):
    """e^x kept whole: SymPy joins e^a e^b into e^(a+b), which ties a softmax's terms
    together in the normal form; this is its own derivative and a number at a point."""

    def fdiff(self, argindex=1):
        return self

    def _eval_evalf(self, prec):
        return sp.exp(self.args[0])._eval_evalf(prec)

    def _eval_is_positive(self):
        return True if self.args[0].is_real else None


def softmax_row(xs) -> list[sp.Expr]:
    exps = [Exp(x) for x in xs]
    total = sp.Add(*exps)
    return [e / total for e in exps]


@dataclass(frozen=True)
class Layer:
    """One layer; `at` names it (its position, "3", or "3.1" inside a residual block)."""

    kind: ClassVar[str] = ""
    at: str
    width: int  # of its input

    @property
    def out(self) -> int:
        return self.width

    def params(self) -> dict[sp.IndexedBase, tuple[int, ...]]:
        """Each parameter and its shape."""
        return {}

    def forward(self, X: Grid) -> Grid:
        raise NotImplementedError

    def base(self, name: str) -> sp.IndexedBase:
        return sp.IndexedBase(f"{name}{self.at.replace('.', '_')}", real=True)


@dataclass(frozen=True)
class Dense(Layer):
    kind: ClassVar[str] = "dense"
    units: int = 1
    bias: bool = True

    @property
    def out(self) -> int:
        return self.units

    def params(self):
        p = {self.base("W"): (self.units, self.width)}
        return {**p, self.base("b"): (self.units,)} if self.bias else p

    def forward(self, X: Grid) -> Grid:
        W, b = self.base("W"), self.base("b")
        return tuple(tuple(sp.Add(*(W[k, j] * x[j - 1] for j in range(1, self.width + 1)))
                           + (b[k] if self.bias else 0) for k in range(1, self.units + 1))
                     for x in X)


@dataclass(frozen=True)
class Elementwise(Layer):
    kind: ClassVar[str] = "activation"
    function: str = "sigmoid"

    @property
    def activation(self) -> Activation:
        return ACTIVATIONS[self.function]

    def forward(self, X: Grid) -> Grid:
        f = self.activation.scalar
        return tuple(tuple(f(x) for x in row) for row in X)


@dataclass(frozen=True)
class Softmax(Layer):
    kind: ClassVar[str] = "softmax"

    def forward(self, X: Grid) -> Grid:
        return tuple(tuple(softmax_row(row)) for row in X)


@dataclass(frozen=True)
class LayerNorm(Layer):
    """Each row normalised over its features (Ba, Kiros and Hinton 2016), then scaled."""
    kind: ClassVar[str] = "layernorm"
    affine: bool = True

    def params(self):
        return {self.base("gamma"): (self.width,), self.base("beta"): (self.width,)} \
            if self.affine else {}

    def forward(self, X: Grid) -> Grid:
        return tuple(tuple(self._scaled(normalised(row)[0])) for row in X)

    def _scaled(self, xhat) -> list[sp.Expr]:
        g, b = self.base("gamma"), self.base("beta")
        return [g[j] * x + b[j] if self.affine else x for j, x in enumerate(xhat, 1)]


@dataclass(frozen=True)
class BatchNorm(LayerNorm):
    """Each feature normalised over the mini-batch's rows, in training mode (Ioffe and
    Szegedy 2015): its mean and variance are functions of every pattern."""
    kind: ClassVar[str] = "batchnorm"

    def forward(self, X: Grid) -> Grid:
        cols = [self._scaled_column(j, normalised(col)[0]) for j, col in enumerate(columns(X), 1)]
        return tuple(zip(*cols))

    def _scaled_column(self, j: int, xhat) -> list[sp.Expr]:
        g, b = self.base("gamma"), self.base("beta")
        return [g[j] * x + b[j] if self.affine else x for x in xhat]


@dataclass(frozen=True)
class Residual(Layer):
    """y = x + F(x), F the block's layers in order (He et al. 2016)."""
    kind: ClassVar[str] = "residual"
    inner: tuple[Layer, ...] = ()

    def params(self):
        return {p: s for layer in self.inner for p, s in layer.params().items()}

    def forward(self, X: Grid) -> Grid:
        F = X
        for layer in self.inner:
            F = layer.forward(F)
        return tuple(tuple(x + f for x, f in zip(xr, fr)) for xr, fr in zip(X, F))


@dataclass(frozen=True)
class Attention(Layer):
    """Single-head scaled dot-product attention over the rows (tokens): Q = X W_Q,
    K = X W_K, V = X W_V, A = softmax of each row of Q K^T / sqrt(d_k), Y = A V."""
    kind: ClassVar[str] = "attention"
    d_k: int = 2
    d_v: int = 0  # 0: the input's width

    @property
    def out(self) -> int:
        return self.d_v or self.width

    def params(self):
        return {self.base("WQ"): (self.width, self.d_k), self.base("WK"): (self.width, self.d_k),
                self.base("WV"): (self.width, self.out)}

    def projections(self, X: Grid) -> tuple[Grid, Grid, Grid]:
        def times(W, cols):
            return tuple(tuple(sp.Add(*(x[i - 1] * W[i, c] for i in range(1, self.width + 1)))
                               for c in range(1, cols + 1)) for x in X)
        return (times(self.base("WQ"), self.d_k), times(self.base("WK"), self.d_k),
                times(self.base("WV"), self.out))

    def weights(self, Q: Grid, K: Grid) -> Grid:
        """A: each row the softmax of that query's scores."""
        scale = sp.sqrt(self.d_k)
        return tuple(tuple(softmax_row([sp.Add(*(q * k for q, k in zip(qr, kr))) / scale
                                        for kr in K])) for qr in Q)

    def forward(self, X: Grid) -> Grid:
        Q, K, V = self.projections(X)
        A = self.weights(Q, K)
        return tuple(tuple(sp.Add(*(a * vr[c] for a, vr in zip(ar, V))) for c in range(self.out))
                     for ar in A)


KINDS: dict[str, type[Layer]] = {k.kind: k for k in (Dense, Elementwise, Softmax, LayerNorm,
                                                      BatchNorm, Residual, Attention)}
ROW_WORDS = {True: "pattern", False: "token"}


@dataclass(frozen=True)
class TypedNetwork:
    """The layers in order from an input of `rows` by `width`, and the loss over every
    row (the sum of the rows' losses)."""

    title: str
    rows: int
    width: int
    layers: tuple[Layer, ...]
    loss: str = "sse"

    @property
    def row_word(self) -> str:
        """What a row is: a token where attention mixes them, else a pattern."""
        return ROW_WORDS[not any(_all_kinds(self.layers) & {"attention"})]


def _all_kinds(layers) -> set[str]:
    out = set()
    for layer in layers:
        out.add(layer.kind)
        if isinstance(layer, Residual):
            out |= _all_kinds(layer.inner)
    return out
