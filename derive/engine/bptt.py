"""Backpropagation through time for every T: a theorem by induction on T - t, as
`report --depth any` proves the layered recursion for every depth. The notation is
Goodfellow, Bengio and Courville's (Deep Learning, eqs. 10.18 to 10.28): a_t = W h_(t-1) +
U x_t + b, h_t = f(a_t), and g_t = dL_t/dh_t the gradient through the step's own output
(V^T dL/do_t where o_t = V h_t + c).

- Base case (`bptt-last-step`): after h_T lies only its own step's output, E = L_T(h_T)
  for an undefined L_T, so dh_T = g_T.
- Lemma (`bptt-step-lemma`), one step back: whatever the steps after t + 1 are, the error
  as a function of h_t is E = L_t(h_t) + P(h_(t+1)) with h_(t+1) = f(W h_t + U x_(t+1) + b)
  and P undefined; with dh_(t+1) = dP/dh_(t+1), dh_t = g_t + W^T (f'(a_(t+1)) * dh_(t+1)).
  (Any E = Q(h_t, h_(t+1)), later layers mixing the steps included, has the same first
  derivative, with g_t and dh_(t+1) its partial derivatives: they are free atoms here.)
- Induction (`bptt-all-steps`) on T - t: the base case gives dh_T; the lemma, with P the
  steps after, gives dh_t from dh_(t+1). So the recursion holds at every step of every T.
- Each step's copy of the tied weights (`bptt-step-weights`): W, U and b at step t enter
  a_t alone, so with E = R(h_t), R undefined and dh_t = dR/dh_t, the copy's gradients are
  dW_t = (dh_t * f'(a_t)) h_(t-1)^T, dU_t = (dh_t * f'(a_t)) x_t^T, db_t = dh_t * f'(a_t),
  and dx_t = U^T (dh_t * f'(a_t)).
- Two steps (`bptt-two-steps`): with W in the steps t - 1 and t, the gradient is the sum of
  the two copies' (dh_(t-1) by the lemma). So dW = sum_t dW_t (10.26 to 10.28): W is every
  step's copy, and the chain rule through the copies (W, ..., W) sums them.

Each part is decided by the engine (engine/typed.decide_pairs) at the layer's own width
and activation; the wrong versions (the h_(t+1) term dropped, the last copy alone) are
refuted at a point of the same stand-ins.

>>> from bpcheck.derive.model.layers import Recurrent
>>> t = prove_every_step(Recurrent("1", 1, units=2))
>>> [(p.id, p.verdict.value) for p in t.parts]  # doctest: +NORMALIZE_WHITESPACE
[('bptt-last-step', 'proved'), ('bptt-step-lemma', 'proved'), ('bptt-all-steps', 'proved'),
 ('bptt-step-weights', 'proved'), ('bptt-two-steps', 'proved'),
 ('bptt-weights-all-steps', 'proved')]
>>> [(p.id, p.verdict.value) for p in t.wrong]
[('bptt-future-dropped', 'refuted'), ('bptt-last-step-only', 'refuted')]
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from ..model.layers import Recurrent
from .proof import Verdict
from .sums import holds_throughout
from .typed import KINKS, decide_pairs, is_zero, resolve_sides

BASE, LEMMA, INDUCTION = "bptt-last-step", "bptt-step-lemma", "bptt-all-steps"
STEP_WEIGHTS, TWO_STEPS, WEIGHTS = "bptt-step-weights", "bptt-two-steps", "bptt-weights-all-steps"


@dataclass(frozen=True)
class TimePart:
    """One part of the theorem: its statement in words and as an equation, and how it was
    decided (the engine's verdict, or the induction's from its premises)."""

    id: str
    title: str
    words: str
    claim: str
    verdict: Verdict
    conditions: tuple[str, ...] = ()
    note: str = ""
    entry: tuple = ()      # a refutation's entry, its values (claimed, true) and point
    values: tuple = ()
    point: tuple = ()
    every: str = ""        # proved for every size too: "every number of units and inputs"


@dataclass(frozen=True)
class TimeTheorem:
    """The theorem for one recurrent layer: its parts in the order a reader follows them,
    and the wrong versions, each refuted on the same stand-in."""

    layer: Recurrent
    parts: tuple[TimePart, ...]
    wrong: tuple[TimePart, ...]

    @property
    def verdict(self) -> Verdict:
        """Proved when every part is; the wrong versions are shown, not counted, as in a
        report of typed layers (engine/typed.TypedReport.worst)."""
        if all(p.verdict is Verdict.PROVED for p in self.parts):
            return Verdict.PROVED
        return Verdict.UNDECIDED


class _Step:
    """The symbols of one stand-in step: a = W h + U x + b, z = f(a)."""

    def __init__(self, layer: Recurrent, h: sp.Expr | list, x: str):
        W, U, b = layer.base("W"), layer.base("U"), layer.base("b")
        self.layer, self.n, self.m = layer, layer.units, layer.width
        self.h = h if isinstance(h, list) else _vector(h, self.n)
        self.x = _vector(x, self.m)
        self.a = [sp.Add(*(W[k, j] * self.h[j - 1] for j in range(1, self.n + 1)))
                  + sp.Add(*(U[k, i] * self.x[i - 1] for i in range(1, self.m + 1))) + b[k]
                  for k in range(1, self.n + 1)]
        self.z = [layer.activation.scalar(v) for v in self.a]

    def slope(self, k: int) -> sp.Expr:
        return _slope(self.layer.activation, self.a[k - 1])

    def back(self, dh: sp.IndexedBase) -> list[sp.Expr]:
        """W^T (f'(a) * dh): the gradient this step sends to the h it reads."""
        W = self.layer.base("W")
        return [sp.Add(*(W[k, j] * self.slope(k) * dh[k] for k in range(1, self.n + 1)))
                for j in range(1, self.n + 1)]


def _slope(act, a: sp.Expr) -> sp.Expr:
    """f'(a), through the output z = f(a) as the text writes it where that is a
    polynomial of it (1 - h^2 for tanh); else at a (softplus's 1 - e^(-h) would put
    e^(-log(1 + e^a)) in the equation, which SymPy splits into powers)."""
    z = sp.Dummy("z")
    if act.slope_by_output and act.slope_by_output(z).is_polynomial(z):
        return act.slope_by_output(act.scalar(a))
    return act.slope_at(a)


def _vector(name: str, n: int) -> list[sp.Expr]:
    base = sp.IndexedBase(name, real=True)
    return [base[j] for j in range(1, n + 1)]


def _gradient(E: sp.Expr, variables: list, atoms: dict) -> list[sp.Expr]:
    """dE/dv for each v, each undefined function's partial derivative written as the
    atom that names it: {L: g} makes dL/d(its k-th argument) g[k]."""
    out = []
    for v in variables:
        d = sp.diff(E, v)
        d = d.replace(lambda e: isinstance(e, sp.Subs), lambda e: _atom(e.expr, atoms))
        d = d.replace(lambda e: isinstance(e, sp.Derivative), lambda e: _atom(e, atoms))
        out.append(d)
    return out


def _atom(derivative: sp.Derivative, atoms: dict) -> sp.Expr:
    """The atom of a first partial derivative by one argument. The stand-ins give each
    undefined function distinct arguments; were one repeated, its position would be
    ambiguous, and a wrong atom would be a wrong proof: refused instead."""
    f, (v,) = derivative.expr, derivative.variables
    if f.args.count(v) != 1:
        raise ValueError(f"{f} has {v} as {f.args.count(v)} arguments")
    return atoms[f.func][f.args.index(v) + 1]


def _part(id: str, title: str, words: str, claim: str, pairs: list, *, seed: int,
          states: tuple = (), layer: Recurrent | None = None) -> TimePart:
    """A part decided by the engine: `pairs` are (entry, claimed, true). A stand-in's free
    `states` (h entries) take values f(a) at a random a at a point, so that a refutation
    is at a state the layer can be in."""
    def reach(point: dict) -> dict:
        f = layer.activation.scalar
        return point | {h: resolve_sides(f(point[h])) for h in states if h in point}
    found = decide_pairs([(((e,), c), ((e,), t)) for e, c, t in pairs], seed=seed,
                         kink=KINKS["relu"], reach=reach if states else None)
    return TimePart(id=id, title=title, words=words, claim=claim, **found)


def lemma_sides(layer: Recurrent) -> tuple[_Step, list, list, sp.IndexedBase, sp.IndexedBase]:
    """The lemma's stand-in E = L_t(h_t) + P(h_(t+1)): its step, the claimed dh_t (10.21)
    and the true dE/dh_t, in the atoms g_t = dL_t/dh_t and dh_(t+1) = dP/dh_(t+1).

    >>> from bpcheck.derive.model.layers import Recurrent
    >>> step, claimed, true, g, d = lemma_sides(Recurrent("1", 1, units=1))
    >>> claimed[0]
    (1 - tanh(U1[1, 1]*x_{t+1}[1] + W1[1, 1]*h_t[1] + b1[1])**2)*W1[1, 1]*dh_{t+1}[1] + g_t[1]
    """
    step = _Step(layer, "h_t", "x_{t+1}")
    L, P = sp.Function("L_t"), sp.Function("P")
    g, d = sp.IndexedBase("g_t", real=True), sp.IndexedBase("dh_{t+1}", real=True)
    true = _gradient(L(*step.h) + P(*step.z), step.h, {L: g, P: d})
    claimed = [g[j] + back for j, back in zip(range(1, layer.units + 1), step.back(d))]
    return step, claimed, true, g, d


def _time_steps(layer: Recurrent, *, seed: int) -> tuple[TimePart, TimePart, TimePart]:
    """The base case and the lemma on their stand-ins, and the wrong lemma without the
    h_(t+1) term."""
    n = layer.units
    h, L = _vector("h_T", n), sp.Function("L_T")
    g = sp.IndexedBase("g_T", real=True)
    base = _part(BASE, "base case: the last step",
                 "after h_T lies only the last step's own output, E = L_T(h_T)",
                 "dh_T = g_T   (10.19, with g_T = V^T dL/do_T)",
                 list(zip(range(1, n + 1), [g[j] for j in range(1, n + 1)],
                          _gradient(L(*h), h, {L: g}))), seed=seed, states=tuple(h),
                 layer=layer)
    step, claimed, true, g, d = lemma_sides(layer)
    lemma = _part(LEMMA, "lemma: one step back in time",
                  "whatever reads h_t besides the next step, and whatever the steps after "
                  "t + 1 are, E = L_t(h_t) + P(h_(t+1)) with h_(t+1) = f(W h_t + U x_(t+1) "
                  "+ b), L_t and P undefined; g_t = dL_t/dh_t, dh_(t+1) = dP/dh_(t+1)",
                  "dh_t = g_t + W^T (f'(a_(t+1)) * dh_(t+1))   (10.21)",
                  list(zip(range(1, n + 1), claimed, true)), seed=seed, states=tuple(step.h),
                  layer=layer)
    dropped = _part("bptt-future-dropped", "the h_(t+1) term left out",
                    "the lemma's stand-in, with the gradient through h_(t+1) dropped",
                    "dh_t = g_t", [(j, g[j], t) for j, t in zip(range(1, n + 1), true)],
                    seed=seed, states=tuple(step.h), layer=layer)
    return base, lemma, dropped


def _copy_gradients(step: _Step, da: list) -> dict[tuple, sp.Expr]:
    """The gradients of one step's copy of W, U and b, given da = dE/da of that step."""
    n, m = step.n, step.m
    out = {("W", k, j): da[k - 1] * step.h[j - 1] for k in range(1, n + 1) for j in range(1, n + 1)}
    out |= {("U", k, i): da[k - 1] * step.x[i - 1] for k in range(1, n + 1) for i in range(1, m + 1)}
    return out | {("b", k): da[k - 1] for k in range(1, n + 1)}


def _parameters(layer: Recurrent) -> list:
    """The entries of W, U and b, keyed as _copy_gradients keys them."""
    W, U, b, n, m = layer.base("W"), layer.base("U"), layer.base("b"), layer.units, layer.width
    return [(("W", k, j), W[k, j]) for k in range(1, n + 1) for j in range(1, n + 1)] + \
        [(("U", k, i), U[k, i]) for k in range(1, n + 1) for i in range(1, m + 1)] + \
        [(("b", k), b[k]) for k in range(1, n + 1)]


def copy_sides(layer: Recurrent) -> tuple[_Step, dict, sp.IndexedBase]:
    """One step's copy of the weights on the stand-in E = R(h_t), h_t = f(W h_(t-1) + U x_t
    + b): its step, {entry: (claimed, true)} for W, U, b and x_t (entries as ("W", k, j)),
    in the atoms dh_t = dR/dh_t."""
    n, keys = layer.units, _parameters(layer)
    step, R = _Step(layer, "h_{t-1}", "x_t"), sp.Function("R")
    dh = sp.IndexedBase("dh_t", real=True)
    da = [dh[k] * step.slope(k) for k in range(1, n + 1)]
    claimed = _copy_gradients(step, da) | {
        ("x", i): sp.Add(*(layer.base("U")[k, i] * da[k - 1] for k in range(1, n + 1)))
        for i in range(1, step.m + 1)}
    entries = [k for k, _ in keys] + [("x", i) for i in range(1, step.m + 1)]
    true = _gradient(R(*step.z), [v for _, v in keys] + step.x, {R: dh})
    return step, {e: (claimed[e], t) for e, t in zip(entries, true)}, dh


def _weights(layer: Recurrent, *, seed: int) -> tuple[TimePart, TimePart, TimePart]:
    """One step's copy of the weights; two steps sharing them; the last copy alone (wrong)."""
    n, keys = layer.units, _parameters(layer)
    step, sides, dh = copy_sides(layer)
    R = sp.Function("R")
    one = _part(STEP_WEIGHTS, "each step's copy of the tied weights",
                "W, U and b at step t enter a_t alone; E = R(h_t), R undefined, dh_t = dR/dh_t",
                "dW_t = (dh_t * f'(a_t)) h_(t-1)^T, dU_t = (dh_t * f'(a_t)) x_t^T, "
                "db_t = dh_t * f'(a_t), dx_t = U^T (dh_t * f'(a_t))",
                [(e, c, t) for e, (c, t) in sides.items()], seed=seed,
                states=tuple(step.h), layer=layer)
    first = _Step(layer, "h_{t-2}", "x_{t-1}")
    second, L = _Step(layer, first.z, "x_t"), sp.Function("L_{t-1}")
    g = sp.IndexedBase("g_{t-1}", real=True)
    true = _gradient(L(*first.z) + R(*second.z), [v for _, v in keys], {L: g, R: dh})
    da2 = [dh[k] * second.slope(k) for k in range(1, n + 1)]
    dh1 = [g[j] + back for j, back in zip(range(1, n + 1), second.back(dh))]
    da1 = [dh1[k - 1] * first.slope(k) for k in range(1, n + 1)]
    last, earlier = _copy_gradients(second, da2), _copy_gradients(first, da1)
    words = ("W, U and b in the steps t - 1 and t: E = L_(t-1)(h_(t-1)) + R(h_t), h_(t-2) "
             "free, dh_(t-1) by the lemma")
    two = _part(TWO_STEPS, "two steps share the weights", words,
                "dW = dW_(t-1) + dW_t, and so for U and b",
                [(e, last[e] + earlier[e], t) for (e, _), t in zip(keys, true)], seed=seed,
                states=tuple(first.h), layer=layer)
    wrong = _part("bptt-last-step-only", "the last step's copy alone", words,
                  "dW = dW_t, and so for U and b",
                  [(e, last[e], t) for (e, _), t in zip(keys, true)], seed=seed,
                  states=tuple(first.h), layer=layer)
    return one, two, wrong


EVERY = "every number of units and inputs"


def every_width(layer: Recurrent) -> tuple[bool, bool]:
    """(the base case and the lemma, each step's copy) proved again with n units and m
    inputs symbols: each sum a SymPy Sum, the chain rule over an undefined function's n
    arguments a sum of its atoms (as the dense theorem takes it, engine/generic.py), and
    each Kronecker delta picked where its index runs over the same range. f's slope is
    the layer's own."""
    n, m = sp.symbols("n m", integer=True, positive=True)
    i, j, k = sp.symbols("i j k", integer=True, positive=True)  # summed over
    p, q, u = sp.symbols("p q u", integer=True, positive=True)  # free: units p, q; input u
    W, U, b = layer.base("W"), layer.base("U"), layer.base("b")
    h, x, g, d = (sp.IndexedBase(name, real=True) for name in ("h", "x", "g", "dh"))
    act = layer.activation
    def a(r):
        return sp.Sum(W[r, j] * h[j], (j, 1, n)) + sp.Sum(U[r, i] * x[i], (i, 1, m)) + b[r]
    def slope(r):
        return _slope(act, a(r))
    ranges = {p: (1, n), q: (1, n), u: (1, m)}
    def true(var):  # sum_k dP/dz_k dz_k/dvar; only the differentiated sums done (a Sum's
        # doit() over tanh of sums tries to evaluate them all, and takes seconds)
        dz = sp.diff(act.scalar(a(k)), var)
        dz = dz.replace(lambda e: isinstance(e, sp.Sum) and e.has(sp.KroneckerDelta),
                        lambda e: e.doit())
        return _picked(_picked(sp.Sum(d[k] * dz, (k, 1, n)), ranges), ranges)
    # the base case: dL_T(h)/dh_p = sum_k g_k dh_k/dh_p
    base = is_zero(_picked(sp.Sum(g[k] * sp.diff(h[k], h[p]), (k, 1, n)), ranges) - g[p])
    lemma = base and is_zero(_picked(g[p] + true(h[p]), ranges)
                             - (g[p] + sp.Sum(W[k, p] * slope(k) * d[k], (k, 1, n))))
    copies = all(is_zero(c - true(v)) for v, c in (
        (W[p, q], d[p] * slope(p) * h[q]), (U[p, u], d[p] * slope(p) * x[u]),
        (b[p], d[p] * slope(p)), (x[u], sp.Sum(U[k, u] * d[k] * slope(k), (k, 1, n)))))
    return lemma, copies


def _picked(e: sp.Expr, ranges: dict) -> sp.Expr:
    """Each Piecewise whose first condition holds over the indices' ranges its first
    branch, and each single sum of a Kronecker delta of its own index and another index
    over the same range the term at that index."""
    bounds = {s: (sp.Integer(lo), hi) for s, (lo, hi) in ranges.items()}
    e = e.replace(lambda w: isinstance(w, sp.Piecewise) and holds_throughout(w.args[0][1], bounds),
                  lambda w: w.args[0][0])
    def pick(w: sp.Sum) -> sp.Expr:
        (var, lo, hi), = w.limits
        for f in sp.Mul.make_args(w.function):
            if isinstance(f, sp.KroneckerDelta) and var in f.args:
                other = f.args[1] if f.args[0] == var else f.args[0]
                if ranges.get(other, (None, None)) == (lo, hi) and var not in other.free_symbols:
                    return (w.function / f).xreplace({var: other})
        return w
    return e.replace(lambda w: isinstance(w, sp.Sum) and len(w.limits) == 1, pick)


def _follows(id: str, title: str, words: str, claim: str, premises: list[TimePart],
             how: str) -> TimePart:
    """A part that follows from its premises (the induction; the sum over the copies): it
    holds exactly as far as they do, with their conditions."""
    missing = [p.title for p in premises if p.verdict is not Verdict.PROVED]
    if missing:
        return TimePart(id, title, words, claim, Verdict.UNDECIDED,
                        note=f"it needs {' and '.join(missing)}, not proved")
    conditions = tuple(dict.fromkeys(c for p in premises for c in p.conditions))
    return TimePart(id, title, words, claim, Verdict.PROVED, conditions=conditions, note=how)


def prove_every_step(layer: Recurrent, *, seed: int = 0) -> TimeTheorem:
    """The theorem of backpropagation through time for the layer's activation, at its
    width, and for every width where the base case, the lemma and the copies are proved
    again with n and m symbols."""
    base, lemma, dropped = _time_steps(layer, seed=seed)
    one, two, last_only = _weights(layer, seed=seed)
    lemma_every, copies_every = every_width(layer)
    base, lemma = _every(base, lemma_every), _every(lemma, lemma_every)
    one = _every(one, copies_every)
    every = _every(_follows(INDUCTION, "induction on T - t",
                            "the base case gives dh_T; the lemma, with P the steps after t + 1, "
                            "gives dh_t from dh_(t+1)",
                            "dh_t = g_t + W^T (f'(a_(t+1)) * dh_(t+1)) for t < T, dh_T = g_T, "
                            "for every T", [base, lemma],
                            "by induction on T - t, from the base case and the lemma"),
                   bool(base.every and lemma.every))
    weights = _every(_follows(WEIGHTS, "the tied weights over every step",
                              "W, U and b are every step's copy; the chain rule through the "
                              "copies (W, ..., W) sums their gradients, as the two steps show",
                              "dW = sum_t (dh_t * f'(a_t)) h_(t-1)^T, dU = sum_t (dh_t * "
                              "f'(a_t)) x_t^T, db = sum_t dh_t * f'(a_t)   (10.23, 10.25 to "
                              "10.28)", [one, two, every],
                              "from each copy's gradients and the induction's dh_t"),
                     bool(one.every and every.every))
    return TimeTheorem(layer, (base, lemma, every, one, two, weights), (dropped, last_only))


def _every(part: TimePart, proved: bool) -> TimePart:
    """The part labelled for every width where it is proved and so is its every-width
    twin."""
    return replace(part, every=EVERY) if proved and part.verdict is Verdict.PROVED else part
