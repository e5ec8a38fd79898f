"""The inside of a typed layer, one slice at a time, as the papers write it: batch norm
for one feature over the m patterns of a mini-batch (x_i, mu, sigma^2, x-hat_i, y_i), layer
norm for one pattern over its H features, a softmax over n entries, one query's row of
attention, a residual block. Each stage is a formula of earlier ones, so that dl/d(any
stage) is the chain rule taken back through the slice (engine/stage_truth.py), and a
printed backward equation can name any stage (latex/slice_reader.py reads it).

A slice is data: its nodes, each node's formula, the LaTeX letters that name its nodes,
and the well-known mistakes as changes to the slice's edges (a dependence cut, or halved).

>>> s = slice_of("batchnorm", 3)
>>> [str(n) for n in s.outputs]
['y[1]', 'y[2]', 'y[3]']
>>> s.formula(Node("mu"))
x[1]/3 + x[2]/3 + x[3]/3
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import product
from typing import Callable, Mapping

import sympy as sp

from .activation import ACTIVATIONS
from .layers import EPSILON, Exp, selected


@dataclass(frozen=True)
class Node:
    """A quantity of the slice: its name ("xhat") and its position, () for one per slice."""

    name: str
    index: tuple[int, ...] = ()

    @property
    def symbol(self) -> sp.Expr:
        """The variable that stands for it (an input's is a variable of the point)."""
        return _symbol(self.name, self.index or (1,))

    def __str__(self) -> str:
        return self.name + (f"[{', '.join(map(str, self.index))}]" if self.index else "")


@lru_cache(maxsize=1 << 16)
def _symbol(name: str, index: tuple) -> sp.Expr:
    # built once a process: an IndexedBase with its assumptions is slow to make, and a
    # slice names each entry many times
    return sp.IndexedBase(name, real=True)[index]


@dataclass(frozen=True)
class Mistake:
    """A well-known wrong backward pass, as a change to the slice's edges: the edge from
    `arg` into `consumer` weighted `factor` (0: the dependence ignored), where `where` is
    "all" the pairs of positions or only "other" ones (a Jacobian's off-diagonal)."""

    id: str
    what: str
    edges: tuple[tuple[str, str, str], ...]
    factor: sp.Expr = sp.Integer(0)
    # or the wrong derivative itself: rule(slice, consumer, arg), in the slice's symbols, or
    # None where it is right (a kernel not flipped, a maximum's gradient spread)
    rule: Callable[["Slice", "Node", "Node"], sp.Expr | None] | None = None

    def wrong(self, sl: "Slice", consumer: "Node", arg: "Node") -> sp.Expr | None:
        return self.rule(sl, consumer, arg) if self.rule else None

    def weight(self, consumer: Node, arg: Node) -> sp.Expr:
        for c, a, where in self.edges:
            if consumer.name == c and arg.name == a and \
                    (where == "all" or consumer.index != arg.index):
                return self.factor
        return sp.Integer(1)


@dataclass(frozen=True)
class Slice:
    """Inputs (variables), stages in order (each a formula of earlier nodes' symbols) and
    outputs; `shapes` gives each name's index ranges, `words` the LaTeX letters of each
    name, `sizes` the letters of the ranges (m, the mini-batch)."""

    kind: str
    shapes: Mapping[str, tuple[int, ...]]
    inputs: tuple[str, ...]
    stages: tuple[tuple[str, Callable[..., sp.Expr]], ...]
    output: str
    words: Mapping[str, str]
    sizes: Mapping[str, int]
    mistakes: tuple[Mistake, ...] = ()
    formulas: dict = field(default_factory=dict, compare=False, repr=False)
    ordered: list = field(default_factory=list, compare=False, repr=False)
    # the entries each side of a quantity's range that are 0, (before, after) for each of its
    # indices: a convolution's padding, a recurrence's initial state h_0
    padding: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    stepped: tuple[str, ...] = ()  # names whose first index is a step, h^{(t)} as h_t

    def padded(self, name: str, index: tuple) -> bool:
        """Whether an entry beyond the range is one of the quantity's zeros."""
        pads = self.padding.get(name, ((0, 0),) * len(index))
        return all(1 - low <= i <= n + high
                   for i, n, (low, high) in zip(index, self.shapes[name], pads))

    def nodes(self, name: str) -> list[Node]:
        return [Node(name, ix) for ix in product(*(range(1, n + 1) for n in self.shapes[name]))]

    @property
    def outputs(self) -> list[Node]:
        return self.nodes(self.output)

    def order(self) -> list[Node]:
        """Every node, inputs first, each stage after what it uses (a recurrence's a_2
        after h_1, though the stage a is listed before h)."""
        if not self.ordered:
            listed = [n for name in self.inputs for n in self.nodes(name)] + \
                [n for name, _ in self.stages for n in self.nodes(name)]
            by_symbol = {n.symbol: n for n in listed}
            done: set[Node] = set()

            def place(n: Node) -> None:
                if n in done:
                    return
                done.add(n)
                f = self.formula(n)
                for a in sorted(f.atoms(sp.Indexed), key=str) if f is not None else ():
                    if a in by_symbol:
                        place(by_symbol[a])
                self.ordered.append(n)
            for n in listed:
                place(n)
        return self.ordered

    def formula(self, node: Node) -> sp.Expr | None:
        """The node's formula in earlier nodes' symbols; None for an input."""
        if not self.formulas:
            for name, rule in self.stages:
                for n in self.nodes(name):
                    self.formulas[n] = rule(self, *n.index)
        return self.formulas.get(node)

    def at(self, name: str, *index: int) -> sp.Expr:
        return Node(name, tuple(index)).symbol

    @property
    def n(self) -> int | sp.Symbol:
        """The slice's one range: a number, or the letter itself in a slice of every size."""
        return next(iter(self.sizes.values()))

    @property
    def generic(self) -> bool:
        """Whether a range is a letter (a slice of every size)."""
        return not all(isinstance(n, int) for n in self.sizes.values())

    def sum(self, body: Callable[[object], sp.Expr], to: int | None = None) -> sp.Expr:
        """body(k) summed over k = 1..n (or 1..to): written out where n is a number, a
        SymPy Sum over a fresh index where it is the letter."""
        top = self.n if to is None else to
        if isinstance(top, int):
            return sp.Add(*(body(k) for k in range(1, top + 1)))
        k = sp.Dummy("k", integer=True, positive=True)
        return sp.Sum(body(k), (k, 1, top))


def _normalisation(kind: str, n: int, *, per_feature: bool, affine: bool = True) -> Slice:
    """x -> mu, sigma^2 -> x-hat -> y = gamma x-hat + beta, over n positions; gamma and beta
    one per slice (batch norm: the slice is one feature) or one per position (layer norm),
    or none (affine = false: y = x-hat)."""
    p = (n,) if per_feature else ()

    def scaled(s, *i):
        at = i if per_feature else ()
        return s.at("gamma", *at) * s.at("xhat", *i) + s.at("beta", *at) if affine \
            else s.at("xhat", *i)
    held = Mistake(f"{kind}-statistics-held-fixed" if kind == "batchnorm"
                   else "layernorm-elementwise",
                   "the mean and variance treated as constants: their dependence on x dropped",
                   (("mu", "x", "all"), ("var", "x", "all")))
    params = ("gamma", "beta") if affine else ()
    words = {"x": "x", r"\mu": "mu", r"\sigma^2": "var", r"\hat{x}": "xhat", "y": "y"}
    return Slice(
        kind, {"x": (n,), "gamma": p, "beta": p, "mu": (), "var": (), "xhat": (n,), "y": (n,)},
        ("x", *params),
        (("mu", lambda s: s.sum(lambda k: s.at("x", k)) / s.n),
         ("var", lambda s: s.sum(lambda k: (s.at("x", k) - s.at("mu")) ** 2) / s.n),
         ("xhat", lambda s, i: (s.at("x", i) - s.at("mu")) / sp.sqrt(s.at("var") + EPSILON)),
         ("y", scaled)),
        "y", {**words, **({r"\gamma": "gamma", r"\beta": "beta"} if affine else {})},
        {"m": n, "N": n} if kind == "batchnorm" else {"H": n, "n": n}, (held,))


def _softmax(n: int) -> Slice:
    def s_(s, i):
        return Exp(s.at("z", i)) / s.sum(lambda k: Exp(s.at("z", k)))
    diagonal = Mistake("softmax-diagonal", "the softmax Jacobian taken as diagonal: "
                       "ds_i/dz_j = 0 for j != i", (("s", "z", "other"),))
    return Slice("softmax", {"z": (n,), "s": (n,)}, ("z",), (("s", s_),), "s",
                 {"z": "z", "s": "s"}, {"n": n, "K": n}, (diagonal,))


def _attention(tokens: int, d: int = 2, dv: int | None = None) -> Slice:
    """One query's row: e_t = q . k_t / sqrt(d_k), alpha = softmax(e), y = sum_t alpha_t v_t,
    queries and keys of d_k entries, values and the output of d_v (d_k unless given)."""
    dv = dv or d
    def e_(s, t):
        return sp.Add(*(s.at("q", c) * s.at("k", t, c) for c in range(1, d + 1))) / sp.sqrt(d)

    def a_(s, t):
        return Exp(s.at("e", t)) / s.sum(lambda u: Exp(s.at("e", u)), tokens)

    def y_(s, c):
        return sp.Add(*(s.at("alpha", t) * s.at("v", t, c) for t in range(1, tokens + 1)))
    diagonal = Mistake("attention-softmax-diagonal", "each row's softmax Jacobian taken as "
                       "diagonal: dalpha_t/de_u = 0 for u != t", (("alpha", "e", "other"),))
    return Slice("attention", {"q": (d,), "k": (tokens, d), "v": (tokens, dv), "e": (tokens,),
                               "alpha": (tokens,), "y": (dv,)},
                 ("q", "k", "v"), (("e", e_), ("alpha", a_), ("y", y_)), "y",
                 {"q": "q", "k": "k", "v": "v", "e": "e", r"\alpha": "alpha", "a": "alpha",
                  "y": "y", "o": "y"}, {"T": tokens, "n": tokens, "d_k": d, "d_v": dv},
                 (diagonal,))


def _residual(n: int) -> Slice:
    """y = x + F(x), F any block: the chain rule uses only F's Jacobian at x, so F is
    taken linear with a free Jacobian J (F_k = sum_j J_kj x_j), and what is proved holds
    for every block."""
    def f_(s, k):
        return sp.Add(*(s.at("J", k, j) * s.at("x", j) for j in range(1, n + 1)))
    averaged = Mistake("residual-averaged", "the skip's and the block's gradients averaged, "
                       "not summed", (("y", "x", "all"), ("y", "F", "all")), sp.Rational(1, 2))
    dropped = Mistake("residual-skip-dropped", "the skip connection's gradient left out",
                      (("y", "x", "all"),))
    return Slice("residual", {"x": (n,), "J": (n, n), "F": (n,), "y": (n,)},
                 ("x", "J"), (("F", f_), ("y", lambda s, k: s.at("x", k) + s.at("F", k))),
                 "y", {"x": "x", "F": "F", "y": "y", "J": "J"}, {"n": n}, (averaged, dropped))


# the wrong derivatives of the mistakes below, as module functions (a result that names
# its mistake goes back from a worker process, pickled)
def _unflipped(k: int, stride: int, padding: int, s: Slice, consumer: Node, arg: Node):
    """dy_i/dx_j as the kernel's entry at the mirrored position."""
    if (consumer.name, arg.name) != ("y", "x"):
        return None
    return s.at("w", *(k + 1 - (j - (c - 1) * stride + padding)
                       for c, j in zip(consumer.index, arg.index)))


def _whole(s: Slice, consumer: Node, arg: Node):
    """dy_i/dx_j as 1 for every entry of the window."""
    return sp.Integer(1) if consumer.name == "y" else None


def _last_step_only(steps: int, s: Slice, consumer: Node, arg: Node):
    """A tied weight's derivative 0 at every step but the last."""
    if consumer.name in ("a", "o") and arg.name in ("w", "u", "b", "v", "c") and \
            consumer.index[0] < steps:
        return sp.Integer(0)
    return None


def _conv(kind: str, image: tuple[int, ...], k: int = 2, stride: int = 1,
          padding: int = 0) -> Slice:
    """One channel and one filter of a convolution (cross-correlation, as frameworks define
    it), over positions (conv1d) or an image's rows and columns (conv2d): y_i = sum_m w_m
    x_((i-1)s + m - p) + b, a kernel of k (k by k) entries, x zero in the padding. Channels
    and filters add such terms, each with the same backward pass."""
    out = tuple((n + 2 * padding - k) // stride + 1 for n in image)
    if all(isinstance(o, int) for o in out) and min(out) < 1:  # a length may be a letter
        raise ValueError(f"a kernel of {k} does not fit {' by '.join(map(str, image))} "
                         f"positions with padding {padding}")

    def y_(s, *i):
        at = [(tuple((c - 1) * stride + m - padding for c, m in zip(i, ms)), ms)
              for ms in product(range(1, k + 1), repeat=len(image))]
        return sp.Add(*(s.at("w", *ms) * s.at("x", *j) for j, ms in at
                        if all(1 <= v <= n for v, n in zip(j, image)))) + s.at("b")

    flip = Mistake("conv-kernel-not-flipped", "the gradient on the input taken as the full "
                   "cross-correlation of the output's gradient with the kernel as it is, not "
                   "flipped by 180 degrees", (), rule=partial(_unflipped, k, stride, padding))
    sizes = {"n": image[0], "k": k} if len(image) == 1 else \
        {"n": image[0], "m": image[1], "k": k}
    return Slice(kind, {"x": image, "w": (k,) * len(image), "b": (), "y": out},
                 ("x", "w", "b"), (("y", y_),), "y",
                 {"x": "x", "V": "x", "w": "w", "K": "w", "b": "b", "y": "y", "z": "y", "Z": "y"},
                 sizes, (flip,),
                 padding={"x": ((padding, padding),) * len(image)})


def _pool(kind: str, n: int, window: int = 2, stride: int = 2,
          columns: int | None = None) -> Slice:
    """One channel of max or mean pooling over a row of n positions, or over an image of n
    rows and `columns` columns by window by window squares: y_i over x_((i-1)s + 1) ..
    x_((i-1)s + w) in each dimension; the maximum selected on each side of every tie, as
    ReLU's kink is."""
    image = (n,) if columns is None else (n, columns)
    out = tuple((d - window) // stride + 1 for d in image)
    if min(out) < 1:
        raise ValueError(f"a window of {window} does not fit {' by '.join(map(str, image))} "
                         "positions")

    def y_(s, *i):
        xs = [s.at("x", *((c - 1) * stride + a for c, a in zip(i, at)))
              for at in product(range(1, window + 1), repeat=len(image))]
        if kind == "avgpool":
            return sp.Add(*xs) / window ** len(image)
        return sp.Add(*(c * x for c, x in zip(selected(xs), xs)))
    one = Mistake("maxpool-gradient-spread" if kind == "maxpool" else "avgpool-not-divided",
                  "the output's gradient given whole to every entry of its window" +
                  ("" if kind == "maxpool" else ", not divided by the window's size"), (),
                  rule=_whole)
    sizes = {"n": n, "w": window} if columns is None else {"n": n, "m": columns, "w": window}
    return Slice(kind, {"x": image, "y": out}, ("x",), (("y", y_),), "y",
                 {"x": "x", "y": "y", "z": "y"}, sizes, (one,))


def _rnn(steps: int, function: str = "tanh", units: int = 1, inputs: int = 1,
         outputs: int = 1) -> Slice:
    """Goodfellow, Bengio and Courville's recurrent network (10.8): a_t = W h_(t-1) + U x_t
    + b (h_0 = 0), h_t = f(a_t), o_t = V h_t + c, the loss any function of the o_t. With
    one unit, input and output, its quantities are numbers per step: h_t, w, u, v."""
    f = ACTIVATIONS[function].scalar

    def a_(s, t, k):
        before = sp.Add(*(s.at("w", k, j) * s.at("h", t - 1, j) for j in range(1, units + 1)))
        return (before if t > 1 else 0) + s.at("b", k) + \
            sp.Add(*(s.at("u", k, i) * s.at("x", t, i) for i in range(1, inputs + 1)))

    def o_(s, t, q):
        return sp.Add(*(s.at("v", q, k) * s.at("h", t, k) for k in range(1, units + 1))) + \
            s.at("c", q)
    future = Mistake("bptt-future-dropped", "the gradient on h_t taken from o_t alone: the "
                     "path through h_(t+1) forgotten", (("a", "h", "all"),))
    last = Mistake("bptt-last-step-only", "the tied weights' gradient taken at the last "
                   "step only, not summed over every step", (),
                   rule=partial(_last_step_only, steps))
    words = {x: x.lower() for x in ("x", "w", "W", "u", "U", "b", "v", "V", "c", "a", "h",
                                    "o")}
    n, m, q = units, inputs, outputs
    return Slice("rnn", {"x": (steps, m), "w": (n, n), "u": (n, m), "b": (n,), "v": (q, n),
                         "c": (q,), "a": (steps, n), "h": (steps, n), "o": (steps, q)},
                 ("x", "w", "u", "b", "v", "c"),
                 (("a", a_), ("h", lambda s, t, k: f(s.at("a", t, k))), ("o", o_)),
                 "o", words, {"T": steps, r"\tau": steps, "n": n, "m": m}, (future, last),
                 padding={"h": ((1, 0), (0, 0))}, stepped=("x", "a", "h", "o"))


SLICES: dict[str, Callable[..., Slice]] = {
    "batchnorm": lambda n, **o: _normalisation("batchnorm", n, per_feature=False, **o),
    "layernorm": lambda n, **o: _normalisation("layernorm", n, per_feature=True, **o),
    "softmax": _softmax,
    "attention": lambda n, d_k=None, d_v=None: _attention(n, d_k or 2, d_v),
    "residual": _residual,
    "conv1d": lambda n, kernel=2, stride=1, padding=0: _conv("conv1d", (n,), kernel, stride,
                                                            padding),
    "conv2d": lambda n, columns=None, kernel=2, stride=1, padding=0: _conv(
        "conv2d", (n, columns or n), kernel, stride, padding),
    "maxpool": lambda n, window=2, stride=2, columns=None: _pool("maxpool", n, window, stride,
                                                                columns),
    "avgpool": lambda n, window=2, stride=2, columns=None: _pool("avgpool", n, window, stride,
                                                                columns),
    "rnn": lambda n, function="tanh", units=1, inputs=1, outputs=1: _rnn(
        n, function, units, inputs, outputs),
}
POOLS = ("maxpool", "avgpool")  # one kind for a row and for an image's squares
IMAGES = ("conv2d", *POOLS)  # kinds whose slice may be an image (n by m)
SIZE_WORDS = {  # what a slice's range counts: (one, several)
    "batchnorm": ("pattern in the mini-batch", "patterns in the mini-batch"),
    "layernorm": ("feature", "features"), "softmax": ("entry", "entries"),
    "attention": ("token", "tokens"), "residual": ("feature", "features"),
    "conv1d": ("position", "positions"), "conv2d": ("row", "rows"), "maxpool": ("position", "positions"),
    "avgpool": ("position", "positions"), "rnn": ("time step", "time steps")}


# the options that change how a kind's equations are written, with their defaults (a
# padding shifts an index, a stride scales one, a window sets which entries share an output,
# the activation gives the slope): a printed equation is a layer's where they agree
FORM = {"conv1d": {"stride": 1, "padding": 0}, "conv2d": {"stride": 1, "padding": 0},
        "maxpool": {"window": 2, "stride": 2}, "avgpool": {"window": 2, "stride": 2},
        "rnn": {"function": "tanh"}}


# each quantity's index letters as the papers write them, for a derivation's steps
INDEX_LETTERS: dict[str, dict[str, str]] = {
    "batchnorm": {"x": "i", "xhat": "i", "y": "i"},
    "layernorm": {"x": "i", "xhat": "i", "y": "i", "gamma": "i", "beta": "i"},
    "softmax": {"z": "i", "s": "j"},
    "attention": {"q": "c", "k": "tc", "v": "tc", "e": "t", "alpha": "t", "y": "c"},
    "residual": {"x": "i", "J": "kj", "F": "k", "y": "k"},
    "conv1d": {"x": "j", "w": "m", "y": "i"}, "conv2d": {"x": "uv", "w": "ab", "y": "ij"},
    "maxpool": {"x": "j", "y": "i"}, "avgpool": {"x": "j", "y": "i"},
    "rnn": {"x": "ti", "a": "tk", "h": "tk", "o": "tl", "w": "kj", "u": "ki", "b": "k",
            "v": "lk", "c": "l"},
}


# an image's pooling: two indices each
_IMAGE_LETTERS = {"x": "uv", "y": "ij"}


def index_letters(sl: Slice) -> dict[str, str]:
    """Each quantity's index letters in this slice (a pooling's two over an image)."""
    if sl.kind in POOLS and len(sl.shapes["x"]) == 2:
        return _IMAGE_LETTERS
    return INDEX_LETTERS[sl.kind]


def letter(sl: Slice, name: str) -> str:
    """The LaTeX the papers write a quantity with: the first of the slice's words for it."""
    return next(word for word, n in sl.words.items() if n == name)


def slice_of(kind: str, size, **options) -> Slice:
    """The slice of a layer kind at a size (patterns, features, entries or tokens), with the
    layer's options: `affine` (a normalisation's gamma and beta, default true), `d_k` and
    `d_v` (an attention row's queries and keys, and values; 2 and d_k unless given)."""
    if kind not in SLICES:
        raise KeyError(kind)
    return SLICES[kind](size, **{k: v for k, v in options.items() if v is not None})
