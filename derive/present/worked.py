"""A worked example as a reader sees it: every number of one step of backpropagation in
a notation's symbols, by section, as terminal text, JSON or a LaTeX document."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import sympy as sp
from rich.cells import cell_len
from rich.padding import Padding
from rich.text import Text

from ..engine.expr import Partial
from ..engine.worked import Worked
from ..model.network import Network, role_of
from ..model.notation import Notation
from .printers import latex, summary, text, text_symbol
from .tex import escape
from .values import Number


@dataclass(frozen=True)
class Row:
    quantity: str      # the canonical quantity, e.g. "W2[1,1]", "dE/db1[2]", "W2[1,1] updated"
    label: str         # in the notation, terminal text
    label_latex: str
    number: Number     # in the notation (Eglen's delta has the opposite sign)


@dataclass(frozen=True)
class Section:
    title: str
    title_latex: str
    rows: tuple[Row, ...]


def _key(q: sp.Basic) -> str:
    if isinstance(q, Partial):
        return f"d{_key(q.num)}/d{_key(q.den)}"
    if isinstance(q, sp.Indexed):
        return f"{q.base.label}[{','.join(str(i) for i in q.indices)}]"
    return str(q)


_LOSS_WORDS = {"sse": "sum of squares", "bce": "binary cross-entropy",
               "ce": "multiclass cross-entropy"}


@dataclass(frozen=True, eq=False)
class WorkedExample:
    """A worked example's numbers (engine/worked.py) as a reader sees them, in a notation."""

    worked: Worked
    notation: Notation

    # -- the numbers ------------------------------------------------------------------------
    @property
    def spec(self):
        return self.worked.spec

    @property
    def net(self) -> Network:
        return self.worked.net

    @property
    def digits(self) -> int:
        return self.worked.digits

    @property
    def loss(self) -> sp.Expr:
        return self.worked.loss

    @property
    def values(self):
        return self.worked.values

    @property
    def gradients(self):
        return self.worked.gradients

    @property
    def updated(self):
        return self.worked.updated

    def value(self, q: sp.Basic) -> sp.Expr:
        return self.worked.value(q)

    def gradient(self, p: sp.Indexed) -> sp.Expr:
        return self.worked.gradient(p)

    def after(self, p: sp.Indexed) -> sp.Expr:
        return self.worked.after(p)

    @property
    def exact(self) -> bool:
        return self.worked.exact

    # -- in a notation ----------------------------------------------------------------------
    def _layer_words(self, n: Notation, l: int) -> str:
        kind = "input" if l == 0 else "output" if l == self.net.L else "hidden"
        return f"layer {n.layer_label(l, self.net.L)} ({kind})"

    def sections(self, notation: Notation | None = None) -> list[Section]:
        n, net, L = notation or self.notation, self.net, self.net.L
        num = lambda v: Number(v, self.digits)
        row = lambda key, q, v: Row(key, text(q, n, net), latex(q, n, net), num(v))
        values, grads, after = dict(self.values), dict(self.gradients), dict(self.updated)
        eta_t, eta_l = text_symbol(n.symbols["learning_rate"]), n.symbols["learning_rate"]
        shown = [p for p, _ in self.gradients
                 if role_of(p.base)[0] == "W" or n.bias_style != "none"]
        out = []
        for l in range(L + 1):
            qs = [net.out(0)[i] for i in net.units(0)] if l == 0 else \
                [net.pre(l)[j] for j in net.units(l)] + [net.out(l)[j] for j in net.units(l)]
            words = self._layer_words(n, l)
            out.append(Section(f"forward, {words}", f"Forward pass, {words}",
                               tuple(row(_key(q), q, values[q]) for q in qs)))
        out.append(Section("targets", "Targets", tuple(
            row(_key(net.t[k]), net.t[k], values[net.t[k]]) for k in net.units(L))))
        kind = _LOSS_WORDS.get(net.loss.name, net.loss.name)
        out.append(Section(f"loss ({kind})", f"Loss ({kind})",
                           (row("E", net.E, self.loss),)))
        for l in range(L, 0, -1):
            words = self._layer_words(n, l)
            out.append(Section(f"deltas, {words}", f"Deltas, {words}", tuple(
                row(_key(net.delta(l)[j]), net.delta(l)[j], n.bind(net.delta(l)[j]).xreplace(values))
                for j in net.units(l))))
        for l in range(1, L + 1):
            mine = [p for p in shown if role_of(p.base)[1] == l]
            words = f"layer {n.layer_label(l, L)}"
            out.append(Section(f"gradients, {words}", f"Gradients, {words}", tuple(
                row(_key(Partial(net.E, p)), Partial(net.E, p), grads[p]) for p in mine)))
            out.append(Section(
                f"after one step ({eta_t} = {num(self.spec.learning_rate).plain()}), {words}",
                rf"After one step (${eta_l} = {num(self.spec.learning_rate).latex()}$), {words}",
                tuple(row(_key(p) + " updated", p, after[p]) for p in mine)))
        return out

    def rows(self, notation: Notation | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
        """Each section's title and its (label, value) rows, as terminal text."""
        return [(s.title, [(r.label, r.number.text()) for r in s.rows])
                for s in self.sections(notation)]

    def notes(self, notation: Notation | None = None) -> list[tuple[str, str]]:
        """What a reader needs to know, as (text, LaTeX) pairs."""
        n, net = notation or self.notation, self.net
        sym = n.symbols
        t = {k: text_symbol(v) for k, v in sym.items()}
        out = []
        pair = []
        for names, dollar in ((t, ""), (sym, "$")):
            h = f"{dollar}{names['hidden_activation']}{dollar}"
            f = f"{dollar}{names['output_activation']}{dollar}"
            if net.L == 1:
                words = f"{f} is {net.output.name}."
            elif h != f:
                words = (f"{h} is {net.hidden.name} (hidden layers), {f} is {net.output.name} "
                         "(output layer).")
            else:
                words = (f"{h} is {net.hidden.name} in the hidden layers and {net.output.name} "
                         "in the output layer.")
            pair.append(words)
        out.append(tuple(pair))
        rule_t = f"w ← w − {t['learning_rate']} ∂{t['error']}/∂w"
        rule_l = (rf"$w \leftarrow w - {sym['learning_rate']} \, \partial {sym['error']} "
                  r"/ \partial w$")
        out.append((f"Deltas from the engine's proved formulas (output layer, then each hidden "
                    f"layer from the one after it); gradients from the proved gradient "
                    f"formulas; one step of gradient descent, {rule_t}.",
                    f"Deltas from the engine's proved formulas (output layer, then each hidden "
                    f"layer from the one after it); gradients from the proved gradient "
                    f"formulas; one step of gradient descent, {rule_l}."))
        if n.delta_sign == -1:
            out.append((f"{t['delta']} has the opposite sign here: {t['delta']} = "
                        f"−∂{t['error']}/∂{t['weighted_input']}.",
                        f"${sym['delta']}$ has the opposite sign here: ${sym['delta']} = "
                        rf"-\partial {sym['error']} / \partial {sym['weighted_input']}$."))
        if net.bias and n.bias_style == "none":
            out.append(("This notation has no biases: the network's biases are in the forward "
                        "pass, but their gradients and updates are not shown.",
                        "This notation has no biases: the network's biases are in the forward "
                        "pass, but their gradients and updates are not shown."))
        if net.bias and n.bias_style == "weight":
            out.append(("Biases are written as weights from a unit fixed at 1 (index 0).",
                        "Biases are written as weights from a unit fixed at 1 (index 0)."))
        if not self.exact:
            out.append((f"Exact values are integers, decimals and fractions; ≈ marks a value "
                        f"rounded to {self.digits} significant digits.",
                        f"Exact values are integers, decimals and fractions; $\\approx$ marks "
                        f"a value rounded to {self.digits} significant digits."))
        return out

    def heading(self) -> str:
        return self.spec.title or self.spec.source

    def network_words(self) -> str:
        return summary(self.net, parameters=True)

    # -- outputs ----------------------------------------------------------------------------
    def to_json(self, notation: Notation | None = None) -> dict[str, Any]:
        n, net = notation or self.notation, self.net
        return {
            "source": self.spec.source, "title": self.spec.title,
            "network": {"layers": list(net.widths), "hidden": net.hidden.name,
                        "output": net.output.name, "loss": net.loss.name, "bias": net.bias},
            "learning_rate": Number(self.spec.learning_rate, self.digits).plain(),
            "digits": self.digits, "notation": n.name,
            "loss": {"value": Number(self.loss, self.digits).plain(),
                     "exact": bool(self.loss.is_Rational)},
            "notes": [t for t, _ in self.notes(n)],
            "sections": [{"title": s.title, "rows": [
                {"quantity": r.quantity, "label": r.label, "label_latex": r.label_latex,
                 "value": r.number.plain(), "exact": r.number.exact} for r in s.rows]}
                for s in self.sections(n)],
        }

    def to_latex(self, notation: Notation | None = None) -> str:
        """A complete LaTeX document (pdflatex, no shell escape) with every number."""
        n = notation or self.notation
        lines = [r"\documentclass{article}", r"\usepackage{amsmath}",
                 r"\usepackage[margin=2.5cm]{geometry}",
                 r"\allowdisplaybreaks", r"\begin{document}",
                 rf"\section*{{Worked example: {escape(self.heading())}}}",
                 rf"Network {escape(self.network_words())}, one step of backpropagation "
                 rf"in the notation of {escape(n.title)}.", ""]
        for _, note in self.notes(n):
            lines += [note, ""]
        for s in self.sections(n):
            if not s.rows:
                continue
            lines.append(rf"\subsection*{{{s.title_latex}}}")
            lines.append(r"\begin{align*}")
            body = []
            for r in s.rows:
                rel = "" if r.number.latex().startswith(r"\approx") else "= "
                body.append(f"  {r.label_latex} &{rel}{r.number.latex()}")
            lines.append(" \\\\\n".join(body))
            lines.append(r"\end{align*}")
        lines.append(r"\end{document}")
        return "\n".join(lines) + "\n"

    def __rich_console__(self, console, options) -> Iterator:
        n = self.notation
        yield Text.assemble(("Worked example ", "bold"), self.heading(),
                            (f"   ({n.title})", "dim"))
        yield Text.assemble(("Network ", "bold"), self.network_words())
        for note, _ in self.notes(n):
            yield Padding(Text(note, style="italic"), (0, 2), expand=False)
        for s in self.sections(n):
            if not s.rows:
                continue
            yield Text(s.title, style="bold")
            yield from _two_columns(s.rows, console, options.max_width)


def _two_columns(rows, console, width: int) -> Iterator[Text]:
    """Each row as `  label    value`, the labels in a column and a long value wrapped
    within its own: what a two-column rich Table in a padding of 2 draws, a line at a time,
    since measuring a table of a thousand rows (a network of width 32) took a third of the
    example's time."""
    labels = [cell_len(r.label) for r in rows]
    at = 2 + max(labels) + 4
    room = max(width - 2 - at, 1)
    for r, n in zip(rows, labels):
        value = Text(r.number.text(), style="" if r.number.exact else "cyan")
        first, *rest = value.wrap(console, room, overflow="fold") or [Text()]
        yield Text("  " + r.label + " " * (at - 2 - n)).append_text(first)
        for more in rest:
            yield Text(" " * at).append_text(more)
