r"""A convolution's slice (stride 1) at every length: each dimension's size a number below
N0, or at least N0 with the free position a number from one end (j = c, j = R + 1 - c)
or in between (j = B + 1 + mu, R = j + B + kappa). Every index is then linear in the
case's parameters (nu, mu, kappa >= 0), so whether x_{j-m+1} lies in its range is decided
by the signs of its coefficients, and the cases together cover every length and position.

Each quantity's gradient is written from the forward formula y_i = sum_m w_m x_(i+m-1-p) + b
differentiated by hand per position class (the tests compare it with the slice's chain
rule at each concrete length). A sum with a bound in the parameters becomes F(hi) - F(lo-1),
F(t) the sum from 1 to t, and F(c + L) = F(L) + its c last terms: an atom F(L) per body,
its index shifted so that one factor reads its index as the sum's own. Zero after that is
zero for every value of the parameters: a proof for every length.

>>> case = next(c for c in length_cases("conv1d", kernel=2, left="x") if c.position)
>>> case.adjoint(Node("x", case.position))
g[1]*w[1]
>>> case.position
(1,)
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import sympy as sp

from ..model.stages import Node, slice_of
from .stage_generic import NotForEverySize
from .stage_truth import g
from .typed import is_zero

EVERY_LENGTH = ("conv1d", "conv2d")
_PARAMS = [sp.Symbol(f"nu{n}", integer=True, nonnegative=True) for n in range(6)]


@dataclass(frozen=True)
class _Dim:
    """One dimension: its size (a number, or N0 plus parameters) and the free index's
    position (a number or an expression; None where the case leaves it to be enumerated)."""

    size: sp.Expr
    position: sp.Expr | None


class LengthCase:
    """The slice of one case: what `read_slice` asks of a truth, in formal symbols."""

    shifts = True  # reads x_{j-m+1} at a symbolic j

    def __init__(self, kind: str, dims: tuple[_Dim, ...], *, kernel: int, padding: int,
                 params: tuple[sp.Symbol, ...], offset: int = 0):
        self.k, self.p, self.dims, self.params = kernel, padding, dims, params
        self.offset = offset  # the left quantity's range minus the size
        sizes = [int(d.size) if d.size.is_Integer else d.size for d in dims]
        self.slice = slice_of(kind, *(sizes if kind == "conv1d" else sizes[:1]),
                              **({"columns": sizes[1]} if kind == "conv2d" else {}),
                              kernel=kernel, padding=padding)
        self.size = sizes[0]
        self.position = tuple(d.position for d in dims) \
            if all(d.position is not None for d in dims) else None
        self._atoms: dict = {}

    # -- positions -----------------------------------------------------------------------

    def free_values(self, ranges: dict, free: tuple[str, ...]) -> list[tuple]:
        """Each value of the free indices: a number range enumerated, a symbolic one the
        case's position in the dimension whose range it is."""
        out, used = [], set()
        for letter in free:
            n = ranges[letter]
            if isinstance(n, int) or getattr(n, "is_Integer", False):
                out.append(list(range(1, int(n) + 1)))
                continue
            dim = next((a for a, d in enumerate(self.dims) if a not in used and
                        d.position is not None and sp.expand(n - self._range(a)) == 0), None)
            if dim is None:
                raise NotForEverySize(f"the index {letter} over {n}")
            used.add(dim)
            out.append([self.dims[dim].position])
        return list(product(*out))

    def _range(self, a: int) -> sp.Expr:
        """The range of the case's free position in dimension a (the left side's
        quantity's; set by `length_cases`)."""
        return self.dims[a].size + self.offset

    def inside(self, name: str, index: tuple, bounds: dict) -> bool:
        """Whether the entry lies in its range, for every value of the case's parameters
        and of the sums' indices in their bounds; NotForEverySize where that depends."""
        return self._within(name, index, bounds, [(0, 0)] * len(index))

    def padded(self, name: str, index: tuple, bounds: dict) -> bool:
        """Whether an entry beyond the range is one of the padding's zeros."""
        pads = self.slice.padding.get(name, ((0, 0),) * len(index))
        return self._within(name, index, bounds, pads)

    def _within(self, name: str, index: tuple, bounds: dict, pads) -> bool:
        ends = [(_nonneg(i - 1 + low, bounds), _nonneg(n + high - i, bounds))
                for i, n, (low, high) in zip(index, self.slice.shapes[name], pads)]
        if any(False in pair for pair in ends):
            return False
        if all(pair == (True, True) for pair in ends):
            return True
        raise NotForEverySize(f"whether {name}[{', '.join(map(str, index))}] exists")

    # -- the quantities ------------------------------------------------------------------

    def value(self, node: Node) -> sp.Expr:
        if node.name in self.slice.inputs:
            return node.symbol
        raise NotForEverySize(f"the value of {node}")

    def adjoint(self, node: Node) -> sp.Expr:
        """dl/d(node), from the forward formula, in the case's symbols."""
        out_shape = self.slice.shapes["y"]
        if node.name == "y":
            return g(node)
        if node.name == "x":  # the full correlation with the flipped kernel
            terms = []
            for ms in product(range(1, self.k + 1), repeat=len(self.dims)):
                at = tuple(j - m + 1 + self.p for j, m in zip(node.index, ms))
                if self.inside("y", at, {}):
                    terms.append(g(Node("y", at)) * Node("w", ms).symbol)
            return sp.Add(*terms)
        dummies = [sp.Dummy(f"i{a}", integer=True) for a in range(len(self.dims))]
        if node.name == "b":
            body, limits = g(Node("y", tuple(dummies))), [(i, 1, n) for i, n in
                                                          zip(dummies, out_shape)]
        elif node.name == "w":
            at = tuple(i + m - 1 - self.p for i, m in zip(dummies, node.index))
            body = g(Node("y", tuple(dummies))) * Node("x", at).symbol
            limits = [(i, max(1, self.p - m + 2), self._lesser(n, n_x - m + 1 + self.p))
                      for i, m, n, n_x in zip(dummies, node.index, out_shape,
                                              self.slice.shapes["x"])]
        else:
            raise NotForEverySize(f"the gradient on {node}")
        for limit in limits:
            body = sp.Sum(body, limit)
        return body

    def _lesser(self, a: sp.Expr, b: sp.Expr) -> sp.Expr:
        d = _nonneg(b - a, {})
        if d is None:
            raise NotForEverySize(f"the lesser of {a} and {b}")
        return a if d else b

    def uses(self, top: Node, by: Node) -> bool:
        return top.name == "y" and by.name in self.slice.inputs

    def other_paths(self, top: Node, by: Node) -> bool:
        return False

    def local(self, top: Node, by: Node) -> sp.Expr:
        raise NotForEverySize(f"d{top}/d{by}")

    partial = local

    # -- sums to atoms -------------------------------------------------------------------

    def is_zero(self, expr: sp.Expr) -> bool:
        return is_zero(sp.expand(self.reduce(expr)))

    def reduce(self, expr: sp.Expr) -> sp.Expr:
        """Every Sum to its atoms and terms, innermost first."""
        if isinstance(expr, sp.Sum):
            return self._sums(self.reduce(expr.function), list(expr.limits))
        if not expr.args or not expr.has(sp.Sum):
            return expr
        return expr.func(*(self.reduce(a) for a in expr.args))

    def _sums(self, body: sp.Expr, limits: list) -> sp.Expr:
        """The sums of one body: a range of numbers written out first (sum_i sum_j with j
        over 1..1 is sum_i), then the others in the order of the first quantity's indices
        they run over, so that sum_i sum_j and sum_j sum_i give the same atoms."""
        for i, lo, hi in [x for x in limits if x[1].is_Integer and x[2].is_Integer]:
            limits = [x for x in limits if x[0] != i]
            if any(a.has(i) or b.has(i) for _, a, b in limits):
                raise NotForEverySize("a sum whose bounds hold another sum's index")
            body = sp.Add(*(body.xreplace({i: v}) for v in range(int(lo), int(hi) + 1)))
        dummies = {d for d, _, _ in limits}
        if any((a.free_symbols | b.free_symbols) & dummies for _, a, b in limits):
            raise NotForEverySize("a sum whose bounds hold another sum's index")
        for limit in sorted(limits, key=lambda x: _place(body, x[0])):
            body = self._sum(body, *limit)
        return body

    def _sum(self, body: sp.Expr, i: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
        if not _nonneg(hi - lo + 1, {}):  # an empty range's sum is 0, not Karr's
            raise NotForEverySize(f"a sum from {lo} to {hi}")
        out = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(body)):
            if not term.has(i):
                out += term * (hi - lo + 1)
                continue
            picked = self._picked(term, i, lo, hi)
            if picked is not None:  # a Kronecker delta picks one term, or none
                out += picked
                continue
            shift = _anchor(term, i)
            term = term.xreplace({i: i - shift})
            out += self._to(term, i, hi + shift) - self._to(term, i, lo + shift - 1)
        return out

    def _picked(self, term: sp.Expr, i: sp.Symbol, lo: sp.Expr, hi: sp.Expr):
        """The term's sum where a Kronecker delta in it pins i to c: the term at c where c
        lies within lo..hi for every value of the parameters, 0 where it lies outside for
        every value; None without such a delta."""
        delta = next((f for f in sp.Mul.make_args(term) if isinstance(f, sp.KroneckerDelta)
                      and f.has(i)), None)
        if delta is None:
            return None
        c = sp.solve(delta.args[0] - delta.args[1], i)
        if len(c) != 1 or c[0].has(i) or not c[0].is_integer:
            raise NotForEverySize(f"a sum over {delta}")
        inside = (_nonneg(c[0] - lo, {}), _nonneg(hi - c[0], {}))
        if False in inside:
            return sp.Integer(0)
        if None in inside:
            raise NotForEverySize(f"whether {delta} picks a term of the sum")
        return term.xreplace({i: c[0]})

    def _to(self, term: sp.Expr, i: sp.Symbol, top: sp.Expr) -> sp.Expr:
        """F(top) = the sum of term over i = 1..top (Karr's, where top < 0)."""
        c, rest = sp.expand(top).as_coeff_Add()
        c = int(c)
        if rest.free_symbols - set(self.params):
            raise NotForEverySize(f"a sum to {top}")
        base = self._atom(term, i, rest) if rest != 0 else sp.Integer(0)
        span = range(1, c + 1) if c >= 0 else range(c + 1, 1)
        tail = sp.Add(*(term.xreplace({i: rest + r}) for r in span))
        return base + (tail if c >= 0 else -tail)

    def _atom(self, term: sp.Expr, i: sp.Symbol, top: sp.Expr) -> sp.Expr:
        outer = sorted((s for s in term.free_symbols if isinstance(s, sp.Dummy) and s != i),
                       key=lambda s: s.dummy_index)
        key = (term.xreplace({i: _K, **{a: _O[n] for n, a in enumerate(outer)}}), top)
        name = self._atoms.setdefault(key, f"F{len(self._atoms)}")
        return sp.Function(name)(*outer) if outer else sp.Symbol(name)


_K = sp.Symbol("k", integer=True)
_O = [sp.Symbol(f"o{n}", integer=True) for n in range(8)]


def _anchor(term: sp.Expr, i: sp.Symbol) -> sp.Expr:
    """The shift that makes one factor's index read i itself (g_(i+2) x_(i+3) -> g_i
    x_(i+1)), the first such factor by name; 0 where none has i with coefficient 1."""
    found = []
    for f in term.atoms(sp.Indexed, sp.core.function.AppliedUndef):
        args = f.indices if isinstance(f, sp.Indexed) else f.args
        for n, a in enumerate(args):
            a = sp.expand(a)
            if a.coeff(i) == 1 and not (a - i).has(i):
                found.append(((str(f.func if not isinstance(f, sp.Indexed) else f.base), n),
                              a - i))
    return min(found, key=lambda x: x[0])[1] if found else sp.Integer(0)


def _place(body: sp.Expr, i: sp.Symbol) -> tuple:
    """Where i first indexes a quantity: (its name, the index's position)."""
    return min(((str(f.base), n) for f in body.atoms(sp.Indexed)
                for n, a in enumerate(f.indices) if a.has(i)), default=("", 0))


def _nonneg(form: sp.Expr, bounds: dict) -> bool | None:
    """Whether a linear form of the parameters (and of the sums' indices, within their
    bounds) is >= 0 for all of them (True), < 0 for all (False), or neither (None)."""
    form = sp.expand(form)
    summed = [s for s in form.free_symbols if s in bounds]
    if summed:  # linear: its extremes at the bounds
        lo, hi = bounds[summed[0]]
        ends = {_nonneg(form.xreplace({summed[0]: e}), bounds) for e in (lo, hi)}
        return ends.pop() if len(ends) == 1 else None
    c, terms = form.as_coeff_add()
    coeffs = []
    for t in terms:
        k, rest = t.as_coeff_Mul()
        if not (rest.is_Symbol and rest.is_nonnegative and rest.is_integer):
            return None
        coeffs.append(k)
    if c >= 0 and all(k >= 0 for k in coeffs):
        return True
    if c < 0 and all(k <= 0 for k in coeffs):
        return False
    return None


def length_cases(kind: str, *, kernel: int = 2, padding: int = 0, stride: int = 1,
                 left: str | None = None) -> list[LengthCase]:
    """The cases that together cover every length (and, in two dimensions, every number
    of rows and of columns), the free position placed where `left` (the quantity whose
    gradient the left side is) has a free index over a length."""
    if stride != 1:
        raise NotForEverySize("a stride of more than 1")
    k, p = kernel, padding
    offset = {"x": 0, "y": 2 * p - k + 1}.get(left)  # the left quantity's range - size
    low = max(1, k - 2 * p)  # the shortest length the kernel fits
    border = max(1, k + p - 1)
    # from here on every position is in one class (with no free position: every length)
    top = low if offset is None else 2 * border + 1 - offset
    dims = 1 if kind == "conv1d" else 2
    per_dim: list[list[tuple]] = []
    params = iter(_PARAMS)
    for _ in range(dims):
        choices = [(sp.Integer(n), None) for n in range(low, max(low, top))]
        nu = next(params)
        size = max(low, top) + nu
        if offset is None:
            choices.append((size, None))
        else:
            mu = next(params)
            choices += [(size, sp.Integer(c)) for c in range(1, border + 1)]
            choices += [(size, size + offset + 1 - c) for c in range(1, border + 1)]
            # in between: j = border + 1 + mu, the range = j + border + nu
            choices.append((size + mu, border + 1 + mu))
        per_dim.append(choices)
    out = []
    for choice in product(*per_dim):
        dims_ = tuple(_Dim(s, pos if offset is not None and not s.is_Integer else None)
                      for s, pos in choice)
        out.append(LengthCase(kind, dims_, kernel=k, padding=p, params=tuple(_PARAMS),
                              offset=offset or 0))
    return out
