"""A checked equation as people read it: the claim as understood, how each reading was
read, both sides worked out at one value of the indices, the verdict, and where it fails.
The same lines serve the terminal, a failed pytest assertion and JSON.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import sympy as sp
from rich import box
from rich.console import Console, ConsoleOptions
from rich.table import Table
from rich.text import Text

from ..engine.checking import CheckResult, Reading, kinds, shown as letter, worst_reading
from ..engine.proof import Verdict
from ..errors import BpcheckError
from ..model.network import UnitIndex, role_of
from .printers import latex, summary, text
from .console import verdict_text
from .values import counterexample_json

POINT_SHOWN = 12  # entries of a counterexample's point shown in the terminal


def layer_words(result: CheckResult, letters: Mapping[str, int]) -> str:
    """Each letter's layer, in words: "j: hidden layer 1, k: output layer 2"."""
    n, L = result.notation, result.net.L

    def word(l: int) -> str:
        kind = "input" if l == 0 else "output" if l == L else "hidden"
        return f"{kind} layer {n.layer_label(l, L)}"
    return ", ".join(f"{letter(c)}: {word(l)}" for c, l in sorted(letters.items())
                     if not c.startswith("%")) or "no indices"


def pins(result: CheckResult) -> list[tuple[str, Verdict]]:
    """Each group of readings: the --index options that pin it, and its verdict."""
    own = worst_reading(result.readings).outcome.verdict if len(result.groups) == 1 else None
    notations = [(f"--notation {result.notation.name}", own)] if result.also and own else []
    notations += [(f"--notation {n}", v) for n, v in result.also]
    if len({v for _, v in notations}) > 1:  # the notations disagree: pin a notation
        return notations
    return [(pin(group[0], result.net.L), worst_reading(group).outcome.verdict)
            for group in result.groups]


def notation_words(result: CheckResult) -> str:
    """Which shipped notation read a claim checked with none given, and which others did."""
    out = f"none given: read in {result.notation.name}'s (--notation {result.notation.name})"
    if result.also:
        out += "; also read in " + ", ".join(f"{n}'s ({v})" for n, v in result.also)
    return out


def pin(reading: Reading, L: int) -> str:
    """The --index options that pin a reading's kind of layers."""
    return " ".join(f"--index {letter(c)}={k}" for c, k in kinds(reading, L))


def read_as(result: CheckResult, reading: Reading) -> str:
    """The reading's claims as this notation writes them."""
    n, net = result.notation, result.net
    return "; ".join((f"at N = {c.batch}: " if c.batch else "") + text(n.bind(c.equation), n, net)
                     for c in reading.claims)


def worked(result: CheckResult, reading: Reading, *, limit: int = 400):
    """Both sides of each claim at one value of its indices, the sums written out: at the
    counterexample's indices if there is one, else at the first values."""
    ce = reading.outcome.counterexample
    n, out = result.notation, []
    for claim in reading.claims:
        at = dict(ce.index) if ce else _distinct(claim.free, result.net)
        at = {i: sp.Integer(at.get(i, 1)) for i in claim.free}
        lhs, rhs = (n.bind(side.xreplace(at).doit())
                    for side in (claim.equation.lhs, claim.equation.rhs))
        if n.layer_marks["weighted_input"] == "none":
            # unit 1 of one layer and unit 1 of another print alike: keep the letter
            lhs, rhs = (_name_units(x, at, result.net.L) for x in (lhs, rhs))
        if len(str(lhs)) + len(str(rhs)) > limit:
            continue
        where = ", ".join([f"N = {claim.batch}"] * bool(claim.batch) + [
            f"{letter(i.role[1:])} = {v}" for i, v in at.items()]) or "the point"
        out.append((where, lhs, rhs))
    return out


def _distinct(free, net) -> dict:
    """First values for the free indices, two of one layer apart where the layer has room
    (k' = 2, k = 1), so the worked line tells them apart."""
    out, used = {}, {}
    for i in sorted(free, key=str):
        used[i.layer] = used.get(i.layer, 0) + 1
        out[i] = used[i.layer] if used[i.layer] <= net.width(i.layer) else 1
    return out


def _name_units(expr: sp.Expr, at: dict, L: int) -> sp.Expr:
    """Each concrete index that stood for a free letter, written as (letter=value): the
    layer of the index position tells which letter it was."""
    by_layer = {(i.layer, v): UnitIndex(f"=({letter(i.role[1:])}={v})", i.layer)
                for i, v in at.items()}

    def rename(x: sp.Indexed) -> sp.Indexed:
        role, l = role_of(x.base)
        layers = (l, l - 1) if role == "W" else (L,) if role == "t" else (l,)
        new = [by_layer.get((lay, i), i) for lay, i in zip(layers, x.indices)]
        return x.base[tuple(new)] if len(new) > 1 else x.base[new[0]]

    return expr.replace(lambda e: isinstance(e, sp.Indexed), rename)


@dataclass(frozen=True)
class Line:
    """One line about a reading; `verdict` marks the verdict's line, shown in its colour."""

    text: str
    style: str = ""
    verdict: Verdict | None = None
    note: str = ""


def outcome_lines(result: CheckResult, reading: Reading, *,
                  point_shown: int | None = POINT_SHOWN) -> list[Line]:
    """One reading: both sides worked out, the verdict with its conditions and note, where
    it fails, and the residual where there is one."""
    n, net, o = result.notation, result.net, reading.outcome
    out = [Line(f"at {where}: {text(lhs, n, net)}  =?  {text(rhs, n, net)}", "dim")
           for where, lhs, rhs in worked(result, reading)]
    conditions = ("if " + ", ".join(text(c, n, net) for c in o.conditions)) if o.conditions else ""
    note = o.note
    if result.also and result.verdict is Verdict.AMBIGUOUS:  # not the claim's verdict
        note = f"in {n.name}'s notation" + (f"; {o.note}" if o.note else "")
    out.append(Line(conditions, verdict=o.verdict, note=note))
    if o.counterexample is not None:
        ce = counterexample_json(o.counterexample, n, net)
        at = ", ".join(f"{k} = {v}" for k, v in ce["index"].items()) or "the point"
        out.append(Line(f"fails at {at}: left side {ce['lhs']}, right side {ce['rhs']}"))
        if ce["values"]:  # what the sides depend on as written; the whole point in JSON
            out.append(Line("where " + ", ".join(f"{k} {v}" if v.startswith("≈") else f"{k} = {v}"
                                                 for k, v in ce["values"].items())
                            + " (the whole point with --json)", "dim"))
        else:
            point = [f"{k} = {v}" for k, v in ce["point"].items()]
            if point_shown is not None and len(point) > point_shown:
                point = point[:point_shown] + [f"and {len(point) - point_shown} more (all of "
                                               "them with --json)"]
            out.append(Line("where " + ", ".join(point), "dim"))
    out += [Line(e, "dim") for e in o.evidence]
    if o.residual is not None:
        out.append(Line("residual (numerator of left - right in normal form): "
                        + text(o.residual, n, net), "dim"))
    return out


def diagnosis_lines(result: CheckResult) -> list[str]:
    """A refuted claim's diagnosis in words: the mistake, what it should say (proved), and
    the convention in which it is true."""
    d, n, net = result.diagnosis, result.notation, result.net
    out = []
    if d.mistake is not None:
        out.append(f"mistake {d.mistake.id}: {d.mistake.explanation}")
    proved = "proved" + (" if " + ", ".join(text(c, n, net) for c in d.conditions)
                         if d.conditions else "")
    if d.repaired:
        out.append(f"it should read {d.repaired}   ({proved})")
    elif d.correct is not None:
        out.append(f"it should read {text(n.express(d.correct), n, net)}   ({proved})")
    if d.convention:
        out.append(d.convention)
    return out


def diagnosis_json(result: CheckResult) -> dict[str, Any] | None:
    d, n, net = result.diagnosis, result.notation, result.net
    if not d:
        return None
    return {"id": d.id, "message": d.mistake.explanation if d.mistake else None,
            "correct_latex": d.repaired or (latex(n.express(d.correct), n, net)
                                            if d.correct is not None else None),
            "convention": d.convention or None,
            "conditions": [latex(c, n, net) for c in d.conditions]}


def check_json(result: CheckResult) -> dict[str, Any]:
    d = result.deciding
    n, net, ce = result.notation, result.net, d.outcome.counterexample
    return {"verdict": str(result.verdict), "claim_latex": result.understood,
            "input": result.text, "notation": n.name,
            "also_read_in": {k: str(v) for k, v in result.also} if result.guessed else None,
            "conditions": [latex(c, n, net) for c in d.outcome.conditions],
            "note": d.outcome.note,
            "counterexample": counterexample_json(ce, n, net) if ce else None,
            "diagnosis": diagnosis_json(result),
            "readings": [{"layers": {letter(c): l for c, l in r.letters.items()},
                          "verdict": str(r.outcome.verdict),
                          "pin": pin(r, net.L)}
                         for r in result.readings]}


def check_latex(result: CheckResult) -> str:
    """For Jupyter: the claim as understood and its verdict."""
    d = result.deciding.outcome
    n, net = result.notation, result.net
    cond = (r" \text{ if } " + ", ".join(latex(c, n, net) for c in d.conditions)) \
        if d.conditions else ""
    out = rf"$${result.understood} \quad \text{{{result.verdict}}}{cond}$$"
    found = diagnosis_json(result)
    if found and found["id"]:
        out += rf"$$\text{{mistake: {found['id']}}}$$"
    if found and found["correct_latex"]:
        cond = (r" \text{ if } " + ", ".join(found["conditions"])) if found["conditions"] else ""
        out += rf"$${found['correct_latex']} \quad \text{{(proved)}}{cond}$$"
    return out


def render_check(result: CheckResult, console: Console, options: ConsoleOptions) -> Iterator:
    """One checked equation in the terminal."""
    yield Text.assemble(("Claim ", "bold"), result.understood, (f"   ({result.notation.title})", "dim"))
    yield Text.assemble(("Network ", "bold"), summary(result.net))
    if result.guessed:  # no notation given: say which one read it
        yield Text.assemble(("Notation ", "bold"), notation_words(result))
    for r in result.readings:
        # a reading that asks for what the network lacks has no claims to show, only layers
        yield Text.assemble(("Read as ", "bold"), read_as(result, r) or result.understood,
                            (f"   [{layer_words(result, r.letters)}]", "dim"))
        for line in outcome_lines(result, r):
            if line.verdict is not None:
                yield Text.assemble("  ", verdict_text(line.verdict),
                                    "  " + line.text if line.text else "",
                                    ("  " + line.note if line.note else "", "dim"))
            else:
                yield Text("  " + line.text, style=line.style)
    for i, line in enumerate(diagnosis_lines(result)):
        head, _, rest = line.partition(" ")
        yield Text.assemble(("Diagnosis " if i == 0 else "          ", "bold"),
                            (head, "bold yellow") if head == "mistake" else head, " " + rest)
    if result.verdict is Verdict.AMBIGUOUS:
        which = "notations that read it" if pins(result)[0][0].startswith("--notation") \
            else "readings"
        yield Text.assemble(verdict_text(Verdict.AMBIGUOUS), f": the {which} disagree; pin one:")
        for pin, v in pins(result):
            yield Text.assemble("  " + pin + "  ", verdict_text(v))


def check_table(rows) -> Table:
    """Several checked equations: one row each, with the line it is on, errors included."""
    t = Table(box=box.SIMPLE, show_lines=False)
    t.add_column("line", no_wrap=True, justify="right")
    for col in ("equation", "verdict", "where it fails"):
        t.add_column(col, overflow="fold")
    t.add_column("mistake", no_wrap=True)
    for eq, r in rows:
        text = eq.text if len(eq.text) <= 200 else eq.text[:197] + "..."
        where = eq.where.removeprefix("line ") or "-"
        # Text, not str: a user's text is never read as rich markup ([red]) or emoji (:x:)
        where, text = Text(where), Text(text)
        if r is None:
            t.add_row(where, text, Text("skipped", style="dim"), "", "")
            continue
        if isinstance(r, BpcheckError):
            t.add_row(where, text, Text("error", style="bold magenta"), Text(str(r)), "")
            continue
        d = r.deciding.outcome
        detail = ""
        if d.counterexample is not None:
            ce = counterexample_json(d.counterexample, r.notation, r.net)
            detail = (", ".join(f"{k} = {v}" for k, v in ce["index"].items())
                      + f": left {ce['lhs']}, right {ce['rhs']}")
        verdict = verdict_text(r.verdict)
        holds = eq.holds(r)
        if holds is not None:  # a file that shows a mistake on purpose expects it
            want = dict(eq.expect)
            verdict.append(" as expected" if holds else
                           f"  EXPECTED {want.get('expect', 'refuted')} "
                           f"{want.get('mistake', '')}".rstrip(), style="bold" if holds else "bold red")
        t.add_row(where, text, verdict, Text(detail), r.diagnosis.id or "")
    return t


def first_wrong(path: str, rows) -> str:
    """Where the first wrong equation (or step of a chain) of a file is, in words: refuted
    where the file expects nothing, or not what the file expects."""
    for eq, r in rows:
        if eq.holds(r) is False or (eq.holds(r) is None and isinstance(r, CheckResult)
                                    and r.verdict is Verdict.REFUTED):
            return (f"first wrong: {'' if eq.source else Path(path).name + ' '}{eq.where}".rstrip()
                    + (f": {r.diagnosis.id}" if r.diagnosis.id else ""))
    return ""
