"""An independent numeric oracle for equations read in a layer's slice: each slice's
forward pass written again here in mpmath from the papers' definitions, every quantity
of it by name, and each derivative by central differences, bumping the quantity where it
is computed; an equation's sides evaluated from its AST by this module's own walk. Nothing
of the engine's meaning (no SymPy derivative, no stage truth, no slice reader) is used.

S = sum_i g_i y_i is the loss whose derivative by y is g: dl/dy is free, as in the engine.
"""
from __future__ import annotations

from itertools import product

import mpmath as mp

from bpcheck.derive.latex.ast import (Add, Call, Frac, Mul, Neg, Number, Paren, Partial,
                                      Power, Sum, Symbol)

mp.mp.dps = 50
STEP = mp.mpf("1e-20")
AGREE, DIFFER = mp.mpf("1e-15"), mp.mpf("1e-9")
LOSS = {r"\ell", "E", "L", "J", "C", r"\mathcal{L}"}

# each slice's quantities: name -> (shape, computed or input), and the letters for them
SHAPES = {
    "batchnorm": lambda n, d: {"x": (n,), "gamma": (), "beta": (), "mu": (), "var": (),
                               "xhat": (n,), "y": (n,)},
    "layernorm": lambda n, d: {"x": (n,), "gamma": (n,), "beta": (n,), "mu": (), "var": (),
                               "xhat": (n,), "y": (n,)},
    "softmax": lambda n, d: {"z": (n,), "s": (n,)},
    "attention": lambda n, d: {"q": (d,), "k": (n, d), "v": (n, d), "e": (n,), "alpha": (n,),
                               "y": (d,)},
    "residual": lambda n, d: {"x": (n,), "J": (n, n), "F": (n,), "y": (n,)},
}
INPUTS = {"batchnorm": ("x", "gamma", "beta"), "layernorm": ("x", "gamma", "beta"),
          "softmax": ("z",), "attention": ("q", "k", "v"), "residual": ("x", "J")}
LETTERS = {"x": "x", r"\mu": "mu", r"\sigma^2": "var", r"\hat{x}": "xhat", "y": "y",
           r"\gamma": "gamma", r"\beta": "beta", "z": "z", "s": "s", "q": "q", "k": "k",
           "v": "v", "e": "e", r"\alpha": "alpha", "F": "F", "J": "J"}
SIZES = {"m", "H", "n", "T"}


class Oracle:
    """One slice at one point: `point` maps (name, index) of every input, and "g" entries
    and "eps", to numbers."""

    def __init__(self, kind: str, n: int, point: dict, d: int = 2):
        self.kind, self.n, self.d, self.point = kind, n, d, point
        self.shapes = SHAPES[kind](n, d)

    def run(self, bump=None, held=None) -> dict:
        """Every quantity, in order; `bump` = ((name, index), h) adds h where it is made;
        `held` = (quantities, top): every quantity but top keeps its value there, so that
        top is its own formula with only the bumped argument moved."""
        q = {k: mp.mpf(v) for k, v in self.point.items()
             if isinstance(k, tuple) and k[0] in INPUTS[self.kind]}
        def put(key, value):
            if held and key != held[1] and not (bump and bump[0] == key):
                value = held[0][key]
            q[key] = value + (bump[1] if bump and bump[0] == key else 0)
        for key in list(q):
            put(key, q[key])
        FORWARD[self.kind](self, q, put)
        return q

    def loss(self, bump=None):
        q = self.run(bump)
        out = "y" if "y" in self.shapes else "s"
        return mp.fsum(self.point[("g", ix)] * q[(out, ix)] for ix in self.indices(out))

    def indices(self, name: str):
        return list(product(*(range(1, k + 1) for k in self.shapes[name])))

    def dloss(self, key):
        return (self.loss((key, STEP)) - self.loss((key, -STEP))) / (2 * STEP)

    def dquantity(self, top, by, *, local: bool = False):
        """d top / d by along every path, or (local) through top's own formula with every
        other quantity held; where `by` is no argument of top's formula the local one is
        0, and the meaning is the one along every path."""
        held = (self.run(), top) if local else None
        d = (self.run((by, STEP), held)[top] - self.run((by, -STEP), held)[top]) / (2 * STEP)
        return d if not local or abs(d) > AGREE else self.dquantity(top, by)


def _norm(o, q, put, *, per_feature):
    n, eps = o.n, o.point["eps"]
    put(("mu", ()), mp.fsum(q[("x", (i,))] for i in range(1, n + 1)) / n)
    put(("var", ()), mp.fsum((q[("x", (i,))] - q[("mu", ())]) ** 2 for i in range(1, n + 1)) / n)
    for i in range(1, n + 1):
        put(("xhat", (i,)), (q[("x", (i,))] - q[("mu", ())]) / mp.sqrt(q[("var", ())] + eps))
    for i in range(1, n + 1):
        at = (i,) if per_feature else ()
        put(("y", (i,)), q[("gamma", at)] * q[("xhat", (i,))] + q[("beta", at)])


def _softmax_of(values):
    e = [mp.exp(v) for v in values]
    return [v / mp.fsum(e) for v in e]


def _softmax(o, q, put):
    for i, s in enumerate(_softmax_of([q[("z", (i,))] for i in range(1, o.n + 1)]), 1):
        put(("s", (i,)), s)


def _attention(o, q, put):
    T, d = range(1, o.n + 1), range(1, o.d + 1)
    for t in T:
        put(("e", (t,)), mp.fsum(q[("q", (c,))] * q[("k", (t, c))] for c in d) / mp.sqrt(o.d))
    for t, a in enumerate(_softmax_of([q[("e", (t,))] for t in T]), 1):
        put(("alpha", (t,)), a)
    for c in d:
        put(("y", (c,)), mp.fsum(q[("alpha", (t,))] * q[("v", (t, c))] for t in T))


def _residual(o, q, put):
    N = range(1, o.n + 1)
    for k in N:
        put(("F", (k,)), mp.fsum(q[("J", (k, j))] * q[("x", (j,))] for j in N))
    for k in N:
        put(("y", (k,)), q[("x", (k,))] + q[("F", (k,))])


FORWARD = {"batchnorm": lambda o, q, p: _norm(o, q, p, per_feature=False),
           "layernorm": lambda o, q, p: _norm(o, q, p, per_feature=True),
           "softmax": _softmax, "attention": _attention, "residual": _residual}


def random_point(kind: str, n: int, rng, d: int = 2) -> dict:
    shapes = SHAPES[kind](n, d)
    point = {(name, ix): mp.mpf(rng.choice([-3, -2, -1, 1, 2, 3])) / rng.choice([1, 2, 3, 4])
             for name in INPUTS[kind] for ix in product(*(range(1, k + 1) for k in shapes[name]))}
    out = "y" if "y" in shapes else "s"
    point.update({("g", ix): mp.mpf(rng.randint(-4, 4)) / rng.randint(1, 3)
                  for ix in product(*(range(1, k + 1) for k in shapes[out]))})
    point["eps"] = mp.mpf(rng.randint(1, 4)) / rng.randint(2, 8)
    return point


def point_from_engine(point: tuple, kind: str, n: int, d: int = 2) -> dict:
    """The engine's point ((x[1], 1/2), (epsilon, 1/3), ...) as the oracle's (a quantity of
    one per slice is its [1]); an entry it leaves out is in neither side, so any value does
    (0 here, epsilon 1)."""
    shapes = SHAPES[kind](n, d)
    out: dict = {k: mp.mpf(0) for k in random_point(kind, n, _Zero(), d)}
    out["eps"] = mp.mpf(1)
    for var, value in point:
        s = str(var)
        v = mp.mpf(value.p) / value.q
        if s == "epsilon":
            out["eps"] = v
            continue
        name, _, rest = s.partition("[")
        index = tuple(int(i) for i in rest.rstrip("]").split(","))
        out[(name, index if name == "g" or shapes[name] else ())] = v
    return out


class _Zero:
    def choice(self, xs):
        return xs[0]

    def randint(self, a, b):
        return 1


def sides(eq, o: Oracle, env: dict, *, local: bool = False) -> tuple:
    return value(eq.sides[0], o, env, local), value(eq.sides[1], o, env, local)


def _key(s: Symbol) -> str:
    return s.name + ("^" + s.sup.text if isinstance(s.sup, Number) else "")


class Missing(Exception):
    """A quantity the slice does not have (k[1, 3] of 3 tokens by 2)."""


def _quantity(s: Symbol, o: Oracle, env: dict):
    name = LETTERS[_key(s)]
    subs = [t for t in s.sub if t not in (r"\mathcal{B}", "B")]
    index = tuple(int(t) if t.isdigit() else env[t] for t in subs)
    if any(not 1 <= i <= n for i, n in zip(index, o.shapes[name])):
        raise Missing(f"{name}{list(index)}")
    return name, index


def value(node, o: Oracle, env: dict, local: bool = False):
    """A side's number at the oracle's point, free and summed letters from env."""
    if isinstance(node, Number):
        return mp.mpf(node.text)
    if isinstance(node, (Paren,)):
        return value(node.body, o, env, local)
    if isinstance(node, Neg):
        return -value(node.body, o, env, local)
    if isinstance(node, Add):
        return mp.fsum(value(t, o, env, local) for t in node.terms)
    if isinstance(node, Mul):
        return mp.fprod(value(f, o, env, local) for f in node.factors)
    if isinstance(node, Frac):
        return value(node.num, o, env, local) / value(node.den, o, env, local)
    if isinstance(node, Power):
        return value(node.base, o, env, local) ** value(node.exponent, o, env, local)
    if isinstance(node, Call):
        return {"exp": mp.exp, "tanh": mp.tanh}[node.func.name](value(node.args[0], o, env, local))
    if isinstance(node, Sum):
        top = value(node.upper, o, env, local) if node.upper is not None else _range(node, o)
        low = value(node.lower, o, env, local) if node.lower is not None else 1
        return mp.fsum(value(node.body, o, {**env, node.index: i}, local)
                       for i in range(int(low), int(top) + 1))
    if isinstance(node, Partial):
        if node.den.sup is not None and not (isinstance(node.den.sup, Number)
                                             and _key(node.den) in LETTERS):
            raise Missing(f"d/d{_key(node.den)}")
        by = _quantity(node.den, o, env)
        if _key(node.num) in LOSS:
            return o.dloss(by)
        num, p = node.num, mp.mpf(1)
        if num.name == r"\sigma" and _key(num) != r"\sigma^2":  # the standard deviation
            p = (value(num.sup, o, env) if num.sup is not None else 1) / 2
            num = Symbol(num.name, num.sub, Number("2"))
        elif num.sup is not None and not (isinstance(num.sup, Number) and _key(num) in LETTERS):
            p, num = value(num.sup, o, env), Symbol(num.name, num.sub)
        u = o.run()[_quantity(num, o, env)]
        return p * u ** (p - 1) * o.dquantity(_quantity(num, o, env), by, local=local)
    if isinstance(node, Symbol):
        if node.name == "e" and node.sup is not None and not node.sub:  # e^{...}
            return mp.exp(value(node.sup, o, env, local))
        if node.name == r"\sigma" and _key(node) != r"\sigma^2":  # the standard deviation
            k = value(node.sup, o, env) if node.sup is not None else 1
            return o.run()[("var", ())] ** (k / 2)
        if node.sup is not None and not (isinstance(node.sup, Number) and _key(node) in LETTERS):
            # x-hat_i^2, m^{-1}, gamma^{-1}: a power (sigma^2, the variance, is a name)
            return value(Symbol(node.name, node.sub), o, env, local) ** value(node.sup, o, env)
        if _key(node) in SIZES:
            return mp.mpf(o.n)
        if node.name == "d" and node.sub == ("k",):
            return mp.mpf(o.d)
        if node.name in (r"\epsilon", r"\varepsilon"):
            return o.point["eps"]
        if node.name == r"\delta":
            a, b = (env[t] for t in node.sub)
            return mp.mpf(a == b)
        return o.run()[_quantity(node, o, env)]
    raise TypeError(f"the oracle does not evaluate {type(node).__name__}")


def _range(node: Sum, o: Oracle) -> int:
    """A sum with no bounds runs over its index's range where it is first used."""
    for s in _symbols(node.body):
        if node.index in s.sub and _key(s) in LETTERS:
            return o.shapes[LETTERS[_key(s)]][[t for t in s.sub if t not in (r"\mathcal{B}",)]
                                              .index(node.index)]
    raise ValueError(f"no range for {node.index}")


def _symbols(node):
    from bpcheck.derive.latex.ast import children
    if isinstance(node, Symbol):
        yield node
    for c in children(node):
        yield from _symbols(c)
