"""`report --net FILE --depth any`: backpropagation through time for every T, as a reader
follows it: for each recurrent layer, the base case, the lemma, the induction on T - t and
the tied weights, each with its statement, its equation and its verdict, then the wrong
versions refuted on the same stand-ins. A view of engine/bptt's TimeTheorem.
"""
from __future__ import annotations

from typing import Any, Iterator

from rich.console import Console, ConsoleOptions
from rich.table import Table
from rich.text import Text

from ..engine.bptt import TimePart, TimeTheorem
from ..engine.proof import Verdict
from .console import _box, verdict_text
from .typed_report import outcome

NOTATION = ("a_t = W h_(t-1) + U x_t + b, h_t = f(a_t), h_0 = 0; dh_t = dL/dh_t along "
            "every path; g_t = dL/dh_t through what reads h_t besides the next step (in the "
            "book, o_t = V h_t + c and g_t = V^T dL/do_t); * is entry by entry (Goodfellow, "
            "Bengio and Courville, Deep Learning, eqs. 10.18 to 10.28)")


class TimeTheoremsView:
    """The rich view of the theorems of a network's recurrent layers."""

    def __init__(self, title: str, theorems: list[TimeTheorem]):
        self.title, self.theorems = title, theorems

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator:
        yield Text(self.title, style="bold")
        yield Text("backpropagation through time for every number of steps T: the file's "
                   "rows fix one T; this holds for all of them, at the layer's units and "
                   "inputs, and where it says 'every width', for every number of them")
        yield Text(NOTATION, style="dim")
        for t in self.theorems:
            L = t.layer
            yield Text(f"\nlayer {L.at} (rnn): {L.units} units, f = {L.function}, "
                       f"{L.width} input{'s' if L.width != 1 else ''} per step", style="bold")
            yield _table(t.parts, console)
            yield Text("wrong versions, each refuted on the same stand-in", style="bold")
            yield _table(t.wrong, console)
        yield Text(f"\nworst: {worst(self.theorems)}", style="bold")


def worst(theorems: list[TimeTheorem]) -> Verdict:
    return Verdict.PROVED if all(t.verdict is Verdict.PROVED for t in theorems) \
        else Verdict.UNDECIDED


def _table(parts: tuple[TimePart, ...], console: Console) -> Table:
    t = Table(box=_box(console))
    for col in ("part", "equation", "verdict", "why"):
        t.add_column(col, overflow="fold")
    for p in parts:
        verdict = verdict_text(p.verdict)
        if p.every:
            verdict.append("\nevery width")  # the header says what that is
        t.add_row(f"{p.title}\n({p.id})", p.claim, verdict, _why(p))
    return t


def _why(p: TimePart) -> str:
    return p.words + outcome(p, _entry(p.entry) if p.entry else "")


def _entry(entry: tuple) -> str:
    """("W", 1, 2) as dW[1,2]; a unit's number as dh_t[j]."""
    name, *ix = entry[0] if isinstance(entry[0], tuple) else ("h_t", *entry)
    return f"d{name}[{','.join(map(str, ix))}]"


def time_json(title: str, theorems: list[TimeTheorem]) -> dict[str, Any]:
    """The theorems as JSON: each part and wrong version with its verdict."""
    def part(p: TimePart) -> dict[str, Any]:
        return {"id": p.id, "title": p.title, "statement": p.words, "equation": p.claim,
                "verdict": str(p.verdict), "every": p.every or None,
                "conditions": list(p.conditions),
                "note": p.note or None,
                **({"entry": _entry(p.entry), "claimed": str(p.values[0]),
                    "true": str(p.values[1]),
                    "point": {str(k): str(v) for k, v in p.point}} if p.entry else {})}
    return {"title": title, "depth": "any", "notation": NOTATION,
            "layers": [{"at": t.layer.at, "units": t.layer.units, "function": t.layer.function,
                        "inputs": t.layer.width, "verdict": str(t.verdict),
                        "parts": [part(p) for p in t.parts],
                        "wrong": [part(w) for w in t.wrong]} for t in theorems],
            "worst": str(worst(theorems))}
