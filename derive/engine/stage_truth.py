"""What each quantity of a slice (model/stages.py) truly is: its value, dl/d(it) taken
back through the slice by the chain rule, and the derivative of one stage by another
along every path, each differentiated from the stages' formulas, none written in.

dl/dy at the slice's output is free (g[i]): what follows the layer is any network, so an
equation proved here holds in any (DESIGN.md, locality). A mistake (a dependence cut or
halved) gives the wrong version's value of the same quantities, which is how a refuted
equation is named.

>>> from bpcheck.derive.model.stages import Node, slice_of
>>> t = StageTruth(slice_of("softmax", 2))
>>> sp.simplify(t.adjoint(Node("z", (1,))) - t.value(Node("s", (1,))) * (
...     t.adjoint(Node("s", (1,))) - sum(t.adjoint(n) * t.value(n) for n in t.slice.outputs)))
0
"""
from __future__ import annotations

import sympy as sp

from ..model.stages import Mistake, Node, Slice
from .typed import is_zero


def g(node: Node) -> sp.Expr:
    """dl/d(an output), free: whatever follows the layer."""
    return sp.IndexedBase("g", real=True)[node.index or (1,)]


class StageTruth:
    """The slice's quantities in its inputs and g; under `mistake`, the wrong version's."""

    def __init__(self, slice_: Slice, mistake: Mistake | None = None):
        self.slice, self.mistake = slice_, mistake
        self._values: dict[sp.Expr, sp.Expr] = {}
        self._adjoints: dict[Node, sp.Expr] | None = None
        self._uses: dict[Node, list[Node]] = {}
        # each edge's derivative and each node's tangents computed once: a derivation
        # asks for them again at every line, and a recurrence's slice has many paths
        self._local: dict[tuple[Node, Node], sp.Expr] = {}
        self._tangents: dict[Node, dict[Node, sp.Expr]] = {}
        self._wrong: dict[str, StageTruth] = {}
        self._by_symbol = {n.symbol: n for n in slice_.order()}
        for n in slice_.order():
            f = slice_.formula(n)
            for arg in (self._by_symbol[s] for s in _symbols(f)) if f is not None else ():
                self._uses.setdefault(arg, []).append(n)

    def value(self, node: Node) -> sp.Expr:
        """The node in the slice's inputs."""
        if not self._values:
            for n in self.slice.order():
                f = self.slice.formula(n)
                self._values[n.symbol] = n.symbol if f is None else f.xreplace(self._values)
        return self._values[node.symbol]

    def local(self, consumer: Node, arg: Node) -> sp.Expr:
        """d consumer / d arg through the consumer's own formula (the edge), weighted by
        the mistake, if any; in the inputs."""
        if (consumer, arg) not in self._local:
            self._local[consumer, arg] = self._edge(consumer, arg)
        return self._local[consumer, arg]

    def _edge(self, consumer: Node, arg: Node) -> sp.Expr:
        wrong = self.mistake.wrong(self.slice, consumer, arg) if self.mistake else None
        if wrong is not None:
            self.value(arg)
            return wrong.xreplace(self._values)
        weight = self.mistake.weight(consumer, arg) if self.mistake else 1
        if weight == 0:
            return sp.Integer(0)
        d = sp.diff(self.slice.formula(consumer), arg.symbol)
        self.value(arg)
        return weight * d.xreplace(self._values)

    def adjoint(self, node: Node) -> sp.Expr:
        """dl/d(node): reverse accumulation over the slice from g at the outputs."""
        if self._adjoints is None:
            outputs = set(self.slice.outputs)
            adj: dict[Node, sp.Expr] = {}
            for n in reversed(self.slice.order()):
                adj[n] = g(n) if n in outputs else sp.Add(
                    *(adj[u] * self.local(u, n) for u in self._uses.get(n, ())))
            self._adjoints = adj
        return self._adjoints[node]

    def partial(self, top: Node, by: Node) -> sp.Expr:
        """d top / d by along every path from `by` (forward accumulation); 0 where top does
        not depend on it."""
        if by not in self._tangents:
            tangent: dict[Node, sp.Expr] = {by: sp.Integer(1)}
            for n in self.slice.order():
                if n in tangent or self.slice.formula(n) is None:
                    continue
                tangent[n] = sp.Add(*(self.local(n, a) * tangent[a] for a in
                                      map(self._by_symbol.get, _symbols(self.slice.formula(n)))
                                      if a in tangent))
            self._tangents[by] = tangent
        return self._tangents[by].get(top, sp.Integer(0))


    def under(self, mistake: Mistake) -> StageTruth:
        """The same slice's truth under a mistake, kept: each equation refuted in the slice
        is tried against every mistake of it."""
        if mistake.id not in self._wrong:
            self._wrong[mistake.id] = StageTruth(self.slice, mistake)
        return self._wrong[mistake.id]

    def is_zero(self, expr: sp.Expr) -> bool:
        """Identically zero (engine/typed.py's normal form)."""
        return is_zero(sp.expand(expr)) if expr.free_symbols else expr == 0

    def users(self, node: Node) -> list[Node]:
        """The nodes whose own formulas take `node` as an argument, in the slice's order."""
        return list(self._uses.get(node, ()))

    def uses(self, top: Node, by: Node) -> bool:
        """Whether `by` is an argument of top's own formula."""
        return top in self._uses.get(by, ())

    def other_paths(self, top: Node, by: Node) -> bool:
        """Whether `by` reaches top through another of its arguments too, so that
        d top / d by differs as read: top's formula differentiated (the others held) or
        along every path."""
        f = self.slice.formula(top)
        args = [self._by_symbol[a] for a in _symbols(f)] if f is not None else []
        return any(a != by and self.partial(a, by) != 0 for a in args)


def _symbols(expr: sp.Expr) -> list[sp.Expr]:
    return sorted(expr.atoms(sp.Indexed), key=str)
