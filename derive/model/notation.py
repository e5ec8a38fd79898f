"""A notation is data: symbol names, layer marks, weight index order, delta's sign,
bias style and index letters. Bishop, Nielsen and Eglen ship as files
(derive/model/notations/*.toml, read by io/notation_file.py); a user adds one with one
more file, no code. A notation renders and binds the one model, never computes.

>>> from bpcheck.derive.io.notation_file import load_notation
>>> n = load_notation("eglen")
>>> n.delta_sign, n.weight_order
(-1, 'from,to')
"""
from __future__ import annotations

import copyreg
import re
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

import sympy as sp

from .network import UnitIndex, role_of

# a notation is data, and crosses into another process (check --jobs) as such: its
# read-only tables pickle as the dicts they wrap
def _proxy(table: dict) -> MappingProxyType:
    return MappingProxyType(table)


copyreg.pickle(MappingProxyType, lambda m: (_proxy, (dict(m),)))


SYMBOLS = ("error", "weighted_input", "unit_output", "input", "output", "weight", "bias",
           "target", "delta", "hidden_activation", "output_activation", "kronecker",
           "learning_rate")
MARKED = ("weighted_input", "unit_output", "input", "output", "weight", "bias", "delta")
MARKS = ("none", "superscript", "parenthesised")
ORDERS = ("to,from", "from,to")
WEIGHT_MARKS = ("enters", "leaves")  # the layer a weight's mark names: the one it feeds, or leaves
BIAS_STYLES = ("separate", "weight", "none")
ROLES = ("this", "prev", "next", "sum")  # and "prev'": another unit of the previous layer
TOTALS = ("sum", "mean")
LAYOUTS = ("columns", "rows")
BATCH_MATRICES = ("weighted_input", "unit_output", "delta", "target")


@dataclass(frozen=True)
class Batch:
    """A mini-batch of patterns: the symbol of its size, whether the error written without
    the pattern index is the sum (Bishop's E = Σ_n E_n) or the mean of the patterns' errors,
    and the matrices that hold a quantity of every pattern, a column (or a row) each."""

    size: str = "N"
    total: str = "sum"
    layout: str = "columns"
    matrices: Mapping[str, str] = field(  # role -> its matrix's symbol
        default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Notation:
    name: str
    title: str
    delta_sign: int
    first_layer: int
    output_layer: str
    symbols: Mapping[str, str]
    layer_marks: Mapping[str, str]
    weight_order: str
    bias_style: str
    letters: Mapping[str, str]
    output_letters: Mapping[str, str]
    layer_letters: Mapping[str, tuple[str, ...]]
    forward_letters: Mapping[str, str]
    forward_output_letters: Mapping[str, str]
    source: str
    weight_mark: str = "enters"  # w^{(l)} feeds layer l; "leaves": Θ^{(l)} maps layer l to l + 1
    pattern: str = ""            # the pattern index (E_n, y_{nk}); never a Kronecker delta's
    batch: Batch = field(default_factory=Batch)  # read where a claim sums over the patterns or writes N

    # -- how things are written ------------------------------------------------------
    def mark_of_weight(self, l: int) -> int:
        """The layer a weight into layer l is marked with: l, or l - 1 where a mark names
        the layer a weight leaves."""
        return l - 1 if self.weight_mark == "leaves" else l

    def layer_label(self, l: int, L: int) -> str:
        """The layer's number as this notation writes it ("L" for Nielsen's output)."""
        if l == L and self.output_layer:
            return self.output_layer
        return str(l + self.first_layer)

    def taken_letters(self) -> set[str]:
        """Letters this notation already uses: index letters, symbols, the output layer's
        label. A width named by one of them would read ambiguously."""
        tables = (self.letters, self.output_letters, self.forward_letters,
                  self.forward_output_letters)
        out = {v for t in tables for v in t.values()}
        out |= {v for vs in self.layer_letters.values() for v in vs}
        out |= {s.split("_")[0] for s in self.symbols.values() if not s.startswith("\\")}
        if self.output_layer:
            out.add(self.output_layer)
        return out

    def letter(self, idx: UnitIndex, L: int) -> str:
        """The index letter of a unit, by its role and whether the equation is about an
        output unit (Bishop writes delta_k for an output unit, delta_j for a hidden one)."""
        if idx.role.startswith("="):  # a letter as the user wrote it
            return idx.role[1:]
        if idx.role == "prev'":  # another unit of the previous layer: its letter, primed
            return self.letter(UnitIndex("prev", idx.layer, idx.forward), L) + "'"
        about = {"prev": idx.layer + 1, "next": idx.layer - 1}.get(idx.role, idx.layer)
        if idx.forward:
            table = self.forward_output_letters if about == L else self.forward_letters
        else:
            table = self.output_letters if about == L else self.letters
        return table[idx.role]

    # -- the binding to the canonical model ----------------------------------------------
    def express(self, eq: sp.Eq, is_delta=None) -> sp.Eq:
        """The canonical equation in this notation's quantities.

        The canonical delta is +dE/da; this notation's is delta_sign * dE/da. A claim is
        linear in the deltas on each side, so writing it with this notation's delta
        multiplies one side by delta_sign when the deltas stand on one side only.
        `is_delta` says which quantities are deltas (by default a layered network's).
        """
        is_delta = is_delta or (lambda d: role_of(d.base)[0] == "delta")
        has = lambda e: any(is_delta(d) for d in e.atoms(sp.Indexed))
        if self.delta_sign == 1 or has(eq.lhs) == has(eq.rhs):
            return eq
        return sp.Eq(eq.lhs, negate(eq.rhs), evaluate=False)

    def bind(self, expr: sp.Expr) -> sp.Expr:
        """Read an expression written in this notation as canonical quantities."""
        if self.delta_sign == 1:
            return expr
        deltas = [d for d in expr.atoms(sp.Indexed) if role_of(d.base)[0] == "delta"]
        return expr.xreplace({d: self.delta_sign * d for d in deltas})


def conventions(n: Notation) -> list[tuple[str, str, Notation]]:
    """(key, words, the notation with that one convention changed): the conventions books
    differ in, each the other way round from this notation's.

    >>> from bpcheck.derive.io.notation_file import load_notation
    >>> [key for key, _, _ in conventions(load_notation("nielsen"))]
    ['delta_sign', 'weight_order', 'weight_mark', 'batch_sum', 'a_and_z']
    """
    sy, marks = n.symbols, n.layer_marks
    out = [("delta_sign", "delta with the opposite sign (delta = "
            + ("-dE/da)" if n.delta_sign == 1 else "+dE/da)"), replace(n, delta_sign=-n.delta_sign)),
           ("weight_order", "a weight's indices in the other order ("
            + ("from, to" if n.weight_order == "to,from" else "to, from") + ")",
            replace(n, weight_order=ORDERS[1 - ORDERS.index(n.weight_order)]))]
    if marks["weight"] != "none":
        other = WEIGHT_MARKS[1 - WEIGHT_MARKS.index(n.weight_mark)]
        out.append(("weight_mark", f"a weight's layer mark naming the layer it {other}",
                    replace(n, weight_mark=other)))
    if n.pattern:  # the error written without the pattern index: the batch's sum or mean
        other = TOTALS[1 - TOTALS.index(n.batch.total)]
        total = re.sub(rf"_\{{?{n.pattern}\}}?$", "", sy["error"])
        each = f"{total}_{n.pattern}"
        mean = f"(1/{n.batch.size}) " if other == "mean" else ""
        out.append((f"batch_{other}", f"{total} the {other} of the patterns' errors, "
                    f"{total} = {mean}sum_{n.pattern} {each}",
                    replace(n, batch=replace(n.batch, total=other))))
    a, z = sy["weighted_input"], sy["unit_output"]
    if a != z:
        swapped = {**sy, "weighted_input": z, "unit_output": a}
        swapped.update({k: a for k in ("input", "output") if sy[k] == z})
        out.append(("a_and_z", f"{a} and {z} the other way round ({z} the weighted input, "
                    f"{a} the output)", replace(n, symbols=swapped, layer_marks={
                        **marks, "weighted_input": marks["unit_output"],
                        "unit_output": marks["weighted_input"]})))
    return out


def negate(expr: sp.Expr) -> sp.Expr:
    """-expr, written the way a book would: -(y - t) as t - y, -(c x) as (-c) x."""
    if isinstance(expr, sp.Add):
        terms = [negate(t) for t in expr.args]
        positive = [t for t in terms if not t.could_extract_minus_sign()]
        return sp.Add(*positive, *[t for t in terms if t.could_extract_minus_sign()],
                      evaluate=False)
    if isinstance(expr, sp.Mul):
        coeff, rest = expr.as_coeff_mul()
        if coeff == -1:
            return sp.Mul(*rest, evaluate=False) if len(rest) > 1 else rest[0]
        sums = [i for i, f in enumerate(expr.args) if isinstance(f, sp.Add)]
        if sums:
            args = list(expr.args)
            args[sums[0]] = negate(args[sums[0]])
            return sp.Mul(*args, evaluate=False)
        if coeff != 1:
            return sp.Mul(-coeff, *rest, evaluate=False)
    if expr.is_Number:
        return -expr
    return sp.Mul(sp.Integer(-1), expr, evaluate=False)
