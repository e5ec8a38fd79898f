"""Views of the engine's results for notebooks and terminals: `shown(result)` wraps a
result (a checked equation, a derivation, an outcome) in an object that Jupyter renders
as LaTeX, rich renders in a terminal, and repr writes in one line; it answers every
attribute of the result itself.

>>> from bpcheck.derive.engine.proof import Outcome, Verdict
>>> shown(Outcome(Verdict.PROVED))._repr_latex_()
'$\\\\text{proved}$'
"""
from __future__ import annotations

from typing import Any, Iterator

import sympy as sp
from rich.console import Console, ConsoleOptions

from ..engine.checking import CheckResult
from ..engine.derivation import Derivation
from ..engine.proof import Outcome
from ..model.notation import Notation
from .check import check_json, check_latex, render_check
from .console import verdict_text
from .printers import latex


class Shown:
    """A result with its views."""

    def __init__(self, result: Any, notation: Notation | None = None):
        self.result, self.notation = result, notation

    def __getattr__(self, name: str) -> Any:
        return getattr(self.result, name)

    def __repr__(self) -> str:
        r = self.result
        if isinstance(r, CheckResult):
            return f"<{r.verdict}: {r.text}>"
        if isinstance(r, Outcome):
            return f"<{r.verdict}>"
        return f"<{type(r).__name__}: {len(getattr(r, 'checks', ()))} checks>"

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator:
        r = self.result
        if isinstance(r, CheckResult):
            yield from render_check(r, console, options)
        elif isinstance(r, Outcome):
            yield verdict_text(r.verdict)
        else:
            yield repr(self)

    def _repr_latex_(self) -> str:
        r = self.result
        if isinstance(r, CheckResult):
            return check_latex(r)
        if isinstance(r, Outcome):
            conditions = ", ".join(sp.latex(c) for c in r.conditions)
            return rf"$\text{{{r.verdict}}}" + (rf" \text{{ if }} {conditions}" if conditions else "") + "$"
        if isinstance(r, Derivation) and self.notation is not None:
            return _derivation_latex(r, self.notation)
        return ""

    def to_json(self) -> dict[str, Any]:
        return check_json(self.result)


def _derivation_latex(d: Derivation, n: Notation) -> str:
    """Every claim in a notation with its verdict."""
    lines = [rf"&{latex(n.express(c.claim.equation), n, d.net)} && "
             rf"\text{{{c.claim.id}: {c.outcome.verdict}}}" for c in d.checks]
    return "$$\\begin{aligned}" + r" \\ ".join(lines) + "\\end{aligned}$$"


def shown(result: Any, *, notation: Notation | None = None) -> Shown:
    """The result with its views; a derivation is written in `notation`."""
    return Shown(result, notation)
