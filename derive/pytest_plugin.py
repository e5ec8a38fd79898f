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

``bpcheck.assert_mistake(latex, "missing-activation-derivative", notation=...)`` fails
unless the equation is refuted and diagnosed as that named mistake (the ids are in the
README), so a course can test that its feedback fires.

``check``, ``assert_proved``, ``assert_refuted`` and ``assert_mistake`` take the equation and the options of
``bpcheck check``, keyword-only: ``notation`` (a name or a path to a notation file),
``layers`` (``"2,3,2"`` or ``(2, 3, 2)``), ``hidden``, ``output``, ``loss``, ``bias``,
``index`` (``{"j": "output"}``, as ``--index``) and ``budget`` (seconds of CPU time a proof may take).
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

This module holds only pytest's hooks and the fixture; the asserting object lives in
commands/assertions.py, and the engine is imported when a test first uses the fixture,
not when pytest loads the plugin.
"""
from __future__ import annotations

from itertools import product
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .commands.assertions import BpCheck

MARKER = "bpcheck_networks"
AXES = ("notation", "layers", "hidden", "output", "loss", "bias")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("bpcheck").addoption(
        "--bpcheck-results-json", metavar="FILE", default=None,
        help="write Gradescope's results.json: a point for each test that uses the bpcheck "
             "fixture and passes, with its output (one file for the run, under pytest-xdist "
             "too)")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("bpcheck_results_json", None)
    if path and not hasattr(config, "workerinput"):  # xdist's workers report to the controller
        from .commands.graded import GradescopeResults
        config.pluginmanager.register(GradescopeResults(path), "bpcheck-results-json")
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
def bpcheck(_bpcheck_options: dict[str, Any], request: pytest.FixtureRequest) -> "BpCheck":
    """Check equations in a notation on a network; assert they are proved or refuted."""
    # marks the test's reports (which cross from an xdist worker) for --bpcheck-results-json
    request.node.user_properties.append(("bpcheck", "fixture"))
    # the engine is imported here, when a test first asks for it: the one deliberate lazy
    # import of the project, so that loading the plugin costs a pytest run nothing
    from .commands.assertions import BpCheck
    return BpCheck(_bpcheck_options)
