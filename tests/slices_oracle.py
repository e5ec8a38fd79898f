"""An independent numeric oracle for equations read in a layer's slice: each slice's
forward pass written again here in mpmath from the papers' definitions, every quantity
of it by name, and each derivative by central differences, bumping the quantity where it
is computed; an equation's sides evaluated from its AST by this module's own walk. Nothing
of the engine's meaning (no SymPy derivative, no stage truth, no slice reader) is used.

S = sum_i g_i y_i is the loss whose derivative by y is g: dl/dy is free, as in the engine.
"""
from __future__ import annotations

import re
from itertools import product

import mpmath as mp

from bpcheck.derive.latex.ast import (Add, Call, Frac, Grad, Mul, Neg, Number, Paren, Partial,
                                      Power, Sum, Symbol)
from bpcheck.derive.latex.tex import to_latex

mp.mp.dps = 50
STEP = mp.mpf("1e-20")
AGREE, DIFFER = mp.mpf("1e-15"), mp.mpf("1e-9")
LOSS = {r"\ell", "E", "L", "J", "C", r"\mathcal{L}"}

# each slice's quantities: name -> (shape, computed or input), and the letters for them;
# `o` is the layer's options, each with this module's own defaults
SHAPES = {
    "batchnorm": lambda n, d, o: {"x": (n,), "gamma": (), "beta": (), "mu": (), "var": (),
                                  "xhat": (n,), "y": (n,)},
    "layernorm": lambda n, d, o: {"x": (n,), "gamma": (n,), "beta": (n,), "mu": (), "var": (),
                                  "xhat": (n,), "y": (n,)},
    "softmax": lambda n, d, o: {"z": (n,), "s": (n,)},
    "attention": lambda n, d, o: {"q": (d,), "k": (n, d), "v": (n, d), "e": (n,),
                                  "alpha": (n,), "y": (d,)},
    "residual": lambda n, d, o: {"x": (n,), "J": (n, n), "F": (n,), "y": (n,)},
    "conv1d": lambda n, d, o: {"x": (n,), "w": (o["kernel"],), "b": (),
                               "y": ((n + 2 * o["padding"] - o["kernel"]) // o["stride"] + 1,)},
    "conv2d": lambda n, d, o: {"x": (n, o["columns"] or n), "w": (o["kernel"],) * 2, "b": (),
                               "y": tuple((m + 2 * o["padding"] - o["kernel"]) // o["stride"] + 1
                                          for m in (n, o["columns"] or n))},
    "maxpool": lambda n, d, o: _pooled(n, o), "avgpool": lambda n, d, o: _pooled(n, o),
    "rnn": lambda n, d, o: {"x": (n, o["inputs"]), "w": (o["units"],) * 2,
                            "u": (o["units"], o["inputs"]), "b": (o["units"],),
                            "v": (o["outputs"], o["units"]), "c": (o["outputs"],),
                            "a": (n, o["units"]), "h": (n, o["units"]),
                            "o": (n, o["outputs"])},
}
def _pooled(n: int, o: dict) -> dict:
    """A pooling's row of n, or image of n rows by o["columns"]."""
    image = (n,) if o["columns"] is None else (n, o["columns"])
    return {"x": image, "y": tuple((m - o["window"]) // o["stride"] + 1 for m in image)}


DEFAULTS = {"conv1d": {"kernel": 2, "stride": 1, "padding": 0},
            "conv2d": {"kernel": 2, "stride": 1, "padding": 0, "columns": None},
            "maxpool": {"window": 2, "stride": 2, "columns": None},
            "avgpool": {"window": 2, "stride": 2, "columns": None},
            "rnn": {"function": "tanh", "units": 1, "inputs": 1, "outputs": 1}}
INPUTS = {"batchnorm": ("x", "gamma", "beta"), "layernorm": ("x", "gamma", "beta"),
          "softmax": ("z",), "attention": ("q", "k", "v"), "residual": ("x", "J"),
          "conv1d": ("x", "w", "b"), "conv2d": ("x", "w", "b"), "maxpool": ("x",),
          "avgpool": ("x",), "rnn": ("x", "w", "u", "b", "v", "c")}
OUTPUT = {"softmax": "s", "rnn": "o"}  # else y
LETTERS = {"x": "x", r"\mu": "mu", r"\sigma^2": "var", r"\hat{x}": "xhat", "y": "y",
           r"\gamma": "gamma", r"\beta": "beta", "z": "z", "s": "s", "q": "q", "k": "k",
           "v": "v", "e": "e", r"\alpha": "alpha", "F": "F", "J": "J"}
CONV = {"x": "x", "V": "x", "w": "w", "K": "w", "b": "b", "y": "y", "z": "y", "Z": "y"}
KIND_LETTERS = {"conv1d": CONV, "conv2d": CONV, "maxpool": {"x": "x", "y": "y", "z": "y"},
                "avgpool": {"x": "x", "y": "y", "z": "y"},
                "rnn": {k: k.lower() for k in "xwWuUbvVcaho"}}
SIZES = {"m", "H", "n", "T"}
# the entries beyond a range that are zeros: (before, after) for each index
PADS = {"conv1d": lambda o: {"x": ((o["padding"],) * 2,)},
        "conv2d": lambda o: {"x": ((o["padding"],) * 2,) * 2},
        "rnn": lambda o: {"h": ((1, 0), (0, 0))}}
SLOPES = {"tanh": mp.tanh, "sigmoid": lambda a: 1 / (1 + mp.exp(-a)),
          "relu": lambda a: max(a, 0), "softplus": lambda a: mp.log(1 + mp.exp(a)),
          "identity": lambda a: a}


class Oracle:
    """One slice at one point: `point` maps (name, index) of every input, and "g" entries
    and "eps", to numbers; `options` the layer's (a kernel, a window, units...)."""

    def __init__(self, kind: str, n: int, point: dict, d: int = 2, options: dict | None = None):
        self.kind, self.n, self.d, self.point = kind, n, d, point
        self.options = {**DEFAULTS.get(kind, {}), **(options or {})}
        self.shapes = SHAPES[kind](n, d, self.options)
        self.letters = KIND_LETTERS.get(kind, LETTERS)
        self.pads = PADS[kind](self.options) if kind in PADS else {}
        self.out = OUTPUT.get(kind, "y")

    def size(self, letter: str):
        """A size letter's value, or None."""
        o = self.options
        own = {"conv1d": {"n": self.n, "k": o.get("kernel")},
               "conv2d": {"n": self.n, "m": o.get("columns") or self.n, "k": o.get("kernel")},
               "maxpool": {"n": self.n, "w": o.get("window"), "m": o.get("columns")},
               "avgpool": {"n": self.n, "w": o.get("window"), "m": o.get("columns")},
               "rnn": {"T": self.n, r"\tau": self.n, "n": o.get("units"), "m": o.get("inputs")}}
        if self.kind in own:
            return own[self.kind].get(letter)
        if letter == "d_k":
            return self.d
        return self.n if letter in SIZES else None

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
        return mp.fsum(self.point[("g", ix)] * q[(self.out, ix)] for ix in self.indices(self.out))

    def indices(self, name: str):
        return list(product(*(range(1, k + 1) for k in self.shapes[name])))

    def dloss(self, key):
        return (self.loss((key, STEP)) - self.loss((key, -STEP))) / (2 * STEP)

    def dquantity(self, top, by, *, local: bool = False):
        """d top / d by along every path, or (local) through top's own formula with every
        other quantity held: 0 where `by` is no argument of top's formula (a_{t+2} by h_t,
        though h_t reaches it through h_{t+1})."""
        held = (self.run(), top) if local else None
        return (self.run((by, STEP), held)[top] - self.run((by, -STEP), held)[top]) / (2 * STEP)


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


def _conv(o, q, put):
    """y at each output position: the kernel's window of x, zero beyond the image."""
    k, s, p = o.options["kernel"], o.options["stride"], o.options["padding"]
    image = o.shapes["x"]
    for i in o.indices("y"):
        total = q[("b", ())]
        for m in product(range(1, k + 1), repeat=len(image)):
            at = tuple((c - 1) * s + a - p for c, a in zip(i, m))
            if all(1 <= v <= n for v, n in zip(at, image)):
                total += q[("w", m)] * q[("x", at)]
        put(("y", i), total)


def _pool(o, q, put):
    w, s = o.options["window"], o.options["stride"]
    for i in o.indices("y"):  # a window of w, or of w by w over an image
        window = [q[("x", tuple((c - 1) * s + a for c, a in zip(i, at)))]
                  for at in product(range(1, w + 1), repeat=len(i))]
        put(("y", i), max(window) if o.kind == "maxpool" else mp.fsum(window) / len(window))


def _rnn(o, q, put):
    f, units = SLOPES[o.options["function"]], range(1, o.options["units"] + 1)
    for t in range(1, o.n + 1):
        for k in units:
            before = mp.fsum(q[("w", (k, j))] * q[("h", (t - 1, j))] for j in units) if t > 1 else 0
            put(("a", (t, k)), before + q[("b", (k,))] + mp.fsum(
                q[("u", (k, i))] * q[("x", (t, i))] for i in range(1, o.options["inputs"] + 1)))
        for k in units:
            put(("h", (t, k)), f(q[("a", (t, k))]))
        for l in range(1, o.options["outputs"] + 1):
            put(("o", (t, l)), mp.fsum(q[("v", (l, k))] * q[("h", (t, k))] for k in units)
                + q[("c", (l,))])


FORWARD = {"batchnorm": lambda o, q, p: _norm(o, q, p, per_feature=False),
           "layernorm": lambda o, q, p: _norm(o, q, p, per_feature=True),
           "softmax": _softmax, "attention": _attention, "residual": _residual,
           "conv1d": _conv, "conv2d": _conv, "maxpool": _pool, "avgpool": _pool, "rnn": _rnn}


def random_point(kind: str, n: int, rng, d: int = 2, options: dict | None = None) -> dict:
    o = Oracle(kind, n, {}, d, options)
    keys = [(name, ix) for name in INPUTS[kind] for ix in o.indices(name)]
    if kind == "maxpool":  # distinct: each window's maximum unique
        values = rng.sample([mp.mpf(a) / b for a in range(-9, 10) for b in (3, 7) if a], len(keys))
    else:
        values = [mp.mpf(rng.choice([-3, -2, -1, 1, 2, 3])) / rng.choice([1, 2, 3, 4]) for _ in keys]
    point = dict(zip(keys, values))
    point.update({("g", ix): mp.mpf(rng.randint(-4, 4)) / rng.randint(1, 3)
                  for ix in o.indices(o.out)})
    point["eps"] = mp.mpf(rng.randint(1, 4)) / rng.randint(2, 8)
    return point


def point_from_engine(point: tuple, kind: str, n: int, d: int = 2,
                      options: dict | None = None) -> dict:
    """The engine's point ((x[1], 1/2), (epsilon, 1/3), ...) as the oracle's (a quantity of
    one per slice is its [1]); an entry it leaves out is in neither side, so any value does
    (0 here, epsilon 1)."""
    shapes = Oracle(kind, n, {}, d, options).shapes
    out: dict = {k: mp.mpf(0) for k in random_point(kind, n, _Zero(), d, options)}
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

    def sample(self, xs, k):
        return xs[:k]


def sides(eq, o: Oracle, env: dict, *, local: bool = False) -> tuple:
    """The left side strict; the right with what it names beyond a range read as 0 (a
    gradient there, a padding's or an initial state's value)."""
    return (_Value(o, local, beyond=False).of(eq.sides[0], env),
            _Value(o, local, beyond=True).of(eq.sides[1], env))


def value(node, o: Oracle, env: dict, local: bool = False):
    return _Value(o, local, beyond=False).of(node, env)


def _key(s: Symbol) -> str:
    return s.name + ("^" + s.sup.text if isinstance(s.sup, Number) else "")


class Missing(Exception):
    """A quantity the slice does not have (k[1, 3] of 3 tokens by 2)."""


def indexed(s: Symbol, o: Oracle):
    """(name, index tokens as text) of a quantity of the slice, or None: a step's mark
    h^{(t+1)} is the first index; indices of range 1 left out are 1."""
    timed = isinstance(s.sup, Paren) and o.kind == "rnn"
    key = s.name if timed else _key(s)
    name = o.letters.get(key)
    if name not in o.shapes:  # no quantity of this slice (attention's e in a softmax's)
        return None
    subs = [str(t) for t in s.sub if t not in (r"\mathcal{B}", "B")]
    if timed:
        subs = [to_latex(s.sup.body).replace(" ", "")] + subs
    shape = o.shapes[name]
    if len(shape) == 1 and len(subs) > 1:  # y_{2i}: a multiple
        subs = ["".join(subs)]
    ones = [i for i, n in enumerate(shape) if n == 1]
    missing = len(shape) - len(subs)
    if 0 < missing <= len(ones):
        fill, given = set(ones[len(ones) - missing:]), iter(subs)
        subs = ["1" if i in fill else next(given) for i in range(len(shape))]
    return name, subs


def index_value(text: str, o: Oracle, env: dict) -> int:
    """An index as written: a number, a letter (free, summed or a size), or a sum of
    terms each a number, a letter or a number times a letter."""
    total = 0
    for sign, term in re.findall(r"([+-]?)([^+-]+)", text.replace(" ", "")):
        m = re.fullmatch(r"(\d*)(\\tau|[A-Za-z]?)", term)
        if m is None:
            raise ValueError(f"the oracle does not read the index {text}")
        digits, letter = m.groups()
        if letter:
            v = env[letter] if letter in env else o.size(letter)
            if v is None:
                raise ValueError(f"no value for {letter} in {text}")
            v *= int(digits or 1)
        else:
            v = int(digits)
        total += -v if sign == "-" else v
    return total


class _Value:
    """A side's number at the oracle's point, free and summed letters from env; with
    `beyond`, a quantity beyond its range is 0 where the layer says it is (a gradient; a
    padding's or an initial state's value)."""

    def __init__(self, o: Oracle, local: bool, *, beyond: bool):
        self.o, self.local, self.beyond = o, local, beyond
        self.hits = 0  # how many quantities beyond a range were read as 0

    def quantity(self, s: Symbol, env: dict, *, gradient: bool = False):
        found = indexed(s, self.o)
        if found is None:
            raise Missing(_key(s))
        name, subs = found
        index = tuple(index_value(t, self.o, env) for t in subs)
        shape = self.o.shapes[name]
        if len(index) != len(shape):
            raise Missing(f"{name}{list(index)}")
        if any(not 1 <= i <= n for i, n in zip(index, shape)):
            pads = self.o.pads.get(name, ((0, 0),) * len(shape))
            padded = all(1 - lo <= i <= n + hi for i, n, (lo, hi) in zip(index, shape, pads))
            if self.beyond and (gradient or padded):
                self.hits += 1
                return None
            raise Missing(f"{name}{list(index)}")
        return name, index

    def of(self, node, env: dict):
        o, v = self.o, lambda n, e=env: self.of(n, e)
        if isinstance(node, Number):
            return mp.mpf(node.text)
        if isinstance(node, (Paren,)):
            return v(node.body)
        if isinstance(node, Neg):
            return -v(node.body)
        if isinstance(node, Add):
            return mp.fsum(v(t) for t in node.terms)
        if isinstance(node, Mul):
            return self._product(node.factors, env)
        if isinstance(node, Frac):
            return v(node.num) / v(node.den)
        if isinstance(node, Power):
            return v(node.base) ** v(node.exponent)
        if isinstance(node, Call):
            return {"exp": mp.exp, "tanh": mp.tanh}[node.func.name](v(node.args[0]))
        if isinstance(node, Sum):
            top = v(node.upper) if node.upper is not None else _range(node, o)
            low = v(node.lower) if node.lower is not None else 1
            return mp.fsum(v(node.body, {**env, node.index: i})
                           for i in range(int(low), int(top) + 1))
        if isinstance(node, Grad):
            return v(Partial(node.body, node.wrt))
        if isinstance(node, Partial):
            return self._partial(node, env)
        if isinstance(node, Symbol):
            return self._symbol(node, env)
        raise TypeError(f"the oracle does not evaluate {type(node).__name__}")

    def _product(self, factors, env):
        """A factor naming what does not exist makes the product 0 only where another is a
        derivative beyond its range (read as 0)."""
        out, missing, zero = [], None, False
        for f in factors:
            before = self.hits
            try:
                out.append(self.of(f, env))
            except Missing as e:
                missing = missing or e
                continue
            zero |= out[-1] == 0 and self.hits > before
        if missing and not zero:
            raise missing
        return mp.mpf(0) if missing else mp.fprod(out)

    def _partial(self, node: Partial, env):
        o = self.o
        if node.den.sup is not None and not (isinstance(node.den.sup, Number)
                                             and _key(node.den) in o.letters) \
                and not (isinstance(node.den.sup, Paren) and o.kind == "rnn"):
            raise Missing(f"d/d{_key(node.den)}")
        by = self.quantity(node.den, env, gradient=True)
        if by is None:
            return mp.mpf(0)
        if _key(node.num) in LOSS:
            return o.dloss(by)
        num, p = node.num, mp.mpf(1)
        if num.name == r"\sigma" and _key(num) != r"\sigma^2":  # the standard deviation
            p = (self.of(num.sup, env) if num.sup is not None else 1) / 2
            num = Symbol(num.name, num.sub, Number("2"))
        elif num.sup is not None and not (isinstance(num.sup, Number) and _key(num) in o.letters) \
                and not (isinstance(num.sup, Paren) and o.kind == "rnn"):
            p, num = self.of(num.sup, env), Symbol(num.name, num.sub)
        top = self.quantity(num, env, gradient=True)
        if top is None:
            return mp.mpf(0)
        u = o.run()[top]
        return p * u ** (p - 1) * o.dquantity(top, by, local=self.local)

    def _symbol(self, node: Symbol, env):
        o = self.o
        if node.name == "e" and node.sup is not None and not node.sub:  # e^{...}
            return mp.exp(self.of(node.sup, env))
        if node.name == r"\sigma" and _key(node) != r"\sigma^2":  # the standard deviation
            k = self.of(node.sup, env) if node.sup is not None else 1
            return o.run()[("var", ())] ** (k / 2)
        if node.sup is not None and not (isinstance(node.sup, Number) and _key(node) in o.letters) \
                and not (isinstance(node.sup, Paren) and o.kind == "rnn"):
            # x-hat_i^2, m^{-1}, gamma^{-1}: a power (sigma^2, the variance, is a name)
            return self.of(Symbol(node.name, node.sub), env) ** self.of(node.sup, env)
        sized = node.name + ("_" + "".join(node.sub) if node.sub else "")
        if not node.sub and node.name in env and node.name not in o.letters:
            return mp.mpf(env[node.name])  # a sum's bound: i - k + 1
        if o.size(sized) is not None and node.name not in o.letters:
            return mp.mpf(o.size(sized))
        if node.name in (r"\epsilon", r"\varepsilon"):
            return o.point["eps"]
        if node.name == r"\delta":
            a, b = (env[t] for t in node.sub)
            return mp.mpf(a == b)
        found = self.quantity(node, env)
        return mp.mpf(0) if found is None else o.run()[found]  # None: a padding's zero


def _range(node: Sum, o: Oracle) -> int:
    """A sum with no bounds runs over its index's range where it is first used."""
    for s in _symbols(node.body):
        found = indexed(s, o)
        if found and node.index in found[1]:
            return o.shapes[found[0]][found[1].index(node.index)]
    raise ValueError(f"no range for {node.index}")


def _symbols(node):
    from bpcheck.derive.latex.ast import children
    if isinstance(node, Symbol):
        yield node
    for c in children(node):
        yield from _symbols(c)
