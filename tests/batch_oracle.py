r"""An independent numeric oracle for claims about a mini-batch of patterns.

Claims are small trees of this file's own nodes. Each node renders itself to LaTeX in
one of three notations (Bishop, Nielsen, the batch-matrices example) and evaluates
itself, in mpmath at 40 digits, on a network with random weights and a batch of N
distinct random patterns. Nothing here calls bpcheck's parser, binder or engine: the
forward pass, the errors, the deltas (pattern n's weighted input nudged) and the
derivatives of the batch's total error (a weight nudged, every pattern re-run) are this
file's own central differences.

A claim's index letters are read as layers the way a reader of the notation would:
every assignment of layers to the letters (and to Nielsen's layer letter l) under which
each written quantity exists and the letters keep the notation's conventions (Bishop's
i, j, k: previous, this, next layer; Nielsen's l a hidden layer), or, where no
assignment keeps the conventions, every assignment under which the quantities exist. A
claim is true when both sides agree under every such reading, for every value of the
free unit letters and the free pattern.
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, fields, replace
from typing import Callable, Iterator

import mpmath as mp

mp.mp.dps = 40
STEP = mp.mpf("1e-13")           # central differences: error ~ STEP^2 ~ 1e-26, rounding ~1e-27
AGREE = mp.mpf("1e-20")          # relative: the sides are equal
DIFFER = mp.mpf("1e-8")          # relative: the sides differ
ETA = mp.mpf("0.37")             # a learning rate

ACT: dict[str, Callable] = {
    "identity": lambda v: v,
    "sigmoid": lambda v: 1 / (1 + mp.exp(-v)),
    "tanh": mp.tanh,
}


# --------------------------------------------------------------------------------------
# Notations: only how things are written, and what the bare error means
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Notation:
    key: str            # "bishop", "nielsen", "matrices"
    load: str           # the argument of bpcheck's load_notation
    total: str          # "sum" or "mean": the bare error
    size: str           # N or n
    pattern: str        # n or x
    error: str          # E or C
    marks: str          # "letters" (Bishop), "super" (Nielsen: 1-based, L), "paren" (w^{(2)})
    conventions: bool   # i, j, k are the previous, this and next layer


BISHOP = Notation("bishop", "bishop", "sum", "N", "n", "E", "letters", True)
NIELSEN = Notation("nielsen", "nielsen", "mean", "n", "x", "C", "super", False)
MATRICES = Notation("matrices", "/work/main/examples/batch-matrices.toml", "mean", "N", "n",
                    "E", "paren", True)
NOTATIONS = {n.key: n for n in (BISHOP, NIELSEN, MATRICES)}


# --------------------------------------------------------------------------------------
# The network and a batch: this file's own forward pass
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Net:
    widths: tuple[int, ...]
    hidden: str = "sigmoid"
    output: str = "identity"

    @property
    def L(self) -> int:
        return len(self.widths) - 1

    def act(self, l: int) -> Callable:
        return ACT[self.output if l == self.L else self.hidden]

    def options(self) -> dict:
        return dict(layers=self.widths, hidden=self.hidden, output=self.output, loss="sse",
                    bias=True)

    def __str__(self) -> str:
        return f"{'-'.join(map(str, self.widths))} {self.hidden} hidden, {self.output} output, sse"


def _num(rng: random.Random) -> mp.mpf:
    return mp.mpf(rng.randint(-1500, 1500)) / 1000 + mp.mpf(rng.randint(1, 9973)) / 10007**2


class Batch:
    """Random weights and biases, and N distinct random patterns (x, t); derivatives are
    cached. Units are numbered from 1, layers from 0 (input) to L (output)."""

    def __init__(self, net: Net, N: int, seed: int):
        rng = random.Random(seed)
        self.net, self.N = net, N
        w = net.widths
        self.W = {l: [[_num(rng) for _ in range(w[l - 1])] for _ in range(w[l])]
                  for l in range(1, net.L + 1)}
        self.b = {l: [_num(rng) for _ in range(w[l])] for l in range(1, net.L + 1)}
        self.x, self.t = [], []
        while len(self.x) < N:
            x, t = [_num(rng) for _ in range(w[0])], [_num(rng) for _ in range(w[-1])]
            if all(x != x2 for x2 in self.x):
                self.x.append(x)
                self.t.append(t)
        self.runs = [self.run(p) for p in range(N)]
        self._cache: dict = {}

    # the forward pass of pattern p, with one weighted input (l, j) nudged by h
    def run(self, p: int, nudge: tuple[int, int, mp.mpf] | None = None):
        net, out, pre = self.net, {0: list(self.x[p])}, {}
        for l in range(1, net.L + 1):
            pre[l] = [mp.fsum(self.W[l][j][i] * out[l - 1][i] for i in range(net.widths[l - 1]))
                      + self.b[l][j] for j in range(net.widths[l])]
            if nudge is not None and nudge[0] == l:
                pre[l][nudge[1]] += nudge[2]
            out[l] = [net.act(l)(v) for v in pre[l]]
        return pre, out

    def error(self, p: int, nudge=None) -> mp.mpf:
        _, out = self.run(p, nudge)
        return mp.fsum((y - t) ** 2 for y, t in zip(out[self.net.L], self.t[p])) / 2

    def total_of(self, errors) -> mp.mpf:
        s = mp.fsum(errors)
        return s / self.N if self.mode == "mean" else s

    mode = "sum"

    def total(self) -> mp.mpf:
        return self.total_of(self.error(p) for p in range(self.N))

    def _diff(self, key, f: Callable[[mp.mpf], mp.mpf]) -> mp.mpf:
        key = (self.mode,) + key
        if key not in self._cache:
            self._cache[key] = (f(STEP) - f(-STEP)) / (2 * STEP)
        return self._cache[key]

    def dtotal_dweight(self, l: int, j: int, i: int) -> mp.mpf:
        def f(h):
            old = self.W[l][j][i]
            self.W[l][j][i] = old + h
            try:
                return self.total()
            finally:
                self.W[l][j][i] = old
        return self._diff(("w", l, j, i), f)

    def dtotal_dbias(self, l: int, j: int) -> mp.mpf:
        def f(h):
            old = self.b[l][j]
            self.b[l][j] = old + h
            try:
                return self.total()
            finally:
                self.b[l][j] = old
        return self._diff(("b", l, j), f)

    def dtotal_dpre(self, p: int, l: int, j: int) -> mp.mpf:
        """The batch's total error with pattern p's weighted input (l, j) nudged."""
        def f(h):
            return self.total_of(self.error(q, (l, j, h) if q == p else None)
                                 for q in range(self.N))
        return self._diff(("a", p, l, j), f)

    def delta(self, p: int, l: int, j: int) -> mp.mpf:
        """dE_p/da_j of pattern p's own error: its weighted input nudged."""
        key = ("delta", p, l, j)
        if key not in self._cache:
            self._cache[key] = (self.error(p, (l, j, STEP)) - self.error(p, (l, j, -STEP))) / (2 * STEP)
        return self._cache[key]


def dact(f: Callable, v: mp.mpf) -> mp.mpf:
    return (f(v + STEP) - f(v - STEP)) / (2 * STEP)


# --------------------------------------------------------------------------------------
# Claims: nodes that render and evaluate
# --------------------------------------------------------------------------------------
class IllFormed(Exception):
    """The claim has no value: shapes that do not fit, a unit that does not exist."""


@dataclass
class Env:
    batch: Batch
    nt: Notation
    layers: dict          # letter (or "l") -> model layer
    units: dict           # unit letter -> unit (1-based)
    pattern: int | None   # the current pattern: summed, or the free one


@dataclass(frozen=True)
class Lay:
    """A written layer: a model layer number, or the letter l / L plus an offset."""
    base: object          # int (model layer), "l" or "L"
    off: int = 0

    def value(self, env: Env) -> int:
        if isinstance(self.base, int):
            return self.base + self.off
        if self.base == "L":
            return env.batch.net.L + self.off
        return env.layers[self.base] + self.off

    def tex(self, nt: Notation) -> str:
        if isinstance(self.base, int):
            v = self.base + self.off
            return str(v + 1) if nt.marks == "super" else f"({v})"
        s = self.base + (f"+{self.off}" if self.off > 0 else f"{self.off}" if self.off else "")
        return s if nt.marks == "super" else f"({s})"


class Node:
    def tex(self, nt: Notation) -> str: ...
    def value(self, env: Env): ...


def _p(node: Node, nt: Notation) -> str:
    s = node.tex(nt)
    return f"({s})" if isinstance(node, (Add, Neg, Had)) else s


@dataclass(frozen=True)
class Num(Node):
    v: int

    def tex(self, nt):
        return str(self.v)

    def value(self, env):
        return mp.mpf(self.v)


@dataclass(frozen=True)
class Size(Node):
    def tex(self, nt):
        return nt.size

    def value(self, env):
        return mp.mpf(env.batch.N)


@dataclass(frozen=True)
class Eta(Node):
    def tex(self, nt):
        return r"\eta"

    def value(self, env):
        return ETA


@dataclass(frozen=True)
class Pow(Node):
    base: Node
    k: int

    def tex(self, nt):
        return f"{self.base.tex(nt)}^{self.k}"

    def value(self, env):
        return self.base.value(env) ** self.k


@dataclass(frozen=True)
class Frac(Node):
    num: Node
    den: Node

    def tex(self, nt):
        return rf"\frac{{{self.num.tex(nt)}}}{{{self.den.tex(nt)}}}"

    def value(self, env):
        return self.num.value(env) / self.den.value(env)


MEAN = Frac(Num(1), Size())


@dataclass(frozen=True)
class Mul(Node):
    factors: tuple

    def tex(self, nt):
        parts = [_p(f, nt) for f in self.factors]
        return " ".join(parts)

    def value(self, env):
        out = None
        for f in self.factors:
            v = f.value(env)
            if out is None:
                out = v
            elif isinstance(out, mp.matrix) and isinstance(v, mp.matrix):
                if out.cols != v.rows:
                    raise IllFormed("shapes do not fit")
                out = out * v
            else:
                out = out * v
        return out


@dataclass(frozen=True)
class Add(Node):
    terms: tuple          # (sign, node) pairs

    def tex(self, nt):
        out = ""
        for k, (sign, t) in enumerate(self.terms):
            s = _p(t, nt) if isinstance(t, Add) else t.tex(nt)
            out += (("-" if sign < 0 else "") if k == 0 else (" - " if sign < 0 else " + ")) + s
        return out

    def value(self, env):
        vals = [(s, t.value(env)) for s, t in self.terms]
        out = vals[0][1] * vals[0][0]
        for s, v in vals[1:]:
            if isinstance(out, mp.matrix) != isinstance(v, mp.matrix) or (
                    isinstance(v, mp.matrix) and (out.rows, out.cols) != (v.rows, v.cols)):
                raise IllFormed("shapes do not fit")
            out = out + v * s
        return out


@dataclass(frozen=True)
class Neg(Node):
    body: Node

    def tex(self, nt):
        return "-" + _p(self.body, nt)

    def value(self, env):
        return -self.body.value(env)


@dataclass(frozen=True)
class PSum(Node):
    """A sum over the batch's patterns."""
    body: Node
    limits: bool = False

    def tex(self, nt):
        lim = f"_{{{nt.pattern}=1}}^{{{nt.size}}}" if self.limits else f"_{nt.pattern}"
        return rf"\sum{lim} {_p(self.body, nt)}"

    def value(self, env):
        vals = [self.body.value(replace(env, pattern=p)) for p in range(env.batch.N)]
        out = vals[0]
        for v in vals[1:]:
            out = out + v
        return out


@dataclass(frozen=True)
class USum(Node):
    """A sum over the units of the layer of `letter`."""
    letter: str
    body: Node

    def tex(self, nt):
        return rf"\sum_{self.letter} {_p(self.body, nt)}"

    def value(self, env):
        l = env.layers[self.letter]
        return mp.fsum(self.body.value(replace(env, units={**env.units, self.letter: u}))
                       for u in range(1, env.batch.net.widths[l] + 1))


def _layer_of(letter: str, lay: Lay | None, env: Env) -> int:
    return env.layers[letter] if lay is None else lay.value(env)


@dataclass(frozen=True)
class U(Node):
    """A unit's quantity: delta, out (z; Nielsen's a), pre (a; Nielsen's z), x, y, t."""
    role: str
    letter: str
    lay: Lay | None = None
    pat: bool = True      # the pattern index written

    SYMBOL = {
        "letters": dict(delta=r"\delta", out="z", pre="a", x="x", y="y", t="t"),
        "super": dict(delta=r"\delta", out="a", pre="z", t="y"),
        "paren": dict(delta=r"\delta", out="z", pre="a", x="x", y="y", t="t"),
    }

    def tex(self, nt):
        sub = (nt.pattern if self.pat else "") + self.letter
        sub = f"_{{{sub}}}" if len(sub) > 1 else f"_{sub}"
        sym = self.SYMBOL[nt.marks][self.role]
        if self.lay is not None and self.role not in ("x", "y", "t"):
            lt = self.lay.tex(nt)
            sup = f"^{lt}" if len(lt) == 1 else f"^{{{lt}}}"
            return f"{sym}{sup}{sub}"
        return f"{sym}{sub}"

    def layer(self, env) -> int:
        if self.role == "x":
            return 0
        if self.role in ("y", "t"):
            return env.batch.net.L
        return _layer_of(self.letter, self.lay, env)

    def value(self, env):
        b, l, j = env.batch, self.layer(env), env.units[self.letter] - 1
        p = env.pattern
        if p is None:
            raise IllFormed("a pattern's quantity with no pattern")
        pre, out = b.runs[p]
        if self.role == "t":
            return b.t[p][j]
        if self.role in ("out", "x", "y"):
            return out[l][j]
        if l < 1:
            raise IllFormed("the input layer has no weighted input")
        return pre[l][j] if self.role == "pre" else b.delta(p, l, j)


@dataclass(frozen=True)
class Weight(Node):
    to: str
    frm: str
    lay: Lay | None = None

    def tex(self, nt):
        sub = f"_{{{self.to}{self.frm}}}"
        if nt.marks == "letters":
            return f"w{sub}"
        lt = self.lay.tex(nt)
        return (f"w^{lt}{sub}" if len(lt) == 1 else f"w^{{{lt}}}{sub}") if nt.marks == "super" \
            else f"W^{{{lt}}}{sub}"

    def where(self, env) -> tuple[int, int, int]:
        l = _layer_of(self.to, self.lay, env)
        return l, env.units[self.to] - 1, env.units[self.frm] - 1

    def value(self, env):
        l, j, i = self.where(env)
        return env.batch.W[l][j][i]


@dataclass(frozen=True)
class Bias(Node):
    to: str
    lay: Lay | None = None

    def tex(self, nt):
        if nt.marks == "letters":
            return f"w_{{{self.to}0}}"
        lt = self.lay.tex(nt)
        return f"b^{lt}_{self.to}" if nt.marks == "super" and len(lt) == 1 else \
            f"b^{{{lt}}}_{self.to}"

    def where(self, env):
        return _layer_of(self.to, self.lay, env), env.units[self.to] - 1

    def value(self, env):
        l, j = self.where(env)
        return env.batch.b[l][j]


@dataclass(frozen=True)
class ActD(Node):
    """h'(a), f'(a) or Nielsen's sigma'(z) (the activation of the argument's layer)."""
    fn: str               # "h", "f" or "sigma"
    arg: Node

    def tex(self, nt):
        name = r"\sigma" if self.fn == "sigma" else self.fn
        return f"{name}'({self.arg.tex(nt)})"

    def _f(self, env, l):
        net = env.batch.net
        return ACT[net.hidden] if self.fn == "h" else ACT[net.output] if self.fn == "f" \
            else net.act(l)

    def value(self, env):
        v = self.arg.value(env)
        if isinstance(v, mp.matrix):
            f = self._f(env, self.arg.layer)
            return mp.matrix([[dact(f, v[r, c]) for c in range(v.cols)] for r in range(v.rows)])
        return dact(self._f(env, self.arg.layer(env)), v)


@dataclass(frozen=True)
class Total(Node):
    def tex(self, nt):
        return nt.error

    def value(self, env):
        return env.batch.total()


@dataclass(frozen=True)
class PatErr(Node):
    def tex(self, nt):
        return f"{nt.error}_{nt.pattern}"

    def value(self, env):
        if env.pattern is None:
            raise IllFormed("a pattern's error with no pattern")
        return env.batch.error(env.pattern)


@dataclass(frozen=True)
class DTotal(Node):
    """The derivative of the batch's total error by a weight, a bias, or a pattern's
    weighted input."""
    wrt: Node

    def tex(self, nt):
        return rf"\frac{{\partial {nt.error}}}{{\partial {self.wrt.tex(nt)}}}"

    def value(self, env):
        b, w = env.batch, self.wrt
        if isinstance(w, Weight):
            return b.dtotal_dweight(*w.where(env))
        if isinstance(w, Bias):
            return b.dtotal_dbias(*w.where(env))
        if isinstance(w, U) and w.role == "pre":
            if env.pattern is None:
                raise IllFormed("no pattern")
            l = w.layer(env)
            if l < 1:
                raise IllFormed("no weighted input")
            return b.dtotal_dpre(env.pattern, l, env.units[w.letter] - 1)
        if isinstance(w, MW):
            l = w.layer
            return mp.matrix([[b.dtotal_dweight(l, j, i) for i in range(b.net.widths[l - 1])]
                              for j in range(b.net.widths[l])])
        raise IllFormed(f"d/d {w}")


@dataclass(frozen=True)
class Step(Node):
    """Delta w: the gradient step -eta dE/dw of the batch's total error."""
    w: Weight

    def tex(self, nt):
        return rf"\Delta {self.w.tex(nt)}"

    def value(self, env):
        return -ETA * env.batch.dtotal_dweight(*self.w.where(env))


# matrices, a column per pattern (the batch-matrices notation)
@dataclass(frozen=True)
class MQ(Node):
    role: str             # delta (D), out (Z), pre (A)
    layer: int

    def tex(self, nt):
        return f"{dict(delta='D', out='Z', pre='A')[self.role]}^{{({self.layer})}}"

    def value(self, env):
        b, l = env.batch, self.layer
        if not 0 <= l <= b.net.L or (self.role != "out" and l < 1):
            raise IllFormed("no such layer")
        col = lambda p: (b.delta(p, l, j) if self.role == "delta" else
                         b.runs[p][0 if self.role == "pre" else 1][l][j]
                         for j in range(b.net.widths[l]))
        cols = [list(col(p)) for p in range(b.N)]
        return mp.matrix([[cols[p][j] for p in range(b.N)] for j in range(b.net.widths[l])])


@dataclass(frozen=True)
class MW(Node):
    layer: int

    def tex(self, nt):
        return f"W^{{({self.layer})}}"

    def value(self, env):
        return mp.matrix(env.batch.W[self.layer])


@dataclass(frozen=True)
class T(Node):
    body: Node

    def tex(self, nt):
        return f"({self.body.tex(nt)})^T"

    def value(self, env):
        v = self.body.value(env)
        if not isinstance(v, mp.matrix):
            raise IllFormed("transpose of a number")
        return v.T


@dataclass(frozen=True)
class Had(Node):
    a: Node
    b: Node

    def tex(self, nt):
        return rf"{self.a.tex(nt)} \odot {_p(self.b, nt)}"

    def value(self, env):
        x, y = self.a.value(env), self.b.value(env)
        if not (isinstance(x, mp.matrix) and isinstance(y, mp.matrix)) or \
                (x.rows, x.cols) != (y.rows, y.cols):
            raise IllFormed("shapes do not fit")
        return mp.matrix([[x[r, c] * y[r, c] for c in range(x.cols)] for r in range(x.rows)])


@dataclass(frozen=True)
class Claim:
    nt: Notation
    lhs: Node
    rhs: Node

    def tex(self) -> str:
        return f"{self.lhs.tex(self.nt)} = {self.rhs.tex(self.nt)}"


# --------------------------------------------------------------------------------------
# Walking the trees
# --------------------------------------------------------------------------------------
def children(node: Node) -> list[tuple[str, int | None, Node]]:
    out = []
    for f in fields(node):
        v = getattr(node, f.name)
        if isinstance(v, Node):
            out.append((f.name, None, v))
        elif isinstance(v, tuple):
            for k, x in enumerate(v):
                if isinstance(x, Node):
                    out.append((f.name, k, x))
                elif isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], Node):
                    out.append((f.name, k, x[1]))
    return out


def _put(node: Node, name: str, k: int | None, new: Node) -> Node:
    if k is None:
        return replace(node, **{name: new})
    v = list(getattr(node, name))
    v[k] = (v[k][0], new) if isinstance(v[k], tuple) else new
    return replace(node, **{name: tuple(v)})


def walk(node: Node) -> Iterator[Node]:
    yield node
    for _, _, c in children(node):
        yield from walk(c)


def rewrites(node: Node, fn: Callable[[Node], Node | None]) -> Iterator[Node]:
    """The tree with fn applied at one place, for each place where it applies."""
    new = fn(node)
    if new is not None:
        yield new
    for name, k, c in children(node):
        for r in rewrites(c, fn):
            yield _put(node, name, k, r)


# --------------------------------------------------------------------------------------
# Readings: the letters' layers
# --------------------------------------------------------------------------------------
def _constraints(claim: Claim, L: int):
    """(variables, constraints that must hold, conventions)."""
    must, conv, letters = [], [], set()

    def at(letter, lay, ok):
        letters.add(letter)
        if lay is not None and not isinstance(lay.base, int) and lay.base == "l":
            letters.add("l")
        if lay is None:
            must.append(lambda a: ok(a[letter]))
        else:
            must.append(lambda a: a[letter] == (lay.base + lay.off if isinstance(lay.base, int)
                                                 else L + lay.off if lay.base == "L"
                                                 else a["l"] + lay.off) and ok(a[letter]))

    for n in walk(claim.lhs), walk(claim.rhs):
        for q in n:
            if isinstance(q, U):
                ok = {"x": lambda v: v == 0, "y": lambda v: v == L, "t": lambda v: v == L,
                      "out": lambda v: 0 <= v <= L}.get(q.role, lambda v: 1 <= v <= L)
                if q.role in ("x", "y", "t"):
                    at(q.letter, None, ok)
                else:
                    at(q.letter, q.lay, ok)
            elif isinstance(q, Weight):
                at(q.to, q.lay, lambda v: 1 <= v <= L)
                letters.add(q.frm)
                must.append(lambda a, q=q: a[q.frm] == a[q.to] - 1)
            elif isinstance(q, Bias):
                at(q.to, q.lay, lambda v: 1 <= v <= L)
            elif isinstance(q, USum):
                letters.add(q.letter)
    if "l" in letters:
        must.append(lambda a: 0 <= a["l"] <= L)
        if claim.nt.marks == "super":   # Nielsen's layer letter l is a hidden layer
            conv.append(lambda a: 0 < a["l"] < L)
    if claim.nt.conventions:
        for x, y, d in (("i", "j", -1), ("k", "j", 1)):
            if x in letters and y in letters:
                conv.append(lambda a, x=x, y=y, d=d: a[x] == a[y] + d)
    return sorted(letters), must, conv


def readings(claim: Claim, L: int) -> list[dict]:
    letters, must, conv = _constraints(claim, L)
    every = [dict(zip(letters, v)) for v in itertools.product(range(L + 1), repeat=len(letters))]
    fit = [a for a in every if all(c(a) for c in must)]
    kept = [a for a in fit if all(c(a) for c in conv)]
    return kept or fit


def _free_letters(node: Node, bound=frozenset()) -> set[str]:
    out = set()
    if isinstance(node, USum):
        return _free_letters(node.body, bound | {node.letter})
    if isinstance(node, U) and node.letter not in bound:
        out.add(node.letter)
    if isinstance(node, Weight):
        out |= {node.to, node.frm} - bound
    if isinstance(node, Bias) and node.to not in bound:
        out.add(node.to)
    for _, _, c in children(node):
        out |= _free_letters(c, bound)
    return out


def _loose_pattern(node: Node) -> bool:
    """A pattern's quantity outside every sum over the patterns: the pattern is free."""
    if isinstance(node, PSum):
        return False
    if isinstance(node, (U, PatErr)):
        return True
    return any(_loose_pattern(c) for _, _, c in children(node))


def _close(a, b) -> mp.mpf:
    """The relative difference of two numbers or matrices."""
    if isinstance(a, mp.matrix) != isinstance(b, mp.matrix):
        raise IllFormed("a number and a matrix")
    if isinstance(a, mp.matrix):
        if (a.rows, a.cols) != (b.rows, b.cols):
            raise IllFormed("shapes do not fit")
        return max((_close(a[r, c], b[r, c]) for r in range(a.rows) for c in range(a.cols)),
                   default=mp.mpf(0))
    return abs(a - b) / max(mp.mpf(1), abs(a), abs(b))


@dataclass
class Verdict:
    """What the oracle finds: the largest relative difference of the sides over every
    reading, unit and pattern of each batch; `ill` where the claim has no value."""
    diff: mp.mpf
    where: str
    ill: str = ""

    @property
    def true(self) -> bool:
        return not self.ill and self.diff < AGREE

    @property
    def false(self) -> bool:
        return bool(self.ill) or self.diff > DIFFER


def judge(claim: Claim, batches: list[Batch]) -> Verdict:
    """The claim on every batch, every reading, every value of its free letters."""
    worst = Verdict(mp.mpf(0), "")
    for b in batches:
        b.mode = claim.nt.total
        rs = readings(claim, b.net.L)
        if not rs:
            return Verdict(mp.mpf(0), "", "no reading lets every quantity exist")
        free = sorted(_free_letters(claim.lhs) | _free_letters(claim.rhs))
        loose = _loose_pattern(claim.lhs) or _loose_pattern(claim.rhs)
        for a in rs:
            spans = [range(1, b.net.widths[a[c]] + 1) for c in free]
            for units in itertools.product(*spans):
                for p in (range(b.N) if loose else [None]):
                    env = Env(b, claim.nt, a, dict(zip(free, units)), p)
                    try:
                        d = _close(claim.lhs.value(env), claim.rhs.value(env))
                    except IllFormed as e:
                        return Verdict(mp.mpf(0), "", str(e))
                    if d > worst.diff:
                        lv, rv = claim.lhs.value(env), claim.rhs.value(env)
                        worst = Verdict(d, f"N={b.N} layers {a} units {dict(zip(free, units))} "
                                           f"pattern {p}: lhs {mp.nstr(lv, 12)} rhs "
                                           f"{mp.nstr(rv, 12)}")
    return worst


# --------------------------------------------------------------------------------------
# Mutations: programmatic transformations of a claim
# --------------------------------------------------------------------------------------
def _rhs_rewrites(claim: Claim, fn) -> Iterator[Claim]:
    for r in rewrites(claim.rhs, fn):
        yield replace(claim, rhs=r)


def _both_rewrites(claim: Claim, fn) -> Iterator[Claim]:
    for r in rewrites(claim.lhs, fn):
        yield replace(claim, lhs=r)
    yield from _rhs_rewrites(claim, fn)


def _mul_without(node: Node, pred) -> Node | None:
    if isinstance(node, Mul) and any(pred(f) for f in node.factors):
        k = next(k for k, f in enumerate(node.factors) if pred(f))
        rest = node.factors[:k] + node.factors[k + 1:]
        return rest[0] if len(rest) == 1 else Mul(rest)
    return None


def _shift_lay(node: Node, by: int) -> Node | None:
    lay = getattr(node, "lay", None) if isinstance(node, (U, Weight, Bias)) else None
    if isinstance(node, MQ):
        return replace(node, layer=node.layer + by)
    if lay is None or (isinstance(node, U) and node.role in ("x", "y", "t")):
        return None
    return replace(node, lay=replace(lay, off=lay.off + by))


def mutations(claim: Claim) -> Iterator[tuple[str, Claim]]:
    """(kind, mutated claim) for each transformation at each place it applies."""
    # an extra 1/N: before each sum over the patterns, or before the whole right side
    for c in _rhs_rewrites(claim, lambda n: Mul((MEAN, n)) if isinstance(n, PSum) else None):
        yield "extra-mean", c
    if not any(isinstance(n, PSum) for n in walk(claim.rhs)):
        yield "extra-mean", replace(claim, rhs=Mul((MEAN,) + (claim.rhs.factors if isinstance(
            claim.rhs, Mul) else (claim.rhs,))))
    for c in _rhs_rewrites(claim, lambda n: _mul_without(n, lambda f: f == MEAN)):
        yield "missing-mean", c
    for c in _rhs_rewrites(claim, lambda n: Frac(Num(1), Pow(Size(), 2)) if n == MEAN else None):
        yield "squared-mean", c
    # the sum over the patterns dropped: its body alone, or N times its body
    for c in _rhs_rewrites(claim, lambda n: n.body if isinstance(n, PSum) else None):
        yield "sum-dropped", c
    for c in _rhs_rewrites(claim, lambda n: Mul((Size(), n.body)) if isinstance(n, PSum) else None):
        yield "sum-as-N-times", c
    for c in _both_rewrites(claim, lambda n: Weight(n.frm, n.to, n.lay)
                            if isinstance(n, Weight) else None):
        yield "swapped-weight", c
    for c in _rhs_rewrites(claim, lambda n: _mul_without(n, lambda f: isinstance(f, ActD))):
        yield "activation-derivative-dropped", c
    for c in _rhs_rewrites(claim, lambda n: n.b if isinstance(n, Had) and isinstance(n.a, ActD)
                           else None):
        yield "activation-derivative-dropped", c
    yield "sign-flipped", replace(claim, rhs=Neg(claim.rhs))
    for c in _rhs_rewrites(claim, lambda n: Add(tuple((-s, t) for s, t in n.terms))
                           if isinstance(n, Add) else None):
        yield "sign-flipped", c
    for by in (1, -1):
        for c in _rhs_rewrites(claim, lambda n: _shift_lay(n, by)):
            yield "wrong-layer", c
    # Bishop's layers are in the letters: a quantity of the wrong layer has another letter
    for c in _rhs_rewrites(claim, lambda n: replace(n, letter={"i": "j", "j": "k", "k": "j"}
                                                    [n.letter])
                           if isinstance(n, U) and n.lay is None and n.role not in
                           ("x", "y", "t") and n.letter in "ijk" else None):
        yield "wrong-layer-letter", c
    # the weighted input for the unit's output, or the reverse
    swap = {"out": "pre", "pre": "out"}
    for c in _rhs_rewrites(claim, lambda n: replace(n, role=swap[n.role])
                           if isinstance(n, U) and n.role in swap and not
                           isinstance(n, ActD) else None):
        yield "output-for-weighted-input", c
    for c in _rhs_rewrites(claim, lambda n: replace(n, role={"out": "pre", "pre": "out",
                                                             "delta": "out"}[n.role])
                           if isinstance(n, MQ) else None):
        yield "output-for-weighted-input", c
    # the transpose dropped or moved (a matrix form)
    for c in _rhs_rewrites(claim, lambda n: n.body if isinstance(n, T) else None):
        yield "transpose-dropped", c
    for c in _rhs_rewrites(claim, lambda n: Mul(tuple(reversed(n.factors)))
                           if isinstance(n, Mul) and all(isinstance(f, (MQ, T, MW, Had))
                                                         for f in n.factors) else None):
        yield "product-reversed", c


def mentions_batch(claim: Claim) -> bool:
    """Whether a claim says anything of a batch: a sum over the patterns, the batch size,
    or a quantity written with its pattern index. A claim that says none (dE/dw_ji =
    delta_j z_i) is one pattern's, its E that pattern's E_n, as bpcheck documents; the
    oracle does not judge those here."""
    return any(isinstance(n, (PSum, Size, PatErr)) or (isinstance(n, U) and n.pat)
               or isinstance(n, MQ) for side in (claim.lhs, claim.rhs) for n in walk(side))


def unique_mutations(claim: Claim) -> list[tuple[str, Claim]]:
    seen, out = {claim.tex()}, []
    for kind, c in mutations(claim):
        t = c.tex()
        if t not in seen and mentions_batch(c):
            seen.add(t)
            out.append((kind, c))
    return out
