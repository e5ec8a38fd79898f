r"""What a symbol names in a layer's slice (model/stages.py), and the ranges of an
equation's indices: the letters each slice gives its quantities (x_i, \hat{x}_i, h^{(t)}),
a size's letter (m, the last entry, or a bound), an index with arithmetic (x_{i+m-1}, read
by latex/slice_reader.py's meaning), the loss's letters and epsilon.

>>> from bpcheck.derive.engine.stage_truth import StageTruth
>>> from bpcheck.derive.model.stages import slice_of
>>> from .grammar import parse
>>> truth = StageTruth(slice_of("rnn", 3, units=2))
>>> node_of(parse(r"h^{(t+1)}_k = 0", shifts=True).sides[0], truth, None)
('h', ('t+1', 'k'))
"""
from __future__ import annotations

import re
from dataclasses import replace

from ..engine.stage_truth import StageTruth
from ..errors import UsageError
from .ast import Add, Call, Equation, Neg, Number, Paren, Shift, Sum, Symbol, Visitor
from .tex import to_latex

LOSS = {r"\ell", "l", "L", "E", "J", "C", r"\mathcal{L}", r"\mathcal{E}"}
EPSILONS = {r"\epsilon", r"\varepsilon"}
BATCH = {r"\mathcal{B}", "B"}  # the mini-batch's name on a statistic, not an index


class SliceReadError(UsageError):
    """An equation the slice cannot give a meaning to: a letter it does not name, a form
    it does not read. The message quotes it and lists what is accepted."""


class NoSuchQuantity(Exception):
    """A quantity the equation names that does not exist (x_5 of 4): a refutation."""


def key_of(s: Symbol) -> str:
    """The symbol's name as the slices spell it: \\hat x and \\widehat{x} alike; a squared
    sigma is the variance."""
    name = re.sub(r"\\(?:wide)?hat\s*\{?\s*([A-Za-z])\s*\}?", r"\\hat{\1}", s.name)
    if isinstance(s.sup, Number):
        name += "^" + s.sup.text
    return name


def split_power(s: Symbol, truth) -> tuple[Symbol, object]:
    """A symbol and the exponent its superscript is, where the superscript is not part of
    its name (sigma^2 is the variance; x-hat_i^{-1} is x-hat_i to the power -1): (the
    symbol without it, the exponent's AST node), or (the symbol, None). A step's mark,
    h^{(t)} as Goodfellow, Bengio and Courville write it, is the symbol's first index."""
    if isinstance(s.sup, Paren) and truth.slice.words.get(key_of(replace(s, sup=None))) in \
            truth.slice.stepped:
        return replace(s, sup=None, sub=(as_index(s.sup.body), *s.sub)), None
    if s.sup is None or (isinstance(s.sup, Number) and key_of(s) in truth.slice.words):
        return s, None
    return replace(s, sup=None), s.sup


def as_index(node) -> str:
    """A step's mark as an index: t, \tau, 3, or t + 1 as the Shift t+1."""
    if isinstance(node, Symbol) and not node.sub and node.sup is None and not node.primes:
        return node.name
    if isinstance(node, Number) and node.text.isdigit():
        return node.text
    terms = node.terms if isinstance(node, Add) else (node,)
    out = []
    for term in terms:
        sign, term = (-1, term.body) if isinstance(term, Neg) else (1, term)
        if isinstance(term, Number) and term.text.isdigit():
            out.append((sign * int(term.text), None))
        elif isinstance(term, Symbol) and not term.sub and term.sup is None and not term.primes:
            out.append((sign, term.name))
        else:
            raise SliceReadError(f"a step's mark ^{{({to_latex(node)})}} is not read: write a "
                                 "letter, a number, or a letter plus or minus a number, as h^{(t+1)}")
    return Shift(tuple(out))


def is_sigma(s: Symbol, truth) -> bool:
    """sigma with no superscript where the slice has sigma^2: its root, the deviation."""
    return s.name == r"\sigma" and s.sup is None and r"\sigma^2" in truth.slice.words


def node_of(s: Symbol, truth: StageTruth, env: dict | None) -> tuple[str, tuple] | None:
    """(node name, index tokens) where the slice names this symbol."""
    s = split_power(s, truth)[0]
    if is_sigma(s, truth):
        s = replace(s, sup=Number("2"))
    name = truth.slice.words.get(key_of(s))
    if name is None:
        return None
    subs = tuple(t for t in s.sub if not (t in BATCH and not truth.slice.shapes[name]))
    want = len(truth.slice.shapes[name])
    if len(subs) < want:  # h_t of one unit: its indices of range 1 left out
        subs = _filled(subs, truth.slice.shapes[name])
    if want == 1 and len(subs) > 1 and all(t.isdigit() for t in subs[:-1]) and \
            len(subs[-1]) == 1 and subs[-1].isalpha():  # x_{2i}: one index, a multiple
        subs = (Shift(((int("".join(subs[:-1])), subs[-1]),)),)
    if len(subs) != want:
        raise SliceReadError(f"{key_of(s)} takes {want} subscript{'s' * (want != 1)} in the "
                             f"{truth.slice.kind} slice, not {len(subs)} ({', '.join(subs) or 'none'})")
    return name, subs


def _filled(subs: tuple, shape: tuple) -> tuple:
    """The subscripts with the last indices of range 1 that were left out put back (1),
    or as they were where too few indices have range 1."""
    ones = [d for d, n in enumerate(shape) if n == 1]
    missing = len(shape) - len(subs)
    if missing > len(ones):
        return subs
    fill = set(ones[len(ones) - missing:])
    given = iter(subs)
    return tuple("1" if d in fill else next(given) for d in range(len(shape)))


def accepted(truth: StageTruth) -> str:
    return ", ".join([*truth.slice.words, *truth.slice.sizes, r"\epsilon", r"\delta_{ij}",
                      r"\ell (the loss)"])


class Ranges(Visitor):
    """The free indices of a side and their ranges (from the first place each is used)."""

    def __init__(self, truth: StageTruth, *, strict: bool = False, own: str = "",
                 left: bool = False):
        # left: index letters are free even where one is a size's letter (dl/dK_{k,l}
        # with k the kernel's size: every entry, as Goodfellow writes 9.11)
        # strict: a sum's range, inferred from its body, is the widest of its index's;
        # own: that sum's index, an index even where it is a size's letter (\sum_n s_n)
        self.truth, self.free, self.bound, self.deltas = truth, {}, [], set()
        self.strict, self.own, self.left = strict, own, left
        self.sized: set[str] = set()  # size letters used as an index
        self.shifted: set[str] = set()  # free letters used only in indices with arithmetic

    def visit_Sum(self, node: Sum):
        if node.index_set is not None:
            raise SliceReadError(f"a sum over a set (\\sum_{{{node.index} \\in ...}}) is not "
                                 f"read in a slice: give its bounds, \\sum_{{{node.index}=1}}^{{n}}")
        self.bound.append(node.index)
        self.visit(node.body)
        self.bound.pop()

    def visit_Call(self, node: Call):  # the function's name is no quantity: its arguments
        for a in node.args:
            self.visit(a)

    def visit_Symbol(self, node: Symbol):
        if is_euler(node, self.truth):
            self.visit(node.sup)
            return
        node, exponent = split_power(node, self.truth)
        if exponent is not None:
            self.visit(exponent)
        if node.name == r"\delta" and len(node.sub) == 2:
            self.deltas |= {t for t in node.sub if t.isalpha() and t not in self.bound}
        found = node_of(node, self.truth, None)
        if found:
            for token, n in zip(found[1], self.truth.slice.shapes[found[0]]):
                if isinstance(token, Shift):  # x_{i+m-1} gives no range to i or m
                    self.shifted |= {t for t in token.letters if t not in self.bound and
                                     t not in self.truth.slice.sizes}
                # x_m is the last entry: a size letter is no free index
                elif token.isalpha() and token in self.truth.slice.sizes and \
                        token not in self.bound and token != self.own:
                    self.sized.add(token)
                if not isinstance(token, Shift) and token.isalpha() and \
                        token not in self.bound and \
                        (token not in self.truth.slice.sizes or token == self.own or
                         self.left):
                    if self.free.setdefault(token, n) != n and self.strict:
                        # a sum over the widest range: an entry beyond another quantity's
                        # does not exist, and says so (q_2 of one)
                        self.free[token] = max(n, self.free[token])
        elif not other_letter(node, self.truth):  # said before any index is compared
            raise SliceReadError(f"'{key_of(node)}' is not a quantity of the "
                                 f"{self.truth.slice.kind} slice; accepted: {accepted(self.truth)}")


def sized(s: Symbol) -> str:
    """The symbol as a size's letter is spelled: m, n, d_k."""
    return key_of(s) + ("_" + "".join(s.sub) if s.sub else "")


def is_euler(s: Symbol, truth) -> bool:
    """e^{...} where the slice has no quantity e: the exponential."""
    return s.name == "e" and not s.sub and s.sup is not None and "e" not in truth.slice.words


def other_letter(s: Symbol, truth) -> bool:
    """A letter that is no quantity but means something: a size, epsilon, Kronecker's
    delta, a loss."""
    key = key_of(s)
    return sized(s) in truth.slice.sizes or (key in EPSILONS and not s.sub) or \
        (s.name == r"\delta" and len(s.sub) == 2) or (key in LOSS and not s.sub)


def values_of(eq: Equation) -> set[str]:
    """The letters written as values anywhere (m in a sum's bound m - 1): a size there is
    the size, so the same letter on the left is its last entry, not an index."""
    bare = _Bare()
    for side in eq.sides:
        bare.visit(side)
    return bare.found


class _Bare(Visitor):
    def __init__(self):
        self.found: set[str] = set()

    def visit_Symbol(self, node: Symbol):
        if bare_index(node):
            self.found.add(node.name)
        self.generic_visit(node)


def bare_index(s: Symbol) -> bool:
    return len(s.name) == 1 and s.name.isalpha() and not s.sub and s.sup is None and \
        not s.primes and not s.bold
