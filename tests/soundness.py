"""Claims that cannot be tuned to: the engine's own equations written in every shipped
notation, the catalogue's equations, and mutations of them, each checked by `bpcheck check`
and judged by the independent oracle (tests/oracle.py) at random points.

The engine's equations come from differentiating the network (engine/claims.all_claims,
true or not: softmax's diagonal claims are false), printed in each notation as the report
prints them; the mutations are the mistakes people make: two indices swapped, a layer
shifted, a letter for another unit, a derivative factor dropped or added, the sign
flipped, a sum's index used wrongly, a transpose dropped or added, a term dropped. Whether
a claim is true is never assumed: the oracle says, reading by reading.

A verdict is sound when "proved" has every reading agree at every sampled point and
"refuted" has no reading whose claims agree everywhere (a refutation by a quantity that
does not exist or shapes that do not fit has nothing to sample: the oracle says "none").
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from typing import Callable, Iterator

from bpcheck.derive.commands.check import check_text
import sympy as sp

from bpcheck.derive.engine.claims import Claim, all_claims
from bpcheck.derive.errors import BpcheckError
from bpcheck.derive.io.notation_file import load_notation, parse_notation
from bpcheck.derive.latex.ast import (Add, Call, Mul, Neg, Node, Number, Paren, Sum, Symbol, Transformer,
                                      Transpose)
from bpcheck.derive.latex.grammar import parse
from bpcheck.derive.latex.tex import to_latex
from bpcheck.derive.model.network import Network, UnitIndex, make_network
from bpcheck.derive.model.names import BUILTIN
from bpcheck.derive.present.printers import latex
from bpcheck.equations import load_catalogue

from oracle import judge

NETWORKS = (
    dict(hidden="sigmoid"),
    dict(hidden="tanh", output="softmax", loss="ce"),
    dict(layers=(2, 3, 3, 2), hidden="sigmoid", output="sigmoid", loss="bce"),
    dict(layers=(2, 2, 2), hidden="tanh"),
    dict(layers=(3, 2, 2), hidden="softplus", output="sigmoid", loss="sse"),
    dict(layers=(2, 3, 2, 2), hidden="tanh", output="softmax", loss="sse"),
    dict(layers=(2, 3, 3, 2), hidden="tanh"),
    dict(layers=(3, 3, 2), hidden="sigmoid", output="softmax", loss="ce"),
    dict(layers=(2, 2, 3, 2), hidden="softplus", output="sigmoid", loss="bce"),
    dict(layers=(2, 3, 2), hidden="identity", output="sigmoid", loss="sse"),
    dict(layers=(4, 3, 2), hidden="tanh", output="sigmoid", loss="sse"),
    dict(layers=(2, 2, 2, 2, 2), hidden="sigmoid"),
    dict(layers=(3, 2, 3), hidden="tanh", output="softmax", loss="ce"),
)
QUICK = NETWORKS[:4]  # the test's networks; bench/soundness.py runs them all


class _Once(Transformer):
    """Changes the first node `pick` accepts, by `change`; `done` says whether it did."""

    def __init__(self, pick: Callable[[Node], bool], change: Callable[[Node], Node]):
        self.pick, self.change, self.done = pick, change, False

    def visit(self, node):
        if not self.done and self.pick(node):
            self.done = True
            return self.change(node)
        return super().visit(node)


def _once(side: Node, pick, change) -> Node | None:
    t = _Once(pick, change)
    out = t.visit(side)
    return out if t.done else None


def _shift(sup: Node) -> Node | None:
    if isinstance(sup, Number):
        return Number(str(int(sup.text) + 1))
    if isinstance(sup, Paren) and isinstance(sup.body, Number):
        return Paren(Number(str(int(sup.body.text) + 1)))
    return None


def _free_letters(node: Node) -> list[str]:
    found: list[str] = []

    class V(Transformer):
        def visit_Symbol(self, s):
            found.extend(c for c in s.sub if c.isalpha() and c not in found)
            return s
    V().visit(node)
    return found


def mutations(rhs: Node, lhs: Node) -> Iterator[tuple[str, Node]]:
    """(name, mutated right side) for each mistake that applies to this right side."""
    is_weight = lambda n: isinstance(n, Symbol) and len(n.sub) == 2 and n.name in ("w", "W", r"\Theta")
    out = _once(rhs, is_weight, lambda n: replace(n, sub=n.sub[::-1]))
    if out:
        yield "swap weight indices", out
    shifted: list[Node] = []
    out = _once(rhs, lambda n: isinstance(n, Symbol) and n.sup is not None and _shift(n.sup) is not None,
                lambda n: shifted.append(n) or replace(n, sup=_shift(n.sup)))
    if out:
        yield ("shift a weight's layer" if shifted[0].name in ("w", "W", r"\Theta")
               else "shift a layer"), out
    letters = _free_letters(lhs)
    others = [c for c in _free_letters(rhs) if c not in letters]
    if letters and others:
        out = _once(rhs, lambda n: isinstance(n, Symbol) and len(n.sub) == 1 and n.sub[0] in letters,
                    lambda n: replace(n, sub=(others[0],)))
        if out:
            yield "another unit's letter", out
    out = _once(rhs, lambda n: isinstance(n, Mul) and any(isinstance(f, Call) and f.func.primes for f in n.factors),
                lambda n: Mul(tuple(f for f in n.factors if not (isinstance(f, Call) and f.func.primes)))
                if len(n.factors) > 2 else next(f for f in n.factors if not (isinstance(f, Call) and f.func.primes)))
    if out:
        yield "drop a derivative factor", out
    calls: list[Node] = []
    _once(lhs, lambda n: isinstance(n, Call) and n.func.primes > 0 and not calls.append(n), lambda n: n)
    _once(rhs, lambda n: isinstance(n, Call) and n.func.primes > 0 and not calls.append(n), lambda n: n)
    if calls:
        yield "add a derivative factor", Mul((calls[0], rhs))
    yield "flip the sign", Neg(rhs)
    if letters:
        out = _once(rhs, lambda n: isinstance(n, Sum), lambda n: _wrong_sum(n, letters[0]))
        if out:
            yield "sum over the wrong index", out
    out = _once(rhs, lambda n: isinstance(n, Transpose), lambda n: n.body)
    if out:
        yield "drop a transpose", out
    out = _once(rhs, lambda n: isinstance(n, Symbol) and not n.sub and n.name in ("w", "W", r"\Theta"),
                Transpose)
    if out:
        yield "add a transpose", out
    out = _once(rhs, lambda n: isinstance(n, Add) and len(n.terms) > 1,
                lambda n: Add(n.terms[:-1]) if len(n.terms) > 2 else n.terms[0])
    if out:
        yield "drop a term", out


def _wrong_sum(s: Sum, letter: str) -> Sum:
    """One occurrence of the summed letter in the body replaced by the equation's own."""
    body = _once(s.body, lambda n: isinstance(n, Symbol) and s.index in n.sub,
                 lambda n: replace(n, sub=tuple(letter if c == s.index else c for c in n.sub)))
    return replace(s, body=body or s.body)


# the named mistake (engine/mistakes.py) each mutation is, where it is one
EXPECTED = {"swap weight indices": "swapped-weight-indices",
            "shift a weight's layer": "wrong-layer",
            "drop a derivative factor": "missing-activation-derivative",
            "flip the sign": "opposite-sign",
            "sum over the wrong index": "sum-over-wrong-index",
            "drop a transpose": "swapped-weight-indices",
            "add a transpose": "swapped-weight-indices"}


@dataclass(frozen=True)
class Case:
    notation: str      # a shipped notation's name, or a catalogue notation file
    network: dict
    kind: str          # "engine" (a claim the engine derives, true or not), "catalogue", or a mutation
    latex: str
    index: tuple = ()  # the catalogue entry's --index pins
    base: str = ""     # a mutation's unmutated equation


def cases(networks=NETWORKS, notations=BUILTIN) -> Iterator[Case]:
    """Every correct equation and every mutation of it, in every notation and network."""
    for kw in networks:
        net = make_network(**kw)
        for name in notations:
            n = load_notation(name)
            for claim in all_claims(net):
                if n.bias_style == "none" and "bias" in claim.id:
                    continue
                text = latex(n.bind(claim.equation), n, net)
                yield Case(name, kw, "engine", text)
                eq = parse(text)
                lhs, rhs = eq.sides
                for kind, mutated in mutations(rhs, lhs):
                    yield Case(name, kw, kind, f"{to_latex(lhs)} = {to_latex(mutated)}",
                               base=text)


def catalogue_cases(networks=NETWORKS[:3]) -> Iterator[Case]:
    """Every catalogue equation (matrix forms and updates among them) and its mutations,
    on each network: whatever the catalogue expects, the oracle judges."""
    for entry in load_catalogue():
        if entry.layer:  # read in a layer's slice, not a notation: tests/test_slices.py
            continue
        eq = parse(entry.latex)
        if len(eq.sides) != 2:
            continue
        lhs, rhs = eq.sides
        variants = [("catalogue", entry.latex)] + [
            (kind, f"{to_latex(lhs)} {eq.relations[0]} {to_latex(m)}") for kind, m in mutations(rhs, lhs)]
        for kw in networks:
            for kind, text in variants:
                yield Case(entry.notation, kw, kind, text, tuple(entry.index.items()),
                           base=entry.latex if kind != "catalogue" else "")


def _notation(name: str):
    if name.endswith(".toml"):
        path = resources.files("bpcheck.equations").joinpath(*name.split("/"))
        return parse_notation(path.read_text("utf-8"), source=name)
    return load_notation(name)


@dataclass(frozen=True)
class Judged:
    """A case's verdict, and each reading's verdict beside the oracle's word for it:
    "agree", "differ", "unclear", or "none" where the reading has no claims to sample (a
    quantity that does not exist, shapes that do not fit)."""
    case: Case
    verdict: str                       # proved, refuted, undecided, ambiguous, rejected
    readings: tuple[tuple[str, str], ...] = ()
    note: str = ""
    mistake: str | None = None     # the diagnosis's named mistake
    right: str = ""                # the oracle on the diagnosis's right equation, or ""

    @property
    def expected_mistake(self) -> str | None:
        return EXPECTED.get(self.case.kind)

    @property
    def false_proved(self) -> bool:
        return any(v == "proved" and o != "agree" for v, o in self.readings)

    @property
    def false_refuted(self) -> bool:
        return any(v == "refuted" and o == "agree" for v, o in self.readings)

    @property
    def oracle(self) -> str:
        """What the oracle says of the whole: true, false, mixed, unclear or none."""
        words = {o for _, o in self.readings}
        if not words or "unclear" in words:
            return "unclear"
        if words == {"agree"}:
            return "true"
        if words == {"none"}:
            return "none"
        return "false" if "agree" not in words else "mixed"

    @property
    def correct(self) -> bool:
        """Decided, and every reading as the oracle says."""
        return (self.verdict in ("proved", "refuted", "ambiguous") and not self.false_proved
                and not self.false_refuted and all(o != "unclear" for _, o in self.readings))


def check(case: Case, *, budget: float = 20.0, points: int = 2) -> Judged:
    net: Network = make_network(**case.network)
    try:
        r = check_text(case.latex, notation=_notation(case.notation), net=net,
                       index=dict(case.index), budget=budget)
    except BpcheckError as e:
        return Judged(case, "rejected", (), str(e))
    except Exception as e:  # an internal error is a finding, reported with the case
        return Judged(case, "crashed", (), f"{type(e).__name__}: {e}")
    readings = tuple((str(x.outcome.verdict),
                      judge(x.claims, net, points=points) if x.claims else "none")
                     for x in r.readings)
    right = ""
    if r.diagnosis.correct is not None:  # the right equation offered, judged independently
        free = tuple(sorted(r.diagnosis.correct.atoms(UnitIndex) - _bound(r.diagnosis.correct),
                            key=str))
        right = judge([Claim("right", 0, r.diagnosis.correct, free)], net, points=points)
    return Judged(case, str(r.verdict), readings, r.deciding.outcome.note, r.diagnosis.id, right)


def _bound(expr) -> set:
    return {v for s in expr.atoms(sp.Sum) for v, *_ in s.limits}
