"""Feed-forward graphs: a network given as named units and edges, not as layers.

Bishop's (5.55) and (5.56) are stated for any feed-forward topology: the sum runs over the
units k that unit j sends connections to, whatever layer they are in. A graph file names
the units, the edges (each with its weight's name), each unit's activation, the inputs and
outputs, and the loss:

    a_u = sum_{i -> u} w_ui z_i + b_u,    z_u = f_u(a_u),    E = loss(z_outputs, t)

The truth every claim is proved against: delta_u := dE/da_u is defined by adding a
perturbation eps_u to the weighted input a_u of every non-input unit, substituting the
whole graph's forward pass into the loss, differentiating with respect to eps_u and
setting every eps to 0. That is the naive route the layered engine avoids (DESIGN.md,
"Locality"); a graph has at most MAX_UNITS units and MAX_EDGES edges, for which the
substitution is affordable, and it makes every claim an equation in the graph's own
variables (inputs, weights, biases, targets). So a counterexample is a point anyone can
check with a forward pass of their own. Proofs use two sound generalizations of that
truth (Truth: `cut` and `abstract`) that keep a deep graph's expressions small.

The file (TOML, at most 64 kB):

    title = "a skip connection"          # optional
    loss = "sse"                         # sse, bce, ce (bce and ce need sigmoid outputs)
    inputs = ["i1", "i2"]                # the input units: they hold the inputs x
    outputs = ["o"]                      # units compared with the targets t by the loss

    [units]                              # every other unit: activation, optional bias
    h1 = { activation = "tanh", bias = "b1" }
    o = { activation = "identity" }

    [[edges]]                            # one table per connection
    from = "i1"
    to = "h1"
    weight = "u1"

Unit names are letters and digits (they are written as subscripts: delta_{h1}); weight and
bias names are identifiers. Names are only ever compared and used as the names of SymPy
symbols; nothing in the file is evaluated.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from .activation import ACTIVATIONS, HIDDEN_ACTIVATIONS, Activation, KinkSide
from .errors import UsageError
from .expr import Partial
from .files import parse_toml, read_text
from .loss import LOSSES, Loss
from .proof import (DIGITS, BudgetExceeded, Condition, Counterexample, Domain, Instance,
                    Outcome, Verdict, prove, sample_point, time_budget)

MAX_UNITS = 24
MAX_EDGES = 96
MAX_TITLE = 200

UNIT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,11}")
PARAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,23}")
TOP_KEYS = ("title", "loss", "inputs", "outputs", "units", "edges")
UNIT_KEYS = ("activation", "bias")
EDGE_KEYS = ("from", "to", "weight")
# a unit's activation acts on that unit alone: softmax couples units, so it has no place
GRAPH_ACTIVATIONS = tuple(n for n in HIDDEN_ACTIVATIONS if ACTIVATIONS[n].elementwise)

CHECK_IDS = (
    "graph-output-delta",
    "graph-output-delta-canonical",
    "graph-hidden-delta",
    "graph-hidden-delta-chain",
    "graph-layered-naive",
    "graph-every-later-layer",
    "graph-weight-gradient",
    "graph-bias-gradient",
)

# The quantities of a graph: IndexedBases indexed by unit names, so that a claim is
# printed with the unit's name as its subscript. An input unit's output is its input.
A = sp.IndexedBase("ga", real=True)        # weighted input a_u
Z = sp.IndexedBase("gz", real=True)        # unit output z_u (x_i for an input, y_k for an output)
D = sp.IndexedBase("gdelta", real=True)    # delta_u = dE/da_u
W = sp.IndexedBase("gw", real=True)        # W[k, j]: the weight of the edge j -> k
B = sp.IndexedBase("gb", real=True)        # bias of a unit
T = sp.IndexedBase("gt", real=True)        # target of an output unit
E = sp.Symbol("E", real=True)


# -- the model --------------------------------------------------------------------------

@dataclass(frozen=True)
class Unit:
    name: str
    kind: str                       # "input", "hidden" or "output"
    activation: Activation | None   # None for an input
    bias: str | None
    layer: int                      # the longest path from an input


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    weight: str

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


@dataclass(frozen=True)
class Graph:
    """A validated feed-forward graph; `units` in topological order, inputs first."""

    source: str
    title: str
    loss: Loss
    units: tuple[Unit, ...]
    edges: tuple[Edge, ...]

    # -- structure ---------------------------------------------------------------------
    @cached_property
    def _by_name(self) -> dict[str, Unit]:
        return {u.name: u for u in self.units}

    def unit(self, name: str) -> Unit:
        return self._by_name[name]

    def names(self, kind: str | None = None) -> list[str]:
        return [u.name for u in self.units if kind is None or u.kind == kind]

    @property
    def inputs(self) -> list[str]:
        return self.names("input")

    @property
    def outputs(self) -> list[str]:
        return self.names("output")

    @property
    def hidden(self) -> list[str]:
        return self.names("hidden")

    @property
    def depth(self) -> int:
        return max(u.layer for u in self.units)

    def succ(self, name: str) -> list[str]:
        """The units `name` sends connections to, in topological order."""
        targets = {e.target for e in self.edges if e.source == name}
        return [u for u in self.names() if u in targets]

    def pred(self, name: str) -> list[str]:
        sources = {e.source for e in self.edges if e.target == name}
        return [u for u in self.names() if u in sources]

    def edge(self, source: str, target: str) -> Edge:
        return next(e for e in self.edges if e.source == source and e.target == target)

    def skips(self, e: Edge) -> bool:
        """Whether an edge jumps over a layer (layers are longest paths from an input)."""
        return self.unit(e.target).layer > self.unit(e.source).layer + 1

    def descendants(self, name: str) -> list[str]:
        seen: set[str] = set()
        todo = [name]
        while todo:
            for k in self.succ(todo.pop()):
                if k not in seen:
                    seen.add(k)
                    todo.append(k)
        return [u for u in self.names() if u in seen]

    # -- symbols -----------------------------------------------------------------------
    def index(self, name: str) -> sp.Integer:
        """A unit's position, counted from 1: distinct integers, so that SymPy knows
        w[o, h1] does not depend on w[o, h2] (two symbols might be equal)."""
        return sp.Integer(self.names().index(name) + 1)

    def name_of(self, i: sp.Expr) -> str:
        """The unit of an index."""
        return self.units[int(i) - 1].name

    def a(self, u: str) -> sp.Indexed:
        return A[self.index(u)]

    def z(self, u: str) -> sp.Indexed:
        return Z[self.index(u)]

    def delta(self, u: str) -> sp.Indexed:
        return D[self.index(u)]

    def w(self, e: Edge) -> sp.Indexed:
        return W[self.index(e.target), self.index(e.source)]

    def b(self, u: str) -> sp.Indexed:
        return B[self.index(u)]

    def t(self, k: str) -> sp.Indexed:
        return T[self.index(k)]

    @staticmethod
    def phi(u: str) -> sp.FunctionClass:
        """The undefined function that writes unit u's activation in claims."""
        return sp.Function(f"gphi_{u}", real=True)

    @staticmethod
    def dphi(u: str) -> sp.FunctionClass:
        """The derivative of an abstract activation, an undefined function of its own."""
        return sp.Function(f"dgphi_{u}", real=True)

    def value(self, u: str, x: sp.Expr) -> sp.Expr:
        """f_u(x): the unit's activation applied to an expression."""
        return self.unit(u).activation.values([x], self.phi(u))[0]

    def slope(self, u: str, x: sp.Expr) -> sp.Expr:
        """f_u'(x), by differentiating f_u (an abstract activation's is dphi_u)."""
        act = self.unit(u).activation
        if act.abstract:
            return self.dphi(u)(x)
        s = sp.Dummy("s", real=True)
        # subs, not xreplace: a ReLU's kink side is named by its argument (KinkSide._eval_subs)
        return sp.diff(act.scalar(s), s).subs(s, x)

    def weighted_input(self, u: str, outputs: dict[str, sp.Expr] | None = None) -> sp.Expr:
        """a_u as the sum over the units u receives from, in order, plus the bias."""
        terms = [sp.Mul(self.w(self.edge(p, u)), (outputs or {}).get(p, self.z(p)),
                        evaluate=False) for p in self.pred(u)]
        if self.unit(u).bias:
            terms.append(self.b(u))
        return sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]

    def loss_value(self, y: list[sp.Expr] | None = None) -> sp.Expr:
        y = y if y is not None else [self.z(k) for k in self.outputs]
        return self.loss.value(y, [self.t(k) for k in self.outputs])

    def forward_equations(self) -> list[tuple[str, sp.Eq]]:
        """(unit, equation) for display: a_u and z_u of each unit, then the loss."""
        eqs = []
        for u in self.names():
            if self.unit(u).kind == "input":
                continue
            eqs.append((u, sp.Eq(self.a(u), self.weighted_input(u), evaluate=False)))
            eqs.append((u, sp.Eq(self.z(u), self.phi(u)(self.a(u)), evaluate=False)))
        eqs.append(("", sp.Eq(E, self.loss_value(), evaluate=False)))
        return eqs

    def variable(self, q: sp.Basic) -> tuple[str, str] | None:
        """(name in the file, role) of one of the graph's own variables, else None."""
        if isinstance(q, sp.Indexed):
            names = [self.name_of(i) for i in q.indices]
            if q.base == W:
                return self.edge(names[1], names[0]).weight, "weight"
            if q.base == B:
                return self.unit(names[0]).bias, "bias"
            if q.base == Z and self.unit(names[0]).kind == "input":
                return names[0], "input"
            if q.base == T:
                return names[0], "target"
        if isinstance(q, AppliedUndef):
            m = re.fullmatch(r"(d?)gphi_(\w+)", q.func.__name__)
            if m:
                return m.group(2), "activation slope" if m.group(1) else "activation value"
        return None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "title": self.title, "loss": self.loss.name,
                "depth": self.depth,
                "units": [{"name": u.name, "role": u.kind, "layer": u.layer,
                           "activation": u.activation.name if u.activation else None,
                           "bias": u.bias} for u in self.units],
                "edges": [{"from": e.source, "to": e.target, "weight": e.weight,
                           "skips_a_layer": self.skips(e)} for e in self.edges]}


# -- reading and validating ---------------------------------------------------------------

def load_graph(path: str) -> Graph:
    """Read and validate a graph file: a regular file of at most 64 kB of UTF-8 TOML."""
    return parse_graph(read_text(path, what="graph"), source=path)


def parse_graph(text: str, *, source: str) -> Graph:
    """Validate a graph file's text; every problem is a UsageError that names it."""
    data = parse_toml(text, source=source, what="graph")
    return _Reader(data, source).graph()


def _quote(value: Any) -> str:
    s = repr(value)
    return s if len(s) <= 60 else s[:57] + "..."


class _Reader:
    def __init__(self, data: dict, source: str):
        self.data, self.source = data, source

    def fail(self, message: str) -> UsageError:
        return UsageError(f"{self.source}: {message}")

    def keys(self, table: dict, accepted: tuple[str, ...], where: str) -> None:
        for k in table:
            if k not in accepted:
                raise self.fail(f"{where}unknown key {k!r}; accepted keys: {', '.join(accepted)}")

    def string(self, value: Any, where: str, what: str) -> str:
        if not isinstance(value, str):
            raise self.fail(f"{where} must be {what}, got {_quote(value)}")
        return value

    def name(self, value: Any, where: str, pattern: re.Pattern, what: str) -> str:
        self.string(value, where, what)
        if not pattern.fullmatch(value):
            raise self.fail(f"{where} = {_quote(value)} is not {what}")
        return value

    def name_list(self, key: str) -> list[str]:
        value = self.data.get(key)
        what = "a list of unit names, e.g. [\"i1\", \"i2\"]"
        if not isinstance(value, list) or not value:
            raise self.fail(f"{key} must be {what}, got {_quote(value)}")
        names = [self.name(v, f"{key}[{n}]", UNIT_NAME, UNIT_WORDS) for n, v in enumerate(value, 1)]
        twice = next((v for n, v in enumerate(names) if v in names[:n]), None)
        if twice:
            raise self.fail(f"{key} names the unit {twice!r} twice; each unit once")
        return names

    def graph(self) -> Graph:
        data = self.data
        self.keys(data, TOP_KEYS, "")
        for key in ("loss", "inputs", "outputs", "units", "edges"):
            if key not in data:
                raise self.fail(f"missing key {key!r}; a graph needs {', '.join(TOP_KEYS[1:])}")
        title = data.get("title", "")
        if not isinstance(title, str) or len(title) > MAX_TITLE:
            raise self.fail(f"title must be a string of at most {MAX_TITLE} characters, "
                            f"got {_quote(title)}")
        loss_name = self.string(data["loss"], "loss", "a string")
        if loss_name not in LOSSES:
            raise self.fail(f"unknown loss {loss_name!r}; accepted: {', '.join(LOSSES)}")
        inputs = self.name_list("inputs")
        units = data["units"]
        if not isinstance(units, dict) or not units:
            raise self.fail(f"units must be a table of units, e.g. h1 = {{ activation = \"tanh\" }}, "
                            f"got {_quote(units)}")
        edges = data["edges"]
        if not isinstance(edges, list) or not edges:
            raise self.fail(f"edges must be a list of tables {{ from, to, weight }}, got {_quote(edges)}")
        if len(inputs) + len(units) > MAX_UNITS:
            raise self.fail(f"{len(inputs) + len(units)} units is beyond the bound of {MAX_UNITS}")
        if len(edges) > MAX_EDGES:
            raise self.fail(f"{len(edges)} edges is beyond the bound of {MAX_EDGES}")

        declared: dict[str, tuple[Activation, str | None]] = {}
        for name, spec in units.items():
            where = f"units.{name}"
            self.name(name, "units: the name", UNIT_NAME, UNIT_WORDS)
            if name in inputs:
                raise self.fail(f"{name!r} is an input and also in [units]; an input has no "
                                "activation and no bias, so it is listed in inputs only")
            if not isinstance(spec, dict):
                raise self.fail(f"{where} must be a table such as {{ activation = \"tanh\" }}, "
                                f"got {_quote(spec)}")
            self.keys(spec, UNIT_KEYS, f"{where}: ")
            if "activation" not in spec:
                raise self.fail(f"{where}: missing key 'activation'; accepted: "
                                f"{', '.join(GRAPH_ACTIVATIONS)}")
            act = self.string(spec["activation"], f"{where}.activation", "a string")
            if act not in GRAPH_ACTIVATIONS:
                if act in ACTIVATIONS:
                    raise self.fail(f"{where}.activation = {act!r} couples all units of a layer, "
                                    "and a graph's units form no layers to couple; accepted: "
                                    f"{', '.join(GRAPH_ACTIVATIONS)}")
                raise self.fail(f"{where}.activation: unknown activation {act!r}; accepted: "
                                f"{', '.join(GRAPH_ACTIVATIONS)}")
            bias = spec.get("bias")
            if bias is not None:
                bias = self.name(bias, f"{where}.bias", PARAM_NAME, PARAM_WORDS)
            declared[name] = (ACTIVATIONS[act], bias)

        every = inputs + list(declared)
        outputs = self.name_list("outputs")
        for k in outputs:
            if k in inputs:
                raise self.fail(f"outputs: {k!r} is an input; an output is one of the units "
                                f"of [units]: {', '.join(declared)}")
            if k not in declared:
                raise self.fail(f"outputs: {k!r} is not a unit; units: {', '.join(declared)}")

        read: list[Edge] = []
        params: dict[str, str] = {}
        for name, (_, bias) in declared.items():
            if bias is not None:
                if bias in params:
                    raise self.fail(f"bias name {bias!r} is used by units {params[bias]} and "
                                    f"{name}; every weight and bias needs its own name")
                params[bias] = f"unit {name}"
        for n, e in enumerate(edges, 1):
            where = f"edges[{n}]"
            if not isinstance(e, dict):
                raise self.fail(f"{where} must be a table {{ from, to, weight }}, got {_quote(e)}")
            self.keys(e, EDGE_KEYS, f"{where}: ")
            for key in EDGE_KEYS:
                if key not in e:
                    raise self.fail(f"{where}: missing key {key!r}; an edge needs "
                                    f"{', '.join(EDGE_KEYS)}")
            src = self.string(e["from"], f"{where}.from", "a unit name")
            dst = self.string(e["to"], f"{where}.to", "a unit name")
            weight = self.name(e["weight"], f"{where}.weight", PARAM_NAME, PARAM_WORDS)
            for end, unit in (("starts at", src), ("ends at", dst)):
                if unit not in every:
                    raise self.fail(f"{where} ({_quote(src)} -> {_quote(dst)}) {end} the unknown "
                                    f"unit {_quote(unit)}; units: {', '.join(every)}")
            if dst in inputs:
                raise self.fail(f"{where} ({src} -> {dst}) goes into the input {dst!r}; an input "
                                f"receives no edges; edges may end at: {', '.join(declared)}")
            if src in outputs:
                raise self.fail(f"{where} ({src} -> {dst}) leaves the output {src!r}; an output "
                                "feeds only the loss, so no edge starts at one")
            if any(x.source == src and x.target == dst for x in read):
                raise self.fail(f"{where} ({src} -> {dst}) is given twice; one edge a pair of units")
            if weight in params:
                raise self.fail(f"weight name {weight!r} is used by {params[weight]} and by edge "
                                f"{src} -> {dst}; every weight and bias needs its own name "
                                "(shared weights are not supported)")
            params[weight] = f"edge {src} -> {dst}"
            read.append(Edge(src, dst, weight))

        succ = {u: [e.target for e in read if e.source == u] for u in every}
        cycle = _find_cycle(every, succ)
        if cycle:
            raise self.fail(f"the edges form a cycle: {' -> '.join(cycle)}; a feed-forward graph "
                            "has none (remove one of these edges)")
        reached = set(inputs)
        todo = list(inputs)
        while todo:
            for v in succ[todo.pop()]:
                if v not in reached:
                    reached.add(v)
                    todo.append(v)
        for k in outputs:
            if k not in reached:
                raise self.fail(f"output {k!r} has no path from an input; inputs: "
                                f"{', '.join(inputs)}")
        for u in declared:
            if not any(e.target == u for e in read):
                raise self.fail(f"unit {u!r} has no incoming edge and is not an input; every "
                                "unit but the inputs receives at least one edge (or list it "
                                "in inputs)")
        for u in every:
            if u not in outputs and not succ[u]:
                kind = "input" if u in inputs else "unit"
                raise self.fail(f"{kind} {u!r} feeds nothing and is not an output; every unit "
                                "but the outputs sends at least one edge (or list it in outputs)")
        loss = LOSSES[loss_name]
        if loss.needs_unit_interval:
            fits = [n for n in GRAPH_ACTIVATIONS if ACTIVATIONS[n].unit_interval]
            for k in outputs:
                act = declared[k][0]
                if not act.unit_interval:
                    raise self.fail(f"loss {loss_name!r} takes logarithms of the outputs, which "
                                    f"output {k!r} with activation {act.name!r} does not keep in "
                                    f"(0, 1); give every output the activation {', '.join(fits)}")

        layer = {u: 0 for u in inputs}
        order = list(inputs)
        pending = [u for u in declared]
        while pending:  # acyclic, so every round places at least one unit
            ready = [u for u in pending if all(e.source in layer for e in read if e.target == u)]
            for u in ready:
                layer[u] = 1 + max(layer[e.source] for e in read if e.target == u)
            pending = [u for u in pending if u not in ready]
            order += ready
        order.sort(key=lambda u: (layer[u], every.index(u)))
        built = tuple(Unit(u, "input", None, None, 0) if u in inputs else
                      Unit(u, "output" if u in outputs else "hidden", declared[u][0],
                           declared[u][1], layer[u]) for u in order)
        return Graph(self.source, title, loss, built, tuple(read))


UNIT_WORDS = "a unit name (a letter, then up to 11 letters or digits, e.g. h1)"
PARAM_WORDS = "a weight or bias name (a letter, then up to 23 letters, digits or _, e.g. w_h1_i1)"


def _find_cycle(names: list[str], succ: dict[str, list[str]]) -> list[str] | None:
    """A cycle of the edges as a list of units, first repeated at the end, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        path.append(u)
        for v in succ[u]:
            if state.get(v) == 1:
                return path[path.index(v):] + [v]
            if v not in state:
                found = visit(v)
                if found:
                    return found
        state[u] = 2
        path.pop()
        return None

    for u in names:
        if u not in state:
            found = visit(u)
            if found:
                return found
    return None


# -- the truth: the whole forward pass, perturbed -----------------------------------------

class Truth:
    """dE/d(anything) by substituting the forward pass into the loss.

    Every non-input unit's weighted input carries a perturbation eps_u; delta_u is
    dE/d eps_u at eps = 0, and the total derivative da_k/da_j along every path is
    d a_k / d eps_j at eps = 0. Results are cached.

    Two generalizations keep a proof's expressions small; each proves the claim for more
    networks than the given one, so it proves it for the given one, and neither is used
    when a claim fails (a counterexample is always a point of the real network):

    - `cut`: a claim about unit c (or an edge into c) only involves c and the units c
      influences; nothing else depends on eps_c or on the weights into c. With a cut, the
      outputs of every other unit stay symbols z_p, independent of each other, and the
      forward pass is substituted from c on: the part above c only adds depth.
    - `abstract`: every hidden unit's activation is an undefined function, its value and
      slope atoms of the normal form, as the layered engine's abstract activation. Nested
      exponentials of sigmoid and tanh units otherwise make the normal form of a deep
      graph grow past any budget. Output units keep their activation, which the loss
      and the canonical delta y - t depend on.
    """

    def __init__(self, graph: Graph, cut: str | None = None, *, abstract: bool = False):
        g = self.graph = graph
        self.abstract = abstract
        self.below = set(g.names()) if cut is None else {cut, *g.descendants(cut)}
        self.eps = {u: sp.Symbol(f"eps_{u}", real=True) for u in g.names()
                    if g.unit(u).kind != "input" and u in self.below}
        self.zero = {e: sp.Integer(0) for e in self.eps.values()}
        self.a_eps: dict[str, sp.Expr] = {}
        z: dict[str, sp.Expr] = {}
        for u in g.names():
            if g.unit(u).kind == "input" or u not in self.below:
                z[u] = g.z(u)  # an input, or a unit held as a symbol above the cut
                continue
            self.a_eps[u] = sp.Add(*[g.w(g.edge(p, u)) * z[p] for p in g.pred(u)],
                                   g.b(u) if g.unit(u).bias else 0, self.eps[u])
            z[u] = self.value(u, self.a_eps[u])
        self.z_eps = z
        self.E_eps = g.loss_value([z[k] for k in g.outputs])
        self._cache: dict[tuple, sp.Expr] = {}

    def _undefined(self, u: str) -> bool:
        return self.abstract and self.graph.unit(u).kind == "hidden"

    def value(self, u: str, x: sp.Expr) -> sp.Expr:
        return self.graph.phi(u)(x) if self._undefined(u) else self.graph.value(u, x)

    def slope(self, u: str, x: sp.Expr) -> sp.Expr:
        return self.graph.dphi(u)(x) if self._undefined(u) else self.graph.slope(u, x)

    def at_zero(self, expr: sp.Expr) -> sp.Expr:
        """eps = 0, with each abstract slope written dphi_u(x) and each ReLU's side
        renamed by its argument at eps = 0 (a side is named by its argument)."""
        expr = _slopes(expr)
        kinks = {k: KinkSide(self.at_zero(k.of)) for k in expr.atoms(KinkSide)
                 if k.of.has(*self.eps.values())}
        return expr.xreplace({**self.zero, **kinks})

    def _cached(self, key: tuple, make) -> sp.Expr:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def a(self, u: str) -> sp.Expr:
        return self._cached(("a", u), lambda: self.at_zero(self.a_eps[u]))

    def z(self, u: str) -> sp.Expr:
        if u not in self.a_eps:
            return self.z_eps[u]
        return self._cached(("z", u), lambda: self.at_zero(self.z_eps[u]))

    def delta(self, u: str) -> sp.Expr:
        """delta_u = dE/da_u: the loss differentiated by the perturbation of a_u."""
        return self._cached(("delta", u), lambda: self.at_zero(sp.diff(self.E_eps, self.eps[u])))

    def total(self, k: str, j: str) -> sp.Expr:
        """da_k/da_j along every path from j to k."""
        return self._cached(("total", k, j),
                            lambda: self.at_zero(sp.diff(self.a_eps[k], self.eps[j])))

    def gradient(self, p: sp.Indexed) -> sp.Expr:
        """dE/dp for a weight or a bias."""
        return self._cached(("grad", p), lambda: self.at_zero(sp.diff(self.E_eps, p)))

    def loss_slope(self, k: str) -> sp.Expr:
        """dE/dy_k: the loss differentiated by an output, at the forward pass."""
        g = self.graph

        def make():
            y = [g.z(o) for o in g.outputs]
            d = sp.diff(g.loss_value(y), g.z(k))
            return d.xreplace({g.z(o): self.z(o) for o in g.outputs})
        return self._cached(("dE/dy", k), make)


def _slopes(expr: sp.Expr) -> sp.Expr:
    """SymPy writes f'(x) of an undefined f at an expression as Subs(Derivative(f(s), s),
    s, x); write it dphi_u(x), an atom of the normal form like f(x) itself."""
    def is_abstract(e: sp.Basic) -> bool:
        return isinstance(e, AppliedUndef) and e.func.__name__.startswith("gphi_")

    def dphi(f: AppliedUndef) -> sp.FunctionClass:
        return sp.Function("d" + f.func.__name__, real=True)

    expr = expr.replace(
        lambda e: isinstance(e, sp.Subs) and isinstance(e.expr, sp.Derivative)
        and is_abstract(e.expr.expr),
        lambda e: dphi(e.expr.expr)(*[e.point[e.variables.index(v)] if v in e.variables else v
                                      for v in e.expr.expr.args]))
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and is_abstract(e.expr),
                        lambda e: dphi(e.expr)(*e.expr.args))


# -- claims -------------------------------------------------------------------------------

class Total(Partial):
    """da_k/da_j: the total derivative along every path, written d, not the partial."""

    def _bpcheck_latex(self, printer) -> str:
        return rf"\frac{{d {printer._print(self.num)}}}{{d {printer._print(self.den)}}}"

    def _bpcheck_text(self, printer) -> str:
        return f"d{printer._print(self.num)}/d{printer._print(self.den)}"


@dataclass(frozen=True)
class GraphClaim:
    """An equation about one unit or one edge, in the graph's quantities."""

    id: str
    equation: sp.Eq
    source: str
    unit: str | None = None
    edge: Edge | None = None
    note: str = ""

    @property
    def about(self) -> str:
        return self.unit if self.unit is not None else str(self.edge)


@dataclass(frozen=True)
class GraphCheck:
    claim: GraphClaim
    outcome: Outcome


def _sum(terms: list[sp.Expr]) -> sp.Expr:
    if not terms:
        return sp.Integer(0)
    return terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)


def _mul(*factors: sp.Expr) -> sp.Expr:
    return sp.Mul(*factors, evaluate=False)


def graph_claims(g: Graph) -> list[GraphClaim]:
    """Every claim the report decides, outputs first, then hidden units from the output
    side, then each edge and each bias."""
    claims: list[GraphClaim] = []
    slope = lambda u: sp.Derivative(g.phi(u)(g.a(u)), g.a(u))
    for k in g.outputs:
        claims.append(GraphClaim("graph-output-delta", sp.Eq(
            g.delta(k), _mul(Partial(E, g.z(k)), slope(k)), evaluate=False),
            "the chain rule at an output (Nielsen BP1)", unit=k))
        claims.append(GraphClaim("graph-output-delta-canonical", sp.Eq(
            g.delta(k), sp.Add(g.z(k), -g.t(k), evaluate=False), evaluate=False),
            "Bishop (5.54)", unit=k,
            note="holds for the canonical pairs: identity with sse, sigmoid with bce"))
    for j in reversed(g.hidden):
        succ = g.succ(j)
        claims.append(GraphClaim("graph-hidden-delta", sp.Eq(
            g.delta(j), _mul(slope(j), _sum([_mul(g.w(g.edge(j, k)), g.delta(k)) for k in succ])),
            evaluate=False), "Bishop (5.56)", unit=j,
            note=f"the sum over the units {j} sends connections to: {', '.join(succ)}"))
        claims.append(GraphClaim("graph-hidden-delta-chain", sp.Eq(
            g.delta(j), _sum([_mul(Partial(E, g.a(k)), Partial(g.a(k), g.a(j))) for k in succ]),
            evaluate=False), "Bishop (5.55)", unit=j,
            note=f"each factor taken along the one edge from {j}"))
        nxt = [k for k in succ if g.unit(k).layer == g.unit(j).layer + 1]
        skipping = [g.edge(j, k) for k in succ if k not in nxt]
        if skipping:
            note = ("the skip " + ("edge " if len(skipping) == 1 else "edges ")
                    + ", ".join(map(str, skipping)) + " left out")
        else:
            note = f"no edge of {j} skips a layer: the layered formula is (5.56) here"
        claims.append(GraphClaim("graph-layered-naive", sp.Eq(
            g.delta(j), _mul(slope(j), _sum([_mul(g.w(g.edge(j, k)), g.delta(k)) for k in nxt]))
            if nxt else sp.Integer(0), evaluate=False),
            f"the layered (5.56), summed over layer {g.unit(j).layer + 1} only", unit=j, note=note))
        later = g.descendants(j)
        layers = sorted({g.unit(k).layer for k in later})
        if len(layers) > 1:
            note = ("the paths through later units are counted again: each total derivative "
                    "already contains them")
        else:
            note = f"every unit {j} reaches is one edge away: the sum is (5.55) here"
        claims.append(GraphClaim("graph-every-later-layer", sp.Eq(
            g.delta(j), _sum([_mul(g.delta(k), Total(g.a(k), g.a(j))) for k in later]),
            evaluate=False),
            "the seed question: a sum over every later layer ("
            + ("layers " if len(layers) > 1 else "layer ") + ", ".join(map(str, layers)) + ")",
            unit=j, note=note))
    for e in g.edges:
        claims.append(GraphClaim("graph-weight-gradient", sp.Eq(
            Partial(E, g.w(e)), _mul(g.delta(e.target), g.z(e.source)), evaluate=False),
            "Bishop (5.53)", edge=e, note="a skip edge" if g.skips(e) else ""))
    for u in g.names():
        if g.unit(u).bias:
            claims.append(GraphClaim("graph-bias-gradient", sp.Eq(
                Partial(E, g.b(u)), g.delta(u), evaluate=False),
                "Bishop (5.53) with z_0 = 1", unit=u))
    return claims


# -- proving ------------------------------------------------------------------------------

class GraphDerivation:
    """Every claim of a graph, decided against the truth.

    >>> g = parse_graph('''loss = "sse"
    ... inputs = ["x"]
    ... outputs = ["o"]
    ... units = { h = { activation = "tanh" }, o = { activation = "identity" } }
    ... edges = [{ from = "x", to = "h", weight = "u" }, { from = "h", to = "o", weight = "v" },
    ...          { from = "x", to = "o", weight = "s" }]''', source="tiny.toml")
    >>> d = GraphDerivation(g)
    >>> str(d.check("graph-hidden-delta", "h").outcome.verdict)
    'proved'
    """

    def __init__(self, graph: Graph, *, budget: float | None = 30.0):
        self.graph, self.budget = graph, budget
        self._truths: dict[tuple[str | None, bool], Truth] = {}
        self.checks = [GraphCheck(c, self.prove(c)) for c in graph_claims(graph)]

    def check(self, id: str, about: str) -> GraphCheck:
        for c in self.checks:
            if c.claim.id == id and c.claim.about == about:
                return c
        raise KeyError((id, about))

    def truth(self, cut: str | None = None, *, abstract: bool = False) -> Truth:
        """The truth with the forward pass substituted from `cut` on (None: the whole),
        with the hidden activations undefined functions if `abstract` (see Truth)."""
        if (cut, abstract) not in self._truths:
            self._truths[cut, abstract] = Truth(self.graph, cut, abstract=abstract)
        return self._truths[cut, abstract]

    # -- what the written symbols mean ------------------------------------------------------
    def meaning(self, expr: sp.Expr, *, cut: str | None = None, abstract: bool = False) -> sp.Expr:
        """The expression in the graph's own variables: by default the whole forward pass
        with every activation as it is (see Truth for `cut` and `abstract`)."""
        g, tr = self.graph, self.truth(cut, abstract=abstract)
        m: dict[sp.Basic, sp.Expr] = {}
        for e in sp.preorder_traversal(expr):
            if e in m:
                continue
            if isinstance(e, Total):
                m[e] = tr.total(g.name_of(e.num.indices[0]), g.name_of(e.den.indices[0]))
            elif isinstance(e, Partial):
                m[e] = self._partial(e.num, e.den, tr)
            elif isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef):
                u = g.name_of(e.variables[0].indices[0])
                m[e] = tr.slope(u, tr.a(u))
            elif isinstance(e, AppliedUndef) and e.func.__name__.startswith("gphi_"):
                m[e] = tr.z(g.name_of(e.args[0].indices[0]))
            elif isinstance(e, sp.Indexed):
                u = g.name_of(e.indices[0])
                if e.base == A:
                    m[e] = tr.a(u)
                elif e.base == Z and g.unit(u).kind != "input":
                    m[e] = tr.z(u)
                elif e.base == D:
                    m[e] = tr.delta(u)
        return expr.xreplace(m)

    def _partial(self, num: sp.Expr, den: sp.Expr, tr: Truth) -> sp.Expr:
        g = self.graph
        name = lambda q: g.name_of(q.indices[0])
        if num == E and den.base == Z:
            return tr.loss_slope(name(den))
        if num == E and den.base == A:
            return tr.delta(name(den))
        if num == E:  # a weight or a bias
            return tr.gradient(den)
        k, j = name(num), name(den)
        # Bishop's da_k/da_j with everything else held fixed: along the one edge j -> k
        if j not in g.pred(k):
            return sp.Integer(0)
        return g.w(g.edge(j, k)) * tr.slope(j, tr.a(j))

    # -- deciding ---------------------------------------------------------------------------
    def _domain(self) -> tuple[Domain, tuple[Condition, ...]]:
        g = self.graph
        t = tuple(g.t(k) for k in g.outputs)
        domain = Domain(t, simplex=g.loss.targets_sum_to_one,
                        unit_interval=g.loss.needs_unit_interval)
        if not g.loss.targets_sum_to_one:
            return domain, ()
        return domain, (Condition(sp.Eq(sp.Add(*t, evaluate=False), 1),
                                  ((t[-1], 1 - sp.Add(*t[:-1])),)),)

    def prove(self, claim: GraphClaim) -> Outcome:
        """Decide a claim; building its truth counts against the same time budget.

        The normal form decides, on the truth cut at the claim's unit (see Truth). A few
        random points of the graph's own variables are tried first: where the two sides
        differ at one, the claim is refuted there and then (a false claim's normal form
        can be large, and the point is all a refutation needs)."""
        cut = claim.unit if claim.unit is not None else claim.edge.target
        try:
            with time_budget(self.budget):
                inst = Instance((), self.meaning(claim.equation.lhs, cut=cut, abstract=True),
                                self.meaning(claim.equation.rhs, cut=cut, abstract=True))
                domain, conditions = self._domain()
                outcome = self._probe(inst, domain, tries=1)
                if outcome is None:
                    outcome = prove([inst], conditions=conditions, domain=domain, budget=None)
                    # a point of the normal form's own gives the held outputs independent
                    # values; a counterexample must be a point of the network
                    if outcome.verdict is Verdict.REFUTED:
                        outcome = self._probe(inst, domain, tries=12) or Outcome(
                            Verdict.UNDECIDED, note="the normal form is not zero, but no "
                            "point where the sides differ was found", residual=outcome.residual)
                return self._kinked(outcome, claim)
        except BudgetExceeded:
            return Outcome(Verdict.UNDECIDED, note=f"the time budget of {self.budget:g} s ran out")

    def _sample(self, rng: random.Random, domain: Domain) -> dict[sp.Basic, sp.Expr]:
        """A point of the graph's own variables: inputs, weights, biases, targets (in the
        loss's domain); an abstract unit's activation value and slope get values too."""
        g = self.graph
        variables = ([g.z(i) for i in g.inputs] + [g.w(e) for e in g.edges]
                     + [g.b(u) for u in g.names() if g.unit(u).bias]
                     + [g.t(k) for k in g.outputs])
        point = sample_point(variables, rng, domain)
        for u in g.names():
            act = g.unit(u).activation
            if act is not None and act.abstract:
                for f in (g.phi(u), g.dphi(u)):
                    point[f(g.a(u))] = sp.Rational(rng.choice([-3, -2, -1, 1, 2, 3]),
                                                   rng.choice([1, 2, 3, 4]))
        return point

    def values(self, point: dict, *, exact: bool = False) -> dict[sp.Basic, sp.Expr]:
        """The point's values and, by a forward pass of the real network, every unit's
        output z_u (the value of a symbol held above a cut) and its activation's value
        and slope at a_u (the values of the atoms of an abstract proof)."""
        g = self.graph
        values = {q: v if exact else sp.N(v, 60) for q, v in point.items()}
        for u in g.names():
            unit = g.unit(u)
            if unit.kind == "input":
                continue
            a = sp.Add(*[values[g.w(g.edge(p, u))] * values[g.z(p)] for p in g.pred(u)],
                       values[g.b(u)] if unit.bias else 0)
            act, value, slope = unit.activation, g.phi(u)(g.a(u)), g.dphi(u)(g.a(u))
            if act.kink:  # a side is 1 or 0 by the sign: not a SymPy function of a
                values[value], values[slope] = (a, sp.Integer(1)) if a > 0 else (sp.Integer(0),) * 2
            elif not act.abstract:
                values[value], values[slope] = act.scalar(a), _slope_of(act.name)(a)
            values[g.z(u)] = values[value]
        return values

    def at_point(self, expr: sp.Expr, values: dict) -> sp.Expr:
        """An expression of the engine's (a truth, cut or abstract or neither) at a point
        given by `values`, each ReLU's side the sign of its argument there."""
        sides: dict[KinkSide, sp.Integer] = {}
        for k in _kinks((expr,)):  # innermost first
            v = _at(self.graph, k.of, values, sides)
            sides[k] = sp.Integer(1 if v.is_number and v > 0 else 0)
        return _at(self.graph, expr, values, sides)

    def _probe(self, inst: Instance, domain: Domain, *, tries: int) -> Outcome | None:
        """Refuted at a random point of the network where the sides differ, or None.

        Values are exact where every activation keeps them rational (identity, ReLU, an
        abstract one's sampled values); otherwise 60-digit floats, which SymPy carries
        through every exp at once (exact nested exponentials are slow to evaluate)."""
        g = self.graph
        rng = random.Random(0)
        exact = all(u.activation is None or u.activation.abstract or u.activation.kink
                    or u.activation.name == "identity" for u in g.units)
        for _ in range(tries):
            point = self._sample(rng, domain)
            values = self.values(point, exact=exact)
            lhs, rhs = self.at_point(inst.lhs, values), self.at_point(inst.rhs, values)
            d = lhs - rhs
            if not (d.is_number and d.is_finite and d.is_real) or abs(d) <= sp.Float(10) ** -DIGITS:
                continue
            if not exact:
                lhs, rhs = sp.Float(lhs, DIGITS), sp.Float(rhs, DIGITS)
            return Outcome(Verdict.REFUTED, counterexample=Counterexample(
                (), tuple(point.items()), lhs, rhs, bool(lhs.is_Rational and rhs.is_Rational)))
        return None

    def _kinked(self, outcome: Outcome, claim: GraphClaim) -> Outcome:
        """A proof through ReLUs holds on each side of their kinks, not at them: say so."""
        g = self.graph
        start = claim.unit if claim.unit is not None else claim.edge.target
        relus = [u for u in [start] + g.descendants(start) if g.unit(u).activation.kink]
        if outcome.verdict is not Verdict.PROVED or not relus:
            return outcome
        return Outcome(outcome.verdict, outcome.conditions + tuple(sp.Ne(g.a(u), 0) for u in relus),
                       note=(outcome.note + "; " if outcome.note else "")
                       + "ReLU is not differentiable at 0: proved on each side of the kink")


@lru_cache(maxsize=None)
def _slope_of(name: str):
    """f' of a concrete activation as a function, differentiated once."""
    s = sp.Dummy("s", real=True)
    d = sp.diff(ACTIVATIONS[name].scalar(s), s)
    return lambda x: d.xreplace({s: x})


def _at(g: Graph, expr: sp.Expr, values: dict, sides: dict) -> sp.Expr:
    """An expression at a point: an abstract activation at any argument is its value at
    the unit's weighted input (there is one weighted input a unit, whatever its form)."""
    def value(e: AppliedUndef) -> sp.Expr:
        u, role = g.variable(e)
        f = g.dphi(u) if role == "activation slope" else g.phi(u)
        return values[f(g.a(u))]

    expr = expr.replace(lambda e: isinstance(e, AppliedUndef) and g.variable(e) is not None, value)
    return expr.xreplace({**values, **sides})


def _kinks(exprs) -> list[KinkSide]:
    """Every ReLU side in the expressions and in the arguments of sides, innermost first."""
    found: dict[KinkSide, int] = {}

    def depth(k: KinkSide) -> int:
        if k not in found:
            found[k] = 1 + max((depth(x) for x in k.of.atoms(KinkSide)), default=0)
        return found[k]

    for e in exprs:
        for k in e.atoms(KinkSide):
            depth(k)
    return sorted(found, key=lambda k: (found[k], str(k)))
