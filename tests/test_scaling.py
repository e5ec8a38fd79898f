"""A small run of bench/scaling.py: the engine and the naive route agree that every
layer's recursion holds (the benchmark's figures are in README, not asserted here)."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
scaling = pytest.importorskip("scaling")


@pytest.mark.parametrize("L,n", [(2, 2), (2, 3), (3, 2)])
def test_engine_and_naive_route_prove_every_layers_recursion(L, n):
    net = scaling.network(L, n)
    _, engine_ok = scaling.engine(net)
    seconds, naive_ok = scaling.naive(net, cap=60)
    assert engine_ok and naive_ok and seconds is not None
