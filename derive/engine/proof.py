"""Verdicts and the exact procedure that reaches them.

A claim is a list of instances (one per value of its free indices), each an equation
lhs = rhs between expressions of the engine. It is

- proved when every difference is identically zero in normal form (an exact decision),
  perhaps only after a side condition of the loss has been applied, which is then stated;
- refuted when, at a concrete point, the two sides of some instance have different values,
  computed exactly (or, where logarithms remain, to a stated number of digits);
- undecided when the time budget runs out or no differing point turns up.
"""
from __future__ import annotations

import random
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Iterator, Sequence, TypeVar

import sympy as sp
from sympy.core.function import AppliedUndef

from ..model.activation import KinkSide
from ..errors import BudgetExceeded, as_expr
from .expr import ExitSlope
from .normal import NormalForm, numerator

DIGITS = 30
T = TypeVar("T")


class Verdict(str, Enum):
    PROVED = "proved"
    REFUTED = "refuted"
    UNDECIDED = "undecided"
    AMBIGUOUS = "ambiguous"  # readings of one equation that disagree
    NOT_APPLICABLE = "not applicable"

    def __str__(self) -> str:
        return self.value


# a budget's clock: the wall's bounds a whole command (hostile input must end); a proof's
# is this process's CPU time, which other processes on a busy machine do not use up, so a
# claim gets the same verdict under any load
_CLOCKS = {"wall": (signal.ITIMER_REAL, signal.SIGALRM),
           "cpu": (signal.ITIMER_PROF, signal.SIGPROF)}
_WHY: dict[str, list[list[str]]] = {"wall": [], "cpu": []}  # the budgets in force, innermost last


@contextmanager
def time_budget(seconds: float | None, *, clock: str = "wall",
                why: str | None = None) -> Iterator[None]:
    """Raise BudgetExceeded inside the block after `seconds` of `clock` ("wall", or "cpu":
    this process's CPU time), main thread only; its `why` says which budget it was (by
    default, this one's seconds).

    Budgets of one clock nest: an inner one never outlasts the one around it (and then
    ends as that one), and the outer one's clock keeps running while the inner one is in
    force. The two clocks are independent."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    which, signum = _CLOCKS[clock]
    outer, _ = signal.getitimer(which)
    own = why or (f"the time budget of {seconds:g} s"
                  + (" of CPU time" if clock == "cpu" else "") + " ran out")
    why = _WHY[clock][-1][0] if outer and outer < seconds and _WHY[clock] else own

    def expire(signum, frame):
        # armed again at once: a raise that lands in a garbage collector's callback is
        # swallowed there, and the budget must still end the block
        signal.setitimer(which, 0.05)
        raise BudgetExceeded(why)

    start = _now(clock)
    previous = signal.getsignal(signum)
    entry = [why]  # this budget's place among those in force, removed by identity
    try:  # armed inside the try: a budget so short it ends at once is cleaned up too
        _WHY[clock].append(entry)
        signal.signal(signum, expire)
        signal.setitimer(which, min(seconds, outer) if outer else seconds)
        yield
    finally:
        # An alarm that lands as the block ends raises in this cleanup; were that let
        # through, the handler (armed again by itself) would stay installed and raise
        # BudgetExceeded every 50 ms wherever the process went next. So the cleanup is
        # done again until it is whole, at once, with no call before the try that an
        # alarm could interrupt; the block's own outcome (its return or its exception) stands.
        while True:
            try:
                signal.setitimer(which, 0)
                signal.signal(signum, previous)
                _WHY[clock][:] = [e for e in _WHY[clock] if e is not entry]
                if outer:  # the outer budget, less the time spent here, at least a tick
                    signal.setitimer(which, max(outer - (_now(clock) - start), 1e-3))
                break
            except BudgetExceeded:  # of the other clock: it arms itself again, 50 ms on
                continue


def _now(clock: str) -> float:
    """The seconds a clock has counted: the wall's, or this process's CPU."""
    return time.process_time() if clock == "cpu" else time.monotonic()


def remaining() -> float | None:
    """The seconds left of the budget in force, or None where there is none."""
    if threading.current_thread() is not threading.main_thread():
        return None
    left, _ = signal.getitimer(signal.ITIMER_REAL)
    return left or None


def within(seconds: float, work: Callable[[], T], default: T) -> T:
    """work(), or `default` when it takes longer than `seconds`: for what only
    illustrates a verdict (a residual), never for the verdict itself."""
    try:
        with time_budget(seconds, clock="cpu"):
            return work()
    except BudgetExceeded:
        return default


@dataclass(frozen=True)
class Instance:
    """One equation of a claim, at concrete values of its free indices."""

    index: tuple[tuple[sp.Symbol, int], ...]
    lhs: sp.Expr
    rhs: sp.Expr


@dataclass(frozen=True)
class Condition:
    """A side condition, as an equation to state and a substitution that imposes it."""

    statement: sp.Eq
    substitution: tuple[tuple[sp.Expr, sp.Expr], ...]


@dataclass(frozen=True)
class Counterexample:
    index: tuple[tuple[sp.Symbol, int], ...]
    point: tuple[tuple[sp.Expr, sp.Expr], ...]
    lhs: sp.Expr
    rhs: sp.Expr
    exact: bool
    # the values of the quantities the two sides are written with, there (w_kj, delta_k,
    # h'(a_j)): what a reader needs to follow the refutation; `point` has everything
    values: tuple[tuple[sp.Expr, sp.Expr], ...] = ()


@dataclass(frozen=True)
class Outcome:
    """A verdict with what supports it. `residual` is, for a claim that is not proved,
    the numerator of lhs - rhs in normal form, written back in the claim's own terms."""

    verdict: Verdict
    conditions: tuple[sp.Eq, ...] = ()
    counterexample: Counterexample | None = None
    note: str = ""
    evidence: tuple[str, ...] = field(default=())
    residual: sp.Expr | None = None



@dataclass(frozen=True)
class Domain:
    """How to pick a point: which targets form a distribution, which must lie in (0, 1)."""

    targets: tuple[sp.Expr, ...] = ()
    simplex: bool = False
    unit_interval: bool = False


def prove(instances: Sequence[Instance], *, conditions: Sequence[Condition] = (),
          domain: Domain = Domain(), budget: float | None = 30.0, seed: int = 0) -> Outcome:
    """Decide a claim given as instances; see the module docstring."""
    if not budget:  # an enclosing budget, if any, is the caller's to catch
        return _decide(instances, conditions, domain, seed)
    try:
        with time_budget(budget, clock="cpu"):
            return _decide(instances, conditions, domain, seed)
    except BudgetExceeded as e:
        return Outcome(Verdict.UNDECIDED, note=e.why)


def _decide(instances, conditions, domain, seed) -> Outcome:
    form = NormalForm()
    failing = [inst for inst in instances if numerator(form(inst.lhs - inst.rhs)) != 0]
    if not failing:
        return Outcome(Verdict.PROVED)
    proved = under_condition(instances, conditions, form)
    if proved is not None:
        return proved
    residual = residual_of(failing[0].lhs - failing[0].rhs, form)
    rng = random.Random(seed)
    evidence = []
    for inst in failing:
        for _ in range(12):
            point = sample_point((inst.lhs, inst.rhs), rng, domain)
            lhs, rhs = evaluate(inst.lhs, point), evaluate(inst.rhs, point)
            differ, exact = _differ(lhs, rhs)
            if differ:
                return Outcome(Verdict.REFUTED, counterexample=Counterexample(
                    inst.index, tuple(point.items()), lhs, rhs, exact), residual=residual)
            evidence.append(f"equal at a point: {lhs}")
    return Outcome(Verdict.UNDECIDED, note="the normal form is not zero, but no point where "
                   "the sides differ was found", evidence=tuple(evidence[:3]), residual=residual)


def under_condition(instances, conditions, form: NormalForm) -> Outcome | None:
    """Proved under the first side condition that makes every difference zero, or None."""
    for cond in conditions:
        sub = dict(cond.substitution)
        if all(numerator(form((i.lhs - i.rhs).subs(sub))) == 0 for i in instances):
            return Outcome(Verdict.PROVED, conditions=(cond.statement,),
                           note="needs the condition: without it the two sides differ")
    return None


def residual_of(difference: sp.Expr, form: NormalForm) -> sp.Expr:
    """The numerator of a difference in normal form, written back in its own terms."""
    residual = numerator(form(difference))
    back = {atom: meaning for meaning, atom in form.atoms.items()}
    for _ in range(len(back) + 1):  # an atom's meaning may hold earlier atoms
        if not residual.free_symbols & set(back):
            break
        residual = residual.xreplace(back)
    return residual


def _differ(lhs: sp.Expr, rhs: sp.Expr) -> tuple[bool, bool]:
    """Whether two values at a point differ, and whether that was decided exactly.
    A value that is not a number (something in it had no meaning) never differs."""
    d = sp.expand(lhs - rhs)
    if not d.is_number or d.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        return False, False  # no value here (a pole): not a counterexample
    if d.is_Rational:
        return d != 0, True
    value = sp.N(d, DIGITS + 20)
    if not value.is_finite or value.is_real is False:
        return False, False
    return bool(abs(value) > sp.Float(10) ** (-DIGITS)), False


def free_quantities(exprs: Sequence[sp.Expr]) -> list[sp.Basic]:
    """The things a point gives values to: applied activations, their derivatives,
    indexed quantities and kink sides, outermost first."""
    found: dict[sp.Basic, None] = {}
    for expr in exprs:
        for e in sp.preorder_traversal(expr):
            if (isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef)) \
                    or isinstance(e, (AppliedUndef, sp.Indexed, KinkSide, ExitSlope)):
                found.setdefault(e)
    return list(found)


def sample_point(exprs: Sequence[sp.Expr], rng: random.Random, domain: Domain) -> dict:
    """Random exact values: weighted inputs under e^ get ln of a positive rational, so
    every exponential is rational; targets respect the loss's domain; a ReLU's
    argument gets the sign of its side."""
    quantities = free_quantities(exprs)
    # a quantity that is itself an exponent gets ln of a rational, so e^q is rational;
    # one that only enters an exponent through a product would not profit
    under_exp = {m for expr in exprs for e in expr.atoms(sp.exp, sp.tanh)
                 for term in sp.Add.make_args(sp.expand(e.args[0]))
                 for m in [term.as_coeff_Mul()[1]] if isinstance(m, sp.Indexed)}
    kinks = {q.of: q for q in quantities if isinstance(q, KinkSide)}
    point: dict[sp.Basic, sp.Expr] = {}
    small = lambda: sp.Rational(rng.choice([-3, -2, -1, 1, 2, 3]), rng.choice([1, 2, 3, 4]))
    for q in quantities:
        if isinstance(q, KinkSide):
            point[q] = sp.Integer(rng.choice([0, 1]))
    targets = [q for q in domain.targets if q in quantities or domain.simplex]
    if domain.simplex and domain.targets:
        weights = [sp.Integer(rng.randint(1, 6)) for _ in domain.targets]
        point.update({t: w / sum(weights) for t, w in zip(domain.targets, weights)})
    elif domain.unit_interval:
        point.update({t: sp.Rational(rng.randint(1, 7), 8) for t in targets})
    for q in quantities:
        if isinstance(q, KinkSide) and q.of not in quantities:
            del point[q]  # its argument is an expression: the side follows from the point
    for q in quantities:
        if q in point or isinstance(q, KinkSide):
            continue
        if q in kinks:
            v = abs(small())
            point[q] = v if point[kinks[q]] == 1 else -v
        elif q in under_exp:
            point[q] = sp.log(sp.Rational(rng.randint(1, 9), rng.randint(1, 4)))
        else:
            point[q] = small()
    for q in quantities:
        if isinstance(q, KinkSide) and q not in point:
            at = sp.N(evaluate(q.of, point), 30)
            point[q] = sp.Integer(1 if at.is_number and at > 0 else
                                  0 if at.is_number else rng.choice([0, 1]))
    return point


def evaluate(expr: sp.Expr, point: dict) -> sp.Expr:
    """The exact value of an expression at a point.

    xreplace works outermost first, so h'(a_j) and h(a_j) get their own values before
    a_j gets its value inside them."""
    expr = expr.replace(sp.tanh, lambda x: (sp.exp(2 * x) - 1) / (sp.exp(2 * x) + 1))
    return as_expr(expr.xreplace(point))
