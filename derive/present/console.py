"""The report as rich renderables: headings, equations and tables for the terminal.
Colour only where the console has it; the same text without it otherwise."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Iterable, Iterator

from rich import box
from rich.console import Console, ConsoleOptions
from rich.padding import Padding
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn)
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..engine.proof import Verdict
from .printers import summary

if TYPE_CHECKING:
    from .report import CheckView, NotationReport, Report

STYLE = {Verdict.PROVED: "bold green", Verdict.REFUTED: "bold red",
         Verdict.UNDECIDED: "bold yellow", Verdict.AMBIGUOUS: "bold cyan",
         Verdict.NOT_APPLICABLE: "dim"}


def verdict_text(v: Verdict | None) -> Text:
    if v is None:
        return Text("")
    return Text(str(v), style=STYLE[v])


def _box(console: Console):
    return box.ROUNDED if console.is_terminal else box.SIMPLE


def conditions_text(c) -> Text:
    """A check's conditions and note, for the last column of a checks table."""
    out = Text()
    if c.conditions:
        out.append("if " + ", ".join(x.text for x in c.conditions))
    if c.note:
        out.append(("; " if out else "") + c.note, style="dim")
    return out


def _detail(c: "CheckView") -> Text:
    out = conditions_text(c)
    ce = c.counterexample
    if ce:
        at = ", ".join(f"{k} = {v}" for k, v in ce["index"].items())
        point = ", ".join(f"{k} = {v}" for k, v in ce["point"].items())
        out.append(("\n" if out else "") + f"fails at {at}: left {ce['lhs']}, right {ce['rhs']}")
        out.append(f"\nwhere {point}", style="dim")
    return out


def notation_heading(view) -> Iterator:
    """A notation's part of a report begins alike for layers and graphs: its title, its
    notes, the forward equations (`view` has notation, notes and forward)."""
    yield Rule(Text(view.notation.title, style="bold"), align="left")
    for note in view.notes:
        yield Padding(Text(note, style="italic"), (0, 2), expand=False)
    yield Text("Forward equations", style="bold")
    for f in view.forward:
        yield Padding(Text(f.text), (0, 4), expand=False)


def _notation(r: "NotationReport", console: Console) -> Iterator:
    yield from notation_heading(r)
    yield Text("Derivation", style="bold")
    for part, steps in r.derivation:
        yield Padding(Text(part, style="underline"), (0, 2), expand=False)
        t = Table(box=None, show_header=False, padding=(0, 2), pad_edge=False)
        t.add_column(overflow="fold")
        t.add_column(style="dim", min_width=20, overflow="fold")
        t.add_column(no_wrap=True, min_width=9)
        for s in steps:
            why = s.why + ("; if " + ", ".join(c.text for c in s.conditions) if s.conditions else "")
            t.add_row(s.equation.text, why, verdict_text(s.verdict) if s.verdict else Text("derived", style="dim"))
        yield Padding(t, (0, 4), expand=False)
    checks = Table(title="Checks", title_justify="left", box=_box(console), expand=False)
    for col in ("check", "layer", "claim", "verdict", "conditions / counterexample"):
        checks.add_column(col, overflow="fold", min_width=9 if col == "verdict" else None)
    for c in r.checks:
        checks.add_row(c.id, c.layer_label, c.claim.text, verdict_text(c.verdict), _detail(c))
    yield checks
    jac = Table(title="Jacobians: which partial derivatives vanish", title_justify="left",
                box=_box(console))
    for col in ("map", "entry", "vanishing"):
        jac.add_column(col, overflow="fold")
    for j in r.jacobians:
        pattern = "\n".join(" ".join("0" if z else "*" for z in row) for row in j.zero)
        name = "output activation" if j.kind == "output-activation" else "between layers"
        jac.add_row(f"{j.partial.text}\n({name})", j.entry.text, f"{j.summary}\n{pattern}")
    yield jac
    yield Text("")


def render_report(report: "Report", console: Console, options: ConsoleOptions) -> Iterator:
    net = report.net
    yield Text.assemble(("Network ", "bold"), summary(net, parameters=True))
    if net.symbolic:
        yield Text("Widths are symbols: every claim below is proved, or refuted, for every "
                   "width at once; a refutation names the widths where it fails.", style="italic")
    yield Text("")
    for r in report.notations:
        yield from _notation(r, console)
    names = [r.notation.name for r in report.notations]
    if len(names) > 1:
        yield Rule(Text("Cross-notation: the same delta in every notation", style="bold"),
                   align="left")
        tr = Table(title="Translation", title_justify="left", box=_box(console))
        tr.add_column("quantity")
        for name in names:
            tr.add_column(name)
        for label, cells in report.translation:
            tr.add_row(label, *[c.text for c in cells])
        yield tr
        cross = Table(title="Delta at each layer", title_justify="left", box=_box(console))
        cross.add_column("layer")
        for name in names:
            cross.add_column(name, overflow="fold")
        cross.add_column("equal")
        for row in report.cross:
            cross.add_row(str(row.layer), *[f.text for _, f in row.formulas],
                          verdict_text(row.verdict))
        yield cross


def render_depth(report, console: Console, options: ConsoleOptions) -> Iterator:
    """The theorem for every depth: lemma, base case and induction, in each notation."""
    net = report.net
    yield Text.assemble(("Every depth, every width", "bold"),
                        f": hidden {net.hidden.name}, output {net.output.name}, "
                        f"loss {net.loss.name}, {'biases' if net.bias else 'no biases'}; "
                        "layers l-1, l, l+1 and the output layer L, widths "
                        + ", ".join(f"{w}" for w in net.widths))
    yield Text("")
    for theorem in report.theorems:
        yield Rule(Text(theorem.notation.title, style="bold"), align="left")
        for part in theorem.parts:
            c = part.check
            yield Text.assemble((part.title, "bold"), (f"  ({c.id})", "dim"))
            yield Padding(Text(part.words), (0, 2), expand=False)
            line = Text.assemble(c.claim.text, "    ", verdict_text(c.verdict))
            yield Padding(line, (0, 4), expand=False)
            detail = _detail(c)
            if detail:
                yield Padding(detail, (0, 4), expand=False)
            if part.steps:
                t = Table(box=None, show_header=False, padding=(0, 2), pad_edge=False)
                t.add_column(overflow="fold")
                t.add_column(style="dim", min_width=20, overflow="fold")
                t.add_column(no_wrap=True, min_width=9)
                for s in part.steps:
                    why = s.why + ("; if " + ", ".join(c.text for c in s.conditions) if s.conditions else "")
                    t.add_row(s.equation.text, why, verdict_text(s.verdict) if s.verdict
                              else Text("derived", style="dim"))
                yield Padding(t, (0, 6), expand=False)
        yield Text("")


class ProgressBar:
    """A bar for a command's loop, on `console` (the command line's stderr), shown once the
    loop has run for `delay` seconds (at once for 0) and gone when it ends; nothing at all
    where there is no console or it is not a terminal (a pipe, a test), so no output
    changes. A context manager; called as bar(done, total, label) before each step, or its
    `track` iterated."""

    def __init__(self, console: Console | None, what: str, *, delay: float = 1.0):
        shown = console is not None and console.is_terminal and not console.is_dumb_terminal
        self._bar = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"),
                             BarColumn(bar_width=24), MofNCompleteColumn(), TimeElapsedColumn(),
                             TextColumn("{task.fields[label]}"), console=console,
                             transient=True, redirect_stdout=False,
                             redirect_stderr=False) if shown else None
        self._task = self._bar.add_task(what, total=None, label="") if self._bar else None
        self._timer = threading.Timer(delay, self._bar.start) if self._bar and delay > 0 else None

    def __enter__(self) -> "ProgressBar":
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()
        elif self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()  # a bar being started is started before it is stopped
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, done: int, total: int, label: str = "") -> None:
        if self._bar is not None:  # drawn at once where it is shown, each step in its turn
            self._bar.update(self._task, completed=done, total=total, label=label,
                             refresh=self._bar.live.is_started)

    def track(self, items: Iterable) -> list:
        """The items as a list (its length is the bar's total) that moves the bar as the
        command's own loop goes over it."""
        return _Tracked(items, self)


class _Tracked(list):
    def __init__(self, items: Iterable, bar: ProgressBar):
        super().__init__(items)
        self._bar = bar

    def __iter__(self) -> Iterator:
        for done, item in enumerate(list.__iter__(self)):
            self._bar(done, len(self), str(item))
            yield item
        self._bar(len(self), len(self))
