from __future__ import annotations

pytest_plugins = ["pytester"]

import functools

import pytest


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False,
                     help="run the slow tier too (tests marked slow): every test, as CI does")


def pytest_collection_modifyitems(config, items):
    """The quick tier by default: a test marked slow runs with --slow (or when -m asks for
    it by name)."""
    if config.getoption("--slow") or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow tier: run with --slow")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


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
