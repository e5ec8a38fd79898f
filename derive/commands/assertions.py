r"""The ``bpcheck`` fixture's object (the plugin, derive/pytest_plugin.py, makes one for each
test): check an equation on a network in a notation, and assert it is proved or refuted,
failing the test with everything a reader needs to see why.

>>> BpCheck({"notation": "bishop"}).check(r"\delta_k = y_k - t_k").verdict.value
'proved'
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import pytest

from ..engine.checking import CheckResult, Reading
from ..engine.mistakes import BY_ID
from ..engine.proof import Verdict
from ..errors import BpcheckError, UsageError
from ..io.notation_file import load_notation
from ..model.network import Network
from ..model.notation import Notation
from ..present.check import diagnosis_lines, layer_words, outcome_lines, read_as
from ..present.printers import summary
from .check import check_text
from .network import network_from

MARKER = "bpcheck_networks"
DEFAULTS: dict[str, Any] = {"layers": (2, 3, 2), "hidden": "abstract", "output": "identity",
                            "loss": "sse", "bias": True}
LONGEST = 400  # characters of a residual or a point shown in a failure


class BpCheck:
    """The ``bpcheck`` fixture. Options not given come from the ``bpcheck_networks``
    marker, then from bpcheck's defaults (a 2-3-2 network, abstract hidden activation,
    identity output, sum-of-squares loss, biases)."""

    def __init__(self, options: Mapping[str, Any] | None = None):
        self.options: dict[str, Any] = dict(options or {})

    def __repr__(self) -> str:
        return "bpcheck(" + ", ".join(f"{k}={v!r}" for k, v in self.options.items()) + ")"

    @property
    def notation(self) -> str | None:
        """The notation this test runs in, if the marker names one."""
        return self.options.get("notation")

    def check(self, latex: str | Mapping[str, str], *, notation: str | None = None,
              layers: str | Sequence[int] | None = None, hidden: str | None = None,
              output: str | None = None, loss: str | None = None, bias: bool | None = None,
              index: Mapping[str, str] | None = None, budget: float | None = 30.0) -> CheckResult:
        """The verdict on an equation, without asserting it; bad input fails the test."""
        __tracebackhide__ = True
        given = {"notation": notation, "layers": layers, "hidden": hidden, "output": output,
                 "loss": loss, "bias": bias}
        clash = sorted(k for k, v in given.items()
                       if v is not None and k in self.options and v != self.options[k])
        if clash:  # the test id would name one network while the check ran another
            pytest.fail(f"bpcheck: {clash[0]}={given[clash[0]]!r} contradicts the "
                        f"bpcheck_networks marker's {clash[0]}={self.options[clash[0]]!r} "
                        "for this test")
        opts = {**DEFAULTS, **self.options, **{k: v for k, v in given.items() if v is not None}}
        error = None
        try:
            n, net = _notation(opts.get("notation")), _network(opts)
            if budget is not None and not 0 < budget <= 3600:
                raise _usage(f"budget {budget!r}: give seconds above 0 and at most 3600")
            text = _pick(latex, opts["notation"], n.name)
            return check_text(text, notation=n, net=net, index=index, budget=budget)
        except BpcheckError as e:
            error = f"bpcheck: {e}"
        pytest.fail(error)  # outside the except: no chained traceback of the engine

    def assert_proved(self, latex: str | Mapping[str, str], *, notation: str | None = None,
                      layers: str | Sequence[int] | None = None, hidden: str | None = None,
                      output: str | None = None, loss: str | None = None,
                      bias: bool | None = None, index: Mapping[str, str] | None = None,
                      budget: float | None = 30.0) -> CheckResult:
        """Fail the test unless the equation is proved in every reading."""
        __tracebackhide__ = True
        return self._expect("proved", self.check(
            latex, notation=notation, layers=layers, hidden=hidden, output=output, loss=loss,
            bias=bias, index=index, budget=budget))

    def assert_refuted(self, latex: str | Mapping[str, str], *, notation: str | None = None,
                       layers: str | Sequence[int] | None = None, hidden: str | None = None,
                       output: str | None = None, loss: str | None = None,
                       bias: bool | None = None, index: Mapping[str, str] | None = None,
                       budget: float | None = 30.0) -> CheckResult:
        """Fail the test unless some reading of the equation is refuted at a point."""
        __tracebackhide__ = True
        return self._expect("refuted", self.check(
            latex, notation=notation, layers=layers, hidden=hidden, output=output, loss=loss,
            bias=bias, index=index, budget=budget))

    def assert_mistake(self, latex: str | Mapping[str, str], mistake: str, *,
                       notation: str | None = None, layers: str | Sequence[int] | None = None,
                       hidden: str | None = None, output: str | None = None,
                       loss: str | None = None, bias: bool | None = None,
                       index: Mapping[str, str] | None = None,
                       budget: float | None = 30.0) -> CheckResult:
        """Fail the test unless the equation is refuted and diagnosed as the named mistake
        (the ids are in the README): a course's test that its feedback fires."""
        __tracebackhide__ = True
        if mistake not in BY_ID:
            pytest.fail(f"bpcheck: unknown mistake {mistake!r}; accepted: {', '.join(BY_ID)}")
        result = self._expect("refuted", self.check(
            latex, notation=notation, layers=layers, hidden=hidden, output=output, loss=loss,
            bias=bias, index=index, budget=budget))
        if result.diagnosis.id != mistake:
            pytest.fail(f"expected the mistake {mistake}, got "
                        f"{result.diagnosis.id or 'no named mistake'}: {result.text}\n"
                        + "\n".join("  " + x for x in diagnosis_lines(result)))
        return result

    @staticmethod
    def _expect(verdict: str, result: CheckResult) -> CheckResult:
        __tracebackhide__ = True
        if result.verdict is not Verdict(verdict):
            pytest.fail(_failure(result, expected=Verdict(verdict)))
        return result


def _usage(message: str) -> Exception:
    return UsageError(message)


def _notation(name: str | None) -> Notation:
    if name is None:
        raise _usage("give notation=..., e.g. notation=\"bishop\", or the "
                     f"@pytest.mark.{MARKER}(notation=[...]) marker")
    return load_notation(name)


def _network(opts: Mapping[str, Any]) -> Network:
    return network_from(layers=opts["layers"], hidden=opts["hidden"], output=opts["output"],
                        loss=opts["loss"], bias=bool(opts["bias"]))


def _pick(latex: str | Mapping[str, str], asked: str, name: str) -> str:
    """The equation itself, or the one a dict gives for this notation."""
    if isinstance(latex, str):
        return latex
    for key in (asked, name):
        if key in latex:
            return latex[key]
    raise _usage(f"no equation for notation {asked!r}; the dict has "
                 f"{', '.join(map(repr, latex)) or 'none'}")


def _failure(result: CheckResult, *, expected: Verdict) -> str:
    """Why a check did not get the verdict a test expected, in the notation's symbols."""
    n, net = result.notation, result.net
    lines = [f"expected {expected}, got {result.verdict}: {result.text}",
             f"  claim     {result.understood}",
             f"  notation  {n.name} ({n.title})",
             f"  network   {summary(net)}"]
    shown = [result.deciding] if expected is Verdict.PROVED else list(result.readings)
    for r in result.readings:
        lines.append(f"  read as   {read_as(result, r)}   [{layer_words(result, r.letters)}]: "
                     f"{r.outcome.verdict}")
        if r in shown:
            lines += ["    " + x for x in _outcome(result, r)]
    lines += ["  " + x for x in diagnosis_lines(result)]
    return "\n".join(lines)


def _outcome(result: CheckResult, reading: Reading) -> list[str]:
    out = []
    for line in outcome_lines(result, reading, point_shown=None):
        if line.verdict is Verdict.PROVED:
            out.append("proved " + (line.text or "with no conditions"))
            out += [line.note] if line.note else []
        elif line.verdict is None and line.text.startswith("where "):
            out.append("where " + _listing(line.text[len("where "):].split(", ")))
        elif line.verdict is None and line.text.startswith("residual "):
            head, _, residual = line.text.partition(": ")
            out.append(f"{head}: {_cut(residual)}")
        elif line.verdict is None:
            out.append(line.text)
        else:
            out += [line.note] if line.note else []
    return out


def _listing(items: list[str], limit: int = 2 * LONGEST) -> str:
    """Items joined until the limit, then how many more (result.to_json() has them all)."""
    shown: list[str] = []
    for item in items:
        if shown and sum(len(x) + 2 for x in shown) + len(item) > limit:
            return ", ".join(shown) + f" and {len(items) - len(shown)} more"
        shown.append(item)
    return ", ".join(shown)


def _cut(s: str, limit: int = LONGEST) -> str:
    return s if len(s) <= limit else s[:limit].rstrip() + f" ... ({len(s) - limit} more characters)"
