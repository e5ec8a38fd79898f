"""The same equation in another notation: read in one, bound to the network, written in
the other. Letters follow the target's conventions by the role each unit plays relative
to the unit the equation is about (the free index of the deepest layer)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import sympy as sp
from rich.text import Text

from ..errors import UsageError
from ..model.network import Network, UnitIndex, role_of
from ..model.notation import Notation
from ..latex.binding import read
from ..present.printers import latex, text


@dataclass(frozen=True)
class Translation:
    input: str
    source: Notation
    target: Notation
    readings: tuple[tuple[Mapping[str, int], str, str], ...]  # layers, LaTeX, text
    sides: tuple[tuple[sp.Expr, ...], ...] = ()  # each reading's sides, canonical, renamed,
    # times -1 where the written equation had both sides negated

    def to_json(self) -> dict:
        return {"input": self.input, "from": self.source.name, "to": self.target.name,
                "latex": self.readings[0][1], "text": self.readings[0][2],
                "readings": [{"layers": dict(l), "latex": x, "text": t}
                             for l, x, t in self.readings]}

    def __rich_console__(self, console, options):
        for layers, x, t in self.readings:
            yield Text(x)
            yield Text(t, style="dim")


def _letters(sides: list[sp.Expr], source: Notation, target: Notation, L: int) -> dict:
    """Each written letter's new letter, by its role relative to the equation's unit."""
    indices = sorted({i for s in sides for i in s.atoms(UnitIndex)}, key=lambda i: i.name)
    bound = {lim[0] for s in sides for su in s.atoms(sp.Sum) for lim in su.limits}
    free = [i for i in indices if i not in bound] or indices
    if not free:
        return {}
    this = max(free, key=lambda i: i.layer)
    table_of = lambda n: n.output_letters if this.layer == L else n.letters
    out, used = {}, set()
    kind = lambda l: "input" if l == 0 else "output" if l == L else "hidden"
    fixed = {c: k for k, cs in target.layer_letters.items() for c in cs}
    for i in sorted(indices, key=lambda i: (i != this, i.name)):
        offset = i.layer - this.layer
        role = {0: "this" if i == this else "sum", -1: "prev", 1: "next"}.get(offset)
        letter = table_of(target)[role] if role else i.role[1:]
        if fixed.get(letter, kind(i.layer)) != kind(i.layer):
            # a letter the target keeps for another kind of layer (Eglen's k is an output)
            mine = [c for c in target.layer_letters.get(kind(i.layer), ()) if c not in used]
            letter = mine[0] if mine else letter + "'"
        layer_of = {l.rstrip("'"): u.layer for u, l in ((u, x.role[1:]) for u, x in out.items())}
        while letter in used or layer_of.get(letter.rstrip("'"), i.layer) != i.layer:
            base = letter.rstrip("'")
            if layer_of.get(base, i.layer) != i.layer:  # k' is a unit of k's layer: a new letter
                letter = next(c for c in "mnpqrsuvabcdefg" if c not in used and c not in layer_of)
            else:
                letter += "'"
        used.add(letter)
        out[i] = UnitIndex("=" + letter, i.layer)
    return out


def _across_layers(side: sp.Expr) -> bool:
    """Whether a unit's index letter belongs to another layer than the unit's own."""
    for q in side.atoms(sp.Indexed):
        role, l = role_of(q.base)
        layers = (l, l - 1) if role == "W" else (None,) if role == "t" else (l,)
        if any(isinstance(i, UnitIndex) and k is not None and i.layer != k
               for i, k in zip(q.indices, layers)):
            return True
    return False


def translate(text_in: str, *, source: Notation, target: Notation, net: Network,
              index: Mapping[str, str] | None = None) -> Translation:
    eq, readings = read(text_in, notation=source, net=net, index=index)
    out, all_sides = [], []
    for letters, claims, missing, _ in readings:
        if missing:
            raise UsageError("; ".join(missing))
        sides = [claims[0].equation.lhs] + [c.equation.rhs for c in claims]
        if any(_across_layers(s) for s in sides):
            raise UsageError("one index letter stands for units of two layers here; a "
                             "notation that tells layers by letters cannot write that, so "
                             "it is not translated")
        rename = _letters(sides, source, target, net.L)
        sides = [s.xreplace(rename) for s in sides]
        # written in the target, canonical delta is delta_sign times the target's delta
        written = [sp.factor_terms(target.bind(s)) for s in sides]
        flip = 1
        if all(w.could_extract_minus_sign() for w in written) or (
                written[0].could_extract_minus_sign() and not isinstance(written[0], sp.Add)):
            flip, written = -1, [-w for w in written]  # -delta_q = x is delta_q = -x
        out.append((letters, " = ".join(latex(w, target, net) for w in written),
                    " = ".join(text(w, target, net) for w in written)))
        all_sides.append(tuple(flip * s for s in sides))
    return Translation(text_in, source, target, tuple(out), tuple(all_sides))
