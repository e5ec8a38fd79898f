from __future__ import annotations

pytest_plugins = ["pytester"]

import functools
import math

import pytest


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False,
                     help="run the slow tier too (tests marked slow): every test, as CI does")


def quick_sample(n: int) -> list[int]:
    """Which cases of a family of n parametrised cases the quick tier runs: the first alone
    of up to 3, else about √n/4 of them (at least 2), spread evenly from the first to the
    last, so that every part of a table is reached in turn as the table grows and the
    tier's cost grows like √n. The slow tier runs every case.

    >>> quick_sample(3), quick_sample(9), quick_sample(66), quick_sample(522)[:3]
    ([0], [0, 8], [0, 32, 65], [0, 104, 208])
    """
    if n <= 3:
        return [0] if n else []
    k = max(2, math.isqrt(n - 1) // 4 + 1)
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})


def _families(items):
    by = {}
    for item in items:
        key = (item.path, getattr(item, "cls", None), getattr(item, "originalname", item.name))
        by.setdefault(key, []).append(item)
    return by.values()


def _every_test(config) -> bool:
    """--slow, or a choice of one's own: -m by markers, -k by names (a case asked for by
    name runs whether or not the quick sample holds it)."""
    return config.getoption("--slow") or bool(config.getoption("-m") or config.getoption("-k"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The cases of a parametrised family outside its quick sample are marked slow, like the
    tests marked by hand; by default they are left out (deselected). --slow runs every test;
    with -m, the expression decides (-m slow is the slow tier alone, -m "not slow" the quick
    one); with -k, the names do, among every test."""
    for family in _families(items):
        if family[0].get_closest_marker("every_case"):
            continue
        kept = set(quick_sample(len(family)))
        for i, item in enumerate(family):
            if i not in kept:
                item.add_marker(pytest.mark.slow)
    if _every_test(config):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
        config.hook.pytest_deselected(items=slow)


def _tier(config) -> str:
    return ("tier: every test" if config.getoption("--slow") else
            "tier: chosen by -m or -k" if _every_test(config) else
            "tier: quick (a spread sample of each table of cases, no test marked slow); "
            "pytest --slow runs every test, as CI does")


def pytest_report_header(config):
    return _tier(config)


def pytest_terminal_summary(terminalreporter, config):
    terminalreporter.write_line(_tier(config))  # at the end too, where -q still shows it


@pytest.fixture(autouse=True)
def _mpmath_at_50_digits():
    """Every test's oracles at 50 digits, whatever a module imported earlier in the same
    worker set mpmath's global precision to: a finite difference with a step of 1e-18
    taken at 40 digits is off by 1e-22, past the crosscheck's tolerance."""
    import mpmath as mp
    with mp.workdps(50):
        yield


@pytest.fixture(autouse=True)
def _the_width_of_a_pipe(monkeypatch):
    """pytest-xdist workers set COLUMNS=80, and the command line lays out text for a pipe at
    COLUMNS when it is set: the tests that read that text expect the width of a plain pipe."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)

from bpcheck.derive import Derivation, make_network, load_notations
from bpcheck.derive.commands.report import build_report

# every (output, loss) pair the engine accepts: the cross-entropies need outputs in (0, 1)
PAIRS = [(o, "sse") for o in ("identity", "sigmoid", "tanh", "relu", "softplus", "abstract",
                              "softmax")] + \
        [(o, l) for l in ("bce", "ce") for o in ("sigmoid", "softmax")]
HIDDEN = ("identity", "sigmoid", "tanh", "relu", "softplus", "abstract")
NOTATIONS = ("bishop", "nielsen", "eglen")


@functools.lru_cache(maxsize=None)
def derivation(layers=(2, 3, 2), hidden="abstract", output="identity", loss="sse", bias=True):
    return Derivation(make_network(layers=layers, hidden=hidden, output=output, loss=loss,
                                   bias=bias))


@functools.lru_cache(maxsize=None)
def report(layers=(2, 3, 2), hidden="abstract", output="identity", loss="sse", bias=True):
    net = make_network(layers=layers, hidden=hidden, output=output, loss=loss, bias=bias)
    return build_report(net, load_notations("all"))


def mp_activations():
    """The activations as the tests' own oracles compute them, in mpmath."""
    import mpmath as mp
    return {
        "identity": lambda x: x,
        "sigmoid": lambda x: 1 / (1 + mp.exp(-x)),
        "tanh": mp.tanh,
        "relu": lambda x: x if x > 0 else mp.mpf(0),
        "softplus": lambda x: mp.log(1 + mp.exp(x)),
    }
