"""Networks of typed layers: each layer's backward equations proved against its forward
map differentiated, each wrong version refuted at a point, and each Jacobian's vanishing
pattern decided.

Locality, as for dense layers (DESIGN.md): a layer's input X and the error's gradient at
its output G = dE/dY are free variables, so a layer's equation is proved for whatever
network lies before and after it; the loss gives the last G (the base case), and the
layers' equations taken back from it are the backward pass of the whole network. The
truth is the chain rule, dE/dX_rj = sum_sk G_sk dY_sk/dX_rj, each dY/dX differentiated
from the forward map; a parameter's gradient alike.

A square root (sqrt(var + epsilon)) and an exponential are atoms of the normal form
(engine/normal.py), which can only make a difference look less zero than it is: zero
is a proof, under epsilon > 0; a refutation is a point where the two sides differ.

>>> from bpcheck.derive.model.layers import LayerNorm, TypedNetwork
>>> net = TypedNetwork("ln", rows=1, width=2, layers=(LayerNorm("1", 2),))
>>> [(c.id, c.verdict.value) for c in layer_checks(net.layers[0], rows=1)][:1]
[('layer1.layernorm.x', 'proved')]
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import product

import sympy as sp

from ..errors import TooMuchWork
from ..model.activation import KinkSide
from ..model.layers import EPSILON, Exp, Grid, Layer, grid
from .layer_claims import BACKWARD, WRONG
from .normal import NormalForm, numerator
from .proof import Verdict

TRIES = 4  # a quarter of the random points a claim is tried at (one before its proof)
DIGITS = 30


@dataclass(frozen=True)
class TypedCheck:
    """One gradient's backward equation on one layer: proved, or refuted at `point` (the
    entry where the sides differ and their values), or undecided."""

    id: str
    layer: str
    kind: str
    gradient: str          # "x", or the parameter's name
    verdict: Verdict
    mistake: str = ""      # a wrong version's id
    entry: tuple = ()
    values: tuple = ()     # (claimed, true) at the point
    point: tuple = ()      # ((variable, value), ...)
    conditions: tuple[str, ...] = ()
    note: str = ""         # why undecided


def _truth(layer: Layer, X: Grid, G: Grid) -> dict[str, object]:
    """dE/dX and dE/dparameter by the chain rule through the differentiated forward map."""
    Y = layer.forward(X)
    pairs = [(g, y) for gr, yr in zip(G, Y) for g, y in zip(gr, yr)]
    def grad(v):
        return sp.Add(*(g * sp.diff(y, v) for g, y in pairs))
    out: dict[str, object] = {"x": tuple(tuple(grad(x) for x in row) for row in X)}
    for p, shape in layer.params().items():
        out[str(p)] = {ix: grad(p[ix]) for ix in _indices(shape)}
    return out


def _indices(shape: tuple[int, ...]):
    return list(product(*(range(1, n + 1) for n in shape)))


def _entries(value) -> list[tuple[tuple, sp.Expr]]:
    if isinstance(value, dict):
        return list(value.items())
    return [((r, c), v) for r, row in enumerate(value, 1) for c, v in enumerate(row, 1)]


def layer_checks(layer: Layer, *, rows: int, seed: int = 0) -> list[TypedCheck]:
    """Every backward equation of the layer (its input's gradient, each parameter's)
    decided, then each wrong version of its kind (must be refuted)."""
    X, G = grid(f"x{_tag(layer)}", rows, layer.width), grid(f"g{_tag(layer)}", rows, layer.out)
    truth = _truth(layer, X, G)
    out = []
    claimed = BACKWARD[layer.kind](layer, X, G)
    for name in truth:
        out.append(decide_gradient(layer, name, claimed[name], truth[name], seed=seed))
    for mistake, _, kind, wrong in WRONG:
        if kind == layer.kind:
            grads = wrong(layer, X, G)
            # the gradient the mistake is in: dE/dx, or the first it changes (BPTT's dW)
            name = next((k for k in ("x", *grads) if grads[k] != claimed[k]), "x")
            out.append(decide_gradient(layer, name, grads[name], truth[name], seed=seed,
                                       mistake=mistake))
    return out


def _tag(layer: Layer) -> str:
    return layer.at.replace(".", "_")


def decide_gradient(layer: Layer, name: str, claimed, true, *, seed: int, mistake: str = "") -> TypedCheck:
    base = dict(id=f"layer{layer.at}.{layer.kind}.{name}" + (f".{mistake}" if mistake else ""),
                layer=layer.at, kind=layer.kind, gradient=name, mistake=mistake)
    found = decide_pairs(list(zip(_entries(claimed), _entries(true))), seed=seed,
                         kink=KINKS.get(layer.kind, KINKS["relu"]))
    return TypedCheck(**base, **found)


# what a proof on each side of a kink leaves out: a ReLU's 0, or a tie in a pooling window
KINKS = {"relu": "no ReLU's input exactly 0 (its kink)", "maxpool": "each window's maximum unique (no tie)"}


def decide_pairs(pairs, *, seed: int, kink: str = KINKS["relu"], reach=None) -> dict:
    """((entry, claimed), (entry, true)) pairs: proved (all zero in normal form, with the
    conditions that needed), refuted (entry, values, point) or undecided (note). `reach`,
    where given, maps a random point to one a network can reach (a state h = f(a) in f's
    range: a refutation at tanh's h = 1 would be at no network's state)."""
    rng = random.Random(seed)
    # one point first (a wrong claim nearly always differs there), then the proof, then
    # the other points: the same points in the same order as trying them all first
    found = _differs_at(pairs, rng, reach)
    if found:
        return dict(verdict=Verdict.REFUTED, **found)
    try:
        zero, note = all(is_zero(c - t) for (_, c), (_, t) in pairs), ""
    except TooMuchWork as e:  # undecided, the same on any machine; the search goes on
        zero, note = False, str(e)
    if zero:
        exprs = [e for (_, c), (_, t) in pairs for e in (c, t)]
        needs = (("epsilon > 0",) if any(e.has(EPSILON) for e in exprs) else ()) + \
            ((kink,) if any(e.has(KinkSide) for e in exprs) else ())
        return dict(verdict=Verdict.PROVED, conditions=needs)
    for _ in range(TRIES * 4 - 1):
        found = _differs_at(pairs, rng, reach)
        if found:
            return dict(verdict=Verdict.REFUTED, **found)
    return dict(verdict=Verdict.UNDECIDED, note=note or f"no point of {TRIES * 4} tried differs, "
                "and the normal form is not zero")


def is_zero(expr: sp.Expr) -> bool:
    """Identically zero, decided in normal form: each softmax's exponential, as written,
    and each root an atom (attention's exponent is a sum of products: split into its
    monomials, as engine/normal.py does for a unit's, it would blow up)."""
    if expr == 0:
        return True
    atoms: dict[sp.Basic, sp.Symbol] = {}

    def atom(e: sp.Basic) -> sp.Symbol:
        return atoms.setdefault(e, sp.Symbol(f"_typed{len(atoms)}"))
    expr = expr.replace(lambda e: isinstance(e, Exp), atom)
    expr = expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer,
                        lambda e: atom(e.base ** sp.Rational(1, e.exp.q)) ** e.exp.p)
    if expr.has(sp.tanh) or expr.has(sp.exp):
        # a recurrence nests tanh in tanh (a sigmoid's exp in exp), which in normal form
        # would blow up; each an atom first (tanh's derivative, 1 - tanh^2, is then a
        # polynomial in it): zero so is zero for every value of the atoms, so for theirs.
        # Where a sigmoid's 1 + e^u is, first each e^u as (1 - z)/z for an atom z =
        # 1/(1 + e^u) (the same bijection of values): a sigmoid is then z and its
        # derivative z (1 - z), polynomials, where with e^u an atom each nested step
        # multiplies the common denominator by (1 + e^u)^2
        tries = [lambda: expr.replace(lambda e: isinstance(e, (sp.tanh, sp.exp)), atom)]
        if any(_sigmoid_sum(e) for e in expr.atoms(sp.Add)):
            tries.insert(0, lambda: _in_sigmoids(expr, atom, {}))
        for written in tries:  # each written only if the one before is not proved zero
            try:
                if numerator(NormalForm()(written())) == 0:
                    return True
            except TooMuchWork:
                pass
    return numerator(NormalForm()(expr)) == 0


def _sigmoid_sum(e: sp.Basic) -> bool:
    """1 + e^u, a sigmoid's denominator."""
    return e.is_Add and len(e.args) == 2 and sp.S.One in e.args and \
        any(isinstance(a, sp.exp) for a in e.args)


def _in_sigmoids(e: sp.Basic, atom, memo: dict) -> sp.Basic:
    """e with each e^u written (1 - z)/z and each 1 + e^u written 1/z, z = 1/(1 + e^u)
    an atom named by u (itself rewritten first: sigmoids nest in a recurrence)."""
    if e not in memo:
        if _sigmoid_sum(e) or isinstance(e, sp.exp):
            power = next(a for a in e.args if isinstance(a, sp.exp)) if e.is_Add else e
            z = atom(sp.exp(_in_sigmoids(power.args[0], atom, memo)))
            memo[e] = 1 / z if e.is_Add else (1 - z) / z
        elif e.args:
            memo[e] = e.func(*(_in_sigmoids(a, atom, memo) for a in e.args))
        else:
            memo[e] = e
    return memo[e]


def random_point(exprs, rng: random.Random) -> dict[sp.Basic, sp.Rational]:
    """Small rationals for every variable (the entries of the grids and parameters),
    epsilon a positive one."""
    free = sorted(set().union(*(_variables(e) for e in exprs)), key=str)
    point = {v: sp.Rational(rng.choice([-3, -2, -1, 1, 2, 3]), rng.choice([1, 2, 3, 4]))
             for v in free}
    if any(e.has(EPSILON) for e in exprs):
        point[EPSILON] = sp.Rational(rng.randint(1, 4), rng.randint(2, 8))
    return point


def _variables(e: sp.Expr) -> set:
    """The grids' and parameters' entries in e, a ReLU side's argument's too (a side is
    a symbol, its argument no arg of it). Each sub-expression visited once: a recurrence's
    h_t is in every later step, and walked as a tree the work doubles with each step."""
    seen, found, todo = set(), set(), [e]
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        if isinstance(x, sp.Indexed):
            found.add(x)
        else:
            todo.extend((x.of,) if isinstance(x, KinkSide) else x.args)
    return found


def value_at(expr: sp.Expr, point: dict) -> sp.Expr:
    """The expression's value at the point; a ReLU's side is 1 where its argument is
    positive, 0 where negative (and no value on the kink)."""
    # from the point up, each shared sub-expression once (shared_value): substituted as a
    # tree, a recurrence's work would double with each step
    e = shared_value(sp.Integer(expr) if isinstance(expr, int) else expr, dict(point))
    if not e.is_number:  # a side on its kink: no value
        return e
    # chop: a value that is 0 shows as 0, not as the rounding noise of its terms (1e-140)
    return sp.N(e, DIGITS, chop=True)


def resolve_sides(e: sp.Expr) -> sp.Expr:
    """Each ReLU side 1 or 0 by its argument's sign, innermost first: in a recurrence a
    side's argument holds the sides of earlier steps. A side on its kink stays."""
    for _ in range(64):
        ready = {k: sp.Integer(1 if k.of > 0 else 0) for k in _sides(e)
                 if k.of.is_number and k.of != 0}
        if not ready:
            return e
        e = sp.Tuple(e).xreplace(ready)[0]  # a side alone is an atom: xreplace stops at it
    return e


def _sides(e: sp.Expr) -> set:
    """Every ReLU side in e, those inside another's argument too (a side is a symbol: its
    argument is no arg of it, so atoms() does not reach a side nested only there)."""
    seen, todo = set(), [e]
    while todo:
        for k in todo.pop().atoms(KinkSide) - seen:
            seen.add(k)
            todo.append(k.of)
    return seen


def shared_value(e: sp.Expr, memo: dict, digits: int = DIGITS) -> sp.Expr:
    """e's number, each shared sub-expression evaluated once: a recurrence's h_t appears
    in every later step, and evaluating the tree as printed would take exponential time."""
    if e in memo:
        return memo[e]
    if e.is_Pow and e.exp.is_Rational:
        v = shared_value(e.base, memo, digits) ** e.exp
    elif isinstance(e, KinkSide):  # 1 or 0 by its argument's sign; on the kink, no value
        of = shared_value(e.of, memo, digits)
        v = sp.Integer(1 if of > 0 else 0) if of.is_number and of != 0 else e
    elif e.args and not e.is_Number:
        v = e.func(*(shared_value(a, memo, digits) for a in e.args))
    else:
        v = e
    if not v.is_Rational and v.is_finite is not False and v.is_number:
        try:
            v = sp.Float(v.evalf(digits + 10), digits + 10)
        except (TypeError, ValueError):  # nan or 1/0 (a root of 0): no value, said above
            pass
    memo[e] = v
    return v


def _differs_at(pairs, rng: random.Random, reach=None) -> dict | None:
    point = random_point([e for (_, c), (_, t) in pairs for e in (c, t)], rng)
    point = reach(point) if reach else point
    for (entry, c), (_, t) in pairs:
        a, b = value_at(c, point), value_at(t, point)
        # a side undefined at the point (a root of zero, 1/0) says nothing there
        if _defined(a) and _defined(b) and abs(a - b) > sp.Float(10) ** (5 - DIGITS):
            return dict(entry=entry, values=(a, b), point=tuple(point.items()))
    return None


def _defined(v: sp.Expr) -> bool:
    """A real finite number (not nan, zoo or an infinity)."""
    return v.is_number and v.is_finite is True and v.is_extended_real is True


# -- Jacobians --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """Entries dY_sk/dX_rj of one kind: within a row or across rows, the same feature
    (k = j) or others; `vanish` True, False (an entry proved non-zero at a point), or None
    where they are mixed."""

    rows: str        # "same" or "other"
    features: str    # "same", "other" or "any" (where Y and X differ in width)
    vanish: bool | None
    count: int
    example: str = ""


@dataclass
class LayerJacobian:
    layer: str
    kind: str
    blocks: list[Block] = field(default_factory=list)


def jacobian(layer: Layer, *, rows: int, seed: int = 0) -> LayerJacobian:
    """Which entries of dY/dX vanish identically, by block."""
    X = grid(f"x{_tag(layer)}", rows, layer.width)
    Y = layer.forward(X)
    square = layer.out == layer.width
    groups: dict[tuple[str, str], list] = {}
    for s, yr in enumerate(Y):
        for k, y in enumerate(yr):
            for r, xr in enumerate(X):
                for j, x in enumerate(xr):
                    key = ("same" if r == s else "other",
                           ("same" if j == k else "other") if square else "any")
                    groups.setdefault(key, []).append(((s + 1, k + 1, r + 1, j + 1), y, x))
    rng = random.Random(seed)
    out = LayerJacobian(layer.at, layer.kind)
    for (rws, fts), items in sorted(groups.items(), reverse=True):
        zero, nonzero, example = 0, 0, ""
        for ix, y, x in items:
            d = sp.diff(y, x)
            if d == 0:
                zero += 1
                continue
            seen = _nonzero_example(ix, d, rng)  # a point first: the proof is the costly part
            if seen:
                nonzero, example = nonzero + 1, example or seen
                continue
            try:
                zero += is_zero(d)
            except TooMuchWork:  # neither shown non-zero nor proved zero: "some"
                pass
        vanish = True if zero == len(items) else False if nonzero == len(items) else None
        out.blocks.append(Block(rws, fts, vanish, len(items), example))
    return out


def _nonzero_example(ix: tuple, d: sp.Expr, rng: random.Random) -> str:
    """The entry's value at a point where it is not zero (a proof that it does not vanish)."""
    for _ in range(TRIES):
        v = value_at(d, random_point([d], rng))
        if _defined(v) and v != 0:
            return f"dY[{ix[0]},{ix[1]}]/dX[{ix[2]},{ix[3]}] = {sp.Float(v, 6)}"
    return ""
