"""The backward equations of each typed layer as the papers and textbooks print them, and
the well-known wrong versions, each named: what engine/typed.py proves or refutes against
the layer's forward map differentiated.

Each takes the layer, its input X (variables or expressions) and G = dE/dY, the error's
gradient at its output, and gives the gradients it claims: "x" (dE/dX, a grid), and one
per parameter (a dict from the parameter's entries' indices to expressions).

>>> from bpcheck.derive.model.layers import Softmax, grid
>>> layer = Softmax("1", 2)
>>> dx = BACKWARD["softmax"](layer, grid("x", 1, 2), grid("g", 1, 2))["x"]
>>> len(dx[0])
2
"""
from __future__ import annotations

from typing import Callable

import sympy as sp

from ..model.layers import (EPSILON, Grid, Layer, columns, normalised, selected)

Grads = dict[str, object]  # "x": Grid; a parameter's name: {indices: expression}


def _dense(layer, X: Grid, G: Grid) -> Grads:
    """dx_rj = sum_k W_kj g_rk; dW_kj = sum_r g_rk x_rj; db_k = sum_r g_rk."""
    W, n, m = layer.base("W"), layer.width, layer.units
    out: Grads = {"x": tuple(tuple(sp.Add(*(W[k, j] * g[k - 1] for k in range(1, m + 1)))
                                   for j in range(1, n + 1)) for g in G)}
    out[str(W)] = {(k, j): sp.Add(*(g[k - 1] * x[j - 1] for g, x in zip(G, X)))
                   for k in range(1, m + 1) for j in range(1, n + 1)}
    if layer.bias:
        out[str(layer.base("b"))] = {(k,): sp.Add(*(g[k - 1] for g in G)) for k in range(1, m + 1)}
    return out


def _elementwise(layer, X: Grid, G: Grid) -> Grads:
    """dx = f'(x) g, entry by entry (the textbook's f' through the output where it has one)."""
    act = layer.activation
    slope = (lambda x: act.slope_by_output(act.scalar(x))) if act.slope_by_output else act.slope_at
    return {"x": tuple(tuple(slope(x) * g for x, g in zip(xr, gr)) for xr, gr in zip(X, G))}


def _softmax(layer, X: Grid, G: Grid, *, diagonal: bool = False) -> Grads:
    """dx_rj = y_rj (g_rj - sum_k g_rk y_rk)."""
    Y = layer.forward(X)
    if diagonal:
        return {"x": tuple(tuple(y * (1 - y) * g for y, g in zip(yr, gr)) for yr, gr in zip(Y, G))}
    return {"x": tuple(tuple(y * (g - sp.Add(*(gg * yy for gg, yy in zip(gr, yr))))
                             for y, g in zip(yr, gr)) for yr, gr in zip(Y, G))}


def _norm_params(layer, X: Grid, G: Grid, xhat: Grid) -> Grads:
    """dgamma_j = sum_r g_rj xhat_rj; dbeta_j = sum_r g_rj."""
    if not layer.affine:
        return {}
    n = layer.width
    return {str(layer.base("gamma")): {(j,): sp.Add(*(g[j - 1] * h[j - 1] for g, h in zip(G, xhat)))
                                       for j in range(1, n + 1)},
            str(layer.base("beta")): {(j,): sp.Add(*(g[j - 1] for g in G)) for j in range(1, n + 1)}}


def _gamma(layer, j: int) -> sp.Expr:
    return layer.base("gamma")[j] if layer.affine else sp.Integer(1)


def _layernorm(layer, X: Grid, G: Grid, *, elementwise: bool = False) -> Grads:
    """dx_rj = (ghat_rj - mean_k ghat_rk - xhat_rj mean_k ghat_rk xhat_rk) / sigma_r, with
    ghat_rj = gamma_j g_rj and sigma_r = sqrt(var_r + epsilon) (Ba et al. 2016)."""
    rows, xhat = [], []
    for x, g in zip(X, G):
        h, _, var = normalised(x)
        s = sp.sqrt(var + EPSILON)
        gh = [_gamma(layer, j) * gj for j, gj in enumerate(g, 1)]
        n = len(gh)
        if elementwise:
            rows.append(tuple(v / s for v in gh))
        else:
            m1, m2 = sp.Add(*gh) / n, sp.Add(*(a * b for a, b in zip(gh, h))) / n
            rows.append(tuple((v - m1 - hj * m2) / s for v, hj in zip(gh, h)))
        xhat.append(h)
    return {"x": tuple(rows), **_norm_params(layer, X, G, tuple(xhat))}


def _batchnorm(layer, X: Grid, G: Grid, *, statistics_fixed: bool = False) -> Grads:
    """Ioffe and Szegedy (2015), Algorithm 1's backward pass, for each feature over the m
    patterns: dxhat_i = g_i gamma; dvar = sum_i dxhat_i (x_i - mu) (-1/2)(var + eps)^(-3/2);
    dmu = sum_i dxhat_i (-1/sqrt(var + eps)) + dvar sum_i -2 (x_i - mu) / m;
    dx_i = dxhat_i / sqrt(var + eps) + dvar 2 (x_i - mu) / m + dmu / m."""
    cols, xhat = [], []
    for j, (x, g) in enumerate(zip(columns(X), columns(G)), 1):
        h, mu, var = normalised(x)
        m, s = len(x), sp.sqrt(var + EPSILON)
        dh = [gi * _gamma(layer, j) for gi in g]
        if statistics_fixed:
            cols.append([d / s for d in dh])
        else:
            dvar = sp.Add(*(d * (xi - mu) for d, xi in zip(dh, x))) * sp.Rational(-1, 2) \
                * (var + EPSILON) ** sp.Rational(-3, 2)
            dmu = sp.Add(*(-d / s for d in dh)) + dvar * sp.Add(*(-2 * (xi - mu) for xi in x)) / m
            cols.append([d / s + dvar * 2 * (xi - mu) / m + dmu / m for d, xi in zip(dh, x)])
        xhat.append(h)
    return {"x": tuple(zip(*cols)), **_norm_params(layer, X, G, tuple(zip(*xhat)))}


def _residual(layer, X: Grid, G: Grid, *, share: sp.Expr = sp.Integer(1),
              skip: bool = True) -> Grads:
    """dx = g + dF: the skip's gradient and the block's, summed (He et al. 2016); dF is
    the block's own layers' backward equations, taken back from its end."""
    inputs, F = [], X
    for inner in layer.inner:
        inputs.append(F)
        F = inner.forward(F)
    out: Grads = {}
    g = G
    for inner, x in reversed(list(zip(layer.inner, inputs))):
        grads = BACKWARD[inner.kind](inner, x, g)
        out.update({k: v for k, v in grads.items() if k != "x"})
        g = grads["x"]
    out["x"] = tuple(tuple(share * ((gs if skip else 0) + gf) for gs, gf in zip(rs, rf))
                     for rs, rf in zip(G, g))
    return out


def _attention(layer, X: Grid, G: Grid, *, diagonal: bool = False) -> Grads:
    """dV = A^T G; dA = G V^T; dS_rt = A_rt (dA_rt - sum_u dA_ru A_ru) (each row's softmax
    Jacobian); dQ = dS K / sqrt(d_k); dK = dS^T Q / sqrt(d_k);
    dX = dQ W_Q^T + dK W_K^T + dV W_V^T; dW_Q = X^T dQ, and alike."""
    Q, K, V = layer.projections(X)
    A = layer.weights(Q, K)
    T, scale = range(len(X)), sp.sqrt(layer.d_k)
    dV = [[sp.Add(*(A[r][t] * G[r][c] for r in T)) for c in range(layer.out)] for t in T]
    dA = [[sp.Add(*(G[r][c] * V[t][c] for c in range(layer.out))) for t in T] for r in T]
    if diagonal:
        dS = [[A[r][t] * (1 - A[r][t]) * dA[r][t] for t in T] for r in T]
    else:
        dS = [[A[r][t] * (dA[r][t] - sp.Add(*(dA[r][u] * A[r][u] for u in T))) for t in T]
              for r in T]
    dQ = [[sp.Add(*(dS[r][t] * K[t][c] for t in T)) / scale for c in range(layer.d_k)] for r in T]
    dK = [[sp.Add(*(dS[r][t] * Q[r][c] for r in T)) / scale for c in range(layer.d_k)] for t in T]
    out: Grads = {}
    for name, d, cols in (("WQ", dQ, layer.d_k), ("WK", dK, layer.d_k), ("WV", dV, layer.out)):
        out[str(layer.base(name))] = {(i, c): sp.Add(*(X[r][i - 1] * d[r][c - 1] for r in T))
                                      for i in range(1, layer.width + 1) for c in range(1, cols + 1)}
    WQ, WK, WV = (layer.base(n) for n in ("WQ", "WK", "WV"))
    out["x"] = tuple(tuple(
        sp.Add(*(dQ[r][c] * WQ[i, c + 1] + dK[r][c] * WK[i, c + 1] for c in range(layer.d_k)))
        + sp.Add(*(dV[r][c] * WV[i, c + 1] for c in range(layer.out)))
        for i in range(1, layer.width + 1)) for r in T)
    return out


def _conv1d(layer, X: Grid, G: Grid, *, flip: bool = True) -> Grads:
    """dX is the full correlation of the gradient, dilated by the stride and padded by
    kernel - 1 - padding, with the kernel flipped (rotated by 180 degrees); dW[o, c, m] =
    sum_p g[o, p] x[c, p s + m - padding]; db[o] = sum_p g[o, p]."""
    W, k, s_, pad = layer.base("W"), layer.kernel, layer.stride, layer.padding
    n_out, lead = layer.out_length, k - 1 - pad

    def spread(g, o: int, j: int) -> sp.Expr:  # the dilated, padded gradient's entry j
        p, rest = divmod(j - lead, s_)
        return g[o * n_out + p] if rest == 0 and 0 <= p < n_out and j >= lead else sp.Integer(0)
    dx = tuple(tuple(
        sp.Add(*(spread(g, o, q + m) * W[o + 1, c + 1, (k - m if flip else m + 1)]
                 for o in range(layer.filters) for m in range(k)))
        for c in range(layer.channels) for q in range(layer.length)) for g in G)
    out: Grads = {"x": dx}
    out[str(W)] = {(o, c, m + 1): sp.Add(*(
        g[(o - 1) * n_out + p] * layer.at_position(x, c - 1, p * s_ + m - pad)
        for g, x in zip(G, X) for p in range(n_out)))
        for o in range(1, layer.filters + 1) for c in range(1, layer.channels + 1)
        for m in range(k)}
    out[str(layer.base("b"))] = {(o,): sp.Add(*(g[(o - 1) * n_out + p] for g in G
                                               for p in range(n_out)))
                                 for o in range(1, layer.filters + 1)}
    return out


def _conv2d(layer, X: Grid, G: Grid, *, flip: bool = True) -> Grads:
    """As in one dimension, along both: dX is the full correlation of the gradient, dilated
    by the stride and padded by kernel - 1 - padding on each side, with the kernel rotated
    by 180 degrees; dW[o, c, a, b] = sum_(p, q) g[o, p, q] x[c, p s + a - pad, q s + b - pad]."""
    W, k, s_, pad = layer.base("W"), layer.kernel, layer.stride, layer.padding
    P, Q = layer.out_shape
    lead = k - 1 - pad
    place = {(o, p, q): n for n, (o, p, q) in enumerate(layer.outputs())}

    def spread(g, o: int, u: int, v: int) -> sp.Expr:  # the dilated, padded gradient
        (p, ru), (q, rv) = divmod(u - lead, s_), divmod(v - lead, s_)
        ok = ru == rv == 0 and 0 <= p < P and 0 <= q < Q
        return g[place[o, p, q]] if ok else sp.Integer(0)
    turn = (lambda a: k - a) if flip else (lambda a: a + 1)
    dx = tuple(tuple(
        sp.Add(*(spread(g, o, u + a, v + e) * W[o + 1, c + 1, turn(a), turn(e)]
                 for o in range(layer.filters) for a in range(k) for e in range(k)))
        for c in range(layer.channels) for u in range(layer.height)
        for v in range(layer.columns)) for g in G)
    out: Grads = {"x": dx}
    out[str(W)] = {(o + 1, c + 1, a + 1, e + 1): sp.Add(*(
        g[place[o, p, q]] * layer.at_position(x, c, p * s_ + a - pad, q * s_ + e - pad)
        for g, x in zip(G, X) for p in range(P) for q in range(Q)))
        for o in range(layer.filters) for c in range(layer.channels)
        for a in range(k) for e in range(k)}
    out[str(layer.base("b"))] = {(o + 1,): sp.Add(*(g[place[o, p, q]] for g in G
                                                   for p in range(P) for q in range(Q)))
                                 for o in range(layer.filters)}
    return out


def _pool(layer, X: Grid, G: Grid, *, spread: bool = False) -> Grads:
    """Each output's gradient back to its window: to the maximum only (max pooling), or a
    window's share 1/window to each entry (average pooling); overlapping windows add."""
    rows = []
    for x, g in zip(X, G):
        dx = [sp.Integer(0)] * layer.width
        for n, where in enumerate(layer.windows()):
            w = [x[f] for f in where]
            share = ([sp.Integer(1)] * len(w) if spread else selected(w)) \
                if layer.kind == "maxpool" else [sp.Rational(1, len(w))] * len(w)
            for f, part in zip(where, share):
                dx[f] += part * g[n]
        rows.append(tuple(dx))
    return {"x": tuple(rows)}


def _flatten(layer, X: Grid, G: Grid) -> Grads:
    return {"x": G}


def _rnn(layer, X: Grid, G: Grid, *, future: bool = True, last_only: bool = False,
         states: Grid | None = None, given: Grid | None = None) -> Grads:
    """Backpropagation through time (Goodfellow, Bengio and Courville, eqs. 10.18 to 10.28,
    with o_t = V h_t + c a dense layer after this one): dh_T = g_T, dh_t = g_t + W^T (dh_(t+1)
    * f'(a_(t+1))); da_t = dh_t * f'(a_t); dW = sum_t da_t h_(t-1)^T, dU = sum_t da_t x_t^T,
    db = sum_t da_t, dx_t = U^T da_t. `states`, where given, are each step's h_t as atoms
    (a_t reads the atom h_(t-1), not the steps before); `given`, atoms for each dh_t: then
    each dh_t is claimed from the next one's atom (under "h", by (t, j)), and the other
    gradients from their step's atom, one step at a time (engine/time_steps.py)."""
    A, H = layer.steps(X) if states is None else (layer.pres_on(states, X), states)
    act, n, T = layer.activation, layer.units, len(X)
    W, U, b = layer.base("W"), layer.base("U"), layer.base("b")
    slope = [[act.slope_at(a) for a in row] for row in A]
    dA: list = [None] * T
    dH: list = [None] * T
    for t in reversed(range(T)):
        dh = list(G[t])
        if future and t + 1 < T:
            after = dA[t + 1] if given is None else \
                [d * f for d, f in zip(given[t + 1], slope[t + 1])]
            dh = [dh[j] + sp.Add(*(W[k + 1, j + 1] * after[k] for k in range(n)))
                  for j in range(n)]
        dH[t] = dh
        dA[t] = [d * f for d, f in zip(dh if given is None else given[t], slope[t])]
    steps = [T - 1] if last_only else range(T)
    prev = lambda t, j: H[t - 1][j] if t > 0 else sp.Integer(0)
    out = {
        "x": tuple(tuple(sp.Add(*(U[k + 1, i + 1] * dA[t][k] for k in range(n)))
                         for i in range(layer.width)) for t in range(T)),
        str(W): {(k + 1, j + 1): sp.Add(*(dA[t][k] * prev(t, j) for t in steps))
                 for k in range(n) for j in range(n)},
        str(U): {(k + 1, i + 1): sp.Add(*(dA[t][k] * X[t][i] for t in steps))
                 for k in range(n) for i in range(layer.width)},
        str(b): {(k + 1,): sp.Add(*(dA[t][k] for t in steps)) for k in range(n)},
    }
    if given is not None:
        out["h"] = {(t + 1, j + 1): dH[t][j] for t in range(T) for j in range(n)}
    return out


Backward = Callable[[Layer, Grid, Grid], Grads]
BACKWARD: dict[str, Backward] = {
    "dense": _dense, "activation": _elementwise, "softmax": _softmax,
    "layernorm": _layernorm, "batchnorm": _batchnorm, "residual": _residual,
    "attention": _attention, "conv1d": _conv1d, "conv2d": _conv2d, "maxpool": _pool,
    "avgpool": _pool,
    "flatten": _flatten, "rnn": _rnn,
}

# (mistake id, what it does, the kind, its backward): each must be refuted
WRONG: tuple[tuple[str, str, str, Backward], ...] = (
    ("batchnorm-statistics-held-fixed", "the mean and variance treated as constants: "
     "dx = dxhat / sqrt(var + eps), their dependence on x dropped", "batchnorm",
     lambda l, X, G: _batchnorm(l, X, G, statistics_fixed=True)),
    ("layernorm-elementwise", "layer norm treated as elementwise: dx = gamma g / sigma",
     "layernorm", lambda l, X, G: _layernorm(l, X, G, elementwise=True)),
    ("residual-averaged", "the skip's and the block's gradients averaged, not summed",
     "residual", lambda l, X, G: _residual(l, X, G, share=sp.Rational(1, 2))),
    ("residual-skip-dropped", "the skip connection's gradient left out: dx = dF", "residual",
     lambda l, X, G: _residual(l, X, G, skip=False)),
    ("attention-softmax-diagonal", "each row's softmax Jacobian taken as diagonal: "
     "dS = A (1 - A) dA", "attention", lambda l, X, G: _attention(l, X, G, diagonal=True)),
    ("softmax-diagonal", "the softmax Jacobian taken as diagonal: dx = y (1 - y) g",
     "softmax", lambda l, X, G: _softmax(l, X, G, diagonal=True)),
    ("conv-kernel-not-flipped", "the input's gradient correlated with the kernel as it is, "
     "not rotated by 180 degrees", "conv1d", lambda l, X, G: _conv1d(l, X, G, flip=False)),
    ("conv2d-kernel-not-rotated", "the input's gradient correlated with the kernel as it "
     "is, not rotated by 180 degrees", "conv2d", lambda l, X, G: _conv2d(l, X, G, flip=False)),
    ("maxpool-spread", "each window's gradient given to every entry of the window, not to "
     "its maximum alone", "maxpool", lambda l, X, G: _pool(l, X, G, spread=True)),
    ("bptt-future-dropped", "the h_(t+1) term left out: dh_t = g_t", "rnn",
     lambda l, X, G, **steps: _rnn(l, X, G, future=False, **steps)),
    ("bptt-last-step-only", "the tied weights' gradients from the last step alone, not "
     "summed over every step", "rnn",
     lambda l, X, G, **steps: _rnn(l, X, G, last_only=True, **steps)),
)
