"""An independent numeric oracle for typed layers: each layer's forward map written again
here in mpmath, from the papers' definitions, and its gradients by central differences;
nothing of the engine's (no SymPy derivative, no claim, no normal form) is used. It reads
only a layer's configuration (kind, widths, options) and the names of its parameters.

S(X, P) = sum_rk G_rk Y_rk(X, P) is the scalar whose derivative by an entry of X or P is
what a backward equation gives for that entry, G being dE/dY.
"""
from __future__ import annotations

import mpmath as mp
import sympy as sp

mp.mp.dps = 50
STEP = mp.mpf("1e-20")
AGREE, DIFFER = mp.mpf("1e-18"), mp.mpf("1e-9")

ACT = {"identity": lambda v: v, "sigmoid": lambda v: 1 / (1 + mp.exp(-v)), "tanh": mp.tanh,
       "relu": lambda v: v if v > 0 else mp.mpf(0), "softplus": lambda v: mp.log(1 + mp.exp(v))}


def _tag(layer) -> str:
    return layer.at.replace(".", "_")


def _norm(xs, eps):
    m = mp.fsum(xs) / len(xs)
    var = mp.fsum((x - m) ** 2 for x in xs) / len(xs)
    return [(x - m) / mp.sqrt(var + eps) for x in xs]


def _softmax(xs):
    top = max(xs)
    e = [mp.exp(x - top) for x in xs]
    return [v / mp.fsum(e) for v in e]


def forward(layer, X, P, eps):
    """Y of the layer at X (a list of rows), parameters P {(name, indices): value}."""
    t, kind = _tag(layer), layer.kind
    # an entry the point leaves out appears in neither side: any value gives the same
    # derivative (were it not so, the oracle would disagree with the truth)
    p = lambda name, *ix: P.get((f"{name}{t}", ix), mp.mpf(0))
    if kind == "dense":
        return [[mp.fsum(p("W", k, j) * x[j - 1] for j in range(1, layer.width + 1))
                 + (p("b", k) if layer.bias else 0) for k in range(1, layer.units + 1)] for x in X]
    if kind == "activation":
        return [[ACT[layer.function](v) for v in row] for row in X]
    if kind == "softmax":
        return [_softmax(row) for row in X]
    scale = lambda j, v: p("gamma", j) * v + p("beta", j) if layer.affine else v
    if kind == "layernorm":
        return [[scale(j, v) for j, v in enumerate(_norm(row, eps), 1)] for row in X]
    if kind == "batchnorm":
        cols = [[scale(j, v) for v in _norm(list(col), eps)] for j, col in enumerate(zip(*X), 1)]
        return [list(r) for r in zip(*cols)]
    if kind == "residual":
        F = X
        for inner in layer.inner:
            F = forward(inner, F, P, eps)
        return [[a + b for a, b in zip(xr, fr)] for xr, fr in zip(X, F)]
    if kind == "attention":
        n, dk, dv = layer.width, layer.d_k, layer.out
        proj = lambda name, cols: [[mp.fsum(x[i - 1] * p(name, i, c) for i in range(1, n + 1))
                                    for c in range(1, cols + 1)] for x in X]
        Q, K, V = proj("WQ", dk), proj("WK", dk), proj("WV", dv)
        A = [_softmax([mp.fsum(a * b for a, b in zip(q, k)) / mp.sqrt(dk) for k in K]) for q in Q]
        return [[mp.fsum(a * v[c] for a, v in zip(ar, V)) for c in range(dv)] for ar in A]
    if kind in SEQUENCE:
        return SEQUENCE[kind](layer, X, p)
    raise ValueError(kind)


def _conv1d(layer, X, p):
    """y[o, q] = sum_c sum_m W[o, c, m] x[c, q s + m - pad] + b[o], from the definition."""
    L, out = layer.width // layer.channels, (layer.width // layer.channels + 2 * layer.padding
                                             - layer.kernel) // layer.stride + 1
    def x_at(x, c, i):
        return x[c * L + i] if 0 <= i < L else mp.mpf(0)
    return [[mp.fsum(p("W", o, c + 1, m + 1) * x_at(x, c, q * layer.stride + m - layer.padding)
                     for c in range(layer.channels) for m in range(layer.kernel)) + p("b", o)
             for o in range(1, layer.filters + 1) for q in range(out)] for x in X]


def _conv2d(layer, X, p):
    """y[o, u, v] = sum_c sum_(a, b) W[o, c, a, b] x[c, u s + a - pad, v s + b - pad] + b[o]."""
    H, C = layer.height, layer.width // (layer.channels * layer.height)
    size = lambda n: (n + 2 * layer.padding - layer.kernel) // layer.stride + 1
    def x_at(x, c, i, j):
        return x[(c * H + i) * C + j] if 0 <= i < H and 0 <= j < C else mp.mpf(0)
    k, s, pad = layer.kernel, layer.stride, layer.padding
    return [[mp.fsum(p("W", o, c + 1, a + 1, e + 1) * x_at(x, c, u * s + a - pad, v * s + e - pad)
                     for c in range(layer.channels) for a in range(k) for e in range(k))
             + p("b", o) for o in range(1, layer.filters + 1) for u in range(size(H))
             for v in range(size(C))] for x in X]


def _pool(layer, X, p):
    """Each window's max or mean: positions p s .. p s + window - 1 (of each image row
    and column, where the channel is an image of `height` rows)."""
    L, H = layer.width // layer.channels, layer.height
    C = L // H
    tall = layer.window if H > 1 else 1
    rows_out = (H - layer.window) // layer.stride + 1 if H > 1 else 1
    cols_out = (C - layer.window) // layer.stride + 1
    take = max if layer.kind == "maxpool" else (lambda w: mp.fsum(w) / len(w))
    return [[take([x[c * L + (u * layer.stride + a) * C + v * layer.stride + b]
                   for a in range(tall) for b in range(layer.window)])
             for c in range(layer.channels) for u in range(rows_out) for v in range(cols_out)]
            for x in X]


def _rnn(layer, X, p):
    f, h, H = ACT[layer.function], [mp.mpf(0)] * layer.units, []
    for x in X:
        h = [f(mp.fsum(p("W", k, j) * h[j - 1] for j in range(1, layer.units + 1))
               + mp.fsum(p("U", k, i) * x[i - 1] for i in range(1, layer.width + 1)) + p("b", k))
             for k in range(1, layer.units + 1)]
        H.append(h)
    return H


SEQUENCE = {"conv1d": _conv1d, "conv2d": _conv2d, "maxpool": _pool, "avgpool": _pool,
            "flatten": lambda layer, X, p: [row[:] for row in X], "rnn": _rnn}


def point_values(layer, point) -> tuple[dict, dict, dict, mp.mpf]:
    """The engine's point as this file's: X {(r, j)}, G {(r, k)}, P, epsilon (a
    refutation's point holds only what its two sides hold)."""
    X, G, P, eps = {}, {}, {}, mp.mpf(1)
    for q, v in point:
        v = mp.mpf(sp.Rational(v).p) / sp.Rational(v).q
        if not isinstance(q, sp.Indexed):
            eps = v
            continue
        name, ix = str(q.base.label), tuple(int(i) for i in q.indices)
        target = {f"x{_tag(layer)}": X, f"g{_tag(layer)}": G}.get(name)
        if target is not None:
            target[ix] = v
        else:
            P[(name, ix)] = v
    return X, G, P, eps


def grid_of(entries: dict, rows: int, cols: int):
    return [[entries.get((r, c), mp.mpf(0)) for c in range(1, cols + 1)]
            for r in range(1, rows + 1)]


def gradient(layer, rows: int, point, wrt: tuple) -> mp.mpf:
    """dS/d(entry) at the point by central differences; `wrt` is ("x", r, j) or
    (parameter name, *indices)."""
    Xd, Gd, P, eps = point_values(layer, point)
    X, G = grid_of(Xd, rows, layer.width), grid_of(Gd, rows, layer.out)

    def S(h):
        X2, P2 = [row[:] for row in X], dict(P)
        if wrt[0] == "x":
            X2[wrt[1] - 1][wrt[2] - 1] += h
        else:
            P2[(wrt[0], tuple(wrt[1:]))] = P2.get((wrt[0], tuple(wrt[1:])), 0) + h
        Y = forward(layer, X2, P2, eps)
        return mp.fsum(g * y for gr, yr in zip(G, Y) for g, y in zip(gr, yr))
    return (S(STEP) - S(-STEP)) / (2 * STEP)
