"""bpcheck report --graph FILE: a feed-forward graph's checks in each notation."""
from __future__ import annotations

from ..engine.graph_checks import GraphDerivation
from ..model.graph import Graph
from ..model.notation import Notation
from ..present.graph_report import GraphReport, graph_report_of


def build_graph_report(graph: Graph, notations: list[Notation], *,
                       budget: float | None = 30.0) -> GraphReport:
    """Bishop's (5.55)/(5.56), every gradient, and the two ways of getting it wrong."""
    return graph_report_of(GraphDerivation(graph, budget=budget), notations)
