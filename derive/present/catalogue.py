"""The catalogue as the terminal shows it: each entry, the network it is checked on, the
verdict expected and the verdict computed now, the named mistake of a wrong one, and the
entry's note. A table where the terminal has room for one; where it has not, one block per
entry, so that nothing is cut (an id, a verdict or a mistake is never wrapped or cropped)."""
from __future__ import annotations

from typing import Iterator

from rich import box
from rich.console import Console, ConsoleOptions
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..engine.proof import Verdict
from .console import STYLE


# the table's room for the columns that wrap (the equation with its note, the network) on
# top of those that never do; with less, one block per entry
ROOM = 60
# what a table adds to its columns: a space either side of each, a rule between two, an edge
# either side (six columns)
EDGES = 6 * 2 + 5 + 2


class CatalogueView:
    """The rows of `check_catalogue`, as wide as the console allows."""

    def __init__(self, rows):
        self.rows = list(rows)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator:
        if options.max_width >= table_width(self.rows):
            yield catalogue_table(self.rows)
        else:
            yield from catalogue_blocks(self.rows)


def _entries(rows) -> list[list]:
    """The rows grouped by entry, in order (an entry has a row for each network)."""
    out: list[list] = []
    for r in rows:
        if out and out[-1][0].entry.id == r.entry.id:
            out[-1].append(r)
        else:
            out.append([r])
    return out


def _now(r) -> Text:
    return Text(r.verdict, style=STYLE.get(Verdict(r.verdict), "bold magenta")
                if r.verdict in {v.value for v in Verdict} else "bold magenta")


def _expected(r) -> Text:
    v = r.expectation.verdict
    return Text(v, style=STYLE[Verdict(v)] if v in {x.value for x in Verdict} else "")


def _mistake(r) -> str:
    """The mistake named now, and the one expected where that is another."""
    found, expected = r.mistake, r.expectation.mistake
    if found == expected:
        return found or ""
    return f"{found or 'none'}\n(expected {expected or 'none'})"


def _error(r) -> str:
    return "" if r.error is None else f"error: {r.error}"


def table_width(rows) -> int:
    """The width the table needs: its columns that never wrap (id, expected, now, mistake),
    its padding and rules, and ROOM for the others."""
    ids = max((len(r.entry.id) for r in rows), default=2)
    mistakes = max((len(line) for r in rows for line in _mistake(r).splitlines()), default=0)
    return ids + 9 + 9 + max(mistakes, len("mistake")) + EDGES + ROOM


def catalogue_table(rows) -> Table:
    """One row per entry and network; an entry's source and LaTeX on its first row, its
    note on a row of its own under its last."""
    t = Table(box=box.SIMPLE, expand=True)  # the columns that wrap share what is left, 3:2
    t.add_column("id", no_wrap=True)
    t.add_column("source, equation as printed", overflow="fold", ratio=3)
    t.add_column("network", overflow="fold", ratio=2)
    t.add_column("expected", no_wrap=True, min_width=9)
    t.add_column("now", no_wrap=True, min_width=9)
    t.add_column("mistake", no_wrap=True)
    for group in _entries(rows):
        e = group[0].entry
        for i, r in enumerate(group):
            now = _now(r)
            if not r.agrees:
                now.append("\nDIFFERS", style="bold red")
            about = (Text.assemble((f"{e.source} {e.number}", "dim"), "\n", e.latex)
                     if i == 0 else "")
            network = Text(r.expectation.describe())
            if _error(r):
                network.append("\n" + _error(r), style="red")
            last = i == len(group) - 1 and not e.note
            t.add_row(e.id if i == 0 else "", about, network, _expected(r), now, _mistake(r),
                      end_section=last)
        if e.note:
            t.add_row("", Text("note: " + e.note, style="italic"), end_section=True)
    return t


def _verdicts(r) -> Text:
    """One network of an entry on one line (wrapped where the console is narrow)."""
    out = Text.assemble(f"{r.expectation.describe()}: expected ", _expected(r), ", now ", _now(r))
    found, expected = r.mistake, r.expectation.mistake
    if found or expected:
        out.append(f", mistake {found or 'none'}")
        if found != expected:
            out.append(f" (expected {expected or 'none'})")
    if not r.agrees:
        out.append("  DIFFERS", style="bold red")
    if _error(r):
        out.append("; " + _error(r), style="red")
    return out


def catalogue_blocks(rows) -> Iterator:
    """One block per entry: its id, source and number, its LaTeX, a line for each network
    (the verdict expected and the one now, the mistake), its note."""
    for group in _entries(rows):
        e = group[0].entry
        yield Text.assemble((e.id, "bold"), "  ", (f"{e.source} {e.number}", "dim"))
        lines = Table.grid(padding=(0, 1))
        lines.add_column(no_wrap=True)
        lines.add_column(overflow="fold", ratio=1)
        lines.add_row("", Text(e.latex))
        for r in group:
            lines.add_row("-", _verdicts(r))
        if e.note:
            lines.add_row("", Text("note: " + e.note, style="italic"))
        yield Padding(lines, (0, 0, 1, 1))
