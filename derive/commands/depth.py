"""bpcheck report --depth any: the recursion as a theorem for every depth and width.

>>> from bpcheck.derive.io.notation_file import load_notations
>>> r = build_depth_report(notations=load_notations("nielsen"))
>>> [(p.check.id, str(p.check.verdict)) for p in r.theorems[0].parts]
[('hidden-delta-lemma', 'proved'), ('output-delta-base', 'proved'), ('hidden-delta-all-depths', 'proved')]
"""
from __future__ import annotations

from ..engine.theorem import prove_every_depth
from ..model.notation import Notation
from ..present.depth import DepthReport, depth_report_of


def build_depth_report(*, hidden: str = "abstract", output: str = "identity", loss: str = "sse",
                       bias: bool = True, notations: list[Notation],
                       budget: float | None = 30.0) -> DepthReport:
    """The theorem for every depth, in each notation."""
    theorem = prove_every_depth(hidden=hidden, output=output, loss=loss, bias=bias, budget=budget)
    return depth_report_of(theorem, notations)
