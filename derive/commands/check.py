"""bpcheck check: an equation as people write it, read in a notation and decided on a
network, in every reading; or every equation of a file.

>>> from bpcheck.derive.io.notation_file import load_notation
>>> from bpcheck.derive.model.network import make_network
>>> r = check_text(r"\\delta_j = h'(a_j) \\sum_k w_{kj} \\delta_k",
...                notation=load_notation("bishop"), net=make_network())
>>> str(r.verdict), r.readings[0].letters
('proved', {'j': 1, 'k': 2})
"""
from __future__ import annotations

from typing import Mapping

from ..engine.checking import WORST_STATUS_FIRST, CheckResult, decide_reading
from ..engine.truth import Truth
from ..errors import BpcheckError, UsageError
from ..io.documents import equations_of
from ..latex.binding import read
from ..latex.tex import to_latex
from ..model.network import Network
from ..model.notation import Notation
from ..present.printers import text as written_as


def check_text(text: str, *, notation: Notation, net: Network,
               index: Mapping[str, str] | None = None, budget: float | None = 30.0) -> CheckResult:
    """Read an equation in a notation and decide it on the network, in every reading."""
    eq, readings = read(text, notation=notation, net=net, index=index)
    truth = Truth(net.graph)
    done = tuple(decide_reading(r.letters, r.claims, net, truth, budget=budget, missing=r.missing,
                                describe=lambda q: written_as(notation.bind(q), notation, net))
                 for r in readings)
    return CheckResult(text, to_latex(eq), notation, net, done)


def check_file(path: str, *, notation: Notation, net: Network,
               index: Mapping[str, str] | None = None,
               budget: float | None = 30.0) -> list[tuple[str, CheckResult | BpcheckError]]:
    """Every equation of a file, each with its result or the error that stopped it."""
    rows: list[tuple[str, CheckResult | BpcheckError]] = []
    for line in equations_of(path):
        try:
            rows.append((line, check_text(line, notation=notation, net=net, index=index,
                                          budget=budget)))
        except BpcheckError as e:
            rows.append((line, e))
    if not rows:
        raise UsageError(f"{path!r} has no equations")
    return rows


def worst_status(rows: list[tuple[str, CheckResult | BpcheckError]]) -> int:
    """The exit status of several equations: the worst one's (an error, then refuted,
    ambiguous, undecided, proved)."""
    statuses = [2 if isinstance(r, BpcheckError) else r.status for _, r in rows]
    return min(statuses, key=WORST_STATUS_FIRST.index)
