"""Deciding a claim about a network: proved in its frame, refuted at a point of the network.

Each instance of a claim (one value of its free indices) is read in its frame
(engine/truth.py) and its difference put in normal form: zero is a proof. Where it is not
zero, points of the real network are tried (engine/point.py): where the two sides differ,
the claim is refuted there. Where no point shows a difference, the frame is widened to the
real loss and tried again; what is still open is undecided, with the residual.

>>> from bpcheck.derive.model.network import make_network
>>> net = make_network(layers=(2, 2), output="sigmoid", loss="bce")
>>> claim = (net.delta(1)[1], net.out(1)[1] - net.t[1])
>>> str(decide(net.graph, [((), *claim)], domain=Domain(unit_interval=True)).verdict)
'proved'
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Sequence

import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import TooMuchWork
from ..model.activation import KinkSide
from ..model.graph import Graph
from .normal import NormalForm, numerator
from .point import Point, sample
from .proof import (DIGITS, Condition, Counterexample, Domain, Instance, Outcome, Verdict,
                    residual_of, under_condition, within)
from .expr import Partial, tree_size
from .frames import Frame
from .truth import Truth

KINK_NOTE = "ReLU is not differentiable at 0: proved where no ReLU argument is 0"


@dataclass(frozen=True)
class _Read:
    """One instance read in a frame."""

    index: tuple
    written: tuple[sp.Expr, sp.Expr]
    frame: Frame
    lhs: sp.Expr
    rhs: sp.Expr


def decide(graph: Graph, instances: Sequence[tuple[tuple, sp.Expr, sp.Expr]], *,
           conditions: Sequence[Condition] = (), domain: Domain = Domain(), seed: int = 0,
           tries: int = 12, abstract: bool = False, truth: Truth | None = None,
           residual: bool = True) -> Outcome:
    """Decide (index, lhs, rhs) instances of one claim on a network (module docstring).
    `abstract` reads every hidden activation as an undefined function first; `residual`
    False leaves a refutation's residual out, for a caller that never shows it.

    One point of the network is tried before any normal form: a false claim's normal form
    can be large, and a point where the sides differ is all a refutation needs."""
    truth = truth or Truth.of(graph)
    form = NormalForm()
    reads = [_read(truth, (lhs, rhs), index, abstract) for index, lhs, rhs in instances]
    refuted = _search(graph, reads, domain, seed, 1, truth)
    if refuted is not None:
        return _with_residual(refuted, reads, form, truth) if residual else refuted
    open_, used, kinked, too_large = [], set(), False, None
    for read in reads:
        try:
            still, condition = _prove(truth, read, conditions, form)
        except TooMuchWork as e:  # not expanded: the points below may still refute it
            still, condition, too_large = read, None, e
        kinked |= read.lhs.has(KinkSide) or read.rhs.has(KinkSide)
        if still is not None:
            open_.append(still)
        elif condition is not None:
            used.add(condition)
    if not open_:
        return _proved(used, kinked)
    refuted = _search(graph, open_, domain, seed + 1, tries, truth)
    if refuted is not None:
        return _with_residual(refuted, open_, form, truth) if residual else refuted
    if too_large is not None:
        raise too_large  # undecided, in the words of the work limit
    still = [r for r in open_ if not _widened(truth, r, conditions, form, used)]
    if not still:
        return _proved(used, kinked)
    return Outcome(Verdict.UNDECIDED, residual=within(
        RESIDUAL_SECONDS, lambda: residual_of(still[0].lhs - still[0].rhs, form), None),
        note="the normal form is not zero, but no point of the network where the sides "
             "differ was found")


def _read(truth: Truth, written, index, abstract: bool) -> _Read:
    frame = truth.frame_of(written, abstract=abstract)
    return _Read(index, tuple(written), frame, *truth.meanings(written, frame))


def _prove(truth: Truth, read: _Read, conditions, form) -> tuple[_Read | None, Condition | None]:
    """(None, the condition it needed or None) where the instance is proved, else (its
    reading in the plain frame, None)."""
    if numerator(form(read.lhs - read.rhs)) == 0:
        return None, None
    if read.frame.abstract:
        read = _read(truth, read.written, read.index, False)
        if numerator(form(read.lhs - read.rhs)) == 0:
            return None, None
    if read.frame.real_loss:
        proved = under_condition([Instance(read.index, read.lhs, read.rhs)], conditions, form)
        if proved is not None:
            return None, proved.conditions[0]
    return read, None


RESIDUAL_SECONDS = 1.0  # a refutation shows its residual where it takes no longer
# nor where the difference is larger than this, as a tree (its normal form would not come
# within the second here, and counting nodes gives the same answer under any load)
RESIDUAL_NODES = 50_000


def _with_residual(refuted: Outcome, reads: list[_Read], form: NormalForm,
                   truth: Truth) -> Outcome:
    """The residual of the refuted instance where its normal form comes quickly: it only
    illustrates, the point is the refutation."""
    index = refuted.counterexample.index
    read = next((r for r in reads if r.index == index), reads[0])
    difference = read.lhs - read.rhs
    if tree_size(difference) > RESIDUAL_NODES:
        return refuted
    residual = within(RESIDUAL_SECONDS, lambda: truth.folded(
        residual_of(difference, form), read.frame), None)
    return replace(refuted, residual=residual)


def _widened(truth: Truth, read: _Read, conditions, form, used: set) -> bool:
    """Whether the instance is proved with the real loss in its frame."""
    if read.frame.real_loss:
        return False
    frame = truth.frame_of(read.written, real_loss=True)
    lhs, rhs = truth.meanings(read.written, frame)
    if numerator(form(lhs - rhs)) == 0:
        return True
    proved = under_condition([Instance(read.index, lhs, rhs)], conditions, form)
    if proved is not None:
        used.add(proved.conditions[0])
    return proved is not None


def _proved(used: set, kinked: bool) -> Outcome:
    conditions = tuple(sorted(used, key=str))
    notes = ["needs the condition: without it the two sides differ"] if conditions else []
    if kinked:
        notes.append(KINK_NOTE)
    return Outcome(Verdict.PROVED, conditions=conditions, note="; ".join(notes))


def _search(graph: Graph, reads: list[_Read], domain: Domain, seed: int,
            tries: int, truth: Truth) -> Outcome | None:
    """Refuted at a random point of the network where some instance's sides differ."""
    rng = random.Random(seed)
    for read in reads:
        for _ in range(tries):
            point = _sample(truth, rng, domain)
            lhs, rhs = point.evaluate(read.lhs, read.frame), point.evaluate(read.rhs, read.frame)
            if _differ(lhs, rhs):
                return Outcome(Verdict.REFUTED, counterexample=Counterexample(
                    read.index, point_entries(graph, point), _shown(lhs), _shown(rhs),
                    bool(lhs.is_Rational and rhs.is_Rational),
                    _written_values(truth, read, point)))
    return None


def _sample(truth: Truth, rng: random.Random, domain: Domain) -> Point:
    """sample(), each point drawn once for the network: every claim's search starts from
    the same seed, and a point's forward and backward pass cost more than its draw. The
    generator is left as the draw leaves it, so the points are the same either way."""
    key = (rng.getstate(), domain.simplex, domain.unit_interval)
    if key not in truth.points:
        point = sample(truth.graph, rng, simplex=domain.simplex,
                       unit_interval=domain.unit_interval)
        truth.points[key] = point, rng.getstate()
    point, after = truth.points[key]
    rng.setstate(after)
    return point


def written_quantities(expr: sp.Expr) -> list[sp.Expr]:
    """The quantities an expression is written with, in order: weights, deltas, outputs,
    targets, a written activation h(a_j) or its slope h'(a_j), a partial derivative; the
    inside of a derivative is part of it, not a quantity of its own."""
    found: list[sp.Expr] = []

    def walk(e: sp.Basic) -> None:
        if isinstance(e, (sp.Indexed, Partial, sp.Derivative, AppliedUndef)):
            if e not in found:
                found.append(e)
            return
        for a in e.args:
            walk(a)
    walk(expr)
    return found


def _written_values(truth: Truth, read: _Read, point: Point) -> tuple:
    """Each written quantity of the refuted instance with its value at the point."""
    atoms = list(dict.fromkeys(q for side in read.written for q in written_quantities(side)))
    if len(atoms) > 24:  # a sum written out over a wide layer: the point says it all
        return ()
    try:
        meanings = truth.meanings(atoms, read.frame)
        # a variable of the network keeps the exact value it was given
        return tuple((q, point.given[q] if q in point.given else
                      _shown(point.evaluate(m, read.frame))) for q, m in zip(atoms, meanings))
    except (ValueError, TypeError, ZeroDivisionError, NotImplementedError):
        return ()


def _differ(lhs: sp.Expr, rhs: sp.Expr) -> bool:
    d = lhs - rhs
    if not d.is_number or d.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or d.is_real is False:
        return False
    return d != 0 if d.is_Rational else bool(abs(d) > sp.Float(10) ** (-DIGITS))


def _shown(v: sp.Expr) -> sp.Expr:
    """A side's value: exact where rational, else a float (a value may still hold an exact
    log(2) beside floats)."""
    return v if v.is_Rational else sp.Float(sp.N(v, DIGITS + 5), DIGITS)


def point_entries(graph: Graph, point: Point) -> tuple[tuple[sp.Basic, sp.Expr], ...]:
    """The point as the network's variables with their values; an abstract activation's
    value and slope at each unit as written there, h(a_j) and h'(a_j)."""
    out = [(q, point.given[q]) for q in graph.variables()]
    for u, (value, slope) in point.given_abstract.items():
        unit = graph.unit(u)
        out.append((unit.written(unit.a), value))
        out.append((sp.Derivative(unit.written(unit.a), unit.a), slope))
    return tuple(out)
