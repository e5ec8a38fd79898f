"""An equation checked on a network: each reading's claims decided, and the verdict.

A claim read from LaTeX (latex/binding.py) is decided against the one truth in its frame
(engine/decide.py); a reading's outcome is its worst claim's, and the verdict the worst
reading's.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping

import sympy as sp

from ..errors import BudgetExceeded
from ..model.network import Network
from ..model.notation import Notation
from .claims import Claim, absent, instances, loss_domain
from .decide import decide
from .diagnose import Diagnosis
from .proof import Outcome, Verdict, time_budget
from .truth import Truth


def shown(letter: str) -> str:
    """An index letter of a reading as the user wrote it: a layer variable without its %,
    the second sum's k (k~2) as k'."""
    letter = letter.lstrip("%")
    if "~" in letter:
        base, n = letter.split("~")
        return base + "'" * (int(n) - 1)
    return letter


@dataclass(frozen=True)
class Reading:
    letters: Mapping[str, int]
    claims: tuple[Claim, ...]
    outcome: Outcome
    shapes: bool = False  # refuted because the shapes of a vector form do not fit


@dataclass(frozen=True)
class CheckResult:
    text: str
    understood: str
    notation: Notation
    net: Network
    readings: tuple[Reading, ...]
    diagnosis: Diagnosis = Diagnosis()  # for a refuted or ambiguous claim (commands/check.py)
    # checked with no notation given: the other shipped notations that read it, and their
    # verdicts (commands/check.py, check_any)
    also: tuple[tuple[str, Verdict], ...] = ()
    guessed: bool = False

    @property
    def groups(self) -> tuple[tuple[Reading, ...], ...]:
        """The readings that are one claim: those whose free letters are units of the same
        kinds of layer (j in hidden layer 1 or 2 are instances of one claim about hidden
        units; j hidden and j output are two readings of what was written)."""
        out: dict[tuple, list[Reading]] = {}
        for r in self.readings:
            out.setdefault(kinds(r, self.net.L), []).append(r)
        return tuple(tuple(g) for g in out.values())

    @property
    def verdict(self) -> Verdict:
        """Each group's worst verdict; where two groups (or two notations that read the
        claim, with none given) disagree, ambiguous."""
        verdicts = {worst_reading(g).outcome.verdict for g in self.groups}
        verdicts |= {v for _, v in self.also}  # where notations disagree, ambiguous too
        return verdicts.pop() if len(verdicts) == 1 else Verdict.AMBIGUOUS

    @property
    def deciding(self) -> Reading:
        """The reading that decides the verdict: the first refuted or undecided one (for an
        ambiguous verdict, the first refuted)."""
        return worst_reading(self.readings)

    @property
    def status(self) -> int:
        """The command's exit status: 0 proved, 1 refuted, 3 undecided, 4 ambiguous."""
        return STATUS[self.verdict]


STATUS = {Verdict.PROVED: 0, Verdict.REFUTED: 1, Verdict.UNDECIDED: 3, Verdict.AMBIGUOUS: 4}
WORST_STATUS_FIRST = (2, 1, 4, 3, 0)  # of several equations: an error, then refuted, ...


def kinds(reading: Reading, L: int) -> tuple[tuple[str, str], ...]:
    """Each free letter of a reading and the kind of layer it is a unit of."""
    kind = lambda l: "input" if l == 0 else "output" if l == L else "hidden"
    return tuple(sorted({(i.role[1:], kind(i.layer)) for c in reading.claims for i in c.free}))


def worst_reading(readings) -> Reading:
    """The first refuted reading, else the first undecided, else the first."""
    for v in (Verdict.REFUTED, Verdict.UNDECIDED):
        found = next((r for r in readings if r.outcome.verdict is v), None)
        if found is not None:
            return found
    return readings[0]


def _in_batch(outcome: Outcome, claim: Claim) -> Outcome:
    """A refutation of a claim about a mini-batch (latex/batch.py) says which batch: N
    patterns, every one at the point. A claim decided with every pattern alike only is
    not proved by it: the patterns of a batch may differ."""
    if claim.alike and outcome.verdict is Verdict.PROVED:
        return Outcome(Verdict.UNDECIDED, note=f"{claim.alike}: it holds where every pattern "
                       "of the batch is alike, and is not decided where they differ")
    if not claim.of_batch or outcome.verdict is not Verdict.REFUTED:
        return outcome
    where = (f"in a mini-batch of N = {claim.batch} patterns, each of them at this point"
             if claim.batch else "in a mini-batch of any size, each pattern at this point")
    return replace(outcome, note="; ".join(filter(None, (where, outcome.note))))


def decide_reading(letters: Mapping[str, int], claims: list[Claim], net: Network, truth: Truth,
                   *, budget: float | None, missing: tuple[str, ...] = (), shapes: bool = False,
                   describe: Callable[[sp.Expr], str] = str, residual: bool = True) -> Reading:
    """One reading: each claim decided; the outcome the first refuted, else the first
    undecided, else proved under every condition any claim needed. A reading that needs a
    quantity the network does not have is refuted by it. `residual` False leaves each
    refutation's residual out, where only the verdict is wanted."""
    if missing:
        return Reading(letters, tuple(claims), Outcome(Verdict.REFUTED, note="; ".join(missing)),
                       shapes)
    domain, conditions = loss_domain(net)
    outcomes = []
    for claim in claims:
        cases = instances(claim, net)
        for index, lhs, rhs in cases:
            q = absent(lhs - rhs, net)
            if q is not None:
                at = ", ".join(f"{shown(i.role[1:])} = {v}" for i, v in index) or "the point"
                return Reading(letters, tuple(claims), Outcome(
                    Verdict.REFUTED, note=f"at {at}: {describe(q)} does not exist"))
        try:
            with time_budget(budget, clock="cpu"):
                outcome = decide(net.graph, cases, conditions=conditions, domain=domain,
                                 truth=truth, residual=residual)
            outcomes.append(_in_batch(outcome, claim))
        except BudgetExceeded as e:
            outcomes.append(Outcome(Verdict.UNDECIDED, note=e.why))
    worst = next((o for o in outcomes if o.verdict is Verdict.REFUTED),
                 next((o for o in outcomes if o.verdict is Verdict.UNDECIDED), None))
    if worst is None:
        worst = Outcome(Verdict.PROVED, tuple(c for o in outcomes for c in o.conditions),
                        note="; ".join(sorted({o.note for o in outcomes if o.note})))
    return Reading(letters, tuple(claims), worst)
