"""bpcheck check: an equation as people write it, read in a notation and decided on a
network, in every reading; or every equation of a file. A refuted claim is diagnosed: what
it should say, the named mistake it is, and a convention in which it is true.

>>> from bpcheck.derive.io.notation_file import load_notation
>>> from bpcheck.derive.model.network import make_network
>>> r = check_text(r"\\delta_j = h'(a_j) \\sum_k w_{kj} \\delta_k",
...                notation=load_notation("bishop"), net=make_network())
>>> str(r.verdict), r.readings[0].letters
('proved', {'j': 1, 'k': 2})
>>> r = check_text(r"\\delta_j = \\sum_k w_{kj} \\delta_k",
...                notation=load_notation("bishop"), net=make_network())
>>> str(r.verdict), r.diagnosis.id
('refuted', 'missing-activation-derivative')
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Mapping

from ..engine.checking import WORST_STATUS_FIRST, CheckResult, Reading, decide_reading
from ..engine.diagnose import Diagnosis, diagnose, needs_targets_summing_to_one
from ..engine.mistakes import BY_ID, CONVENTION_MISTAKES
from ..engine.proof import Verdict, remaining, time_budget
from ..engine.truth import Truth
from ..errors import BpcheckError, BudgetExceeded, UsageError
from ..io.documents import Equation, equations_of
from ..io.notation_file import load_notation
from ..latex.binding import read
from ..latex.grammar import parse, parse_expression
from ..latex.repairs import repairs
from ..latex.tex import to_latex
from ..model.network import Network, make_network
from ..model.names import BUILTIN
from ..model.notation import Notation, conventions
from ..present.printers import text as written_as
from .network import network_from
from .pool import Progress, ordered

DIAGNOSIS_SECONDS = 20.0  # at most, and never more than half of what the budget has left


def check_text(text: str, *, notation: Notation, net: Network,
               index: Mapping[str, str] | None = None, budget: float | None = 30.0,
               diagnose_it: bool = True, residual: bool = True) -> CheckResult:
    """Read an equation in a notation and decide it on the network, in every reading; a
    refuted or ambiguous claim is diagnosed (module docstring). `residual`: whether a
    refutation carries the difference in normal form, which only a check's view shows."""
    result = _decided(text, notation=notation, net=net, index=index, budget=budget,
                      residual=residual)
    if diagnose_it and result.verdict in (Verdict.REFUTED, Verdict.AMBIGUOUS):
        left = remaining()
        seconds = min(DIAGNOSIS_SECONDS, budget or DIAGNOSIS_SECONDS,
                      left / 2 if left else DIAGNOSIS_SECONDS)
        try:
            # on the wall clock, as `left` is: it only explains, and must end in time
            with time_budget(seconds):
                found = diagnosis(result, index=index, budget=budget)
        except BudgetExceeded:  # a diagnosis only explains: the verdict stands without it
            found = Diagnosis()
        result = replace(result, diagnosis=found)
    return result


def check_any(text: str, *, net: Network, index: Mapping[str, str] | None = None,
              budget: float | None = 30.0) -> CheckResult:
    """With no notation given: the equation in each shipped notation that reads it, the
    first one's result, with the others' verdicts (ambiguous where they differ).

    >>> r = check_any(r"\\delta^L_j = a^L_j - y_j", net=make_network())
    >>> r.notation.name, str(r.verdict), [(n, str(v)) for n, v in r.also]
    ('nielsen', 'proved', [('ng', 'proved')])
    """
    parse(text)  # an equation that does not parse says where, once
    reasons, results = [], []
    for name in BUILTIN:
        notation = load_notation(name)
        try:
            read(text, notation=notation, net=net, index=index)
        except BpcheckError as e:
            reasons.append((name, str(e).split(";")[0][:80]))
            continue
        results.append(check_text(text, notation=notation, net=net, index=index, budget=budget))
    if not results:
        why: dict[str, list[str]] = {}
        for name, reason in reasons:
            why.setdefault(reason, []).append(name)
        raise UsageError("no shipped notation reads this equation (" + "; ".join(
            f"{', '.join(names) if len(names) < len(BUILTIN) else 'each'}: {reason}"
            for reason, names in why.items()) + "); give --notation FILE with your own")
    first, *rest = results
    return replace(first, also=tuple((r.notation.name, r.verdict) for r in rest), guessed=True)


def _decided(text: str, *, notation: Notation, net: Network, index, budget,
             residual: bool = True) -> CheckResult:
    eq, readings = read(text, notation=notation, net=net, index=index)
    truth = Truth.of(net.graph)
    done = tuple(decide_reading(r.letters, r.claims, net, truth, budget=budget, missing=r.missing,
                                shapes=r.shapes, residual=residual,
                                describe=lambda q: written_as(notation.bind(q), notation, net))
                 for r in readings)
    return CheckResult(text, to_latex(eq), notation, net, done)


def diagnosis(result: CheckResult, *, index=None, budget=None) -> Diagnosis:
    """A refuted claim's diagnosis, each part proved: the named mistake whose variant of
    the right side it is (engine/diagnose.py), else the mistake whose repair of the written
    equation is proved (latex/repairs.py); a convention in which it is true; else another
    network on which it is."""
    net, n = result.net, result.notation
    refuted = next((r for r in result.readings if r.outcome.verdict is Verdict.REFUTED), None)
    if refuted is None:  # ambiguous between proved and undecided: nothing to diagnose
        return Diagnosis()
    truth = Truth.of(net.graph)  # the refuted reading's frames, kept for every test below
    found = _of_reading(refuted, net, n, truth)
    # a variant is only ever used where it is proved: no residual to show
    again = lambda text, notation=n, on=net: _decided(text, notation=notation, net=on,
                                                     index=index, budget=budget, residual=False)
    batch = any(c.of_batch for c in refuted.claims)
    if batch:  # a claim about a batch: what it should say is its own LaTeX, repaired
        found = _repaired(result, again, found)
    # a named mistake that a convention undoes is looked up in that convention alone
    keys = [k for k, m in CONVENTION_MISTAKES.items() if m == found.id] if found.mistake else None
    convention = _convention(result, again, keys)
    if convention is not None:
        key, words, proved = convention
        mistake = found.mistake or BY_ID.get(CONVENTION_MISTAKES.get(key, ""))
        if found.correct is None and _as_written(proved) is not None:
            found = replace(found, correct=_as_written(proved),
                            conditions=proved.deciding.outcome.conditions)
        found = replace(found, mistake=mistake, convention=words)
    if found.mistake is None and convention is None and not batch:
        found = _repaired(result, again, found)
    if found.mistake is None and refuted.claims and needs_targets_summing_to_one(
            refuted.claims, net, truth):
        found = replace(found, mistake=BY_ID["condition-left-out"])
    if found.mistake is None and convention is None:
        found = _on_another_network(result, again, found)
    if found.mistake is None and refuted.shapes:
        found = replace(found, mistake=BY_ID["shapes-do-not-fit"])
    return found


def _proved(check) -> CheckResult | None:
    try:
        result = check()
    except BpcheckError:
        return None
    return result if result.verdict is Verdict.PROVED else None


def _convention(result: CheckResult, again, keys: list[str] | None = None):
    """(key, words, the proved result) for the first convention (of `keys`, or any) in
    which the claim is true."""
    n = result.notation
    batch = any(c.of_batch for r in result.readings for c in r.claims)
    for key, words, other in conventions(n):
        if keys is not None and key not in keys or key.startswith("batch_") and not batch:
            continue  # a claim about one pattern reads alike whatever the batch's error is
        proved = _proved(lambda: again(result.text, other))
        if proved is None:
            continue
        for name in BUILTIN:
            book = load_notation(name)
            if name == n.name or not _same(book, other, key):
                continue
            author = book.title.split(",")[0]
            words += f", as {author} writes it" + (
                f": proved with --notation {name}"
                if _proved(lambda: again(result.text, book)) else "")
            break
        return key, "true with " + words, proved
    return None


def _repaired(result: CheckResult, again, found: Diagnosis) -> Diagnosis:
    """The first repair of the written equation that is proved, as the user's own LaTeX."""
    eq = parse(result.text)
    weight = parse_expression(result.notation.symbols["weight"])
    name = weight.name if hasattr(weight, "name") else ""
    size = parse_expression(result.notation.batch.size)
    about = any(c.of_batch for r in result.readings for c in r.claims)
    batch = (result.notation.pattern, size) if about else None
    for mistake, repaired in repairs(eq, weight=name, batch=batch):
        text = to_latex(repaired)
        proved = _proved(lambda: again(text))
        if proved is not None:
            return replace(found, mistake=BY_ID[mistake], repaired=text,
                           conditions=proved.deciding.outcome.conditions)
    return found


def _on_another_network(result: CheckResult, again, found: Diagnosis) -> Diagnosis:
    """The first network, one option changed, on which the claim is proved."""
    net = result.net
    for option, changed in _networks(net):
        proved = _proved(lambda: again(result.text, result.notation, changed))
        if proved is not None:
            return replace(found, mistake=BY_ID["another-network"],
                           convention=found.convention or f"true on a network with {option}")
    return found


def _networks(net: Network):
    """The network with one or two of its options changed: the loss, the output
    activation, a matching pair of both, each hidden activation, the biases."""
    kw = net.options
    tries = [dict(loss=l) for l in ("sse", "bce", "ce")]
    tries += [dict(output=o) for o in ("identity", "sigmoid", "softmax")]
    tries += [dict(output=o, loss=l) for o, l in (("identity", "sse"), ("sigmoid", "bce"),
                                                 ("softmax", "ce"))]
    if not net.hidden.abstract:  # not identity: where h' = 1 every slope written holds
        tries += [dict(hidden=h) for h in ("sigmoid", "tanh", "relu", "softplus")]
    tries += [dict(bias=not net.bias)]
    for change in tries:
        if all(kw[k] == v for k, v in change.items()):
            continue
        try:
            changed = make_network(**{**kw, **change})
        except BpcheckError:
            continue
        words = ", ".join(f"--{k} {v}" if k != "bias" else ("biases" if v else "--no-bias")
                          for k, v in change.items())
        yield words, changed


def _of_reading(reading: Reading, net: Network, n: Notation, truth: Truth) -> Diagnosis:
    # a claim about a mini-batch is decided one pattern at a time: what that pattern's
    # quantity equals is no answer to it (its mistakes are found by repairs)
    for claim in (c for c in reading.claims if not c.of_batch):
        found = diagnose(claim, net, truth, notation=n)
        if found.mistake is not None or (found.correct is not None
                                         and found.correct.rhs != claim.equation.rhs):
            return found
    return Diagnosis()


def _as_written(result: CheckResult):
    """The claim proved in another convention, in canonical symbols: printed in the
    user's notation, it is what the user's claim should have said."""
    claims = result.readings[0].claims
    return claims[0].equation if len(claims) == 1 and not claims[0].of_batch else None


def _same(book: Notation, other: Notation, key: str) -> bool:
    if key.startswith("batch_"):
        return bool(book.pattern) and book.batch.total == other.batch.total
    if key == "a_and_z":
        return book.symbols["weighted_input"] == other.symbols["weighted_input"]
    return getattr(book, key) == getattr(other, key)


Row = tuple[Equation, "CheckResult | BpcheckError | None"]


def check_file(path: str, *, notation: Notation | None, net: Network,
               index: Mapping[str, str] | None = None, budget: float | None = 30.0,
               jobs: int = 1, progress: Progress | None = None) -> list[Row]:
    """Every equation of a file (each with its line and label, a chain step by step), each
    with its result, the error that stopped it, or None where the file skips it; the
    file's `% bpcheck:` settings override the notation and network given. With `jobs`,
    the equations are checked in as many processes, the rows in the file's order."""
    return check_files([path], notation=notation, net=net, index=index, budget=budget,
                       jobs=jobs, progress=progress)


def check_files(paths, *, notation: Notation | None, net: Network,
                index: Mapping[str, str] | None = None, budget: float | None = 30.0,
                jobs: int = 1, progress: Progress | None = None) -> list[Row]:
    """The equations of several files in order, each placed by its file where there are
    several (a commit's files, as a pre-commit hook gives them)."""
    planned = [(path, eq, job) for path in paths for eq, job in _planned(path, notation, net)]
    results = ordered(partial(_run, index=index, budget=budget), [job for *_, job in planned],
                      jobs=jobs, progress=progress,
                      label=lambda job: job[0][:40] if isinstance(job, tuple) else "")
    return [(replace(eq, source=Path(path).name) if len(paths) > 1 else eq, r)
            for (path, eq, _), r in zip(planned, results)]


def _planned(path: str, notation: Notation | None, net: Network) -> list[tuple]:
    """Each equation of a file with what checking it takes: (its text, its notation, its
    network), None where the file skips it, or the error its settings give."""
    out: list[tuple] = []
    built: dict[tuple, tuple[Notation | None, Network]] = {}
    for eq in equations_of(path):
        if dict(eq.expect).get("skip"):
            out.append((eq, None))
            continue
        try:
            if eq.settings not in built:
                built[eq.settings] = _configured(dict(eq.settings), notation, net)
            out.append((eq, (eq.text, *built[eq.settings])))
        except BpcheckError as e:
            out.append((eq, e))
    if not out:
        raise UsageError(f"{path!r} has no equations")
    return out


def _run(job, *, index, budget) -> "CheckResult | BpcheckError | None":
    """One planned equation checked (in a worker, where there are several)."""
    if job is None or isinstance(job, BpcheckError):
        return job
    text, n, on = job
    try:
        return check_text(text, notation=n, net=on, index=index, budget=budget) \
            if n is not None else check_any(text, net=on, index=index, budget=budget)
    except BpcheckError as e:
        return e


def _configured(settings: dict[str, str], notation: Notation | None,
                net: Network) -> tuple[Notation | None, Network]:
    """The notation and network a file's settings ask for, the command's where it is silent."""
    n = load_notation(settings["notation"]) if "notation" in settings else notation
    if not set(settings) - {"notation"}:
        return n, net
    changed = {k: (v == "true" if k == "bias" else v) for k, v in settings.items()
               if k != "notation"}
    return n, network_from(**{**net.options, **changed})


def worst_status(rows) -> int:
    """The exit status of several equations: the worst one's (an error, then refuted,
    ambiguous, undecided, proved); an equation the file expects a verdict of counts as
    proved where the expectation holds and as refuted where it does not; a skipped one
    does not count."""
    statuses = []
    for eq, r in rows:
        holds = eq.holds(r)
        if holds is not None:
            statuses.append(0 if holds else 1)
        elif r is not None:
            statuses.append(2 if isinstance(r, BpcheckError) else r.status)
    return min(statuses or [0], key=WORST_STATUS_FIRST.index)
