"""A slice's quantities for every size at once: the same stage formulas (model/stages.py)
with the range a letter (m, H, n) and each sum a SymPy Sum, differentiated by SymPy (a
Kronecker delta where an entry meets a summed one), taken back by the chain rule over the
stages' names, and reduced to a normal form in which a proof holds for every size.

The reduction: a Kronecker delta under a sum picks its term; what a term does not share
with the summed index leaves the sum; what remains is an atom, one per product of summed
quantities (sum_k g_k x_k). A statistic defined by a sum (mu, sigma^2) stays a quantity of
its own, and its definition becomes a rule for the newest atom it holds (sum_k x_k = m mu,
then sum_k x_k^2 = m sigma^2 + m mu^2). Zero after that is a proof for every size, every
value of the free index in its range, under epsilon > 0; anything else decides nothing
(the sizes the file gives are decided as before).

>>> t = GenericTruth("batchnorm")
>>> i = t.index
>>> t.is_zero(t.adjoint(Node("beta")) - t.reduce(t.slice.sum(lambda k: g(Node("y", (k,))))))
True
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..model.stages import Node, slice_of
from .stage_truth import StageTruth, g
from .typed import is_zero

GENERIC = ("batchnorm", "layernorm", "softmax")  # slices with one range
SIZE_LETTER = {"batchnorm": "m", "layernorm": "H", "softmax": "n"}


class NotForEverySize(Exception):
    """A reading the reduction does not cover (a derivative along every path between
    stages): the sizes the file gives still decide it."""


class GenericTruth:
    """The slice of `kind` with its range the letter; `index` the free index's symbol."""

    def __init__(self, kind: str, **options):
        self.size = sp.Symbol(SIZE_LETTER[kind], integer=True, positive=True)
        self.slice = slice_of(kind, self.size, **options)
        # which stages take which: the same at every size
        self.shape = _structure(kind, tuple(sorted(options.items())))
        self.index = sp.Symbol("i", integer=True, positive=True)
        self._atoms: dict[sp.Expr, sp.Symbol] = {}
        self._rules: dict[sp.Symbol, sp.Expr] = {}
        self._adjoints: dict[str, sp.Expr] = {}
        self._statistics = [name for name, _ in self.slice.stages
                            if not self.slice.shapes[name] and self._raw(name).has(sp.Sum)]
        for name in self._statistics:
            self._define(name)

    shifts = False  # an index with arithmetic (x_{i+1}) is left to the file's sizes

    def free_values(self, ranges: dict, free: tuple[str, ...]) -> list[tuple]:
        """The free indices' one value: symbols, the first the truth's own index."""
        return [tuple(self.index if n == 0 else sp.Dummy(letter, integer=True, positive=True)
                      for n, letter in enumerate(free))]

    def inside(self, name: str, index: tuple, bounds: dict) -> bool:
        return True  # every index is a letter over its range

    padded = inside

    # -- the stages' formulas ------------------------------------------------------------

    def _raw(self, name: str, *index) -> sp.Expr:
        rule = dict(self.slice.stages)[name]
        return rule(self.slice, *index)

    def _node(self, name: str, index) -> sp.Expr:
        return Node(name, tuple(index)).symbol

    def value(self, node: Node) -> sp.Expr:
        """The node with every stage of one entry written out; a statistic stays itself."""
        return self.reduce(self._expand(node.symbol))

    def _expand(self, expr: sp.Expr) -> sp.Expr:
        """Each stage of one entry replaced by its formula, over and over, down to the
        inputs and the statistics."""
        stages = {name for name, _ in self.slice.stages} - set(self._statistics)
        for _ in range(len(self.slice.stages) + 1):
            found = [e for e in expr.atoms(sp.Indexed) if str(e.base) in stages]
            if not found:
                return expr
            expr = expr.xreplace({e: self._raw(str(e.base), *(
                () if not self.slice.shapes[str(e.base)] else e.indices)) for e in found})
        return expr

    # -- the chain rule ----------------------------------------------------------------------

    def adjoint(self, node: Node) -> sp.Expr:
        """dl/d(node) at the node's index, for every size."""
        if node.name not in self._adjoints:
            self._adjoints[node.name] = self.reduce(self._expand(self._backward(node.name)))
        at = dict(zip((self.index,), node.index))
        return self._adjoints[node.name].xreplace(at)

    def _backward(self, name: str) -> sp.Expr:
        sl = self.slice
        me = self._node(name, (self.index,) if sl.shapes[name] else ())
        if name == sl.output:
            return g(Node(name, (self.index,)))
        total = sp.Integer(0)
        for user in self._users(name):
            if not sl.shapes[user]:
                total += self._adjoint_symbolic(user, ()) * sp.diff(self._raw(user), me)
                continue
            j = sp.Dummy("j", integer=True, positive=True)
            total += sp.Sum(self._adjoint_symbolic(user, (j,)) * sp.diff(self._raw(user, j), me),
                            (j, 1, self.size))
        return total

    def _adjoint_symbolic(self, name: str, index: tuple) -> sp.Expr:
        self.adjoint(Node(name, (self.index,) if self.slice.shapes[name] else ()))
        return self._adjoints[name].xreplace(dict(zip((self.index,), index)))

    def _users(self, name: str) -> list[str]:
        rep = Node(name, (1,) if self.slice.shapes[name] else ())
        return list(dict.fromkeys(u.name for u in self.shape.users(rep)))

    def local(self, top: Node, by: Node) -> sp.Expr:
        return self.reduce(self._expand(sp.diff(self._raw(top.name, *top.index), by.symbol)))

    def uses(self, top: Node, by: Node) -> bool:
        return self.shape.uses(*_concrete(top, by))

    def other_paths(self, top: Node, by: Node) -> bool:
        return self.shape.other_paths(*_concrete(top, by))

    def partial(self, top: Node, by: Node) -> sp.Expr:
        if self.uses(top, by) and not self.other_paths(top, by):
            return self.local(top, by)
        raise NotForEverySize("a derivative along every path between stages")

    # -- sums to atoms ---------------------------------------------------------------------

    def reduce(self, expr: sp.Expr) -> sp.Expr:
        """Every Sum to atoms, bottom up, the statistics' rules applied."""
        if expr.args:
            expr = expr.func(*(self.reduce(a) for a in expr.args))
        if isinstance(expr, sp.Sum):
            expr = self._sum(expr)
        return expr.xreplace(self._rules) if self._rules else expr

    def _sum(self, s: sp.Sum) -> sp.Expr:
        if len(s.limits) > 1:  # SymPy joins nested sums: one at a time, the innermost first
            return self.reduce(sp.Sum(self._sum(sp.Sum(s.function, s.limits[0])),
                                      *s.limits[1:]))
        (k, low, high), = s.limits
        if low != 1 or high != self.size:
            raise NotForEverySize(f"a sum from {low} to {high}")
        out = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(s.function)):
            coeff, factors = term.as_coeff_mul()
            delta = next((f for f in factors if isinstance(f, sp.KroneckerDelta)
                          and k in f.free_symbols), None)
            if delta is not None:  # the term where k is the other index
                other = delta.args[0] if delta.args[1] == k else delta.args[1]
                if not other.is_Symbol:  # entry 5 is in 1..m only where m >= 5
                    raise NotForEverySize(f"a sum that picks entry {other}")
                rest = sp.Mul(coeff, *(f for f in factors if f is not delta))
                out += self.reduce(rest.xreplace({k: other}))
                continue
            inside = [f for f in factors if k in f.free_symbols]
            outside = sp.Mul(coeff, *(f for f in factors if k not in f.free_symbols))
            out += outside * (self._atom(sp.Mul(*inside), k) if inside else self.size)
        return out

    def _atom(self, body: sp.Expr, k: sp.Symbol) -> sp.Expr:
        """The sum over k of body: a symbol, or where the body holds other indices (the
        free one, an outer sum's) a function of them, so that the outer sum sees them."""
        outer = sorted((s for s in body.free_symbols if s != k and s != self.size
                        and isinstance(s, sp.Symbol) and s.is_integer), key=str)
        key = body.xreplace({k: _K, **{a: _O[n] for n, a in enumerate(outer)}})
        name = self._atoms.setdefault(key, sp.Symbol(f"Sum[{key}]"))
        return sp.Function(str(name))(*outer) if outer else name

    def _define(self, name: str) -> None:
        """The statistic's definition as a rule for the one new atom it holds."""
        known = set(self._atoms.values())
        eq = self.reduce(self._raw(name)) - self._node(name, ())
        new = [a for a in eq.free_symbols if a in set(self._atoms.values()) - known]
        if len(new) == 1 and sp.degree(sp.expand(eq), new[0]) == 1:
            self._rules[new[0]] = sp.solve(eq, new[0])[0]

    def is_zero(self, expr: sp.Expr) -> bool:
        return is_zero(sp.expand(self.reduce(expr)))


_K = sp.Symbol("k", integer=True, positive=True)
_O = [sp.Symbol(f"o{n}", integer=True, positive=True) for n in range(8)]  # outer indices


@lru_cache(maxsize=None)
def _structure(kind: str, options: tuple = ()) -> StageTruth:
    return StageTruth(slice_of(kind, 3, **dict(options)))


def _concrete(top: Node, by: Node) -> tuple[Node, Node]:
    """Two nodes of the 3-entry slice standing for these of any size: entry 1 each, or 1
    and 2 where their indices differ."""
    same = top.index == by.index
    return (Node(top.name, (1,) * len(top.index)),
            Node(by.name, ((1,) if same else (2,)) * len(by.index)))
