"""Which frame a claim is read in: the part of the network it speaks of (DESIGN.md,
"Locality"; engine/truth.py says what a frame holds and why each choice generalizes).

>>> from bpcheck.derive.model.network import make_network
>>> net = make_network(layers=(2, 3, 2), hidden="sigmoid")
>>> key = frame_key(net.graph, [net.delta(2)[1]])
>>> sorted(frame_for(net.graph, *key).free_a)  # a layered network's frame: whole layers
['2:1', '2:2']
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from ..model.graph import E, Graph
from .expr import Partial


@dataclass(frozen=True)
class Frame:
    """Which units a claim is read in: `free_a` with free weighted inputs, `inside` computed
    from them (free_a among them), with the real loss or an undefined one; `abstract`
    holds every hidden unit's activation as an undefined function (a generalization that
    keeps deep expressions small)."""

    free_a: frozenset[str]
    inside: frozenset[str]
    real_loss: bool
    abstract: bool = False
    by_output: frozenset[str] = frozenset()  # units the claim differentiates by z_u


# -- which frame a claim is read in --------------------------------------------------------

@dataclass
class _Mentions:
    units: set
    computed: set          # units whose incoming weight or bias the claim mentions
    loss: bool             # the claim speaks of the loss itself
    by_output: set = None  # units whose output the claim differentiates by


def mentions(graph: Graph, exprs) -> _Mentions:
    """The units, computed units and need of the real loss that the expressions show."""
    m = _Mentions(set(), set(), False, set())
    for expr in exprs:
        for p in expr.atoms(Partial):
            if p.den in graph.symbols and graph.symbols[p.den][1] == "z":
                m.by_output.add(graph.symbols[p.den][0])
        bare = expr.replace(lambda e: isinstance(e, Partial),
                            lambda e: sp.Integer(0) if e.num == E else e.num)
        m.loss |= bare.has(E)
        for q in expr.atoms(sp.Indexed, sp.Symbol):
            _mention(graph, q, m)
        for f in expr.atoms(AppliedUndef):
            for q in f.args:
                _mention(graph, q, m)
    return m


def _mention(graph: Graph, q: sp.Basic, m: _Mentions) -> None:
    if q in graph.weights:
        m.computed.add(graph.weights[q].target)
        m.units.add(graph.weights[q].target)
    elif q in graph.symbols:
        name, kind = graph.symbols[q]
        m.units.add(name)
        if kind == "bias":
            m.computed.add(name)
        m.loss |= kind == "target"


def _closed(graph: Graph, names) -> set[str]:
    """The units whose outputs move together with these: a vector activation's group, and
    in a layered network the whole layer, as its lemma holds whole layers."""
    if graph.layered:
        return {m for u in names for m in graph.layer_of(u)}
    return {m for u in names for m in graph.group(u)}


def frame_key(graph: Graph, exprs, *, real_loss: bool = False,
              abstract: bool = False) -> tuple:
    """What decides the frame of a claim: the instances of one claim in a layered network
    have one key, and so one frame."""
    found = mentions(graph, exprs)
    return (frozenset(_closed(graph, found.units)), frozenset(_closed(graph, found.computed)),
            real_loss or found.loss, abstract, frozenset(found.by_output))


def frame_for(graph: Graph, mentioned: frozenset, computed: frozenset, real_loss: bool,
              abstract: bool, by_output: frozenset) -> Frame:
    """The smallest frame that holds what a claim mentions (engine/truth.py says why)."""
    ancestors = {u: graph.ancestors(u) for u in mentioned}
    roots = {u for u in mentioned if not (ancestors[u] & mentioned) - set(graph.group(u))}
    free_a = _closed(graph, {r for r in roots if graph.unit(r).kind != "input"}) - computed
    above = set().union(*ancestors.values()) | mentioned if mentioned else set()
    below = graph.descendants(roots) | roots
    inside = _closed(graph, below if real_loss else below & above)
    inside -= {u for u in inside if graph.unit(u).kind == "input"}
    return Frame(frozenset(free_a), frozenset(inside | free_a), real_loss, abstract, by_output)
