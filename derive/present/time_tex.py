r"""Backpropagation through time for every T as LaTeX for lecture notes (`export --net FILE
--depth any`): for each recurrent layer, the base case, the lemma, the induction and the
tied weights in Goodfellow, Bengio and Courville's notation (Deep Learning, 10.18 to 10.28),
each with its statement and verdict, then the wrong versions with their counterexamples.
A standalone article (amsmath alone) or a fragment to \input.
"""
from __future__ import annotations

import sympy as sp

from ..engine.bptt import TimePart, TimeTheorem
from .article import HEADINGS, LEVELS, VERDICT
from .tex import escape
from .typed_tex import standalone

H, A, X = r"\boldsymbol{h}", r"\boldsymbol{a}", r"\boldsymbol{x}"
W, U, B, G = r"\boldsymbol{W}", r"\boldsymbol{U}", r"\boldsymbol{b}", r"\boldsymbol{g}"


def _grad(of: str, at: str) -> str:
    return rf"\nabla_{{{of}^{{({at})}}}} L"


def _slope(at: str) -> str:
    return rf"\operatorname{{diag}}\big(f'({A}^{{({at})}})\big)"


_DA = rf"{_slope('t')} {_grad(H, 't')}"
# each part's and wrong version's equation, in the book's letters
TEX = {
    "bptt-last-step": rf"{_grad(H, 'T')} = {G}^{{(T)}}",
    "bptt-step-lemma": rf"{_grad(H, 't')} = {G}^{{(t)}} + {W}^\top {_slope('t+1')} "
                       rf"{_grad(H, 't+1')}",
    "bptt-all-steps": rf"{_grad(H, 't')} = {G}^{{(t)}} + {W}^\top {_slope('t+1')} "
                      rf"{_grad(H, 't+1')} \ (t < T), \quad {_grad(H, 'T')} = {G}^{{(T)}}",
    "bptt-step-weights": rf"\nabla_{{{W}^{{(t)}}}} L = {_DA}\, {H}^{{(t-1)\top}}, \quad "
                         rf"\nabla_{{{U}^{{(t)}}}} L = {_DA}\, {X}^{{(t)\top}}, \quad "
                         rf"\nabla_{{{B}^{{(t)}}}} L = {_DA}, \quad "
                         rf"\nabla_{{{X}^{{(t)}}}} L = {U}^\top {_DA}",
    "bptt-two-steps": rf"\nabla_{{{W}}} L = \nabla_{{{W}^{{(t-1)}}}} L + "
                      rf"\nabla_{{{W}^{{(t)}}}} L",
    "bptt-weights-all-steps": rf"\nabla_{{{W}}} L = \sum_{{t=1}}^{{T}} {_DA}\, "
                              rf"{H}^{{(t-1)\top}}, \quad \nabla_{{{U}}} L = \sum_{{t=1}}^{{T}} "
                              rf"{_DA}\, {X}^{{(t)\top}}, \quad \nabla_{{{B}}} L = "
                              rf"\sum_{{t=1}}^{{T}} {_DA}",
    "bptt-future-dropped": rf"{_grad(H, 't')} = {G}^{{(t)}}",
    "bptt-last-step-only": rf"\nabla_{{{W}}} L = \nabla_{{{W}^{{(t)}}}} L",
}


def time_body(title: str, theorems: list[TimeTheorem], *, heading: str = "section",
              titled: bool = True) -> str:
    sub = "\\" + LEVELS[HEADINGS.index(heading) + 1] + "*"
    out = [f"\\{heading}*{{{escape(title)}}}\n"] if titled else []
    out.append(
        rf"Backpropagation through time for every number of steps $T$: ${A}^{{(t)}} = {W} "
        rf"{H}^{{(t-1)}} + {U} {X}^{{(t)}} + {B}$, ${H}^{{(t)}} = f({A}^{{(t)}})$, "
        rf"${H}^{{(0)}} = 0$, $L = \sum_t L^{{(t)}}$; ${G}^{{(t)}} = "
        rf"\nabla_{{{H}^{{(t)}}}} L^{{(t)}}$ is the gradient through whatever reads "
        rf"${H}^{{(t)}}$ besides the next step (in the book, "
        r"$\boldsymbol{V}^\top \nabla_{\boldsymbol{o}^{(t)}} L$ for $\boldsymbol{o}^{(t)} = "
        r"\boldsymbol{V} \boldsymbol{h}^{(t)} + \boldsymbol{c}$), and "
        rf"$\nabla_{{{H}^{{(t)}}}} L$ the gradient along every path. By induction on $T - t$."
        "\n")
    for t in theorems:
        L = t.layer
        out.append(f"{sub}{{Layer {escape(L.at)}: {L.units} units, "
                   f"$f$ = {escape(L.function)}}}\n")
        out += [_part(p) for p in t.parts]
        out.append("The wrong versions, each refuted on the same stand-in:\n")
        out += [_part(p) for p in t.wrong]
    return "\n".join(out)


def _part(p: TimePart) -> str:
    why = p.words + ("; under " + ", ".join(p.conditions) if p.conditions else "") + \
        ("; " + p.note if p.note else "")
    if p.entry:
        why += (f"; claimed {sp.Float(p.values[0], 8)}, true {sp.Float(p.values[1], 8)} at "
                "a point")
    return (f"\\textbf{{{escape(p.title[0].upper() + p.title[1:])}}} "
            f"(\\texttt{{{escape(p.id)}}}).\n\\begin{{gather*}}\n"
            + " \\\\\n".join(TEX[p.id].split(r", \quad ")) + "\n\\end{gather*}\n"
            f"{VERDICT.get(p.verdict, escape(str(p.verdict)))}"
            f"{' for ' + p.every if p.every else ''}: {escape(why)}.\n")


def time_document(title: str, theorems: list[TimeTheorem], *, heading: str = "section") -> str:
    return standalone(time_body(title, theorems, heading=heading), heading=heading)
