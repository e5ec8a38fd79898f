"""The checks of a feed-forward graph: Bishop's (5.55) and (5.56) with the sum over exactly
the units j sends connections to, every gradient, and the two ways of getting it wrong (the
layered formula with a skip edge ignored, the seed question's sum over every later layer).

Each claim is decided against the one truth (engine/truth.py), in its frame, with every
hidden unit's activation first held abstract (an undefined function, its value and slope
atoms): that keeps a deep graph's expressions small and proves the claim for more networks,
so for this one. A refutation is always a point of the real network (engine/decide.py).

>>> from bpcheck.derive.io.graph_file import parse_graph
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
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import BudgetExceeded
from ..model.graph import E, Edge, Graph
from .decide import decide
from .expr import Partial, Total
from .proof import Condition, Domain, Outcome, Verdict, time_budget
from .truth import Truth

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
    slope = lambda u: sp.Derivative(g.unit(u).written(g.unit(u).a), g.unit(u).a)
    for k in g.outputs:
        claims.append(GraphClaim("graph-output-delta", sp.Eq(
            g.unit(k).delta, _mul(Partial(E, g.unit(k).z), slope(k)), evaluate=False),
            "the chain rule at an output (Nielsen BP1)", unit=k))
        claims.append(GraphClaim("graph-output-delta-canonical", sp.Eq(
            g.unit(k).delta, sp.Add(g.unit(k).z, -g.unit(k).target, evaluate=False), evaluate=False),
            "Bishop (5.54)", unit=k,
            note="holds for the canonical pairs: identity with sse, sigmoid with bce"))
    for j in reversed(g.hidden):
        succ = g.succ(j)
        claims.append(GraphClaim("graph-hidden-delta", sp.Eq(
            g.unit(j).delta, _mul(slope(j), _sum([_mul(g.edge(j, k).w, g.unit(k).delta) for k in succ])),
            evaluate=False), "Bishop (5.56)", unit=j,
            note=f"the sum over the units {j} sends connections to: {', '.join(succ)}"))
        claims.append(GraphClaim("graph-hidden-delta-chain", sp.Eq(
            g.unit(j).delta, _sum([_mul(Partial(E, g.unit(k).a), Partial(g.unit(k).a, g.unit(j).a)) for k in succ]),
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
            g.unit(j).delta, _mul(slope(j), _sum([_mul(g.edge(j, k).w, g.unit(k).delta) for k in nxt]))
            if nxt else sp.Integer(0), evaluate=False),
            f"the layered (5.56), summed over layer {g.unit(j).layer + 1} only", unit=j, note=note))
        later = g.sort(g.descendants(j))
        layers = sorted({g.unit(k).layer for k in later})
        if len(layers) > 1:
            note = ("the paths through later units are counted again: each total derivative "
                    "already contains them")
        else:
            note = f"every unit {j} reaches is one edge away: the sum is (5.55) here"
        claims.append(GraphClaim("graph-every-later-layer", sp.Eq(
            g.unit(j).delta, _sum([_mul(g.unit(k).delta, Total(g.unit(k).a, g.unit(j).a)) for k in later]),
            evaluate=False),
            "the seed question: a sum over every later layer ("
            + ("layers " if len(layers) > 1 else "layer ") + ", ".join(map(str, layers)) + ")",
            unit=j, note=note))
    for e in g.edges:
        claims.append(GraphClaim("graph-weight-gradient", sp.Eq(
            Partial(E, e.w), _mul(g.unit(e.target).delta, g.unit(e.source).z), evaluate=False),
            "Bishop (5.53)", edge=e, note="a skip edge" if g.skips(e) else ""))
    for u in (u.name for u in g.units):
        if g.unit(u).bias is not None:
            claims.append(GraphClaim("graph-bias-gradient", sp.Eq(
                Partial(E, g.unit(u).bias), g.unit(u).delta, evaluate=False),
                "Bishop (5.53) with z_0 = 1", unit=u))
    return claims


class GraphDerivation:
    """Every claim of a graph, decided against the truth."""

    def __init__(self, graph: Graph, *, budget: float | None = 30.0):
        self.graph, self.budget = graph, budget
        self.truth = Truth(graph)
        self.checks = [GraphCheck(c, self.prove(c)) for c in graph_claims(graph)]

    def check(self, id: str, about: str) -> GraphCheck:
        for c in self.checks:
            if c.claim.id == id and c.claim.about == about:
                return c
        raise KeyError((id, about))

    def domain(self) -> tuple[Domain, tuple[Condition, ...]]:
        """Where targets are sampled, and the condition Σ t = 1 of the cross-entropy."""
        g = self.graph
        t = tuple(g.unit(k).target for k in g.outputs)
        domain = Domain(t, simplex=g.loss.targets_sum_to_one,
                        unit_interval=g.loss.needs_unit_interval)
        if not g.loss.targets_sum_to_one:
            return domain, ()
        return domain, (Condition(sp.Eq(sp.Add(*t, evaluate=False), 1),
                                  ((t[-1], 1 - sp.Add(*t[:-1])),)),)

    def prove(self, claim: GraphClaim) -> Outcome:
        """Decide a claim within the time budget; building its truth counts against it."""
        domain, conditions = self.domain()
        eq = claim.equation
        try:
            with time_budget(self.budget, clock="cpu"):
                outcome = decide(self.graph, [((), eq.lhs, eq.rhs)], conditions=conditions,
                                 domain=domain, abstract=True, truth=self.truth,
                                 residual=False)  # the graph report shows the point, not a residual
        except BudgetExceeded as e:
            return Outcome(Verdict.UNDECIDED, note=e.why)
        return self._kinked(outcome, claim)

    def _kinked(self, outcome: Outcome, claim: GraphClaim) -> Outcome:
        """A proof through ReLUs holds on each side of their kinks, not at them: say so."""
        g = self.graph
        start = claim.unit if claim.unit is not None else claim.edge.target
        relus = [u for u in [start] + g.sort(g.descendants(start)) if g.unit(u).activation.kink]
        if outcome.verdict is not Verdict.PROVED or not relus:
            return outcome
        note = "; ".join(n for n in outcome.note.split("; ") if n and "ReLU" not in n)
        return Outcome(outcome.verdict, outcome.conditions + tuple(sp.Ne(g.unit(u).a, 0) for u in relus),
                       note=(note + "; " if note else "")
                       + "ReLU is not differentiable at 0: proved on each side of the kink")
