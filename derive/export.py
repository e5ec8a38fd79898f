"""LaTeX for lecture notes: a report as a standalone article (amsmath) or a fragment to
\\input, written atomically, and compiled to PDF without shell escape on request.

Equations come from the notation printer; every piece of prose that could carry a user's
text (a notation's title, notes) goes through `escape`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import sympy as sp

from .errors import BpcheckError, UsageError
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


def write_atomically(path: str, text: str, *, force: bool = False) -> Path:
    """Write through a temporary file in the same folder and rename it into place, so an
    interrupted export never leaves half a file; refuse to replace a file without force."""
    target = Path(path)
    if target.exists() and not force:
        raise UsageError(f"{path!r} exists; use --force to replace it")
    if target.exists() and not target.is_file():
        raise UsageError(f"{path!r} is not a regular file")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {path!r}: the folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


class TexMissing(BpcheckError):
    """No LaTeX compiler on the machine."""


def compile_pdf(tex: Path, *, timeout: float = 120) -> Path:
    """pdflatex (through latexmk when present), never with shell escape; the PDF lands
    beside the .tex file."""
    latexmk, pdflatex = shutil.which("latexmk"), shutil.which("pdflatex")
    if pdflatex is None:
        raise TexMissing("no pdflatex found: install TeX, e.g. on Debian or Ubuntu "
                         "'apt-get install texlive-latex-base texlive-latex-recommended latexmk'")
    with tempfile.TemporaryDirectory() as build:
        common = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]
        if latexmk:
            cmd = [latexmk, "-pdf", f"-outdir={build}", *[f"-pdflatex={pdflatex} {' '.join(common)} %O %S"],
                   str(tex.resolve())]
        else:
            cmd = [pdflatex, *common, f"-output-directory={build}", str(tex.resolve())]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                 cwd=build, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise BpcheckError(f"LaTeX took longer than {timeout:g} s on {str(tex)!r}") from None
        pdf = Path(build) / (tex.stem + ".pdf")
        if run.returncode != 0 or not pdf.exists():
            log = (run.stdout + run.stderr).strip().splitlines()
            first = next((l for l in log if l.startswith("!")), log[-1] if log else "")
            raise BpcheckError(f"LaTeX failed on {str(tex)!r}: {first}")
        out = tex.with_suffix(".pdf")
        shutil.copyfile(pdf, out)
        return out
