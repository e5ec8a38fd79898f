"""LaTeX for lecture notes: a report as a standalone article (amsmath) or a fragment to
\\input (publish.py writes and compiles it).

Equations come from the notation printer; every piece of prose that could carry a user's
text (a notation's title, notes) goes through `escape`.
"""
from __future__ import annotations

from ..engine.proof import Counterexample, Verdict
from ..model.notation import BUILTIN
from .printers import latex, summary
from .report import NotationReport, Report
from .tex import escape
from .values import counterexample_json

VERDICT = {Verdict.PROVED: r"\textbf{proved}", Verdict.REFUTED: r"\textbf{refuted}",
           Verdict.UNDECIDED: r"\textbf{undecided}", Verdict.NOT_APPLICABLE: r"not applicable"}


def _counterexample(ce: Counterexample, r: NotationReport, net) -> str:
    d = counterexample_json(ce, r.notation, net, write=lambda e: latex(e, r.notation, net),
                            approx=r"\approx")
    at = ", ".join(f"{k} = {v}" for k, v in d["index"].items())
    point = ", ".join(f"{k} = {v}" for k, v in d["point"].items())
    return (rf"It fails at ${at}$: the left side is ${d['lhs']}$, the right side "
            rf"${d['rhs']}$, where ${point}$.")


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


def body(report: Report) -> str:
    """The report as LaTeX for the body of a document."""
    parts = []
    for r in report.notations:
        parts += _notation(r, report.net)
    if len(report.notations) > 1:
        parts += _cross(report)
    return "\n".join(parts) + "\n"


def _notation(r: NotationReport, net) -> list[str]:
    n = r.notation
    parts = [rf"\section*{{Backpropagation in {escape(n.title)}}}", _settings(n, net),
             escape(f"Network {summary(net, parameters=True)}.") + "\n"]
    parts += [escape(note) + "\n" for note in r.notes]
    parts.append(r"\subsection*{Forward equations}")
    parts.append(r"\begin{align*}" + r" \\ ".join(f.latex.replace(" = ", " &= ", 1)
                                                 for f in r.forward) + r"\end{align*}")
    parts.append(r"\subsection*{Derivation}")
    for part, steps in r.derivation:
        parts.append(rf"\paragraph{{{escape(part.capitalize())}.}}")
        parts.append(r"\begin{align*}" + r" \\ ".join(_step(s) for s in steps) + r"\end{align*}")
    parts.append(r"\subsection*{Jacobians}")
    for j in r.jacobians:
        kind = "output activation" if j.kind == "output-activation" else "between layers"
        parts.append(rf"{escape(kind.capitalize())}: ${j.partial.latex} = {j.entry.latex}$; "
                     rf"{escape(j.summary)}.")
        if len(j.zero[0]) > WIDEST:
            parts.append(rf"The entries of this {len(j.zero)} by {len(j.zero[0])} matrix "
                         r"are written as $\ast$ where they are not identically zero.")
        # a matrix of entries shown, not a claim: `check --file` passes over it
        parts.append(SKIP + r"\[" + _jacobian_matrix(j) + r"\]")
    parts.append(r"\subsection*{Checks}")
    parts += [r"\begin{itemize}", *(_check(c, r, net) for c in r.checks), r"\end{itemize}"]
    return parts


def _step(s) -> str:
    how = escape(s.why) + (f"; {VERDICT[s.verdict]}" if s.verdict else "; derived")
    if s.conditions:
        how += " if $" + ", ".join(c.latex for c in s.conditions) + "$"
    return (s.equation.latex.replace(" = ", " &= ", 1)
            + rf" && \parbox[t]{{0.36\linewidth}}{{\raggedright\small {how}}}")


def _check(c, r: NotationReport, net) -> str:
    item = (rf"\item \texttt{{{escape(c.id)}}}, layer {escape(c.layer_label)}: "
            rf"$\displaystyle {c.claim.latex}$ --- {VERDICT[c.verdict]}")
    if c.conditions:
        item += " if $" + ", ".join(x.latex for x in c.conditions) + "$"
    if c.note:
        item += f" ({escape(c.note)})"
    item += "."
    if c.outcome_counterexample is not None:
        item += " " + _counterexample(c.outcome_counterexample, r, net)
    return item


def _cross(report: Report) -> list[str]:
    parts = [r"\section*{Cross-notation: the same quantities in every notation}"]
    names = [r.notation for r in report.notations]
    cols = "l" * (len(names) + 1)
    rows = [" & ".join(["quantity"] + [escape(n.name) for n in names]) + r" \\ \hline"]
    rows += [" & ".join([escape(label)] + [f"${c.latex}$" for c in cells]) + r" \\"
             for label, cells in report.translation]
    parts.append(rf"\begin{{tabular}}{{{cols}}}" + "\n".join(rows) + r"\end{tabular}")
    for row in report.cross:
        parts.append(rf"\paragraph{{Delta, layer {row.layer}: {VERDICT[row.verdict]}.}}")
        parts.append(SKIP + r"\begin{align*}" + r" \\ ".join(  # a row per notation
            rf"&{f.latex} && \text{{{escape(name)}}}" for name, f in row.formulas)
            + r"\end{align*}")
    return parts


def document(report: Report) -> str:
    """A standalone article: compiles with pdflatex and the amsmath package alone."""
    return ("\\documentclass[11pt]{article}\n\\usepackage{amsmath}\n"
            "\\setcounter{MaxMatrixCols}{64}\n"
            "\\setlength{\\parindent}{0pt}\\setlength{\\parskip}{0.5em}\n"
            "\\allowdisplaybreaks\n\\begin{document}\n" + body(report) + "\\end{document}\n")
