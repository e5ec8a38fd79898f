"""A graph file: a network given as named units and edges, read and validated.

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
symbols; nothing in the file is evaluated. Every problem is a UsageError that names it.
"""
from __future__ import annotations

import re
from typing import Any

import sympy as sp

from ..model.activation import ACTIVATIONS, Activation
from ..model.graph import Edge, Graph, Unit, own_function
from ..model.loss import LOSSES
from ..model.names import HIDDEN_ACTIVATIONS
from .fields import Fields, quoted
from .files import parse_toml, read_text

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

# The quantities of a graph: IndexedBases indexed by unit position, so that a claim is
# printed with the unit's name as its subscript. An input unit's output is its input.
A = sp.IndexedBase("ga", real=True)        # weighted input a_u
Z = sp.IndexedBase("gz", real=True)        # unit output z_u (x_i for an input, y_k for an output)
D = sp.IndexedBase("gdelta", real=True)    # delta_u = dE/da_u
W = sp.IndexedBase("gw", real=True)        # W[k, j]: the weight of the edge j -> k
B = sp.IndexedBase("gb", real=True)        # bias of a unit
T = sp.IndexedBase("gt", real=True)        # target of an output unit
BASES = (A, B, D, T, W, Z)


def load_graph(path: str) -> Graph:
    """Read and validate a graph file: a regular file of at most 64 kB of UTF-8 TOML."""
    return parse_graph(read_text(path, what="graph"), source=path)


def parse_graph(text: str, *, source: str) -> Graph:
    """Validate a graph file's text; every problem is a UsageError that names it."""
    data = parse_toml(text, source=source, what="graph")
    return _Reader(data, source).graph()


class _Reader(Fields):
    """A graph file's table, read by type (io/fields.py), then checked as a graph."""

    def __init__(self, data: dict, source: str):
        super().__init__(data, source=source)

    def name_list(self, key: str) -> list[str]:
        value = self.data.get(key)
        what = "a list of unit names, e.g. [\"i1\", \"i2\"]"
        if not isinstance(value, list) or not value:
            raise self.fail(f"{key} must be {what}, got {quoted(value)}")
        names = [self.name(v, f"{key}[{n}]", UNIT_NAME, UNIT_WORDS) for n, v in enumerate(value, 1)]
        twice = next((v for n, v in enumerate(names) if v in names[:n]), None)
        if twice:
            raise self.fail(f"{key} names the unit {twice!r} twice; each unit once")
        return names

    def graph(self) -> Graph:
        title, loss_name = self._top()
        self.inputs = self.name_list("inputs")
        self._sizes()
        self.declared = {name: self._unit(name, spec) for name, spec in self.data["units"].items()}
        self.every = self.inputs + list(self.declared)
        self.outputs = self._outputs()
        self.read = self._edges()
        self._structure()
        loss = self._loss(loss_name)
        order, layer = self._layers()
        return _build(self.source, title, loss, order, self.inputs, self.outputs,
                      self.declared, self.read, layer)

    def _top(self) -> tuple[str, str]:
        data = self.data
        self.keys(data, TOP_KEYS)
        for key in ("loss", "inputs", "outputs", "units", "edges"):
            if key not in data:
                raise self.fail(f"missing key {key!r}; a graph needs {', '.join(TOP_KEYS[1:])}")
        title = data.get("title", "")
        if not isinstance(title, str) or len(title) > MAX_TITLE:
            raise self.fail(f"title must be a string of at most {MAX_TITLE} characters, "
                            f"got {quoted(title)}")
        loss_name = self.text(data["loss"], "loss", "a string")
        if loss_name not in LOSSES:
            raise self.fail(f"unknown loss {loss_name!r}; accepted: {', '.join(LOSSES)}")
        return title, loss_name

    def _sizes(self) -> None:
        units, edges = self.data["units"], self.data["edges"]
        if not isinstance(units, dict) or not units:
            raise self.fail(f"units must be a table of units, e.g. h1 = {{ activation = \"tanh\" }}, "
                            f"got {quoted(units)}")
        if not isinstance(edges, list) or not edges:
            raise self.fail(f"edges must be a list of tables {{ from, to, weight }}, got {quoted(edges)}")
        if len(self.inputs) + len(units) > MAX_UNITS:
            raise self.fail(f"{len(self.inputs) + len(units)} units is beyond the bound of {MAX_UNITS}")
        if len(edges) > MAX_EDGES:
            raise self.fail(f"{len(edges)} edges is beyond the bound of {MAX_EDGES}")

    def _unit(self, name: Any, spec: Any) -> tuple[Activation, str | None]:
        where = f"units.{name}"
        self.name(name, "units: the name", UNIT_NAME, UNIT_WORDS)
        if name in self.inputs:
            raise self.fail(f"{name!r} is an input and also in [units]; an input has no "
                            "activation and no bias, so it is listed in inputs only")
        if not isinstance(spec, dict):
            raise self.fail(f"{where} must be a table such as {{ activation = \"tanh\" }}, "
                            f"got {quoted(spec)}")
        self.keys(spec, UNIT_KEYS, f"{where}: ")
        if "activation" not in spec:
            raise self.fail(f"{where}: missing key 'activation'; accepted: "
                            f"{', '.join(GRAPH_ACTIVATIONS)}")
        act = self.text(spec["activation"], f"{where}.activation", "a string")
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
        return ACTIVATIONS[act], bias

    def _outputs(self) -> list[str]:
        outputs = self.name_list("outputs")
        for k in outputs:
            if k in self.inputs:
                raise self.fail(f"outputs: {k!r} is an input; an output is one of the units "
                                f"of [units]: {', '.join(self.declared)}")
            if k not in self.declared:
                raise self.fail(f"outputs: {k!r} is not a unit; units: {', '.join(self.declared)}")
        return outputs

    def _edges(self) -> list[Edge]:
        read: list[Edge] = []  # w is set when the graph is built
        params: dict[str, str] = {}
        for name, (_, bias) in self.declared.items():
            if bias is not None:
                if bias in params:
                    raise self.fail(f"bias name {bias!r} is used by units {params[bias]} and "
                                    f"{name}; every weight and bias needs its own name")
                params[bias] = f"unit {name}"
        for n, e in enumerate(self.data["edges"], 1):
            read.append(self._edge(f"edges[{n}]", e, read, params))
        return read

    def _edge(self, where: str, e: Any, read: list[Edge], params: dict[str, str]) -> Edge:
        if not isinstance(e, dict):
            raise self.fail(f"{where} must be a table {{ from, to, weight }}, got {quoted(e)}")
        self.keys(e, EDGE_KEYS, f"{where}: ")
        for key in EDGE_KEYS:
            if key not in e:
                raise self.fail(f"{where}: missing key {key!r}; an edge needs "
                                f"{', '.join(EDGE_KEYS)}")
        src = self.text(e["from"], f"{where}.from", "a unit name")
        dst = self.text(e["to"], f"{where}.to", "a unit name")
        weight = self.name(e["weight"], f"{where}.weight", PARAM_NAME, PARAM_WORDS)
        for end, unit in (("starts at", src), ("ends at", dst)):
            if unit not in self.every:
                raise self.fail(f"{where} ({quoted(src)} -> {quoted(dst)}) {end} the unknown "
                                f"unit {quoted(unit)}; units: {', '.join(self.every)}")
        if dst in self.inputs:
            raise self.fail(f"{where} ({src} -> {dst}) goes into the input {dst!r}; an input "
                            f"receives no edges; edges may end at: {', '.join(self.declared)}")
        if src in self.outputs:
            raise self.fail(f"{where} ({src} -> {dst}) leaves the output {src!r}; an output "
                            "feeds only the loss, so no edge starts at one")
        if any(x.source == src and x.target == dst for x in read):
            raise self.fail(f"{where} ({src} -> {dst}) is given twice; one edge a pair of units")
        if weight in params:
            raise self.fail(f"weight name {weight!r} is used by {params[weight]} and by edge "
                            f"{src} -> {dst}; every weight and bias needs its own name "
                            "(shared weights are not supported)")
        params[weight] = f"edge {src} -> {dst}"
        return Edge(src, dst, weight, None)

    def _structure(self) -> None:
        """No cycle, every output reached, every unit fed, every unit but the outputs feeding."""
        succ = {u: [e.target for e in self.read if e.source == u] for u in self.every}
        cycle = _find_cycle(self.every, succ)
        if cycle:
            raise self.fail(f"the edges form a cycle: {' -> '.join(cycle)}; a feed-forward graph "
                            "has none (remove one of these edges)")
        reached, todo = set(self.inputs), list(self.inputs)
        while todo:
            for v in succ[todo.pop()]:
                if v not in reached:
                    reached.add(v)
                    todo.append(v)
        for k in self.outputs:
            if k not in reached:
                raise self.fail(f"output {k!r} has no path from an input; inputs: "
                                f"{', '.join(self.inputs)}")
        for u in self.declared:
            if not any(e.target == u for e in self.read):
                raise self.fail(f"unit {u!r} has no incoming edge and is not an input; every "
                                "unit but the inputs receives at least one edge (or list it "
                                "in inputs)")
        for u in self.every:
            if u not in self.outputs and not succ[u]:
                kind = "input" if u in self.inputs else "unit"
                raise self.fail(f"{kind} {u!r} feeds nothing and is not an output; every unit "
                                "but the outputs sends at least one edge (or list it in outputs)")

    def _loss(self, name: str):
        loss = LOSSES[name]
        if loss.needs_unit_interval:
            fits = [n for n in GRAPH_ACTIVATIONS if ACTIVATIONS[n].unit_interval]
            for k in self.outputs:
                act = self.declared[k][0]
                if not act.unit_interval:
                    raise self.fail(f"loss {name!r} takes logarithms of the outputs, which "
                                    f"output {k!r} with activation {act.name!r} does not keep in "
                                    f"(0, 1); give every output the activation {', '.join(fits)}")
        return loss

    def _layers(self) -> tuple[list[str], dict[str, int]]:
        """Each unit's layer, its longest path from an input, and the units in order."""
        layer = {u: 0 for u in self.inputs}
        order, pending = list(self.inputs), list(self.declared)
        while pending:  # acyclic, so every round places at least one unit
            ready = [u for u in pending
                     if all(e.source in layer for e in self.read if e.target == u)]
            for u in ready:
                layer[u] = 1 + max(layer[e.source] for e in self.read if e.target == u)
            pending = [u for u in pending if u not in ready]
            order += ready
        order.sort(key=lambda u: (layer[u], self.every.index(u)))
        return order, layer


def _build(source, title, loss, order, inputs, outputs, declared, read, layer) -> Graph:
    """The model's graph: each unit's quantities indexed by its position, counted from 1
    (distinct integers, so SymPy knows w[o, h1] does not depend on w[o, h2])."""
    at = {u: sp.Integer(n) for n, u in enumerate(order, 1)}
    units, names = [], {}
    for u in order:
        if u in inputs:
            units.append(Unit(u, "input", 0, Z[at[u]]))
            names[Z[at[u]]] = (u, "input")
            continue
        act, bias = declared[u]
        kind = "output" if u in outputs else "hidden"
        f = own_function(f"gphi_{u}")
        units.append(Unit(u, kind, layer[u], Z[at[u]], act, A[at[u]], D[at[u]],
                          B[at[u]] if bias else None, T[at[u]] if kind == "output" else None,
                          f, f))
        if bias:
            names[B[at[u]]] = (bias, "bias")
        if kind == "output":
            names[T[at[u]]] = (u, "target")
    edges = tuple(Edge(e.source, e.target, e.weight, W[at[e.target], at[e.source]]) for e in read)
    names.update({e.w: (e.weight, "weight") for e in edges})
    return Graph(source, title, loss, tuple(units), edges, names)


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


