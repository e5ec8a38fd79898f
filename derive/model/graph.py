"""The one network model: a feed-forward graph of units and edges.

Every network bpcheck knows is one of these. A layered network (model/network.py) is the
graph whose edges go from each layer to the next, its units named by layer and position;
a graph file (io/graph_file.py) names its units and weights itself. For every unit u:

    a_u = sum_{p -> u} w_up z_p + b_u,    z_u = f_u(a_u),    E = loss(z_outputs, t)

where a vector activation (softmax) maps the weighted inputs of its whole group at once.
Each quantity is a SymPy expression the unit carries (`a`, `z`, `delta`, `bias`, `target`,
and the weight `w` of each edge), so the truth (engine/truth.py) works on any network
without knowing how its symbols are named.

>>> from bpcheck.derive.model.network import make_network
>>> g = make_network(layers=(2, 3, 2)).graph
>>> [u.name for u in g.units][:3], g.unit("1:2").a, [e.w for e in g.edges_into("2:1")][:2]
(['0:1', '0:2', '1:1'], pre1[2], [W2[1, 1], W2[1, 2]])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import sympy as sp
from sympy.core.function import AppliedUndef

from .activation import Activation
from .loss import Loss

E = sp.Symbol("E", real=True)


def own_function(name: str) -> sp.FunctionClass:
    """A unit's own activation as an undefined function: the value of an abstract
    activation, or any activation held abstract in a proof."""
    return sp.Function(name, real=True)


def slope_function(f: sp.FunctionClass) -> sp.FunctionClass:
    """The derivative of a unit's own function, an undefined function of its own, so that
    its argument may be any expression (SymPy cannot differentiate by an expression)."""
    return sp.Function("d" + f.__name__, real=True)


@dataclass(frozen=True)
class Unit:
    """One unit. `written` is the function a notation writes the unit's activation with
    (a layer's h, a graph unit's f_u); `own` is the unit's alone, so that a value at a
    point belongs to one unit. `group` lists the units a vector activation couples."""

    name: str
    kind: str                        # "input", "hidden" or "output"
    layer: int                       # the longest path from an input
    z: sp.Expr
    activation: Activation | None = None
    a: sp.Expr | None = None
    delta: sp.Expr | None = None
    bias: sp.Expr | None = None
    target: sp.Expr | None = None
    written: sp.FunctionClass | None = None
    own: sp.FunctionClass | None = None
    group: tuple[str, ...] = ()

    @property
    def vector(self) -> bool:
        return bool(self.activation is not None and not self.activation.elementwise)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    weight: str           # its name: the file's for a graph, canonical for a layered network
    w: sp.Expr

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


@dataclass(frozen=True, eq=False)
class Graph:
    """A validated feed-forward graph; `units` in topological order, inputs first.
    `labels` maps each free variable to its name in the file and its role, for display."""

    source: str
    title: str
    loss: Loss
    units: tuple[Unit, ...]
    edges: tuple[Edge, ...]
    labels: dict[sp.Basic, tuple[str, str]] = field(default_factory=dict)
    layered: bool = False  # every edge runs from one layer to the next

    def layer_of(self, name: str) -> list[str]:
        """The units of `name`'s layer."""
        return self._layers[self.unit(name).layer]

    @cached_property
    def _layers(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for u in self.units:
            out.setdefault(u.layer, []).append(u.name)
        return out

    # -- structure ---------------------------------------------------------------------
    @cached_property
    def _by_name(self) -> dict[str, Unit]:
        return {u.name: u for u in self.units}

    @cached_property
    def _order(self) -> dict[str, int]:
        return {u.name: n for n, u in enumerate(self.units)}

    @cached_property
    def _pred(self) -> dict[str, list[Edge]]:
        out: dict[str, list[Edge]] = {u.name: [] for u in self.units}
        for e in self.edges:
            out[e.target].append(e)
        return out

    @cached_property
    def _succ(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {u.name: [] for u in self.units}
        for e in self.edges:
            out[e.source].append(e.target)
        return {u: sorted(v, key=self._order.get) for u, v in out.items()}

    @cached_property
    def _edge(self) -> dict[tuple[str, str], Edge]:
        return {(e.source, e.target): e for e in self.edges}

    @cached_property
    def symbols(self) -> dict[sp.Basic, tuple[str, str]]:
        """Each quantity's symbol: (unit name, "a" | "z" | "delta" | "bias" | "target")."""
        out = {}
        for u in self.units:
            for kind in ("a", "z", "delta", "bias", "target"):
                s = getattr(u, kind)
                if s is not None:
                    out[s] = (u.name, kind)
        return out

    @cached_property
    def weights(self) -> dict[sp.Basic, Edge]:
        return {e.w: e for e in self.edges}

    @cached_property
    def owners(self) -> dict[sp.FunctionClass, str]:
        """The unit of each unit's own function and of its slope."""
        out = {}
        for u in self.units:
            if u.own is not None:
                out[u.own] = out[slope_function(u.own)] = u.name
        return out

    def unit(self, name: str) -> Unit:
        return self._by_name[name]

    def order(self, name: str) -> int:
        return self._order[name]

    def names(self) -> list[str]:
        """Every unit's name, in topological order."""
        return [u.name for u in self.units]

    def of_kind(self, kind: str) -> list[str]:
        return [u.name for u in self.units if u.kind == kind]

    @property
    def inputs(self) -> list[str]:
        return self.of_kind("input")

    @property
    def outputs(self) -> list[str]:
        return self.of_kind("output")

    @property
    def hidden(self) -> list[str]:
        return self.of_kind("hidden")

    @property
    def depth(self) -> int:
        return max(u.layer for u in self.units)

    def edges_into(self, name: str) -> list[Edge]:
        return self._pred[name]

    def pred(self, name: str) -> list[str]:
        return [e.source for e in self._pred[name]]

    def succ(self, name: str) -> list[str]:
        """The units `name` sends connections to, in topological order."""
        return self._succ[name]

    def edge(self, source: str, target: str) -> Edge | None:
        return self._edge.get((source, target))

    def skips(self, e: Edge) -> bool:
        """Whether an edge jumps over a layer (layers are longest paths from an input)."""
        return self.unit(e.target).layer > self.unit(e.source).layer + 1

    def group(self, name: str) -> tuple[str, ...]:
        """The units whose outputs this unit's weighted input reaches directly: itself, or
        every unit of its vector activation."""
        return self.unit(name).group or (name,)

    def descendants(self, names) -> set[str]:
        """Every unit reached from `names` (a name or several) by edges or through a
        vector activation's coupling, `names` excluded unless reached again."""
        return self._reach(names, "down")

    def ancestors(self, names) -> set[str]:
        """Every unit from which `names` is reached."""
        return self._reach(names, "up")

    def _reach(self, names, way: str) -> set[str]:
        names = [names] if isinstance(names, str) else list(names)
        return set().union(*(self._reach_one(u, way) for u in names)) if names else set()

    @cached_property
    def _reached(self) -> dict[tuple[str, str], frozenset[str]]:
        return {}

    def _reach_one(self, name: str, way: str) -> frozenset[str]:
        """The units reached from one unit, each unit's found once from its neighbours'."""
        key = (name, way)
        if key not in self._reached:
            step = self.succ if way == "down" else self.pred
            out: set[str] = set()
            todo = [name]
            while todo:
                u = todo.pop()
                for k in step(u) + [m for m in self.group(u) if m != u]:
                    if k not in out:
                        out.add(k)
                        todo.append(k)
            self._reached[key] = frozenset(out)
        return self._reached[key]

    def sort(self, names) -> list[str]:
        return sorted(names, key=self._order.get)

    # -- the forward equations, for display ------------------------------------------------
    def weighted_input(self, name: str, z: Callable[[str], sp.Expr] | None = None) -> sp.Expr:
        """a_u as the sum over the units u receives from, in order, plus the bias."""
        z = z or (lambda p: self.unit(p).z)
        terms = [sp.Mul(e.w, z(e.source), evaluate=False) for e in self.edges_into(name)]
        if self.unit(name).bias is not None:
            terms.append(self.unit(name).bias)
        return sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]

    def loss_value(self, y: list[sp.Expr] | None = None) -> sp.Expr:
        y = y if y is not None else [self.unit(k).z for k in self.outputs]
        return self.loss.value(y, [self.unit(k).target for k in self.outputs])

    def forward_equations(self) -> list[tuple[str, sp.Eq]]:
        """(unit, equation) for display: a_u and z_u of each unit, then the loss."""
        eqs = []
        for u in self.units:
            if u.kind == "input":
                continue
            eqs.append((u.name, sp.Eq(u.a, self.weighted_input(u.name), evaluate=False)))
            eqs.append((u.name, sp.Eq(u.z, u.written(u.a), evaluate=False)))
        eqs.append(("", sp.Eq(E, self.loss_value(), evaluate=False)))
        return eqs

    # -- the free variables -------------------------------------------------------------
    def variables(self) -> list[sp.Expr]:
        """What a point of the network gives values to: inputs, weights, biases, targets."""
        return ([self.unit(i).z for i in self.inputs] + [e.w for e in self.edges]
                + [u.bias for u in self.units if u.bias is not None]
                + [self.unit(k).target for k in self.outputs])

    def variable(self, q: sp.Basic) -> tuple[str, str] | None:
        """(name in the file, role) of one of the graph's own variables, else None; an
        abstract activation's value and slope at a unit count as variables too."""
        if q in self.labels:
            return self.labels[q]
        if isinstance(q, sp.Derivative) and getattr(q.expr, "func", None) in self.owners:
            return self.owners[q.expr.func], "activation slope"
        if isinstance(q, AppliedUndef) and q.func in self.owners:
            slope = q.func != self.unit(self.owners[q.func]).own
            return self.owners[q.func], "activation slope" if slope else "activation value"
        return None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "title": self.title, "loss": self.loss.name,
                "depth": self.depth,
                "units": [{"name": u.name, "role": u.kind, "layer": u.layer,
                           "activation": u.activation.name if u.activation else None,
                           "bias": self.labels[u.bias][0] if u.bias is not None else None}
                          for u in self.units],
                "edges": [{"from": e.source, "to": e.target, "weight": e.weight,
                           "skips_a_layer": self.skips(e)} for e in self.edges]}
