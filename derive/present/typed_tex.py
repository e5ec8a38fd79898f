r"""A network of typed layers as LaTeX for lecture notes (`export --net FILE`): each layer's
forward equations, its backward pass derived step by step in its papers' letters (each line
with its verdict and where it comes from), every backward check with its verdict, and each
Jacobian's blocks, which vanish and why. A standalone article (amsmath alone) or a
fragment to \input.
"""
from __future__ import annotations

import sympy as sp

from ..engine.typed_net import TypedReport
from .article import HEADINGS, LEVELS, VERDICT
from .tex import escape, prose
from ..model.layers import flat
from .typed_report import MISTAKE_WORDS, WHY, _count, forward

# each kind's forward map in LaTeX: r a row (pattern or token), j and k features
FORWARD_TEX = {
    "dense": r"y_{rk} = \sum_j W_{kj} x_{rj} + b_k",
    "activation": r"y_{rj} = f(x_{rj})",
    "softmax": r"y_{rj} = \frac{e^{x_{rj}}}{\sum_k e^{x_{rk}}}",
    "layernorm": r"\mu_r = \frac{1}{H}\sum_j x_{rj},\quad \sigma^2_r = \frac{1}{H}\sum_j "
                 r"(x_{rj} - \mu_r)^2,\quad \hat{x}_{rj} = \frac{x_{rj} - \mu_r}"
                 r"{\sqrt{\sigma^2_r + \epsilon}},\quad y_{rj} = \gamma_j \hat{x}_{rj} + \beta_j",
    "batchnorm": r"\mu_j = \frac{1}{m}\sum_r x_{rj},\quad \sigma^2_j = \frac{1}{m}\sum_r "
                 r"(x_{rj} - \mu_j)^2,\quad \hat{x}_{rj} = \frac{x_{rj} - \mu_j}"
                 r"{\sqrt{\sigma^2_j + \epsilon}},\quad y_{rj} = \gamma_j \hat{x}_{rj} + \beta_j",
    "residual": r"y = x + F(x)",
    "attention": r"Q = X W_Q,\quad K = X W_K,\quad V = X W_V,\quad A = \mathrm{softmax}"
                 r"\Big(\frac{Q K^\top}{\sqrt{d_k}}\Big)\ \text{(each row)},\quad Y = A V",
    "conv1d": r"y_{r,op} = \sum_c \sum_m W_{ocm}\, x_{r,c,ps+m-\mathrm{pad}} + b_o",
    "conv2d": r"y_{r,opq} = \sum_c \sum_{a,b} W_{ocab}\, "
              r"x_{r,c,ps+a-\mathrm{pad},qs+b-\mathrm{pad}} + b_o",
    "maxpool": r"y_{r,cp} = \max_m x_{r,c,ps+m}",
    "avgpool": r"y_{r,cp} = \frac{1}{w}\sum_m x_{r,c,ps+m}",
    "flatten": r"y_r = x_r",
    "rnn": r"a_t = W h_{t-1} + U x_t + b,\quad h_t = f(a_t),\quad h_0 = 0",
}


def typed_body(report: TypedReport, derivations=(), *, heading: str = "section",
               titled: bool = True) -> str:
    net = report.net
    sub = "\\" + LEVELS[HEADINGS.index(heading) + 1] + "*"
    out = [f"\\{heading}*{{{escape(net.title)}}}\n"] if titled else []
    out.append(escape(f"{_count(net.rows, net.row_word)} of {_count(net.width, 'feature')}; "
                      f"loss {net.loss}, "
                      "summed over the rows.") + "\n")
    out.append(f"{sub}{{Forward}}\n")
    for layer in flat(net.layers):
        parts = forward(layer, FORWARD_TEX).split(r",\quad ")
        out.append(f"Layer {escape(layer.at)} ({escape(layer.kind)}):\n\\begin{{gather*}}\n"
                   + " \\\\\n".join(parts) + "\n\\end{gather*}\n")
    for d in derivations:
        out.append(f"{sub}{{Backward through layer {escape(d.at)} ({escape(d.kind)})}}\n")
        out.append(escape(f"In the papers' letters, in a slice over {d.size}; every line is "
                          "proved, a derivative between stages being the stage's formula "
                          "differentiated with its other arguments held.") + prose(d.note)
                   + "\n")  # prose: an option in the note as code (--depth, not an en dash)
        for step in d.steps:
            every = (" for every " + " by ".join(f"${x}$" for x in step.result.every.split(" by "))
                     if step.result.every else "")  # "n by m": each letter in math
            out.append(f"\\[ {step.latex} \\]\n{VERDICT.get(step.result.verdict, '')}{every} "
                       f"({escape(step.why)})\n")
    out.append(f"{sub}{{Backward checks}}\n" + _checks(report))
    out.append(f"{sub}{{Jacobians}}\n" + _jacobians(report))
    return "\n".join(out)


def _checks(report: TypedReport) -> str:
    rows = []
    for c in report.checks:
        what = (f"the mistake: {MISTAKE_WORDS[c.mistake]}" if c.mistake else
                f"dE/d{c.gradient}")
        if c.conditions:
            what += "; under " + ", ".join(c.conditions)
        if c.entry:
            what += (f"; at entry {c.entry}: claimed {sp.Float(c.values[0], 8)}, "
                     f"true {sp.Float(c.values[1], 8)}")
        rows.append(f"\\texttt{{{escape(c.id)}}} & {VERDICT.get(c.verdict, '')} & "
                    f"{escape(what)} \\\\")
    return ("\\begin{tabular}{p{0.36\\textwidth}lp{0.42\\textwidth}}\ncheck & verdict & what "
            "\\\\ \\hline\n" + "\n".join(rows)
            + "\n\\end{tabular}\n")


def _jacobians(report: TypedReport) -> str:
    out = []
    for J in report.jacobians:
        out.append(f"Layer {escape(J.layer)} ({escape(J.kind)}): {escape(WHY[J.kind])}.\n")
        rows = [f"{escape(b.rows)} & {escape(b.features)} & {b.count} & "
                f"{ {True: 'all vanish', False: 'none vanish', None: 'some vanish'}[b.vanish]} \\\\"
                for b in J.blocks]
        out.append("\\begin{tabular}{llrl}\nrows & features & entries & \\\\ \\hline\n"
                   + "\n".join(rows) + "\n\\end{tabular}\n")
    return "\n".join(out)


def typed_document(report: TypedReport, derivations=(), *, heading: str = "section") -> str:
    return standalone(typed_body(report, derivations, heading=heading), heading=heading)


def standalone(body: str, *, heading: str) -> str:
    """A body as a whole document (amsmath alone): a report where its headings are
    chapters, else an article."""
    kind = "report" if heading == "chapter" else "article"
    return (f"\\documentclass[11pt]{{{kind}}}\n\\usepackage{{amsmath}}\n"
            "\\setlength{\\parindent}{0pt}\\setlength{\\parskip}{0.5em}\n"
            "\\allowdisplaybreaks\n\\begin{document}\n" + body + "\\end{document}\n")
