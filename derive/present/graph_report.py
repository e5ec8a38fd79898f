"""The report of a feed-forward graph: its units and edges, and for each notation the
forward equations and every check with its verdict. A plain dataclass; it renders
through `__rich_console__` for the terminal and `to_json()` for machines.

Quantities are written in the notation's letters with the unit's name as subscript
(Bishop's a_{h1}, z_{h1}, w_{o,h1}, delta_{h1}; Nielsen's z^2_{h1}, a^2_{h1}), the layer
marked where the notation marks layers (a unit's layer is its longest path from an
input; a weight carries the layer of the unit it leads into).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

import sympy as sp
from rich.table import Table
from rich.text import Text
from sympy.printing.printer import Printer

from ..engine.graph_checks import GraphCheck, GraphDerivation
from ..engine.proof import Verdict
from ..model.activation import KinkSide
from ..model.graph import E, Graph
from ..model.notation import Notation
from .console import _box, conditions_text, notation_heading, verdict_text
from .printers import LatexPrinter, TextPrinter, text_symbol
from .values import Rendered, shown

_ROLE_ORDER = ("input", "weight", "bias", "target", "activation value", "activation slope")


class _GraphNames:
    """What the graph printers share: a quantity of the graph in the notation's symbols."""

    def __init__(self, notation: Notation, graph: Graph):
        Printer.__init__(self)
        self.notation, self.graph, self.net = notation, graph, None

    def _mark(self, key: str, u: str) -> str:
        """The unit's layer where the notation writes every quantity's layer (Nielsen's
        z^l_j). Bishop's parenthesised w^(l) tells the weight matrices of a layered
        network apart; in a graph a weight is named by its two units, so it is left out."""
        if self.notation.layer_marks[key] != "superscript":
            return ""
        return self.notation.layer_label(self.graph.unit(u).layer, self.graph.depth)

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        g, n = self.graph, self.notation
        if expr in g.weights:  # w_(to,from) or w_(from,to), as the notation orders them
            e = g.weights[expr]
            order = [e.target, e.source] if n.weight_order == "to,from" else [e.source, e.target]
            return self.scripted(self.name("weight"), ",".join(order), self._mark("weight", e.target))
        if expr not in g.symbols:
            return super()._print_Indexed(expr)
        u, kind = g.symbols[expr]
        if kind == "target":
            return self.scripted(self.name("target"), u, "")
        if kind == "bias":
            if n.bias_style == "weight":  # Bishop: a weight from a unit fixed at 1
                pair = [u, "0"] if n.weight_order == "to,from" else ["0", u]
                return self.scripted(self.name("weight"), ",".join(pair), self._mark("weight", u))
            return self.scripted(self.name("bias"), u, self._mark("bias", u))
        if kind == "z":
            key = {"input": "input", "output": "output"}.get(g.unit(u).kind, "unit_output")
        else:
            key = "weighted_input" if kind == "a" else "delta"
        return self.scripted(self.name(key), u, self._mark(key, u))

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        if expr == E:
            return self.name("error")
        return expr.name

    def _activation_name(self, f) -> str | None:
        m = re.fullmatch(r"(d?)gphi_(\w+)", f.func.__name__)
        if not m:
            return None
        kind = self.graph.unit(m.group(2)).kind
        name = self.name("output_activation" if kind == "output" else "hidden_activation")
        return name + ("'" if m.group(1) else "")

    def _print_AppliedUndef(self, expr) -> str:
        # f_u of any argument is f_u(a_u): a point's value of an abstract activation is
        # keyed by the whole forward pass, which is a_u
        m = re.fullmatch(r"d?gphi_(\w+)", expr.func.__name__)
        if m:
            return f"{self._activation_name(expr)}({self._print(self.graph.unit(m.group(1)).a)})"
        return super()._print_AppliedUndef(expr)


class GraphLatexPrinter(_GraphNames, LatexPrinter):
    pass


class GraphTextPrinter(_GraphNames, TextPrinter):
    pass


def render(expr: sp.Basic, n: Notation, g: Graph) -> Rendered:
    return Rendered(GraphTextPrinter(n, g).doprint(expr), GraphLatexPrinter(n, g).doprint(expr))


# -- views ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class GraphCheckView:
    id: str
    about: str
    unit: str | None
    edge: dict[str, str] | None
    source: str
    claim: Rendered
    verdict: Verdict
    conditions: tuple[Rendered, ...] = ()
    note: str = ""
    counterexample: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        where = {"unit": self.unit} if self.unit is not None else {"edge": self.edge}
        return {"id": self.id, **where, "source": self.source, "claim_latex": self.claim.latex,
                "claim_text": self.claim.text, "verdict": str(self.verdict),
                "conditions": [c.latex for c in self.conditions], "note": self.note,
                "counterexample": self.counterexample}


@dataclass(frozen=True)
class GraphNotationView:
    notation: Notation
    notes: tuple[str, ...]
    forward: tuple[Rendered, ...]
    checks: tuple[GraphCheckView, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.notation.name, "title": self.notation.title,
                "notes": list(self.notes), "forward_latex": [f.latex for f in self.forward],
                "checks": [c.to_json() for c in self.checks]}


@dataclass(frozen=True)
class GraphReport:
    graph: Graph
    notations: tuple[GraphNotationView, ...]
    checks: tuple[GraphCheck, ...]

    def to_json(self) -> dict[str, Any]:
        """One object: the graph, the checks in the first notation, and every notation."""
        first = self.notations[0]
        return {"graph": self.graph.to_json(), "notation": first.notation.name,
                "checks": [c.to_json() for c in first.checks],
                "notations": [n.to_json() for n in self.notations]}

    def __rich_console__(self, console, options) -> Iterator:
        yield from _render(self, console)


def _value(v: sp.Expr, n: Notation, g: Graph) -> str:
    return shown(v, lambda e: GraphTextPrinter(n, g).doprint(e))


@lru_cache(maxsize=4096)
def _decimal(v: sp.Expr) -> str:
    """A value to 30 digits: a graph's claims share their points, so each value is
    written once for every check and notation that shows it."""
    return str(sp.N(v, 30))


def counterexample_json(check: GraphCheck, n: Notation, g: Graph) -> dict[str, Any] | None:
    """Both sides' values and the point, in the graph's own variables (the names of the
    file) and in the notation's symbols."""
    ce = check.outcome.counterexample
    if ce is None:
        return None
    entries, printer = [], GraphTextPrinter(n, g)  # one printer for the whole point
    for q, v in ce.point:
        if isinstance(q, KinkSide):  # a ReLU's side follows from its argument's sign
            continue
        var = g.variable(q)
        if var is None:
            continue
        entries.append({"variable": var[0], "role": var[1], "symbol": printer.doprint(q),
                        "value": shown(v, printer.doprint), "decimal": _decimal(v)})
    # inputs, weights in the file's order, biases and targets in the units' order
    order = {u.name: i for i, u in enumerate(g.units)}
    order.update({e.weight: i for i, e in enumerate(g.edges)})
    order.update({g.labels[u.bias][0]: i for i, u in enumerate(g.units) if u.bias is not None})
    entries.sort(key=lambda x: (_ROLE_ORDER.index(x["role"]), order.get(x["variable"], 0)))
    return {"lhs": _value(ce.lhs, n, g), "rhs": _value(ce.rhs, n, g),
            "lhs_decimal": _decimal(ce.lhs), "rhs_decimal": _decimal(ce.rhs),
            "exact": ce.exact, "point": entries}


def _notes(n: Notation, g: Graph) -> tuple[str, ...]:
    h, f = (text_symbol(n.symbols[k]) for k in ("hidden_activation", "output_activation"))
    words = lambda u: ("any elementwise activation" if g.unit(u).activation.abstract
                       else g.unit(u).activation.name)
    acts = []
    for name, kinds in ((h, ("hidden",)), (f, ("output",))) if h != f else \
            ((h, ("hidden", "output")),):
        by: dict[str, list[str]] = {}
        for u in (u.name for u in g.units):
            if g.unit(u).kind in kinds:
                by.setdefault(words(u), []).append(u)
        acts.append(f"{name} is " + "; ".join(f"{a} at {', '.join(us)}" for a, us in by.items()))
    d, E_, a = (text_symbol(n.symbols[k]) for k in ("delta", "error", "weighted_input"))
    sign = "-" if n.delta_sign == -1 else ""
    notes = ["; ".join(acts),
             f"(5.56) sums over exactly the units j sends connections to, whatever layer they "
             f"are in. ∂{a}_k/∂{a}_j is the derivative along the one edge j -> k (everything "
             f"else held fixed); d{a}_k/d{a}_j is the total derivative along every path from j "
             f"to k.",
             f"The truth: {d}_u = {sign}∂{E_}/∂{a}_u. Each claim is proved in its frame: the "
             f"units it speaks of, with the error an undefined function of what leaves them "
             f"(or the real loss where the claim needs it) and the hidden activations held "
             f"abstract. Counterexamples are points in the graph's own variables: inputs, "
             f"weights, biases, targets."]
    if any(u.bias is not None for u in g.units):
        if n.bias_style == "none":
            notes.append("This notation has no biases; the graph has them: "
                         f"{text_symbol(n.symbols['bias'])} below is a bias, outside the notation.")
        elif n.bias_style == "weight":
            notes.append("Biases are written as weights from a unit fixed at 1 (index 0).")
    if n.delta_sign == -1:
        notes.append("delta has the opposite sign here: delta = -dE/da.")
    return tuple(notes)


def graph_report_of(derivation: GraphDerivation, notations: list[Notation]) -> GraphReport:
    """Every check of a graph in each notation."""
    graph = derivation.graph
    views = []
    for n in notations:
        forward = tuple(render(eq, n, graph) for _, eq in graph.forward_equations())
        checks = []
        for c in derivation.checks:
            claim, o = c.claim, c.outcome
            edge = ({"from": claim.edge.source, "to": claim.edge.target,
                     "weight": claim.edge.weight} if claim.edge else None)
            checks.append(GraphCheckView(
                claim.id, claim.about, claim.unit, edge, claim.source,
                render(n.express(claim.equation, lambda d: graph.symbols.get(d, ('', ''))[1] == 'delta'), n, graph), o.verdict,
                tuple(render(x, n, graph) for x in o.conditions),
                "; ".join(x for x in (claim.note, o.note) if x),
                counterexample_json(c, n, graph)))
        views.append(GraphNotationView(n, _notes(n, graph), forward, tuple(checks)))
    return GraphReport(graph, tuple(views), tuple(derivation.checks))


# -- the terminal -------------------------------------------------------------------------

def _render(report: GraphReport, console) -> Iterator:
    g = report.graph
    yield Text.assemble(("Graph ", "bold"), g.source, (f": {g.title}" if g.title else ""),
                        f"; loss {g.loss.name}; {len(g.units)} units, {len(g.edges)} edges, "
                        f"{g.depth} layers after the inputs")
    units = Table(title="Units", title_justify="left", box=_box(console))
    for col in ("unit", "role", "layer", "activation", "bias", "sends to"):
        units.add_column(col)
    for u in g.units:
        units.add_row(u.name, u.kind, str(u.layer), u.activation.name if u.activation else "",
                      g.labels[u.bias][0] if u.bias is not None else "",
                      ", ".join(g.succ(u.name)))
    yield units
    edges = Table(title="Edges", title_justify="left", box=_box(console))
    for col in ("edge", "weight", "layers", ""):
        edges.add_column(col)
    for e in g.edges:
        lf, lt = g.unit(e.source).layer, g.unit(e.target).layer
        edges.add_row(str(e), e.weight, f"{lf} -> {lt}",
                      Text("skips a layer", style="bold") if g.skips(e) else "")
    yield edges
    yield Text("")
    for view in report.notations:
        yield from notation_heading(view)
        checks = Table(title="Checks", title_justify="left", box=_box(console), expand=False)
        for col in ("check", "about", "claim", "verdict", "conditions / counterexample"):
            checks.add_column(col, overflow="fold", min_width=9 if col == "verdict" else None)
        for c in view.checks:
            checks.add_row(c.id, c.about, Text(c.claim.text + "\n") + Text(c.source, style="dim"),
                           verdict_text(c.verdict), _detail(c))
        yield checks
        yield Text("")


def _detail(c: GraphCheckView):
    out = conditions_text(c)
    ce = c.counterexample
    if ce:
        out.append(("\n" if out else "") + f"fails: true value {ce['lhs']}, as claimed {ce['rhs']}")
        point = ", ".join(f"{p['symbol']} = {p['value']}" for p in ce["point"])
        out.append(f"\nwhere {point}", style="dim")
    return out
