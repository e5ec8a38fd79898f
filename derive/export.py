"""LaTeX for lecture notes: a report as a standalone article (amsmath) or a fragment to
\\input (publish.py writes and compiles it).

Equations come from the notation printer; every piece of prose that could carry a user's
text (a notation's title, notes) goes through `escape`.
"""
from __future__ import annotations

import sympy as sp

from .proof import Counterexample, Verdict
from .render import latex
from .report import NotationReport, Report, shown

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
            "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%",
            "~": r"\textasciitilde{}"}
_UNICODE = {"δ": r"$\delta$", "σ": r"$\sigma$", "η": r"$\eta$", "Σ": r"$\Sigma$",
            "∂": r"$\partial$", "≈": r"$\approx$", "≠": r"$\neq$", "—": "---", "–": "--"}


def escape(text: str) -> str:
    """Prose for LaTeX: special characters escaped, the few Unicode symbols bpcheck's own
    prose uses written as math, anything else outside ASCII dropped to '?'."""
    out = []
    for ch in text:
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


VERDICT = {Verdict.PROVED: r"\textbf{proved}", Verdict.REFUTED: r"\textbf{refuted}",
           Verdict.UNDECIDED: r"\textbf{undecided}", Verdict.NOT_APPLICABLE: r"not applicable"}


def _value(v: sp.Expr, r: NotationReport, net) -> str:
    return shown(v, lambda e: latex(e, r.notation, net), r"\approx")


def _counterexample(ce: Counterexample, r: NotationReport, net) -> str:
    from .activation import KinkSide
    at = ", ".join(rf"{latex(i, r.notation, net)} = {v}" for i, v in ce.index)
    point = ", ".join(rf"{latex(q, r.notation, net)} = {_value(v, r, net)}"
                      for q, v in ce.point if not isinstance(q, KinkSide))
    return (rf"It fails at ${at}$: the left side is ${_value(ce.lhs, r, net)}$, the right "
            rf"side ${_value(ce.rhs, r, net)}$, where ${point}$.")


WIDEST = 6  # columns of a Jacobian written out in full; wider ones show their pattern


def _jacobian_matrix(j) -> str:
    """The concrete Jacobian with every entry written and its zeros as zeros; a wide one
    as its pattern (* where the entry is not identically zero)."""
    wide = len(j.cells[0]) > WIDEST
    rows = [" & ".join(("0" if z else r"\ast") if wide else cell for z, cell in zip(zr, cr))
            for zr, cr in zip(j.zero, j.cells)]
    return r"\begin{pmatrix}" + r" \\ ".join(rows) + r"\end{pmatrix}"


def body(report: Report) -> str:
    """The report as LaTeX for the body of a document."""
    net = report.net
    parts = []
    for r in report.notations:
        n = r.notation
        parts.append(rf"\section*{{Backpropagation in {escape(n.title)}}}")
        parts.append(escape(f"Network {'-'.join(map(str, net.widths))}: hidden {net.hidden.name}, "
                            f"output {net.output.name}, loss {net.loss.name}, "
                            f"{'biases' if net.bias else 'no biases'}, "
                            f"{net.n_weights} parameters.") + "\n")
        for note in r.notes:
            parts.append(escape(note) + "\n")
        parts.append(r"\subsection*{Forward equations}")
        parts.append(r"\begin{align*}" + r" \\ ".join(f.latex.replace(" = ", " &= ", 1)
                                                     for f in r.forward) + r"\end{align*}")
        parts.append(r"\subsection*{Derivation}")
        for part, steps in r.derivation:
            parts.append(rf"\paragraph{{{escape(part.capitalize())}.}}")
            lines = []
            for s in steps:
                how = escape(s.why) + (f"; {VERDICT[s.verdict]}" if s.verdict else "; derived")
                if s.conditions:
                    how += " if $" + ", ".join(c.latex for c in s.conditions) + "$"
                lines.append(s.equation.latex.replace(" = ", " &= ", 1)
                             + rf" && \parbox[t]{{0.36\linewidth}}{{\raggedright\small {how}}}")
            parts.append(r"\begin{align*}" + r" \\ ".join(lines) + r"\end{align*}")
        parts.append(r"\subsection*{Jacobians}")
        for j in r.jacobians:
            kind = "output activation" if j.kind == "output-activation" else "between layers"
            parts.append(rf"{escape(kind.capitalize())}: ${j.partial.latex} = {j.entry.latex}$; "
                         rf"{escape(j.summary)}.")
            if len(j.cells[0]) > WIDEST:
                parts.append(rf"The entries of this {len(j.cells)} by {len(j.cells[0])} matrix "
                             r"are written as $\ast$ where they are not identically zero.")
            parts.append(r"\[" + _jacobian_matrix(j) + r"\]")
        parts.append(r"\subsection*{Checks}")
        parts.append(r"\begin{itemize}")
        for c in r.checks:
            item = (rf"\item \texttt{{{escape(c.id)}}}, layer {escape(c.layer_label)}: "
                    rf"$\displaystyle {c.claim.latex}$ --- {VERDICT[c.verdict]}")
            if c.conditions:
                item += " if $" + ", ".join(x.latex for x in c.conditions) + "$"
            if c.note:
                item += f" ({escape(c.note)})"
            item += "."
            ce = c.outcome_counterexample
            if ce is not None:
                item += " " + _counterexample(ce, r, net)
            parts.append(item)
        parts.append(r"\end{itemize}")
    if len(report.notations) > 1:
        parts.append(r"\section*{Cross-notation: the same quantities in every notation}")
        names = [r.notation for r in report.notations]
        cols = "l" * (len(names) + 1)
        rows = [" & ".join(["quantity"] + [escape(n.name) for n in names]) + r" \\ \hline"]
        rows += [" & ".join([escape(label)] + [f"${c.latex}$" for c in cells]) + r" \\"
                 for label, cells in report.translation]
        parts.append(rf"\begin{{tabular}}{{{cols}}}" + "\n".join(rows) + r"\end{tabular}")
        for row in report.cross:
            parts.append(rf"\paragraph{{Delta, layer {row.layer}: {VERDICT[row.verdict]}.}}")
            parts.append(r"\begin{align*}" + r" \\ ".join(
                rf"&{f.latex} && \text{{{escape(name)}}}" for name, f in row.formulas)
                + r"\end{align*}")
    return "\n".join(parts) + "\n"


def document(report: Report) -> str:
    """A standalone article: compiles with pdflatex and the amsmath package alone."""
    return ("\\documentclass[11pt]{article}\n\\usepackage{amsmath}\n"
            "\\setcounter{MaxMatrixCols}{64}\n"
            "\\setlength{\\parindent}{0pt}\\setlength{\\parskip}{0.5em}\n"
            "\\allowdisplaybreaks\n\\begin{document}\n" + body(report) + "\\end{document}\n")
