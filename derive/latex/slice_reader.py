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

from dataclasses import dataclass, replace
from itertools import product

import sympy as sp

from ..engine.stage_generic import NotForEverySize
from ..engine.stage_truth import StageTruth
from ..errors import TooMuchWork
from ..model.layers import EPSILON, Exp
from ..model.stages import Node, slice_of
from .ast import (Add, Call, Equation, Frac, Grad, Mul, Neg, Number, Paren, Partial, Power, Shift,
                  Sum, Symbol, Visitor)
from .grammar import parse
from .slice_names import (EPSILONS, LOSS, NoSuchQuantity, Ranges, SliceReadError, accepted,
                          bare_index, is_euler, is_sigma, key_of, node_of, sized, split_power,
                          values_of)
from .tex import to_latex

FUNCTIONS = {"exp": Exp, "tanh": sp.tanh}
__all__ = ["NoSuchQuantity", "PARTIALS", "SliceEquation", "SliceReadError", "left_quantity",
           "read_slice"]


@dataclass(frozen=True)
class SliceEquation:
    """The equation's sides for each value of its free indices (in `free`'s order), in the
    slice's inputs and g; `targets`, where the left side is dl/d(a node), those nodes."""

    text: str
    free: tuple[str, ...]
    sides: tuple[tuple[tuple[int, ...], sp.Expr, sp.Expr], ...]
    targets: tuple[Node, ...] | None = None
    two_ways: bool = False  # a d(u)/d(v) whose local and total readings differ
    # what the right side names beyond its range, read as 0: ("gradient" or "value", node)
    zeros: tuple[tuple[str, Node], ...] = ()
    sizes_on_left: tuple[str, ...] = ()  # size letters the left side uses as indices


PARTIALS = ("local", "total")


def read_slice(text: str, truth: StageTruth, *, partial: str = "local",
               free_sizes: bool = False) -> SliceEquation:
    """Read `text` (one equation, two sides) in the truth's slice, each d(u)/d(v) that
    can be read two ways read as `partial` says (module docstring); a size's letter used
    as an index on the left is the last entry (x_m), or with `free_sizes` a free index
    (dl/dK_{k,l} over every entry)."""
    eq = parse(text, shifts=True)
    if not isinstance(eq, Equation) or len(eq.sides) != 2 or eq.relations != ("=",):
        raise SliceReadError(f"'{text[:200]}' is not one equation with two sides (lhs = rhs)")
    lhs, rhs = eq.sides
    ranges, right = Ranges(truth, left=free_sizes), Ranges(truth)
    ranges.visit(lhs)
    right.visit(rhs)
    for letter in ranges.deltas - set(ranges.free):  # free on the left in a delta alone
        if letter not in right.free:
            raise SliceReadError(f"the index {letter} is free only in a Kronecker delta: its "
                                 "range is not known")
        ranges.free[letter] = right.free[letter]
    for letter in ranges.shifted - set(ranges.free):  # x_{2i} = ... y_i: i's range is y's
        if letter not in right.free:
            raise SliceReadError(f"the index {letter} is free on the left only in an index "
                                 "with arithmetic: its range is not known; name a quantity "
                                 f"indexed by {letter} alone")
        ranges.free[letter] = right.free[letter]
    free = tuple(ranges.free)  # an entry the right side names beyond them does not exist
    extra = [i for i in right.free if i not in ranges.free]
    if extra:
        raise NoSuchQuantity(f"the right side's index {extra[0]} is free and the left side's is "
                             "not: the sides are not the same quantity")
    sides, targets, two_ways, zeros = [], [], False, {}
    for values in _values(truth, ranges.free, free):
        env = dict(zip(free, values))
        # only the right side's terms may fall outside a range (a full correlation's edge)
        left, right = _Meaning(truth, env, partial), _Meaning(truth, env, partial, outside=True)
        sides.append((values, left.visit(lhs), right.visit(rhs)))
        two_ways |= left.two_ways or right.two_ways
        zeros.update(dict.fromkeys(right.zeros))
        targets.append(_target(lhs, truth, env))
    return SliceEquation(text, free, tuple(sides),
                         tuple(targets) if all(targets) else None, two_ways, tuple(zeros),
                         tuple(sorted(ranges.sized - values_of(eq))))


def _values(truth, ranges: dict, free: tuple[str, ...]):
    """Each value of the free indices; in a slice of every size, as the truth places them
    (its own index, or a position of one of its cases)."""
    if not truth.slice.generic:
        return list(product(*(range(1, ranges[i] + 1) for i in free)))
    return truth.free_values(ranges, free)


def _zero_at_some_size(expr: sp.Expr, size: sp.Symbol) -> bool:
    """An expression of the size other than a number times a power of it (m - 1 is 0 at
    m = 1); the size as a sum's bound does not count."""
    outside = expr.replace(lambda e: isinstance(e, sp.Sum), lambda e: sp.Dummy())
    rest = outside.as_coeff_Mul()[1]
    return outside.has(size) and not (rest == size or (rest.is_Pow and rest.base == size))


class _Meaning(Visitor):
    """A side's value, each symbol's meaning from the truth, each index from env."""

    def __init__(self, truth: StageTruth, env: dict[str, int], partial: str = "local", *,
                 outside: bool = False):
        # outside: a quantity beyond its range is 0 (the right side of an equation), and
        # `zeros` says which were
        self.truth, self.env, self.partial, self.two_ways = truth, env, partial, False
        self.outside, self.zeros = outside, []
        self.bounds: dict = {}  # in a slice of every size, each sum's index: (low, high)

    def _inner(self, env: dict, bounds: dict | None = None) -> "_Meaning":
        inner = _Meaning(self.truth, env, self.partial, outside=self.outside)
        inner.bounds = bounds if bounds is not None else self.bounds
        return inner

    def _merge(self, inner: list) -> None:
        self.two_ways |= any(m.two_ways for m in inner)
        self.zeros += [z for m in inner for z in m.zeros]

    def generic_visit(self, node):
        raise SliceReadError(f"a {type(node).__name__} is not read in a layer's slice; "
                             "write sums, products, fractions, powers and derivatives")

    def visit_Number(self, node: Number): return sp.Rational(node.text)
    def visit_Paren(self, node: Paren): return self.visit(node.body)
    def visit_Neg(self, node: Neg): return -self.visit(node.body)
    def visit_Add(self, node: Add): return sp.Add(*map(self.visit, node.terms))
    def visit_Mul(self, node: Mul):
        """A product; one naming a quantity that does not exist is 0 where another factor
        is a derivative read as 0 beyond its range (w h_{T+1} dl/dh_{T+1} at t = T)."""
        out, missing, beyond = [], None, False
        for f in node.factors:
            before = len(self.zeros)
            try:
                out.append(self.visit(f))
            except NoSuchQuantity as e:
                missing = missing or e
                continue
            beyond |= out[-1] == 0 and len(self.zeros) > before
        if missing is not None and not beyond:
            raise missing
        return sp.Integer(0) if missing is not None else sp.Mul(*out)
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

    def visit_Sum(self, node: Sum):  # a sum over a set: refused by Ranges, which reads first
        low = self.visit(node.lower) if node.lower is not None else sp.Integer(1)
        high = self.visit(node.upper) if node.upper is not None else self._range(node)
        if self.truth.slice.generic and not (low.is_Integer and high.is_Integer):
            return self._every_size(node, low, high)
        if not (low.is_Integer and high.is_Integer):
            raise SliceReadError(f"a sum's bounds are whole numbers here, not {low} to {high}")
        span = range(int(low), int(high) + 1)
        inner = [self._inner({**self.env, node.index: v}) for v in span]
        out = sp.Add(*(m.visit(node.body) for m in inner))
        self._merge(inner)
        return out

    def _range(self, node: Sum) -> sp.Expr:
        """A sum without bounds runs over its index's range, the widest its body uses."""
        inner = Ranges(self.truth, strict=True, own=node.index)
        try:
            inner.visit(node.body)
        except TypeError:  # ranges of letters that cannot be compared
            raise NotForEverySize(f"the range of the sum over {node.index}") from None
        if node.index not in inner.free:
            raise SliceReadError(f"the sum over {node.index} has no bounds and no quantity "
                                 f"of its body is indexed by it: write \\sum_{{{node.index}=1}}^{{n}}")
        n = inner.free[node.index]
        return sp.Integer(n) if isinstance(n, int) else n

    def _every_size(self, node: Sum, low: sp.Expr, high: sp.Expr) -> sp.Expr:
        """A sum in a slice of every size: a SymPy Sum over a fresh index."""
        # an integer only: a sum may start at 0 or below, and a positive index would read
        # \delta_{i0} as 0 where the sum counts its term
        k = sp.Dummy(node.index, integer=True)
        inner = self._inner({**self.env, node.index: k}, {**self.bounds, k: (low, high)})
        out = sp.Sum(inner.visit(node.body), (k, low, high))
        self._merge([inner])
        return out

    def visit_Symbol(self, node: Symbol):
        if node.primes:
            raise SliceReadError(f"'{key_of(node)}' with a prime means nothing in a slice; write "
                                 "the quantity, or its derivative as a fraction")
        if is_euler(node, self.truth):
            return Exp(self.visit(node.sup))
        node, exponent = split_power(node, self.truth)
        if exponent is not None:  # x-hat_i^2, gamma^{-1}, m^{-1}: a power, whatever its exponent
            return self._power(self.visit(node), self.visit(exponent))
        if is_sigma(node, self.truth):  # the deviation, sqrt(sigma^2)
            return self.visit(replace(node, sup=Number("2"))) ** sp.Rational(1, 2)
        key = key_of(node)
        if sized(node) in self.truth.slice.sizes:
            size = self.truth.slice.sizes[sized(node)]
            return sp.Integer(size) if isinstance(size, int) else size
        if key in EPSILONS and not node.sub:
            return EPSILON
        if bare_index(node) and node.name in self.env:  # a sum's bound: i - k + 1
            return sp.Integer(self.env[node.name]) if isinstance(self.env[node.name], int) \
                else self.env[node.name]
        if node.name == r"\delta" and len(node.sub) == 2:
            a, b = (self._index(t) for t in node.sub)
            return sp.KroneckerDelta(a, b)
        found = self._node(node, outside="value")
        if found is None:  # an input in the zero padding
            return sp.Integer(0)
        return self.truth.value(found)

    def visit_Grad(self, node: Grad):
        r"""\nabla_{h^{(t)}} L, the gradient of the loss on one quantity: dL/dh^(t)."""
        if node.wrt is None:
            raise SliceReadError(r"a bare \nabla names no quantity: write \nabla_{x_i} \ell")
        return self.visit_Partial(Partial(node.body, node.wrt))

    def visit_Partial(self, node: Partial):
        if not isinstance(node.den, Symbol) or not isinstance(node.num, Symbol):
            raise SliceReadError("a derivative here is of one symbol by another, as "
                                 r"\frac{\partial \ell}{\partial x_i}")
        if split_power(node.den, self.truth)[1] is not None or is_sigma(node.den, self.truth) \
                or node.den.primes:
            raise NoSuchQuantity(f"a derivative by {key_of(node.den)}: the slice has no "
                                 f"{key_of(node.den)} as a quantity to differentiate by")
        by = self._node(node.den, outside="gradient")
        if by is None:
            return sp.Integer(0)
        if key_of(node.num) in LOSS and not node.num.sub:
            return self.truth.adjoint(by)
        base, exponent = split_power(node.num, self.truth)
        power = self.visit(exponent) if exponent is not None else sp.Integer(1)
        if is_sigma(base, self.truth):  # sigma^p is (sigma^2)^(p/2)
            base, power = replace(base, sup=Number("2")), power / 2
        if power != 1:  # d(u^p)/dv = p u^(p-1) du/dv, p a constant
            u = self.truth.value(self._node(base))
            return power * u ** (power - 1) * self.visit(replace(node, num=base))
        truth, top = self.truth, self._node(node.num, outside="gradient")
        if top is None:
            return sp.Integer(0)
        if truth.other_paths(top, by):  # v reaches u through another of u's arguments
            self.two_ways = True
            if self.partial == "local":  # u's own formula: 0 where v is none of its arguments
                return truth.local(top, by) if truth.uses(top, by) else sp.Integer(0)
        return truth.partial(top, by)

    def _index(self, token: str):
        if isinstance(token, Shift):
            if self.truth.slice.generic and not self.truth.shifts:
                raise NotForEverySize(f"the index {token}")
            return token.value({t: self._index(t) for t in token.letters})
        if token in self.truth.slice.sizes and token not in self.env:  # x_m, the last entry
            return self.truth.slice.sizes[token]
        if token.isdigit():
            if self.truth.slice.generic and not self.truth.shifts:  # x_5: only where m >= 5
                raise NotForEverySize(f"the entry {token}")
            return int(token)
        if token not in self.env:
            raise SliceReadError(f"the index {token!r} is neither free on the left nor summed")
        return self.env[token]

    def _node(self, s: Symbol, *, outside: str = "") -> Node | None:
        """The quantity s names; None for one beyond its range, read as 0 on the right
        side: a derivative of it or by it (`outside` "gradient": nothing depends on what
        does not exist), or its value in a zero padding (`outside` "value")."""
        found = node_of(s, self.truth, self.env)
        if found is None:
            raise SliceReadError(f"'{key_of(s)}' is not a quantity of the {self.truth.slice.kind} "
                                 f"slice; accepted: {accepted(self.truth)}")
        name, tokens = found
        index = tuple(self._index(t) for t in tokens)
        shape, truth = self.truth.slice.shapes[name], self.truth
        if not truth.inside(name, index, self.bounds) if truth.slice.generic else \
                any(isinstance(i, int) and isinstance(n, int) and not 1 <= i <= n
                    for i, n in zip(index, shape)):
            padded = truth.padded(name, index, self.bounds) if truth.slice.generic else \
                truth.slice.padded(name, index)
            if self.outside and (outside == "gradient" or (outside == "value" and padded)):
                self.zeros.append((outside, Node(name, index)))
                return None
            raise NoSuchQuantity(f"{key_of(s)}[{', '.join(map(str, index))}] does not exist: "
                                 f"{key_of(s)} runs over {' by '.join(f'1..{n}' for n in shape)}")
        return Node(name, index)


def left_quantity(text: str, kind: str) -> str | None:
    r"""The name of the quantity whose gradient a right equation's left side is, in the
    kind's slice (y of dl/dy_i, h of \nabla_{h^{(t)}} L), or None.

    >>> left_quantity(r"\frac{\partial \ell}{\partial \hat{x}_i} = 0", "batchnorm")
    'xhat'
    """
    lhs = parse(text, shifts=True).sides[0]
    den = lhs.wrt if isinstance(lhs, Grad) else getattr(lhs, "den", None)
    if not isinstance(den, Symbol):
        return None
    sl = slice_of(kind, 3)
    s = split_power(den, StageTruth(sl))[0]
    return sl.words.get(key_of(replace(s, sup=Number("2")) if is_sigma(s, StageTruth(sl)) else s))


def _target(lhs, truth: StageTruth, env: dict) -> Node | None:
    """The node of a left side dl/d(node), for naming a wrong version."""
    if isinstance(lhs, Grad) and lhs.wrt is not None:
        lhs = Partial(lhs.body, lhs.wrt)
    if isinstance(lhs, Partial) and isinstance(lhs.num, Symbol) and key_of(lhs.num) in LOSS \
            and isinstance(lhs.den, Symbol):
        return _Meaning(truth, env)._node(lhs.den)
    return None
