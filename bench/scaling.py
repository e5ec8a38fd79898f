"""The engine against the naive route, for layered networks of growing size.

    python bench/scaling.py             # the full table (up to half an hour: naive is capped)
    python bench/scaling.py --quick     # L in {2, 3}, n in {2, 4}: a few seconds

For each depth L and width n: the number of weights, the seconds the engine takes to prove
every layer's recursion (the output layer's chain rule and each hidden layer's delta, one
layer at a time, a hidden layer once for all its units), the seconds the naive route takes
(substitute the whole network into the loss, differentiate, zero-test; capped at 60 s and
shown as '>60'), and their ratio, all in one run; then the fitted log-log slope of the
engine's time against the number of weights. Networks beyond the command line's size bound
are built directly, as the bound is the report's, not the engine's.
"""
from __future__ import annotations

import math
import os
import sys
import time

import sympy as sp

from bpcheck.derive.engine.claims import hidden_claim, instances, output_claims
from bpcheck.derive.engine.derivation import Derivation
from bpcheck.derive.engine.normal import NormalForm, numerator
from bpcheck.derive.engine.proof import BudgetExceeded, Verdict, time_budget
from bpcheck.derive.model.activation import activation
from bpcheck.derive.model.loss import loss
from bpcheck.derive.model.network import Network

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from naive import Semantics  # noqa: E402  the tests' oracle: the whole network substituted

CAP = 60.0


def network(L: int, n: int) -> Network:
    return Network((n,) * (L + 1), activation("sigmoid", hidden=True), activation("identity"),
                   loss("sse"), True)


def engine(net: Network) -> tuple[float, bool]:
    start = time.perf_counter()  # building the truth (the network as a graph) counts too
    d = Derivation(net, budget=None, run=False)
    claims = [c for c in output_claims(net) if c.id == "output-delta-general"]
    claims += [hidden_claim(net, l) for l in range(1, net.L)]
    ok = all(d.prove(c).verdict is Verdict.PROVED for c in claims)
    return time.perf_counter() - start, ok


def naive(net: Network, cap: float = CAP) -> tuple[float | None, bool]:
    """Every hidden layer's recursion with the whole network substituted into the loss."""
    semantics = Semantics(net)
    start = time.perf_counter()
    try:
        with time_budget(cap):
            for l in range(1, net.L):
                for _, lhs, rhs in instances(hidden_claim(net, l), net):
                    lhs, rhs = semantics.meaning(lhs), semantics.meaning(rhs)
                    if numerator(NormalForm()(lhs - rhs)) != 0:
                        return time.perf_counter() - start, False
    except BudgetExceeded:
        return None, True
    return time.perf_counter() - start, True


def table(depths, widths, cap: float = CAP):
    """One row a network: (L, n, weights, engine s, naive s or None, both proved)."""
    for L in depths:
        for n in widths:
            net = network(L, n)
            t_engine, ok = engine(net)
            t_naive, ok_naive = naive(net, cap)
            yield L, n, net.n_weights, t_engine, t_naive, ok and ok_naive


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    depths, widths = ((2, 3), (2, 4)) if quick else ((2, 3, 4, 6, 8), (2, 4, 8, 16, 32))
    print(f"cores: {os.cpu_count()}; sigmoid hidden layers, identity output, sse; naive capped at {CAP:g} s")
    print(f"{'L':>2} {'n':>3} {'weights':>8} {'engine s':>9} {'naive s':>8} {'ratio':>7}  proved")
    points = []
    for L, n, w, te, tn, ok in table(depths, widths):
        naive_s = f"{tn:8.2f}" if tn is not None else f"{'>' + format(CAP, 'g'):>8}"
        ratio = f"{tn / te:7.1f}" if tn is not None else f"{'>' + format(CAP / te, '.0f'):>7}"
        print(f"{L:>2} {n:>3} {w:>8} {te:9.2f} {naive_s} {ratio}  {'yes' if ok else 'NO'}", flush=True)
        points.append((w, te))
    xs = [math.log(w) for w, t in points if t > 0.05]
    ys = [math.log(t) for w, t in points if t > 0.05]
    if len(xs) > 2:
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        print(f"fitted log-log slope of engine time against weights (cells over 0.05 s): {slope:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
