"""A printed backward equation of one layer, decided in the layer's slice: proved when the
difference of its sides is zero in normal form for every value of its free indices,
refuted at a point where they differ (or where it names a quantity that does not exist),
and, when refuted, named: the well-known mistake whose wrong backward pass it is, proved
equal to that (model/stages.py lists each kind's).

>>> from bpcheck.derive.model.stages import Node, slice_of
>>> t = StageTruth(slice_of("softmax", 2))
>>> z1 = Node("z", (1,))
>>> r = decide_slice("dl/dz1 = g1", t, free=("i",),
...                  sides=(((1,), t.adjoint(z1), g(Node("s", (1,)))),), targets=(z1,))
>>> str(r.verdict), r.diagnosis.id
('refuted', None)
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..model.stages import Mistake, Node
from .proof import Verdict
from .stage_truth import StageTruth, g
from .typed import KINKS, decide_pairs

__all__ = ["SliceDiagnosis", "SliceResult", "decide_slice", "does_not_exist", "g"]


@dataclass(frozen=True)
class SliceDiagnosis:
    mistake: Mistake | None = None

    @property
    def id(self) -> str | None:
        return self.mistake.id if self.mistake else None


@dataclass(frozen=True)
class SliceResult:
    """The verdict, and for a refutation the free indices' values where the sides differ
    (`entry`), the values (left, right) and the point; `note` says why where no point does."""

    text: str
    kind: str
    size: int
    verdict: Verdict
    free: tuple[str, ...] = ()
    entry: tuple = ()
    values: tuple = ()
    point: tuple = ()
    conditions: tuple[str, ...] = ()
    note: str = ""
    diagnosis: SliceDiagnosis = SliceDiagnosis()
    # where a d(u)/d(v) reads two ways: each reading ("local", "total") and its verdict
    readings: tuple[tuple[str, Verdict], ...] = ()
    every: str = ""  # the size's letter where the proof holds for every size too ("m")
    words: tuple[str, ...] = ()              # the slice's letters
    sizes: tuple[tuple[str, object], ...] = ()  # its ranges: (letter, size)


def decide_slice(text: str, truth: StageTruth, *, free: tuple[str, ...], sides, targets,
                 seed: int = 0) -> SliceResult:
    """sides: (free indices' values, left, right) for each value; targets: the nodes of a
    left side dl/d(node), or None."""
    pairs = [((ix, lhs), (ix, rhs)) for ix, lhs, rhs in sides]
    sl = truth.slice
    found = decide_pairs(pairs, seed=seed, kink=KINKS.get(sl.kind, KINKS["relu"]))
    size = next(iter(sl.sizes.values()))
    result = SliceResult(text, sl.kind, size, free=free, words=tuple(sl.words),
                         sizes=tuple(sl.sizes.items()), **found)
    if result.verdict is Verdict.REFUTED and targets:
        named = _mistake_of(truth, [rhs for _, _, rhs in sides], targets, seed=seed)
        result = SliceResult(**{**result.__dict__, "diagnosis": SliceDiagnosis(named)})
    return result


READING_WORDS = {"local": "d(u)/d(v) read as u's formula differentiated by v, its other "
                          "arguments held",
                 "total": "d(u)/d(v) read along every path from v to u"}


def both_readings(by_reading: dict[str, SliceResult]) -> SliceResult:
    """One result of an equation read both ways: their verdict where they agree, else
    ambiguous, with the refuted reading's point."""
    local, total = by_reading["local"], by_reading["total"]
    readings = (("local", local.verdict), ("total", total.verdict))
    said = "; ".join(f"{READING_WORDS[k]}: {v}" for k, v in readings)
    if local.verdict is total.verdict:  # for every size only where both readings are
        return SliceResult(**{**local.__dict__, "readings": readings,
                              "every": local.every if local.every == total.every else "",
                              "note": "; ".join(filter(None, [local.note, said]))})
    wrong = local if local.verdict is Verdict.REFUTED else total
    return SliceResult(**{**wrong.__dict__, "verdict": Verdict.AMBIGUOUS, "readings": readings,
                          "note": said + " (pin one with --partial local or --partial total)",
                          "diagnosis": SliceDiagnosis()})


def does_not_exist(text: str, truth: StageTruth, why: str) -> SliceResult:
    """Refuted without a point: the equation names a quantity the slice does not have."""
    sl = truth.slice
    return SliceResult(text, sl.kind, sl.n, Verdict.REFUTED, note=why, words=tuple(sl.words),
                       sizes=tuple(sl.sizes.items()))


def _mistake_of(truth: StageTruth, right: list[sp.Expr], targets: tuple[Node, ...], *,
                seed: int) -> Mistake | None:
    """The slice's mistake whose backward pass the right side is, proved, at every value."""
    for mistake in truth.slice.mistakes:
        wrong = truth.under(mistake)
        pairs = [(((i,), r), ((i,), wrong.adjoint(t))) for i, (r, t) in enumerate(zip(right, targets))]
        if decide_pairs(pairs, seed=seed)["verdict"] is Verdict.PROVED:
            return mistake
    return None
