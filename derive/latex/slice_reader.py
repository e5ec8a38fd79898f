r"""A layer's backward equation as the papers print it, read in the layer's slice
(model/stages.py): \frac{\partial \ell}{\partial \hat{x}_i} = \frac{\partial \ell}{\partial
y_i} \cdot \gamma, with the letters each slice names (x_i, \mu_\mathcal{B}, \sigma^2, \hat{x}_i,
y_i, \gamma, \beta, m for batch norm) and \epsilon, \delta_{ij}, \exp, \tanh and any loss
letter (\ell, E, L, J, C, \mathcal{L}) over them.

Each symbol means what the slice says it is (engine/stage_truth.py): a stage its value,
dl/d(stage) the chain rule taken back through the slice. d(u)/d(v) between stages is read
two ways where they differ (v an argument of u's formula that also reaches u another way,
as x_i reaches x-hat_i through mu): u's formula differentiated with its other arguments
held, as a chain-rule step means it ("local"), or along every path ("total"); elsewhere
the one meaning. An index free on the left runs over its range, and the equation is one claim per
value; a sum runs over its bounds, or over its index's range where it has none.

>>> from bpcheck.derive.model.stages import slice_of
>>> from bpcheck.derive.engine.stage_truth import StageTruth
>>> eq = read_slice(r"\frac{\partial \ell}{\partial \beta} = \sum_{i=1}^m \frac{\partial \ell}"
...                 r"{\partial y_i}", StageTruth(slice_of("batchnorm", 2)))
>>> eq.free, [str(lhs - rhs) for _, lhs, rhs in eq.sides]
((), ['0'])
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import product

import sympy as sp

from ..engine.stage_generic import NotForEverySize
from ..engine.stage_truth import StageTruth
from ..errors import TooMuchWork, UsageError
from ..model.layers import EPSILON, Exp
from ..model.stages import Node
from .ast import (Add, Call, Equation, Frac, Mul, Neg, Number, Paren, Partial, Power, Sum,
                  Symbol, Visitor)
from .grammar import parse
from .tex import to_latex

LOSS = {r"\ell", "l", "L", "E", "J", "C", r"\mathcal{L}", r"\mathcal{E}"}
EPSILONS = {r"\epsilon", r"\varepsilon"}
BATCH = {r"\mathcal{B}", "B"}  # the mini-batch's name on a statistic, not an index
FUNCTIONS = {"exp": Exp, "tanh": sp.tanh}


class SliceReadError(UsageError):
    """An equation the slice cannot give a meaning to: a letter it does not name, a form
    it does not read. The message quotes it and lists what is accepted."""


class NoSuchQuantity(Exception):
    """A quantity the equation names that does not exist (x_5 of 4): a refutation."""


@dataclass(frozen=True)
class SliceEquation:
    """The equation's sides for each value of its free indices (in `free`'s order), in the
    slice's inputs and g; `targets`, where the left side is dl/d(a node), those nodes."""

    text: str
    free: tuple[str, ...]
    sides: tuple[tuple[tuple[int, ...], sp.Expr, sp.Expr], ...]
    targets: tuple[Node, ...] | None = None
    two_ways: bool = False  # a d(u)/d(v) whose local and total readings differ


PARTIALS = ("local", "total")


def read_slice(text: str, truth: StageTruth, *, partial: str = "local") -> SliceEquation:
    """Read `text` (one equation, two sides) in the truth's slice, each d(u)/d(v) that
    can be read two ways read as `partial` says (module docstring)."""
    eq = parse(text)
    if not isinstance(eq, Equation) or len(eq.sides) != 2 or eq.relations != ("=",):
        raise SliceReadError(f"'{text[:200]}' is not one equation with two sides (lhs = rhs)")
    lhs, rhs = eq.sides
    ranges, right = _Ranges(truth), _Ranges(truth)
    ranges.visit(lhs)
    right.visit(rhs)
    for letter in ranges.deltas - set(ranges.free):  # free on the left in a delta alone
        if letter not in right.free:
            raise SliceReadError(f"the index {letter} is free only in a Kronecker delta: its "
                                 "range is not known")
        ranges.free[letter] = right.free[letter]
    free = tuple(ranges.free)  # an entry the right side names beyond them does not exist
    extra = [i for i in right.free if i not in ranges.free]
    if extra:
        raise NoSuchQuantity(f"the right side's index {extra[0]} is free and the left side's is "
                             "not: the sides are not the same quantity")
    sides, targets, two_ways = [], [], False
    for values in _values(truth, ranges.free, free):
        env = dict(zip(free, values))
        left, right = _Meaning(truth, env, partial), _Meaning(truth, env, partial)
        sides.append((values, left.visit(lhs), right.visit(rhs)))
        two_ways |= left.two_ways or right.two_ways
        targets.append(_target(lhs, truth, env))
    return SliceEquation(text, free, tuple(sides),
                         tuple(targets) if all(targets) else None, two_ways)


def _values(truth, ranges: dict, free: tuple[str, ...]):
    """Each value of the free indices; in a slice of every size one, their symbols (the
    first the truth's own index)."""
    if not truth.slice.generic:
        return list(product(*(range(1, ranges[i] + 1) for i in free)))
    return [tuple(truth.index if n == 0 else sp.Dummy(letter, integer=True, positive=True)
                  for n, letter in enumerate(free))]


def _key(s: Symbol) -> str:
    """The symbol's name as the slices spell it: \\hat x and \\widehat{x} alike; a squared
    sigma is the variance."""
    name = re.sub(r"\\(?:wide)?hat\s*\{?\s*([A-Za-z])\s*\}?", r"\\hat{\1}", s.name)
    if isinstance(s.sup, Number):
        name += "^" + s.sup.text
    return name


def _split(s: Symbol, truth) -> tuple[Symbol, object]:
    """A symbol and the exponent its superscript is, where the superscript is not part of
    its name (sigma^2 is the variance; x-hat_i^{-1} is x-hat_i to the power -1): (the
    symbol without it, the exponent's AST node), or (the symbol, None)."""
    if s.sup is None or (isinstance(s.sup, Number) and _key(s) in truth.slice.words):
        return s, None
    return replace(s, sup=None), s.sup


def _is_sigma(s: Symbol, truth) -> bool:
    """sigma with no superscript where the slice has sigma^2: its root, the deviation."""
    return s.name == r"\sigma" and s.sup is None and r"\sigma^2" in truth.slice.words


def _node_of(s: Symbol, truth: StageTruth, env: dict | None) -> tuple[str, tuple] | None:
    """(node name, index tokens) where the slice names this symbol."""
    s = _split(s, truth)[0]
    if _is_sigma(s, truth):
        s = replace(s, sup=Number("2"))
    name = truth.slice.words.get(_key(s))
    if name is None:
        return None
    subs = tuple(t for t in s.sub if not (t in BATCH and not truth.slice.shapes[name]))
    want = len(truth.slice.shapes[name])
    if len(subs) != want:
        raise SliceReadError(f"{_key(s)} takes {want} subscript{'s' * (want != 1)} in the "
                             f"{truth.slice.kind} slice, not {len(subs)} ({', '.join(subs) or 'none'})")
    return name, subs


def _accepted(truth: StageTruth) -> str:
    return ", ".join([*truth.slice.words, *truth.slice.sizes, r"\epsilon", r"\delta_{ij}",
                      r"\ell (the loss)"])


class _Ranges(Visitor):
    """The free indices of a side and their ranges (from the first place each is used)."""

    def __init__(self, truth: StageTruth, *, strict: bool = False, own: str = ""):
        # strict: a sum's range, inferred from its body, is the widest of its index's;
        # own: that sum's index, an index even where it is a size's letter (\sum_n s_n)
        self.truth, self.free, self.bound, self.deltas = truth, {}, [], set()
        self.strict, self.own = strict, own

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
        if _euler(node, self.truth):
            self.visit(node.sup)
            return
        node, exponent = _split(node, self.truth)
        if exponent is not None:
            self.visit(exponent)
        if node.name == r"\delta" and len(node.sub) == 2:
            self.deltas |= {t for t in node.sub if t.isalpha() and t not in self.bound}
        found = _node_of(node, self.truth, None)
        if found:
            for token, n in zip(found[1], self.truth.slice.shapes[found[0]]):
                # x_m is the last entry: a size letter is no free index
                if token.isalpha() and token not in self.bound and \
                        (token not in self.truth.slice.sizes or token == self.own):
                    if self.free.setdefault(token, n) != n and self.strict:
                        # a sum over the widest range: an entry beyond another quantity's
                        # does not exist, and says so (q_2 of one)
                        self.free[token] = max(n, self.free[token])
        elif not _other_letter(node, self.truth):  # said before any index is compared
            raise SliceReadError(f"'{_key(node)}' is not a quantity of the "
                                 f"{self.truth.slice.kind} slice; accepted: {_accepted(self.truth)}")


def _zero_at_some_size(expr: sp.Expr, size: sp.Symbol) -> bool:
    """An expression of the size other than a number times a power of it (m - 1 is 0 at
    m = 1); the size as a sum's bound does not count."""
    outside = expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: sp.Dummy())
    rest = outside.as_coeff_Mul()[1]
    return outside.has(size) and not (rest == size or (rest.is_Pow and rest.base == size))


def _sized(s: Symbol) -> str:
    """The symbol as a size's letter is spelled: m, n, d_k."""
    return _key(s) + ("_" + "".join(s.sub) if s.sub else "")


def _euler(s: Symbol, truth) -> bool:
    """e^{...} where the slice has no quantity e: the exponential."""
    return s.name == "e" and not s.sub and s.sup is not None and "e" not in truth.slice.words


def _other_letter(s: Symbol, truth) -> bool:
    """A letter that is no quantity but means something: a size, epsilon, Kronecker's
    delta, a loss."""
    key = _key(s)
    return _sized(s) in truth.slice.sizes or (key in EPSILONS and not s.sub) or \
        (s.name == r"\delta" and len(s.sub) == 2) or (key in LOSS and not s.sub)


class _Meaning(Visitor):
    """A side's value, each symbol's meaning from the truth, each index from env."""

    def __init__(self, truth: StageTruth, env: dict[str, int], partial: str = "local"):
        self.truth, self.env, self.partial, self.two_ways = truth, env, partial, False

    def generic_visit(self, node):
        raise SliceReadError(f"a {type(node).__name__} is not read in a layer's slice; "
                             "write sums, products, fractions, powers and derivatives")

    def visit_Number(self, node: Number): return sp.Rational(node.text)
    def visit_Paren(self, node: Paren): return self.visit(node.body)
    def visit_Neg(self, node: Neg): return -self.visit(node.body)
    def visit_Add(self, node: Add): return sp.Add(*map(self.visit, node.terms))
    def visit_Mul(self, node: Mul): return sp.Mul(*map(self.visit, node.factors))
    def visit_Frac(self, node: Frac):
        den = self.visit(node.den)
        if den == 0 or self._zero(den):  # as `check` says it in a notation
            raise SliceReadError(f"{to_latex(node)} divides by zero")
        if self.truth.slice.generic and _zero_at_some_size(den, self.truth.size):
            raise NotForEverySize(f"a division by {den}, 0 at some size")
        return self.visit(node.num) / den
    def visit_Power(self, node: Power):
        return self._power(self.visit(node.base), self.visit(node.exponent))

    def _zero(self, den: sp.Expr) -> bool:
        """A denominator 0 for every value (the sum of the x-hat_i): 0/0 is no quantity."""
        try:
            return self.truth.is_zero(den)
        except (TooMuchWork, NotForEverySize):  # too large to tell: the verdict says what it can
            return False

    def _power(self, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
        """base^exponent; for every size, not where the base is an expression of the size
        that is 0 at some size and the exponent may be negative ((m - 1)^{-1})."""
        if self.truth.slice.generic and not (exponent.is_number and exponent >= 0) \
                and _zero_at_some_size(base, self.truth.size):
            raise NotForEverySize(f"a power of {base}, 0 at some size")
        return base ** exponent

    def visit_Call(self, node: Call):
        f = FUNCTIONS.get(node.func.name)
        if f is None or node.func.primes or len(node.args) != 1:
            raise SliceReadError(f"unknown function {node.func.name!r}; accepted: "
                                 f"{', '.join(FUNCTIONS)}")
        return f(self.visit(node.args[0]))

    def visit_Sum(self, node: Sum):  # a sum over a set: refused by _Ranges, which reads first
        if self.truth.slice.generic:
            return self._every_size(node)
        low = self.visit(node.lower) if node.lower is not None else sp.Integer(1)
        high = self.visit(node.upper) if node.upper is not None else None
        if high is None:
            inner = _Ranges(self.truth, strict=True, own=node.index)
            inner.visit(node.body)
            if node.index not in inner.free:
                raise SliceReadError(f"the sum over {node.index} has no bounds and no quantity "
                                     f"of its body is indexed by it: write \\sum_{{{node.index}=1}}^{{n}}")
            high = sp.Integer(inner.free[node.index])
        if not (low.is_Integer and high.is_Integer):
            raise SliceReadError(f"a sum's bounds are whole numbers here, not {low} to {high}")
        span = range(int(low), int(high) + 1)
        inner = [_Meaning(self.truth, {**self.env, node.index: v}, self.partial) for v in span]
        out = sp.Add(*(m.visit(node.body) for m in inner))
        self.two_ways |= any(m.two_ways for m in inner)
        return out

    def _every_size(self, node: Sum) -> sp.Expr:
        """A sum in a slice of every size: a SymPy Sum over a fresh index, to the size."""
        k = sp.Dummy(node.index, integer=True, positive=True)
        low = self.visit(node.lower) if node.lower is not None else sp.Integer(1)
        high = self.visit(node.upper) if node.upper is not None else self.truth.size
        inner = _Meaning(self.truth, {**self.env, node.index: k}, self.partial)
        out = sp.Sum(inner.visit(node.body), (k, low, high))
        self.two_ways |= inner.two_ways
        return out

    def visit_Symbol(self, node: Symbol):
        if node.primes:
            raise SliceReadError(f"'{_key(node)}' with a prime means nothing in a slice; write "
                                 "the quantity, or its derivative as a fraction")
        if _euler(node, self.truth):
            return Exp(self.visit(node.sup))
        node, exponent = _split(node, self.truth)
        if exponent is not None:  # x-hat_i^2, gamma^{-1}, m^{-1}: a power, whatever its exponent
            return self._power(self.visit(node), self.visit(exponent))
        if _is_sigma(node, self.truth):  # the deviation, sqrt(sigma^2)
            return self.visit(replace(node, sup=Number("2"))) ** sp.Rational(1, 2)
        key = _key(node)
        if _sized(node) in self.truth.slice.sizes:
            size = self.truth.slice.sizes[_sized(node)]
            return sp.Integer(size) if isinstance(size, int) else size
        if key in EPSILONS and not node.sub:
            return EPSILON
        if node.name == r"\delta" and len(node.sub) == 2:
            a, b = (self._index(t) for t in node.sub)
            return sp.KroneckerDelta(a, b)
        return self.truth.value(self._node(node))

    def visit_Partial(self, node: Partial):
        if not isinstance(node.den, Symbol) or not isinstance(node.num, Symbol):
            raise SliceReadError("a derivative here is of one symbol by another, as "
                                 r"\frac{\partial \ell}{\partial x_i}")
        if _split(node.den, self.truth)[1] is not None or _is_sigma(node.den, self.truth) \
                or node.den.primes:
            raise NoSuchQuantity(f"a derivative by {_key(node.den)}: the slice has no "
                                 f"{_key(node.den)} as a quantity to differentiate by")
        by = self._node(node.den)
        if _key(node.num) in LOSS and not node.num.sub:
            return self.truth.adjoint(by)
        base, exponent = _split(node.num, self.truth)
        power = self.visit(exponent) if exponent is not None else sp.Integer(1)
        if _is_sigma(base, self.truth):  # sigma^p is (sigma^2)^(p/2)
            base, power = replace(base, sup=Number("2")), power / 2
        if power != 1:  # d(u^p)/dv = p u^(p-1) du/dv, p a constant
            u = self.truth.value(self._node(base))
            return power * u ** (power - 1) * self.visit(replace(node, num=base))
        truth, top = self.truth, self._node(node.num)
        if truth.other_paths(top, by):  # v reaches u through another of u's arguments
            self.two_ways = True
            if self.partial == "local":  # u's own formula: 0 where v is none of its arguments
                return truth.local(top, by) if truth.uses(top, by) else sp.Integer(0)
        return truth.partial(top, by)

    def _index(self, token: str):
        if token in self.truth.slice.sizes and token not in self.env:  # x_m, the last entry
            return self.truth.slice.sizes[token]
        if token.isdigit():
            if self.truth.slice.generic:  # x_5 is a quantity only where m >= 5
                raise NotForEverySize(f"the entry {token}")
            return int(token)
        if token not in self.env:
            raise SliceReadError(f"the index {token!r} is neither free on the left nor summed")
        return self.env[token]

    def _node(self, s: Symbol) -> Node:
        found = _node_of(s, self.truth, self.env)
        if found is None:
            raise SliceReadError(f"'{_key(s)}' is not a quantity of the {self.truth.slice.kind} "
                                 f"slice; accepted: {_accepted(self.truth)}")
        name, tokens = found
        index = tuple(self._index(t) for t in tokens)
        shape = self.truth.slice.shapes[name]
        if any(isinstance(i, int) and isinstance(n, int) and not 1 <= i <= n
               for i, n in zip(index, shape)):
            raise NoSuchQuantity(f"{_key(s)}[{', '.join(map(str, index))}] does not exist: "
                                 f"{_key(s)} runs over {' by '.join(f'1..{n}' for n in shape)}")
        return Node(name, index)


def _target(lhs, truth: StageTruth, env: dict) -> Node | None:
    """The node of a left side dl/d(node), for naming a wrong version."""
    if isinstance(lhs, Partial) and isinstance(lhs.num, Symbol) and _key(lhs.num) in LOSS \
            and isinstance(lhs.den, Symbol):
        return _Meaning(truth, env)._node(lhs.den)
    return None
