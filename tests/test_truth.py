"""The one truth (engine/truth.py) against independent oracles: every quantity it gives in
a claim's frame, evaluated at a point of the network, equals the whole network substituted
(tests/naive.py) and the finite differences of a forward pass of this file's own; and
`check` decides the o(1-o) recursion of a sigmoid network, true and with an index swapped,
with both verdicts pinned by the oracle."""
from __future__ import annotations

import random

import mpmath as mp
import pytest
import sympy as sp

from bpcheck.derive import load_notation, make_network
from bpcheck.derive.commands.check import check_text
from bpcheck.derive.engine.expr import Partial, Total
from bpcheck.derive.engine.point import Point, sample
from bpcheck.derive.engine.proof import Verdict
from bpcheck.derive.engine.truth import Truth
from bpcheck.derive.model.activation import KinkSide
from conftest import mp_activations
from naive import Semantics

mp.mp.dps = 50
SCALAR = mp_activations()
E = sp.Symbol("E", real=True)


def quantities(net):
    """Written quantities of every kind, at concrete units: deltas, derivatives of the
    error by weighted inputs, outputs and weights, and of one layer by another."""
    L, out = net.L, []
    for l in range(1, L + 1):
        out += [net.delta(l)[1], Partial(E, net.pre(l)[1]), Partial(E, net.W(l)[1, 1])]
        if l < L:
            out += [Partial(E, net.out(l)[2]), Partial(net.pre(l + 1)[1], net.pre(l)[2]),
                    Partial(net.out(l + 1)[1], net.pre(l)[1])]
    if L > 2:
        out.append(Partial(net.pre(3)[1], net.pre(1)[1]))  # two layers apart: every path
    out += [Partial(net.out(L)[1], net.pre(L)[2]), Partial(E, net.out(L)[1])]
    return out


NETWORKS = [((2, 3, 2), "sigmoid", "identity", "sse"), ((2, 3, 3, 2), "tanh", "softmax", "ce"),
            ((3, 2, 2, 2), "relu", "sigmoid", "bce"), ((2, 2, 3, 2), "softplus", "tanh", "sse")]


@pytest.mark.parametrize("layers,hidden,output,loss", NETWORKS)
def test_every_quantity_in_its_frame_is_the_whole_network_substituted(layers, hidden, output, loss):
    net = make_network(layers=layers, hidden=hidden, output=output, loss=loss)
    truth, naive = Truth(net.graph), Semantics(net)
    rng = random.Random(str(layers))
    for q in quantities(net):
        frame = truth.frame_of([q])
        (mine,) = truth.meanings([q], frame)
        for _ in range(2):
            point = sample(net.graph, rng, simplex=net.loss.targets_sum_to_one,
                           unit_interval=net.loss.needs_unit_interval)
            want = _naive_at(naive.meaning(q), net, point)
            got = point.evaluate(mine, frame)
            assert abs(sp.N(got - want, 40)) < 1e-25, (q, got, want)


def _naive_at(expr, net, point: Point):
    """The naive route's expression (inputs, weights, biases, targets) at the point."""
    at = {q: sp.Float(v, 60) for q, v in point.values.items()}
    todo = set(expr.atoms(KinkSide))
    while todo:  # a ReLU's side is the sign of its argument, the innermost sides first
        ready = {k for k in todo if not (k.of.atoms(KinkSide) - set(at))}
        todo |= {x for k in todo for x in k.of.atoms(KinkSide)} - set(at)
        for k in ready:
            at[k] = sp.Integer(1 if sp.N(k.of.xreplace(at), 50) > 0 else 0)
        todo -= ready
    return expr.xreplace(at).doit()


def test_a_derivative_along_an_edge_holds_the_other_paths_fixed_and_a_total_one_does_not():
    """In a graph with a skip edge h1 -> o beside h1 -> g -> o, Bishop's da_o/da_h1 is the
    edge's w h'(a_h1); the total derivative adds the path through g."""
    from bpcheck.derive.io.graph_file import parse_graph
    g = parse_graph('''loss = "sse"
inputs = ["x"]
outputs = ["o"]
units = { h1 = { activation = "tanh" }, g = { activation = "tanh" }, o = { activation = "identity" } }
edges = [{ from = "x", to = "h1", weight = "u" }, { from = "h1", to = "g", weight = "v" },
         { from = "g", to = "o", weight = "r" }, { from = "h1", to = "o", weight = "s" }]''',
                    source="skip.toml")
    truth = Truth(g)
    a = {u.name: u.a for u in g.units if u.a is not None}
    w = {e.weight: e.w for e in g.edges}
    edge, total = Partial(a["o"], a["h1"]), Total(a["o"], a["h1"])
    frame = truth.frame_of([edge, total])
    along, every = truth.meanings([edge, total], frame)
    slope_h1 = 1 - sp.tanh(a["h1"]) ** 2
    assert sp.simplify(along - w["s"] * slope_h1) == 0
    # the path through g: r tanh'(a_g) v tanh'(a_h1), a_g = v tanh(a_h1) + ...
    assert sp.simplify(every - along) != 0


SIGMOID = dict(layers=(2, 3, 3, 2), hidden="sigmoid", output="sigmoid", loss="sse")


def _oracle_point(net, rng):
    """A forward pass of this file's own, in mpmath: inputs, weights, biases, targets, and
    every delta by central differences."""
    r = lambda: mp.mpf(rng.randint(-60, 60)) / 40
    W = {l: [[r() for _ in range(net.widths[l - 1])] for _ in range(net.widths[l])]
         for l in range(1, net.L + 1)}
    b = {l: [r() for _ in range(net.widths[l])] for l in range(1, net.L + 1)}
    x, t = [r() for _ in range(net.widths[0])], [mp.mpf(rng.randint(1, 7)) / 8 for _ in range(2)]

    def forward(perturb=None):
        z, pre = {0: x}, {}
        for l in range(1, net.L + 1):
            pre[l] = [mp.fsum(W[l][j][i] * z[l - 1][i] for i in range(net.widths[l - 1]))
                      + b[l][j] + (perturb or {}).get((l, j), 0) for j in range(net.widths[l])]
            z[l] = [SCALAR["sigmoid"](v) for v in pre[l]]
        return pre, z

    def delta(l, j, h=mp.mpf("1e-20")):
        E = lambda p: mp.fsum((y - tk) ** 2 for y, tk in zip(forward(p)[1][net.L], t)) / 2
        return (E({(l, j): h}) - E({(l, j): -h})) / (2 * h)

    return W, forward()[1], delta


def test_the_o_one_minus_o_recursion_of_a_sigmoid_network_is_proved_and_the_oracle_agrees():
    net = make_network(**SIGMOID)
    r = check_text(r"\delta_j = z_j (1 - z_j) \sum_k w_{kj} \delta_k",
                   notation=load_notation("bishop"), net=net)
    assert r.verdict is Verdict.PROVED and len(r.readings) == 2
    W, z, delta = _oracle_point(net, random.Random(7))
    for l in (1, 2):  # both readings: the recursion into each hidden layer
        for j in range(3):
            claimed = z[l][j] * (1 - z[l][j]) * mp.fsum(W[l + 1][k][j] * delta(l + 1, k)
                                                         for k in range(net.widths[l + 1]))
            assert abs(claimed - delta(l, j)) < mp.mpf("1e-15")


@pytest.mark.slow
def test_the_recursion_with_its_weight_indices_swapped_is_refuted_where_the_oracle_differs():
    net = make_network(**SIGMOID)
    r = check_text(r"\delta_j = z_j (1 - z_j) \sum_k w_{jk} \delta_k",
                   notation=load_notation("bishop"), net=net)
    assert r.verdict is Verdict.REFUTED
    ce = r.deciding.outcome.counterexample
    assert abs(sp.N(ce.lhs - ce.rhs, 30)) > 1e-6
    # the point is a point of the network: its forward pass here gives the true delta
    values = dict(ce.point)
    point = Point(net.graph, values, floats=True)
    (_, j), = ce.index
    l = r.deciding.letters["j"]
    assert abs(sp.N(point.delta_of(f"{l}:{j}") - ce.lhs, 25)) < 1e-20


def is_zero(d) -> bool:
    """Identically zero: by normal form where its numerator is within the engine's limit;
    past it (the two forms of a softmax frame's derivatives differ in shape, and their
    difference is large before it cancels) exactly, at 4 random rational points of the
    normal form's independent atoms, where a nonzero rational function is not zero."""
    from bpcheck.derive.engine.normal import WORK_LIMIT, NormalForm, expansion_bound, numerator
    form = NormalForm()
    d = form(d)
    if expansion_bound(d) <= WORK_LIMIT:
        return numerator(d) == 0
    rng = random.Random(str(d)[:200])
    atoms = sorted(d.free_symbols, key=str)
    return all(d.xreplace({a: sp.Rational(rng.randint(1, 97), rng.randint(1, 89)) * (
        1 if a.is_positive else rng.choice([-1, 1])) for a in atoms}) == 0 for _ in range(4))


def _graph(path: str):
    from pathlib import Path
    from bpcheck.derive.io.graph_file import parse_graph
    return parse_graph(Path(__file__).parent.parent.joinpath(path).read_text(), source=path)


def _sides(graph) -> list:
    from bpcheck.derive.engine.graph_checks import graph_claims
    return [(c.equation.lhs, c.equation.rhs) for c in graph_claims(graph)]


def _layered_sides(net) -> list:
    """Every quantity of the other tests, and the error by an input, a bias and a target."""
    more = [Partial(E, net.out(0)[1]), Partial(E, net.t[1])]
    more += [Partial(E, net.b(l)[1]) for l in (1, net.L)] if net.bias else []
    return [(q,) for q in quantities(net) + more]


# the oracle differentiates whole frames, so the networks are the smallest of each kind
# that still has a hidden layer two layers before the output
SMALL_NETWORKS = [((2, 2, 2), "sigmoid", "identity", "sse"), ((2, 2, 2, 2), "tanh", "softmax", "ce"),
                  ((2, 2, 2, 2), "relu", "sigmoid", "bce"), ((1, 2, 2, 2), "softplus", "tanh", "sse")]
CHAIN_RULE_CASES = [("layered " + "-".join(map(str, n[0])) + f" {n[1]} {n[2]} {n[3]}",
                     lambda n=n: make_network(layers=n[0], hidden=n[1], output=n[2],
                                              loss=n[3]), _layered_sides) for n in SMALL_NETWORKS]
CHAIN_RULE_CASES += [(path, lambda path=path: _graph(path), _sides)
                     for path in ("examples/graph-skip.toml", "examples/graph-two-layers.toml")]


@pytest.mark.parametrize("name,build,written", CHAIN_RULE_CASES, ids=[c[0] for c in CHAIN_RULE_CASES])
def test_the_chain_rule_on_the_graph_is_the_whole_frame_differentiated(name, build, written,
                                                                       monkeypatch):
    """Every derivative the truth takes by the chain rule on the graph (InFrame.tangent)
    equals SymPy's derivative of the whole substituted frame, the route it replaces and
    now the oracle: identically, in the plain and the abstract frame, with the real loss
    and with an undefined one."""
    from bpcheck.derive.engine.truth import InFrame
    net = build()
    graph = getattr(net, "graph", net)
    compared = 0
    for exprs in written(net):
        for abstract in (False, True):
            for real_loss in (False, True):
                fast = Truth(graph)
                frame = fast.frame_of(exprs, abstract=abstract, real_loss=real_loss)
                mine = fast.meanings(exprs, frame)
                with monkeypatch.context() as m:
                    m.setattr(InFrame, "tangent", lambda self, x, seed, **_: None)
                    slow = Truth(graph).meanings(exprs, frame)
                for a, b in zip(mine, slow):
                    assert is_zero(a - b), (name, exprs, abstract, real_loss, a, b)
                    compared += 1
    assert compared >= 4 * len(written(net))
