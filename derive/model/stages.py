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
from itertools import product
from typing import Callable, Mapping

import sympy as sp

from .layers import EPSILON, Exp


@dataclass(frozen=True)
class Node:
    """A quantity of the slice: its name ("xhat") and its position, () for one per slice."""

    name: str
    index: tuple[int, ...] = ()

    @property
    def symbol(self) -> sp.Expr:
        """The variable that stands for it (an input's is a variable of the point)."""
        return sp.IndexedBase(self.name, real=True)[self.index or (1,)]

    def __str__(self) -> str:
        return self.name + (f"[{', '.join(map(str, self.index))}]" if self.index else "")


@dataclass(frozen=True)
class Mistake:
    """A well-known wrong backward pass, as a change to the slice's edges: the edge from
    `arg` into `consumer` weighted `factor` (0: the dependence ignored), where `where` is
    "all" the pairs of positions or only "other" ones (a Jacobian's off-diagonal)."""

    id: str
    what: str
    edges: tuple[tuple[str, str, str], ...]
    factor: sp.Expr = sp.Integer(0)

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

    def nodes(self, name: str) -> list[Node]:
        return [Node(name, ix) for ix in product(*(range(1, n + 1) for n in self.shapes[name]))]

    @property
    def outputs(self) -> list[Node]:
        return self.nodes(self.output)

    def order(self) -> list[Node]:
        """Every node, inputs first, each stage after what it uses."""
        return [n for name in self.inputs for n in self.nodes(name)] + \
            [n for name, _ in self.stages for n in self.nodes(name)]

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
        return not isinstance(self.n, int)

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


SLICES: dict[str, Callable[..., Slice]] = {
    "batchnorm": lambda n, **o: _normalisation("batchnorm", n, per_feature=False, **o),
    "layernorm": lambda n, **o: _normalisation("layernorm", n, per_feature=True, **o),
    "softmax": _softmax,
    "attention": lambda n, d_k=None, d_v=None: _attention(n, d_k or 2, d_v),
    "residual": _residual,
}
SIZE_WORDS = {  # what a slice's range counts: (one, several)
    "batchnorm": ("pattern in the mini-batch", "patterns in the mini-batch"),
    "layernorm": ("feature", "features"), "softmax": ("entry", "entries"),
    "attention": ("token", "tokens"), "residual": ("feature", "features")}


# each quantity's index letters as the papers write them, for a derivation's steps
INDEX_LETTERS: dict[str, dict[str, str]] = {
    "batchnorm": {"x": "i", "xhat": "i", "y": "i"},
    "layernorm": {"x": "i", "xhat": "i", "y": "i", "gamma": "i", "beta": "i"},
    "softmax": {"z": "i", "s": "j"},
    "attention": {"q": "c", "k": "tc", "v": "tc", "e": "t", "alpha": "t", "y": "c"},
    "residual": {"x": "i", "J": "kj", "F": "k", "y": "k"},
}


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
