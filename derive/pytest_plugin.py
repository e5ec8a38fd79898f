"""bpcheck's pytest plugin: a course's or a book's equations under test.

Installed with the package (the ``pytest11`` entry point ``bpcheck``), it gives every
test the ``bpcheck`` fixture::

    def test_bp2(bpcheck):
        bpcheck.assert_proved(r"\\delta^l = ((w^{l+1})^T \\delta^{l+1}) \\odot \\sigma'(z^l)",
                              notation="nielsen", hidden="sigmoid")

    def test_38_fails_for_softmax(bpcheck):
        bpcheck.assert_refuted(r"\\delta^L_j = \\frac{\\partial C}{\\partial a^L_j} "
                               r"\\frac{\\partial a^L_j}{\\partial z^L_j}",
                               notation="nielsen", output="softmax", loss="ce")

``check``, ``assert_proved`` and ``assert_refuted`` take the equation and the options of
``bpcheck check``, keyword-only: ``notation`` (a name or a path to a notation file),
``layers`` (``"2,3,2"`` or ``(2, 3, 2)``), ``hidden``, ``output``, ``loss``, ``bias``,
``index`` (``{"j": "output"}``, as ``--index``) and ``budget`` (seconds a proof may take).
Each returns the ``CheckResult``. A failed assertion fails the test with the claim as
understood, how it was read, the verdict, its conditions, the counterexample and the
residual, all in the notation's symbols; bad input fails it with its one-line error.

The marker ``bpcheck_networks`` runs one test on every combination of the values it
lists (axes ``notation``, ``layers``, ``hidden``, ``output``, ``loss``, ``bias``; a
single value may stand alone); the fixture takes them as its defaults, and the test ids
name them, e.g. ``test_hidden_delta[nielsen-sigmoid]``. The equation usually depends on
the notation: pass a dict from notation name to LaTeX, or pick it by ``bpcheck.notation``::

    @pytest.mark.bpcheck_networks(notation=["bishop", "nielsen"], hidden=["sigmoid", "tanh"])
    def test_hidden_delta(bpcheck):
        bpcheck.assert_proved({"bishop": r"\\delta_j = h'(a_j) \\sum_k w_{kj}\\delta_k",
                               "nielsen": r"\\delta^l_j = \\sigma'(z^l_j) \\sum_k w^{l+1}_{kj}\\delta^{l+1}_k"})

The engine is imported when a check runs, not when pytest loads the plugin.
"""
from __future__ import annotations

from itertools import product
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import pytest

if TYPE_CHECKING:
    from .network import Network
    from .notation import Notation
    from .proof import Verdict
    from .reading import CheckResult, Reading

MARKER = "bpcheck_networks"
AXES = ("notation", "layers", "hidden", "output", "loss", "bias")
DEFAULTS: dict[str, Any] = {"layers": (2, 3, 2), "hidden": "abstract", "output": "identity",
                            "loss": "sse", "bias": True}
LONGEST = 400  # characters of a residual or a point shown in a failure


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(notation=[...], layers=[...], hidden=[...], output=[...], "
        "loss=[...], bias=[...]): run the test on every combination of the values given; "
        "the bpcheck fixture takes them as its defaults")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    unknown = [k for k in marker.kwargs if k not in AXES]
    axes = {k: _values(k, v) for k, v in marker.kwargs.items() if k in AXES}
    problem = ("the marker sets the bpcheck fixture's options; the test does not use the "
               "fixture" if "bpcheck" not in metafunc.fixturenames else
               "give the axes by name, e.g. notation=[...]" if marker.args else
               f"unknown axis {unknown[0]!r}; accepted: {', '.join(AXES)}" if unknown else
               "give at least one value for each axis named"
               if not axes or not all(axes.values()) else None)
    if problem:  # a collection error that is one line, not a traceback of pytest's hooks
        pytest.fail(f"@pytest.mark.{MARKER} on {metafunc.function.__name__}: {problem}",
                    pytrace=False)
    combos = [dict(zip(axes, values)) for values in product(*axes.values())]
    metafunc.parametrize("_bpcheck_options", combos, indirect=True,
                         ids=["-".join(_id(k, v) for k, v in c.items()) for c in combos])


def _values(axis: str, value: Any) -> list[Any]:
    """The values of one axis: a list of them, or one alone (a string, a bool, or for
    layers a string or a tuple of widths)."""
    if isinstance(value, (str, bool)):
        return [value]
    if axis == "layers" and isinstance(value, (tuple, list)) \
            and all(isinstance(w, int) for w in value):
        return [tuple(value)]
    return list(value)


def _id(axis: str, value: Any) -> str:
    if axis == "bias":
        return "bias" if value else "no-bias"
    if axis == "layers" and not isinstance(value, str):
        return ",".join(map(str, value))
    return str(value)


@pytest.fixture
def _bpcheck_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The marker's combination for this test, or nothing."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def bpcheck(_bpcheck_options: dict[str, Any]) -> BpCheck:
    """Check equations in a notation on a network; assert they are proved or refuted."""
    return BpCheck(_bpcheck_options)


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
        from .errors import BpcheckError
        from .reading import check_text
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

    @staticmethod
    def _expect(verdict: str, result: CheckResult) -> CheckResult:
        __tracebackhide__ = True
        from .proof import Verdict
        if result.verdict is not Verdict(verdict):
            pytest.fail(_failure(result, expected=Verdict(verdict)))
        return result


def _usage(message: str) -> Exception:
    from .errors import UsageError
    return UsageError(message)


def _notation(name: str | None) -> Notation:
    from .notation import load_notation
    if name is None:
        raise _usage("give notation=..., e.g. notation=\"bishop\", or the "
                     f"@pytest.mark.{MARKER}(notation=[...]) marker")
    return load_notation(name)


def _network(opts: Mapping[str, Any]) -> Network:
    from .network import make_network
    layers = opts["layers"]
    if isinstance(layers, str):
        parts = [p.strip() for p in layers.split(",")]
        if not all(p.isascii() and p.isdigit() and len(p) <= 6 for p in parts):
            raise _usage(f"layers {layers!r}: give widths as positive integers, input first, "
                         "e.g. \"2,3,2\"")
        layers = tuple(int(p) for p in parts)
    return make_network(layers=tuple(layers), hidden=opts["hidden"], output=opts["output"],
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
    from .proof import Verdict
    from .render import text
    n, net = result.notation, result.net
    lines = [f"expected {expected}, got {result.verdict}: {result.text}",
             f"  claim     {result.understood}",
             f"  notation  {n.name} ({n.title})",
             f"  network   {'-'.join(map(str, net.widths))}: hidden {net.hidden.name}, output "
             f"{net.output.name}, loss {net.loss.name}, {'biases' if net.bias else 'no biases'}"]
    shown = [result.deciding] if expected is Verdict.PROVED else list(result.readings)
    for r in result.readings:
        claims = "; ".join(text(result.written(c.equation), n, net) for c in r.claims)
        lines.append(f"  read as   {claims}   [{result.layer_words(r.letters)}]: "
                     f"{r.outcome.verdict}")
        if r in shown:
            lines += ["    " + x for x in _outcome(result, r)]
    return "\n".join(lines)


def _outcome(result: CheckResult, reading: Reading) -> list[str]:
    from .proof import Verdict
    from .render import text
    n, net, o = result.notation, result.net, reading.outcome
    out = []
    if o.verdict is Verdict.PROVED:
        out.append("proved " + ("if " + ", ".join(text(c, n, net) for c in o.conditions)
                                if o.conditions else "with no conditions"))
    for where, lhs, rhs in result.worked(reading):
        out.append(f"at {where}: {text(lhs, n, net)}  =?  {text(rhs, n, net)}")
    if o.note:
        out.append(o.note)
    if o.counterexample is not None:
        from .report import counterexample_json
        ce = counterexample_json(o.counterexample, n, net)
        at = ", ".join(f"{k} = {v}" for k, v in ce["index"].items()) or "the point"
        out.append(f"fails at {at}: left side {ce['lhs']}, right side {ce['rhs']}")
        out.append("where " + _listing([f"{k} = {v}" for k, v in ce["point"].items()]))
    out += list(o.evidence)
    if o.residual is not None:
        out.append("residual (numerator of left - right in normal form): "
                   + _cut(text(o.residual, n, net)))
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
