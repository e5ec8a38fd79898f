"""A layer's equation checked in its slice (`check --net FILE`): the verdict, what each
letter means there, and for a refutation the free indices' values, the two sides' values
and the point, with the well-known mistake it is where it is one. `__rich_console__` for the
terminal, `slice_json` for machines.
"""
from __future__ import annotations

from typing import Any, Iterator

import sympy as sp
from rich.console import Console, ConsoleOptions
from rich.text import Text

from ..engine.proof import Verdict
from ..engine.slice_check import SliceResult
from ..model.stages import IMAGES, SIZE_WORDS
from .console import verdict_text

MEANS = ("dl/d(a quantity) is the chain rule taken back through the layer from the gradient on "
         "its output, free")


def _point(result: SliceResult) -> list[tuple[str, str]]:
    return [(str(v), str(x)) for v, x in result.point]


def _over(r: SliceResult) -> str:
    """The slice's size in words: 1 pattern in the mini-batch, 3 entries, an image of 3
    rows by 4 columns."""
    if _image(r):
        return f"an image of {r.size} rows by {dict(r.sizes)['m']} columns"
    return f"{r.size} {SIZE_WORDS[r.kind][r.size != 1]}"


def _image(r: SliceResult) -> bool:
    return r.kind in IMAGES and "m" in dict(r.sizes)


def _other_sizes(r: SliceResult) -> str:
    """The slice's other ranges (an attention row's d_k, d_v; a kernel's k; a recurrence's
    units n), with a caution where a factor of the size would not show: sqrt(d_k) is 1 at
    d_k = 1."""
    others = dict(r.sizes)
    shown = [f"{k} = {v}" for k, v in others.items()
             if k in ("d_k", "d_v") or v != r.size and not (k == "m" and _image(r))]
    out = f" ({', '.join(shown)})" if shown else ""
    if others.get("d_k") == 1:
        out += " (with d_k = 1, a factor 1/sqrt(d_k) left out cannot be seen: give d_k >= 2)"
    return out


class SliceCheckView:
    def __init__(self, result: SliceResult):
        self.result = result

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator:
        r = self.result
        yield Text.assemble(verdict_text(r.verdict), f"  {r.text}")
        yield Text(f"read in the slice of the {r.kind} layer over {_over(r)}"
                   f"{_other_sizes(r)}: {', '.join(r.words)}; {MEANS}", style="dim")
        if r.verdict is Verdict.PROVED:
            size = (f" and for every {r.every} (every size of the slice)" if r.every else
                    f", at {_over(r)} (not decided here for every size)")
            yield Text("proved for every value of " + (", ".join(r.free) or "its quantities")
                       + size + (f", under {', '.join(r.conditions)}" if r.conditions else ""))
        if r.note and r.verdict is Verdict.AMBIGUOUS:
            yield Text(r.note)
        if r.values:
            at = ", ".join(f"{i} = {v}" for i, v in zip(r.free, r.entry)) or "the equation"
            left, right = (sp.Float(v, 10) for v in r.values)
            where = "where a reading is refuted, " if r.verdict is Verdict.AMBIGUOUS else ""
            yield Text(f"{where}at {at}: left side {left}, right side {right}")
            yield Text("point: " + ", ".join(f"{v} = {x}" for v, x in _point(r)))
        if r.note and r.verdict is not Verdict.AMBIGUOUS:
            yield Text(r.note)
        if r.diagnosis.mistake:
            m = r.diagnosis.mistake
            yield Text.assemble(("mistake: ", "bold"), f"{m.id}: {m.what} (the right side is "
                                "proved equal to that wrong backward pass)")


def slice_json(result: SliceResult) -> dict[str, Any]:
    r = result
    out: dict[str, Any] = {"latex": r.text, "layer": r.kind, "size": r.size,
                           "verdict": str(r.verdict), "free": list(r.free),
                           "conditions": list(r.conditions), "note": r.note,
                           "mistake": r.diagnosis.id,
                           "readings": {k: str(v) for k, v in r.readings},
                           "every_size": r.every or None}
    if r.values:
        out["counterexample"] = {"at": dict(zip(r.free, r.entry)),
                                 "left": str(sp.Float(r.values[0], 15)),
                                 "right": str(sp.Float(r.values[1], 15)),
                                 "point": dict(_point(r))}
    return out
