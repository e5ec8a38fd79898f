"""The catalogue as a table: each entry, the network it is checked on, the verdict
expected and the verdict computed now, with the named mistake of a wrong one."""
from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from ..engine.proof import Verdict
from .console import STYLE


def catalogue_table(rows) -> Table:
    t = Table(box=box.SIMPLE)
    t.add_column("id", no_wrap=True)
    t.add_column("source", overflow="fold", ratio=1)  # long titles fold, not the equation
    t.add_column("equation as printed", overflow="fold", ratio=2)
    t.add_column("network", overflow="fold", ratio=1)
    t.add_column("expected", no_wrap=True, min_width=9)
    t.add_column("now", no_wrap=True, min_width=9)
    t.add_column("mistake", no_wrap=True)
    for r in rows:
        now = Text(r.verdict, style=STYLE.get(Verdict(r.verdict), "bold magenta")
                   if r.verdict in {v.value for v in Verdict} else "bold magenta")
        if not r.agrees:
            now.append("  DIFFERS", style="bold red")
        t.add_row(r.entry.id, f"{r.entry.source} {r.entry.number}", r.entry.latex,
                  r.expectation.describe(), r.expectation.verdict, now, r.mistake or "")
    return t
