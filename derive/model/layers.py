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

from .activation import ACTIVATIONS, Activation, KinkSide

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


# -- sequences: each row's features are channels by positions, channel-major ----------------

@dataclass(frozen=True)
class Conv1d(Layer):
    """Cross-correlation as frameworks define it: y[o, p] = sum_c sum_m W[o, c, m] x[c, p s
    + m - padding] + b[o], the input zero outside its positions."""
    kind: ClassVar[str] = "conv1d"
    channels: int = 1
    filters: int = 1
    kernel: int = 2
    stride: int = 1
    padding: int = 0

    @property
    def length(self) -> int:
        return self.width // self.channels

    @property
    def out_length(self) -> int:
        return (self.length + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def out(self) -> int:
        return self.filters * self.out_length

    def params(self):
        return {self.base("W"): (self.filters, self.channels, self.kernel),
                self.base("b"): (self.filters,)}

    def at_position(self, row, c: int, q: int) -> sp.Expr:
        """x[c, q] (0-based), 0 in the padding."""
        return row[c * self.length + q] if 0 <= q < self.length else sp.Integer(0)

    def forward(self, X: Grid) -> Grid:
        W, b = self.base("W"), self.base("b")
        return tuple(tuple(
            sp.Add(*(W[o, c, m + 1] * self.at_position(row, c - 1, p * self.stride + m - self.padding)
                     for c in range(1, self.channels + 1) for m in range(self.kernel))) + b[o]
            for o in range(1, self.filters + 1) for p in range(self.out_length)) for row in X)


@dataclass(frozen=True)
class Conv2d(Layer):
    """Cross-correlation over images of `height` rows: y[o, p, q] = sum_c sum_(a, b)
    W[o, c, a, b] x[c, p s + a - padding, q s + b - padding] + b[o], a kernel of kernel by
    kernel, zero outside the image; a row's features are channels by image rows by image
    columns."""
    kind: ClassVar[str] = "conv2d"
    channels: int = 1
    filters: int = 1
    kernel: int = 2
    stride: int = 1
    padding: int = 0
    height: int = 1

    @property
    def columns(self) -> int:
        return self.width // (self.channels * self.height)

    def out_size(self, n: int) -> int:
        return (n + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def out_shape(self) -> tuple[int, int]:
        return self.out_size(self.height), self.out_size(self.columns)

    @property
    def out(self) -> int:
        return self.filters * self.out_shape[0] * self.out_shape[1]

    def params(self):
        return {self.base("W"): (self.filters, self.channels, self.kernel, self.kernel),
                self.base("b"): (self.filters,)}

    def at_position(self, row, c: int, u: int, v: int) -> sp.Expr:
        """x[c, u, v] (0-based), 0 in the padding."""
        if 0 <= u < self.height and 0 <= v < self.columns:
            return row[(c * self.height + u) * self.columns + v]
        return sp.Integer(0)

    def outputs(self):
        """(o, p, q) for each output entry, in the row's order."""
        P, Q = self.out_shape
        return [(o, p, q) for o in range(self.filters) for p in range(P) for q in range(Q)]

    def forward(self, X: Grid) -> Grid:
        W, b, k, s_, pad = self.base("W"), self.base("b"), self.kernel, self.stride, self.padding
        return tuple(tuple(
            sp.Add(*(W[o + 1, c + 1, a + 1, e + 1]
                     * self.at_position(row, c, p * s_ + a - pad, q * s_ + e - pad)
                     for c in range(self.channels) for a in range(k) for e in range(k))) + b[o + 1]
            for o, p, q in self.outputs()) for row in X)


def selected(entries: list) -> list[sp.Expr]:
    """1 for the window's maximum, 0 for the others (on each side of every tie)."""
    return [sp.Mul(*(KinkSide(x - other) for j, other in enumerate(entries) if j != i))
            for i, x in enumerate(entries)]


@dataclass(frozen=True)
class Pool1d(Layer):
    """Each channel's windows, `stride` apart: `window` positions, or window by window
    squares of an image of `height` rows; their maximum (the entry selected by which
    differences are positive, so that the map is proved on each side of a tie, as ReLU
    is) or their mean."""
    kind: ClassVar[str] = "maxpool"
    channels: int = 1
    window: int = 2
    stride: int = 2
    height: int = 1

    @property
    def length(self) -> int:
        return self.width // self.channels

    @property
    def columns(self) -> int:
        return self.length // self.height

    @property
    def out_shape(self) -> tuple[int, int]:
        rows = (self.height - self.window) // self.stride + 1 if self.height > 1 else 1
        return rows, (self.columns - self.window) // self.stride + 1

    @property
    def out_length(self) -> int:
        return self.out_shape[0] * self.out_shape[1]

    @property
    def out(self) -> int:
        return self.channels * self.out_length

    def windows(self):
        """The features (0-based) of each output entry's window, in the output's order."""
        tall = self.window if self.height > 1 else 1
        P, Q = self.out_shape
        for c in range(self.channels):
            for p in range(P):
                for q in range(Q):
                    yield [c * self.length + (p * self.stride + a) * self.columns
                           + q * self.stride + b for a in range(tall) for b in range(self.window)]

    def forward(self, X: Grid) -> Grid:
        def pooled(w):
            if self.kind == "maxpool":
                return sp.Add(*(s * x for s, x in zip(selected(w), w)))
            return sp.Add(*w) / len(w)
        return tuple(tuple(pooled([row[f] for f in where]) for where in self.windows())
                     for row in X)


@dataclass(frozen=True)
class AvgPool1d(Pool1d):
    kind: ClassVar[str] = "avgpool"


@dataclass(frozen=True)
class Flatten(Layer):
    """Channels by positions read as one row of features: the identity on a row, as this
    model already keeps a row's features flat (channel-major)."""
    kind: ClassVar[str] = "flatten"

    def forward(self, X: Grid) -> Grid:
        return X


@dataclass(frozen=True)
class Recurrent(Layer):
    """A recurrent layer over the rows as time steps: a_t = W h_(t-1) + U x_t + b, h_t =
    f(a_t), h_0 = 0; its output is every h_t (an output o_t = V h_t + c is a dense layer
    after it, and the loss sums over the steps)."""
    kind: ClassVar[str] = "rnn"
    units: int = 2
    function: str = "tanh"

    @property
    def out(self) -> int:
        return self.units

    @property
    def activation(self) -> Activation:
        return ACTIVATIONS[self.function]

    def params(self):
        return {self.base("W"): (self.units, self.units), self.base("U"): (self.units, self.width),
                self.base("b"): (self.units,)}

    def pre(self, h, x) -> list[sp.Expr]:
        """One step's a = W h + U x + b, from the state h it reads and its input x."""
        W, U, b = self.base("W"), self.base("U"), self.base("b")
        return [sp.Add(*(W[k, j] * h[j - 1] for j in range(1, self.units + 1)))
                + sp.Add(*(U[k, i] * x[i - 1] for i in range(1, self.width + 1))) + b[k]
                for k in range(1, self.units + 1)]

    def pres_on(self, states: Grid, X: Grid) -> list[list[sp.Expr]]:
        """Each step's a_t from the given state h_(t-1) (states[t - 2]; h_0 = 0), not
        from the steps before it: a recurrence taken one step at a time."""
        return [self.pre(states[t - 1] if t else [0] * self.units, x) for t, x in enumerate(X)]

    def steps(self, X: Grid) -> tuple[list, list]:
        """(a_t, h_t) for t = 1..T, each a list of the units' entries."""
        f, h, A, H = self.activation.scalar, [sp.Integer(0)] * self.units, [], []
        for x in X:
            a = self.pre(h, x)
            h = [f(v) for v in a]
            A.append(a)
            H.append(h)
        return A, H

    def forward(self, X: Grid) -> Grid:
        return tuple(tuple(h) for h in self.steps(X)[1])


KINDS: dict[str, type[Layer]] = {k.kind: k for k in (Dense, Elementwise, Softmax, LayerNorm,
                                                      BatchNorm, Residual, Attention, Conv1d,
                                                      Conv2d, Pool1d, AvgPool1d, Flatten,
                                                      Recurrent)}
# what a row is, by the first kind of these the network has: a recurrence's rows are its
# time steps, attention's its tokens, else each row is a pattern of the mini-batch
ROW_WORDS = {"rnn": "time step", "attention": "token"}


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
        """What a row is: a time step of a recurrence, a token where attention mixes
        them, else a pattern."""
        kinds = _all_kinds(self.layers)
        return next((word for kind, word in ROW_WORDS.items() if kind in kinds), "pattern")


def flat(layers) -> list[Layer]:
    """The layers in order, a residual block's own after it."""
    out = []
    for layer in layers:
        out.append(layer)
        if isinstance(layer, Residual):
            out += flat(layer.inner)
    return out


def _all_kinds(layers) -> set[str]:
    out = set()
    for layer in layers:
        out.add(layer.kind)
        if isinstance(layer, Residual):
            out |= _all_kinds(layer.inner)
    return out
