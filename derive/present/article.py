"""LaTeX for lecture notes: a report as a standalone article (amsmath) or a fragment to
\\input (publish.py writes and compiles it).

Equations come from the notation printer; a user's text (a notation's title) goes through
`escape`, bpcheck's own prose through `prose` (option names as code, its mathematics as
mathematics). `Layout` says at which level the headings go, whether the report has a
heading of its own, and the book's number of each equation the catalogue knows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import sympy as sp

from ..engine.proof import Counterexample, Verdict
from ..model.activation import KinkSide
from ..model.names import BUILTIN
from .printers import latex, summary
from .report import NotationReport, Report
from .tex import escape, prose
from .values import DIGITS, shown

VERDICT = {Verdict.PROVED: r"\textbf{proved}", Verdict.REFUTED: r"\textbf{refuted}",
           Verdict.UNDECIDED: r"\textbf{undecided}", Verdict.NOT_APPLICABLE: r"not applicable"}


# the sectioning commands, from the top; --heading takes the first four
LEVELS = ("chapter", "section", "subsection", "subsubsection", "paragraph", "subparagraph")
HEADINGS = LEVELS[:4]


@dataclass(frozen=True)
class Layout:
    """How the report sits in a document: the level of each notation's heading, whether
    it has that heading (a fragment to \\input under the user's own has not), and the
    book's number of an equation, by (notation name, its LaTeX), as in \\tag{Bishop 5.56}."""

    heading: str = "section"
    titled: bool = True
    numbers: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def level(self, below: int) -> str:
        """The sectioning command `below` levels under the notation's heading, starred;
        a paragraph at the deepest (a derivation's parts are never above \\paragraph)."""
        at = LEVELS.index(self.heading) + below
        return "\\" + LEVELS[max(at, 4) if below > 1 else at] + "*"

    def tag(self, n, equation: str) -> str:
        number = self.numbers.get((n.name, equation))
        return rf" \tag{{{escape(number)}}}" if number else ""


def _value(v: sp.Expr, write) -> tuple[str, str]:
    """A value and the relation it is written with: '=' and the exact value (with its
    first digits where it is not rational), or '\\approx' and the digits alone where the
    exact form is long: a rounded value is written once, never as '= \\approx'."""
    if isinstance(v, sp.Float):
        return r"\approx", str(sp.N(v, DIGITS))
    s = shown(v, write, r"\approx")
    if s.startswith(r"\approx "):
        return r"\approx", s[len(r"\approx "):]
    return "=", s


def _counterexample(ce: Counterexample, r: NotationReport, net) -> str:
    write = lambda e: latex(e, r.notation, net)
    at = ", ".join(f"{write(i)} = {v}" for i, v in ce.index)
    point = ", ".join("{} {} {}".format(write(q), *_value(v, write)) for q, v in ce.point
                      if not isinstance(q, KinkSide))
    (lr, lhs), (rr, rhs) = _value(ce.lhs, write), _value(ce.rhs, write)
    left = f"is ${lhs}$" if lr == "=" else f"${lr} {lhs}$"
    right = f"${rhs}$" if rr == "=" else f"${rr} {rhs}$"
    return f"It fails at ${at}$: the left side {left}, the right side {right}, where ${point}$."


WIDEST = 6  # columns of a Jacobian written out in full; wider ones show their pattern


def _jacobian_matrix(j) -> str:
    """The concrete Jacobian with every entry written and its zeros as zeros; a wide one
    as its pattern (* where the entry is not identically zero)."""
    if len(j.zero[0]) > WIDEST:
        rows = [" & ".join("0" if z else r"\ast" for z in zr) for zr in j.zero]
    else:
        rows = [" & ".join(cr) for cr in j.cells]
    return r"\begin{pmatrix}" + r" \\ ".join(rows) + r"\end{pmatrix}"


SKIP = "% bpcheck: skip\n"


def _settings(n, net) -> str:
    """The comment line that lets `bpcheck check --file` read this section back in its
    notation and on its network (io/documents.py); a user's notation file is not named,
    as its path is the user's to give."""
    words = [f"notation={n.name}"] if n.name in BUILTIN else []
    for key, value in net.options.items():
        if key == "layers" and net.symbolic:
            continue
        value = ",".join(map(str, value)) if key == "layers" else value
        words.append(f"{key}={str(value).lower() if key == 'bias' else value}")
    return "% bpcheck: " + " ".join(words)


def body(report: Report, layout: Layout = Layout()) -> str:
    """The report as LaTeX for the body of a document."""
    parts = []
    for r in report.notations:
        parts += _notation(r, report.net, layout)
    if len(report.notations) > 1:
        parts += _cross(report, layout)
    return "\n".join(parts) + "\n"


def _notation(r: NotationReport, net, layout: Layout) -> list[str]:
    n, code = r.notation, frozenset(c.id for c in r.checks)
    part, paragraph = layout.level(1), layout.level(2)
    if layout.titled:
        parts = [rf"{layout.level(0)}{{Backpropagation in {escape(n.title)}}}", _settings(n, net)]
    else:  # under the user's own heading: the notation said in a sentence
        parts = [_settings(n, net), f"In the notation of {escape(n.title)}.\n"]
    parts.append(prose(f"Network {summary(net, parameters=True)}.") + "\n")
    parts += [prose(note, code) + "\n" for note in r.notes]
    parts.append(rf"{part}{{Forward equations}}")
    parts.append(r"\begin{align*}" + r" \\ ".join(f.latex.replace(" = ", " &= ", 1)
                                                 + layout.tag(n, f.latex)
                                                 for f in r.forward) + r"\end{align*}")
    parts.append(rf"{part}{{Derivation}}")
    for name, steps in r.derivation:
        parts.append(rf"{paragraph}{{{prose(name.capitalize())}.}}")
        parts.append(r"\begin{align*}" + r" \\ ".join(_step(s, n, layout) for s in steps)
                     + r"\end{align*}")
    parts.append(rf"{part}{{Jacobians}}")
    for j in r.jacobians:
        kind = "output activation" if j.kind == "output-activation" else "between layers"
        parts.append(rf"{escape(kind.capitalize())}: ${j.partial.latex} = {j.entry.latex}$; "
                     rf"{prose(j.summary)}.")
        if len(j.zero[0]) > WIDEST:
            parts.append(rf"The entries of this {len(j.zero)} by {len(j.zero[0])} matrix "
                         r"are written as $\ast$ where they are not identically zero.")
        # a matrix of entries shown, not a claim: `check --file` passes over it
        parts.append(SKIP + r"\[" + _jacobian_matrix(j) + r"\]")
    parts.append(rf"{part}{{Checks}}")
    parts += [r"\begin{itemize}", *(_check(c, r, net, layout, code) for c in r.checks),
              r"\end{itemize}"]
    return parts


def _step(s, n, layout: Layout) -> str:
    how = prose(s.why) + (f"; {VERDICT[s.verdict]}" if s.verdict else "; derived")
    if s.conditions:
        how += " if $" + ", ".join(c.latex for c in s.conditions) + "$"
    return (s.equation.latex.replace(" = ", " &= ", 1)
            + rf" && \parbox[t]{{0.36\linewidth}}{{\raggedright\small {how}}}"
            + layout.tag(n, s.equation.latex))


def _check(c, r: NotationReport, net, layout: Layout, code: frozenset[str]) -> str:
    number = layout.numbers.get((r.notation.name, c.claim.latex))
    item = (rf"\item \texttt{{{escape(c.id)}}}, layer {prose(c.layer_label)}: "
            rf"$\displaystyle {c.claim.latex}$"
            + (f" ({escape(number)})" if number else "") + f" --- {VERDICT[c.verdict]}")
    if c.conditions:
        item += " if $" + ", ".join(x.latex for x in c.conditions) + "$"
    if c.note:
        item += f" ({prose(c.note, code)})"
    item += "."
    if c.outcome_counterexample is not None:
        item += " " + _counterexample(c.outcome_counterexample, r, net)
    return item


def _cross(report: Report, layout: Layout) -> list[str]:
    # beside the notations' headings, or their parts' where they have none
    head = 0 if layout.titled else 1
    parts = [rf"{layout.level(head)}{{Cross-notation: the same quantities in every notation}}"]
    names = [r.notation for r in report.notations]
    cols = "l" * (len(names) + 1)
    rows = [" & ".join(["quantity"] + [escape(n.name) for n in names]) + r" \\ \hline"]
    rows += [" & ".join([escape(label)] + [f"${c.latex}$" for c in cells]) + r" \\"
             for label, cells in report.translation]
    parts.append(rf"\begin{{tabular}}{{{cols}}}" + "\n".join(rows) + r"\end{tabular}")
    for row in report.cross:
        parts.append(rf"{layout.level(2)}{{Delta, layer {row.layer}: "
                     rf"{VERDICT[row.verdict]}.}}")
        parts.append(SKIP + r"\begin{align*}" + r" \\ ".join(  # a row per notation
            rf"&{f.latex} && \text{{{escape(name)}}}" for name, f in row.formulas)
            + r"\end{align*}")
    return parts


def document(report: Report, layout: Layout = Layout()) -> str:
    """A standalone document: compiles with pdflatex and the amsmath package alone (an
    article; a report where the headings are chapters)."""
    kind = "report" if layout.heading == "chapter" else "article"
    return (f"\\documentclass[11pt]{{{kind}}}\n\\usepackage{{amsmath}}\n"
            "\\setcounter{MaxMatrixCols}{64}\n"
            "\\setlength{\\parindent}{0pt}\\setlength{\\parskip}{0.5em}\n"
            "\\allowdisplaybreaks\n\\begin{document}\n" + body(report, layout)
            + "\\end{document}\n")
