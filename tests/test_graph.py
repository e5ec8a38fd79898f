"""Feed-forward graphs: Bishop (5.55)/(5.56) and every gradient proved on graphs with skip
connections; the layered formula with the skip edge ignored, and the seed question's sum
over every later layer, refuted at points that a forward pass of this file's own
(mpmath, 50 digits) reproduces; a bad graph file is one line on stderr and status 2.

The oracle reads the graph file with tomllib itself and never uses the engine's
expressions: its forward pass, activations, losses, derivatives (central differences)
and layers (longest paths) are all computed here.
"""
from __future__ import annotations

import functools
import json
import os
import random
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import mpmath as mp
import pytest
import sympy as sp

from bpcheck.derive.model.activation import KinkSide
from bpcheck.derive.errors import UsageError
from bpcheck.derive.engine.graph_checks import GraphDerivation
from bpcheck.derive.engine.point import Point
from bpcheck.derive.io.graph_file import load_graph, parse_graph
from bpcheck.derive.commands.graph import build_graph_report
from bpcheck.derive.io.notation_file import load_notation
from bpcheck.derive.engine.proof import Verdict

from conftest import mp_activations

mp.mp.dps = 50
STEP = mp.mpf("1e-18")
TOLERANCE = mp.mpf("1e-25")
EXAMPLES = Path(__file__).parent.parent / "examples"
SKIP, TWO = "graph-skip.toml", "graph-two-layers.toml"
BPCHECK = shutil.which("bpcheck")
needs_cli = pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed (pip install -e .)")

ALWAYS_PROVED = ("graph-output-delta", "graph-hidden-delta", "graph-hidden-delta-chain",
                 "graph-weight-gradient", "graph-bias-gradient")


def example(name: str) -> str:
    return (EXAMPLES / name).read_text()


@functools.lru_cache(maxsize=None)
def derived(text: str, source: str = "graph.toml") -> GraphDerivation:
    return GraphDerivation(parse_graph(text, source=source))


# -- the oracle ----------------------------------------------------------------------------

SCALAR = mp_activations()


class Oracle:
    """The graph file, read here, and its forward pass in mpmath at a point given by the
    file's own names: inputs by unit name, weights and biases by their names, targets by
    output name."""

    def __init__(self, text: str, inputs, params, targets):
        spec = tomllib.loads(text)
        self.spec, self.x, self.p, self.t = spec, inputs, params, targets
        self.edges = [(e["from"], e["to"], e["weight"]) for e in spec["edges"]]
        self.order, done = [], set(spec["inputs"])
        todo = list(spec["units"])
        while todo:
            ready = [u for u in todo if all(s in done for s, d, _ in self.edges if d == u)]
            self.order += ready
            done |= set(ready)
            todo = [u for u in todo if u not in ready]
        self.layer = {u: 0 for u in spec["inputs"]}
        for u in self.order:
            self.layer[u] = 1 + max(self.layer[s] for s, d, _ in self.edges if d == u)

    def act(self, u):
        return SCALAR[self.spec["units"][u]["activation"]]

    def forward(self, perturb=None, params=None):
        perturb, p = perturb or {}, params or self.p
        z, a = dict(self.x), {}
        for u in self.order:
            a[u] = mp.fsum(p[w] * z[s] for s, d, w in self.edges if d == u) \
                + (p[self.spec["units"][u]["bias"]] if "bias" in self.spec["units"][u] else 0) \
                + perturb.get(u, 0)
            z[u] = self.act(u)(a[u])
        return a, z

    def E(self, **kw):
        _, z = self.forward(**kw)
        y = [z[k] for k in self.spec["outputs"]]
        t = [self.t[k] for k in self.spec["outputs"]]
        loss = self.spec["loss"]
        if loss == "sse":
            return mp.fsum((a - b) ** 2 for a, b in zip(y, t)) / 2
        if loss == "bce":
            return -mp.fsum(b * mp.log(a) + (1 - b) * mp.log(1 - a) for a, b in zip(y, t))
        return -mp.fsum(b * mp.log(a) for a, b in zip(y, t))

    @staticmethod
    def central(f):
        return (f(STEP) - f(-STEP)) / (2 * STEP)

    def delta(self, u):
        return self.central(lambda h: self.E(perturb={u: h}))

    def total(self, k, j):
        """da_k/da_j along every path: a_k's response to a perturbation of a_j."""
        return self.central(lambda h: self.forward(perturb={j: h})[0][k])

    def gradient(self, name):
        return self.central(lambda h: self.E(params={**self.p, name: self.p[name] + h}))

    def slope(self, u):
        a, _ = self.forward()
        return self.central(lambda h: self.act(u)(a[u] + h))


def oracle_at(text: str, graph, point) -> Oracle:
    """The oracle at a point of the engine's, read through the file's names only."""
    inputs, params, targets = {}, {}, {}
    for q, v in point:
        var = graph.variable(q)
        if var is None:
            continue
        name, role = var
        value = mp.mpf(str(sp.N(v, 60)))
        {"input": inputs, "weight": params, "bias": params, "target": targets}[role][name] = value
    return Oracle(text, inputs, params, targets)


def random_point(text: str, rng: random.Random) -> Oracle:
    spec = tomllib.loads(text)
    r = lambda: mp.mpf(rng.randint(-90, 90)) / 40
    params = {e["weight"]: r() for e in spec["edges"]}
    params.update({u["bias"]: r() for u in spec["units"].values() if "bias" in u})
    n = len(spec["outputs"])
    if spec["loss"] == "ce":
        w = [rng.randint(1, 5) for _ in range(n)]
        t = [mp.mpf(v) / sum(w) for v in w]
    else:
        t = [mp.mpf(rng.randint(1, 7)) / 8 for _ in range(n)]
    return Oracle(text, {i: r() for i in spec["inputs"]}, params, dict(zip(spec["outputs"], t)))


def graph_point(d: GraphDerivation, oracle: Oracle) -> dict:
    """The oracle's point as values of the engine's variables of the graph, read through
    the file's names only."""
    values = {}
    for q in d.graph.variables():
        name, role = d.graph.variable(q)
        source = {"input": oracle.x, "weight": oracle.p, "bias": oracle.p, "target": oracle.t}[role]
        values[q] = sp.Float(mp.nstr(source[name], 60), 60)
    return values


def close(a, b) -> bool:
    return abs(a - b) <= TOLERANCE * (1 + abs(b))


# -- the examples load, and every (5.55)/(5.56)/gradient check is proved ------------------

@pytest.mark.parametrize("name,units,edges,depth,skips", [
    (SKIP, ["i1", "i2", "h1", "h2", "o"], 7, 2, [("i1", "o")]),
    (TWO, ["i1", "i2", "h1", "h2", "g1", "g2", "o"], 11, 3, [("h1", "o")]),
])
def test_the_example_graphs_load_with_their_layers_and_skip_edges(name, units, edges, depth, skips):
    g = load_graph(str(EXAMPLES / name))
    assert g.names() == units and len(g.edges) == edges and g.depth == depth
    assert [(e.source, e.target) for e in g.edges if g.skips(e)] == skips


@pytest.mark.parametrize("name", [SKIP, TWO])
@pytest.mark.parametrize("check_id", ALWAYS_PROVED)
def test_every_chain_rule_and_gradient_check_is_proved(name, check_id):
    d = derived(example(name))
    checks = [c for c in d.checks if c.claim.id == check_id]
    assert checks
    for c in checks:
        assert c.outcome.verdict is Verdict.PROVED, (c.claim.about, c.outcome)


def test_the_sum_in_5_56_runs_over_exactly_the_units_j_sends_to():
    d = derived(example(TWO))
    g = d.graph
    claim = d.check("graph-hidden-delta", "h1").claim
    assert {g.symbols[x][0] for x in claim.equation.rhs.atoms(sp.Indexed)
            if g.symbols.get(x, ("", ""))[1] == "delta"} == {"g1", "g2", "o"}
    assert d.check("graph-hidden-delta", "h1").outcome.verdict is Verdict.PROVED


def test_the_skip_edges_gradient_is_proved():
    d = derived(example(SKIP))
    assert d.check("graph-weight-gradient", "i1 -> o").outcome.verdict is Verdict.PROVED
    d = derived(example(TWO))
    assert d.check("graph-weight-gradient", "h1 -> o").outcome.verdict is Verdict.PROVED


@pytest.mark.parametrize("name,refuted", [
    (SKIP, set()),
    (TWO, {("graph-layered-naive", "h1"), ("graph-every-later-layer", "h1"),
           ("graph-every-later-layer", "h2")}),
])
def test_exactly_the_naive_layered_and_every_later_layer_claims_are_refuted(name, refuted):
    d = derived(example(name))
    got = {(c.claim.id, c.claim.about) for c in d.checks if c.outcome.verdict is Verdict.REFUTED}
    assert got == refuted
    assert all(c.outcome.verdict is Verdict.PROVED for c in d.checks
               if (c.claim.id, c.claim.about) not in refuted)


def test_where_no_edge_skips_a_layer_the_layered_formula_coincides_with_5_56():
    d = derived(example(TWO))
    for j in ("h2", "g1", "g2"):
        c = d.check("graph-layered-naive", j)
        assert c.outcome.verdict is Verdict.PROVED and "is (5.56) here" in c.claim.note


# -- the graphs the tests run on: the examples and variants of them -------------------------

def variant(name: str, replace: dict[str, str]) -> str:
    """An example with some of its text replaced: other activations, another loss."""
    text = example(name)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


VARIANTS = {
    "skip": example(SKIP),
    "two-layers": example(TWO),
    "skip-relu-softplus": variant(SKIP, {'"tanh"': '"relu"', '"sigmoid"': '"softplus"'}),
    "two-layers-sigmoid-bce": variant(TWO, {'"tanh"': '"sigmoid"', '"identity"': '"sigmoid"',
                                             'loss = "sse"': 'loss = "bce"'}),
    "skip-sigmoid-ce": variant(SKIP, {'"identity"': '"sigmoid"', 'loss = "sse"': 'loss = "ce"'}),
    "two-layers-relu": variant(TWO, {'"tanh"': '"relu"', '"sigmoid"': '"relu"'}),
    "two-layers-softplus-tanh-out": variant(TWO, {'"sigmoid"': '"softplus"',
                                                    '"identity"': '"tanh"'}),
}



# -- the refutations, reproduced by an independent forward pass ------------------------------

@pytest.mark.parametrize("name", ["two-layers", "two-layers-relu", "two-layers-sigmoid-bce"])
@pytest.mark.parametrize("check_id,unit", [
    ("graph-layered-naive", "h1"),
    ("graph-every-later-layer", "h1"),
    ("graph-every-later-layer", "h2"),
])
def test_a_refutation_is_reproduced_by_an_independent_forward_pass(name, check_id, unit):
    text = VARIANTS[name]
    d = derived(text)
    ce = d.check(check_id, unit).outcome.counterexample
    assert ce is not None
    o = oracle_at(text, d.graph, ce.point)
    succ = [k for s, k, _ in o.edges if s == unit]
    if check_id == "graph-layered-naive":  # the next layer only, the skip edge ignored
        weight = {(s, k): w for s, k, w in o.edges}
        claimed = o.slope(unit) * mp.fsum(o.p[weight[(unit, k)]] * o.delta(k) for k in succ
                                          if o.layer[k] == o.layer[unit] + 1)
    else:  # every later unit j reaches, each with the total derivative along all paths
        later = {k for k in o.order if o.total(k, unit) != 0 and k != unit}
        claimed = mp.fsum(o.delta(k) * o.total(k, unit) for k in later)
    true = o.delta(unit)
    assert abs(true - mp.mpf(str(sp.N(ce.lhs, 40)))) < mp.mpf("1e-20")
    assert abs(claimed - mp.mpf(str(sp.N(ce.rhs, 40)))) < mp.mpf("1e-20")
    assert abs(true - claimed) > mp.mpf("1e-6")


def test_counting_the_paths_twice_doubles_delta_where_every_path_is_indirect():
    """h2 reaches o only through g1 and g2: the every-later-layer sum counts it twice."""
    ce = derived(example(TWO)).check("graph-every-later-layer", "h2").outcome.counterexample
    assert abs(sp.N(ce.rhs - 2 * ce.lhs, 30)) < 1e-25


# -- the finite-difference cross-check -------------------------------------------------------

@pytest.mark.parametrize("name", VARIANTS)
def test_every_proved_delta_and_gradient_agrees_with_finite_differences(name):
    """What the proofs decide, each side read in its frame (with the hidden activations held
    abstract, as the proofs hold them) and with the real loss and every activation as it
    is, at the oracle's point: each agrees with the oracle's central differences."""
    text = VARIANTS[name]
    d = derived(text)
    o = random_point(text, random.Random(name))
    point = Point(d.graph, graph_point(d, o), floats=True)
    checked = 0
    for c in d.checks:
        claim = c.claim
        if c.outcome.verdict is not Verdict.PROVED or claim.id == "graph-output-delta-canonical":
            continue
        if claim.id == "graph-weight-gradient":
            want = o.gradient(claim.edge.weight)
        elif claim.id == "graph-bias-gradient":
            want = o.gradient(d.graph.labels[d.graph.unit(claim.unit).bias][0])
        else:
            want = o.delta(claim.unit)
        sides = [claim.equation.lhs, claim.equation.rhs]
        for frame in (d.truth.frame_of(sides, abstract=True), d.truth.frame_of(sides, real_loss=True)):
            for side in d.truth.meanings(sides, frame):
                got = mp.mpf(str(sp.N(point.evaluate(side, frame), 55)))
                assert close(got, want), (claim.id, claim.about, got, want)
        checked += 1
    assert checked >= 15


def test_the_oracle_itself_catches_a_dropped_skip_term():
    """The naive layered value must differ from the oracle's delta at a random point."""
    text = example(TWO)
    o = random_point(text, random.Random(3))
    weight = {(s, k): w for s, k, w in o.edges}
    naive = o.slope("h1") * mp.fsum(o.p[weight[("h1", k)]] * o.delta(k) for k in ("g1", "g2"))
    assert abs(naive - o.delta("h1")) > mp.mpf("1e-6")


def test_an_abstract_activation_graph_proves_the_same_and_refutes_the_same():
    text = variant(TWO, {'"tanh"': '"abstract"', '"sigmoid"': '"abstract"'})
    d = derived(text)
    for c in d.checks:
        expected = Verdict.REFUTED if (c.claim.id, c.claim.about) in {
            ("graph-layered-naive", "h1"), ("graph-every-later-layer", "h1"),
            ("graph-every-later-layer", "h2")} else Verdict.PROVED
        assert c.outcome.verdict is expected, (c.claim.id, c.claim.about)


def test_a_relu_proof_states_the_kinks_it_holds_away_from():
    d = derived(VARIANTS["skip-relu-softplus"])
    c = d.check("graph-hidden-delta", "h1")
    assert c.outcome.verdict is Verdict.PROVED
    assert sp.Ne(d.graph.unit("h1").a, 0) in c.outcome.conditions and "kink" in c.outcome.note


def test_cross_entropy_proves_y_minus_t_only_under_its_stated_condition():
    """One sigmoid output with ce: delta = -t (1 - y), which is y - t where t = 1."""
    d = derived(variant(TWO, {'"identity"': '"sigmoid"', 'loss = "sse"': 'loss = "ce"'}))
    assert all(c.outcome.verdict is not Verdict.UNDECIDED for c in d.checks)
    o = d.check("graph-output-delta-canonical", "o").outcome
    assert o.verdict is Verdict.PROVED and o.conditions == (sp.Eq(d.graph.unit("o").target, 1),)
    assert "without it the two sides differ" in o.note


def test_with_several_outputs_cross_entropys_delta_is_not_y_minus_t():
    d = derived('''loss = "ce"
inputs = ["i1"]
outputs = ["o1", "o2"]
edges = [{ from = "i1", to = "o1", weight = "a" }, { from = "i1", to = "o2", weight = "b" }]
units = { o1 = { activation = "sigmoid" }, o2 = { activation = "sigmoid" } }''')
    for k in ("o1", "o2"):
        assert d.check("graph-output-delta", k).outcome.verdict is Verdict.PROVED
        assert d.check("graph-output-delta-canonical", k).outcome.verdict is Verdict.REFUTED


def _dense_graph(widths: tuple[int, ...]) -> str:
    """A graph file of tanh layers of these widths, each unit fed by the whole layer before."""
    layers = [[f"u{l}x{i}" for i in range(widths[l])] for l in range(len(widths))]
    edges = ", ".join(f'{{ from = "{a}", to = "{b}", weight = "w_{b}_{a}" }}'
                      for l in range(1, len(layers)) for b in layers[l] for a in layers[l - 1])
    units = ", ".join(f'{u} = {{ activation = "tanh" }}' for layer in layers[1:] for u in layer)
    return (f'loss = "sse"\ninputs = {layers[0]!r}\noutputs = {layers[-1]!r}\n'
            f"units = {{ {units} }}\nedges = [{edges}]\n").replace("'", '"')


def test_an_exhausted_budget_is_undecided_and_nothing_hangs():
    """A proof's budget is CPU time, counted in kernel ticks of a few ms, so the graph is one
    whose claims each take longer than a tick: a 0.5 ms budget ends some of them."""
    g = parse_graph(_dense_graph((3, 4, 4, 4, 3)), source="dense.toml")
    d = GraphDerivation(g, budget=0.0005)
    assert {c.outcome.verdict for c in d.checks} <= {Verdict.UNDECIDED, Verdict.PROVED,
                                                      Verdict.REFUTED}
    undecided = [c for c in d.checks if c.outcome.verdict is Verdict.UNDECIDED]
    assert undecided and all(c.outcome.note == "the time budget of 0.0005 s of CPU time ran out"
                             for c in undecided)


# -- rendering -------------------------------------------------------------------------------

@pytest.mark.parametrize("notation,claim", [
    ("bishop", "δ_h1 = h'(a_h1) (w_(g1,h1) δ_g1 + w_(g2,h1) δ_g2 + w_(o,h1) δ_o)"),
    ("nielsen", "δ^2_h1 = σ'(z^2_h1) (w^3_(g1,h1) δ^3_g1 + w^3_(g2,h1) δ^3_g2 + w^L_(o,h1) δ^L_o)"),
    ("eglen", "δ_h1 = g'(a_h1) (w_(h1,g1) δ_g1 + w_(h1,g2) δ_g2 + w_(h1,o) δ_o)"),
])
def test_5_56_is_written_in_each_notations_letters(notation, claim):
    r = build_graph_report(derived(example(TWO)).graph, [load_notation(notation)])
    (view,) = r.notations
    got = next(c for c in view.checks if c.id == "graph-hidden-delta" and c.about == "h1")
    assert got.claim.text == claim


def test_eglens_output_delta_has_his_sign():
    r = build_graph_report(derived(example(SKIP)).graph, [load_notation("eglen")])
    got = next(c for c in r.notations[0].checks if c.id == "graph-output-delta-canonical")
    assert got.claim.text == "δ_o = t_o - y_o" and got.verdict is Verdict.PROVED


# -- the command line ------------------------------------------------------------------------

def run(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([BPCHECK, *args], capture_output=True, text=True, env=env, timeout=300)


@needs_cli
def test_the_report_runs_and_exits_0_with_its_expected_refutations():
    p = run("report", "--graph", str(EXAMPLES / TWO), "--notation", "bishop")
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    out = p.stdout
    for words in ("skips a layer", "graph-layered-naive", "graph-every-later-layer", "refuted",
                  "proved", "true value", "as claimed", "δ_h1 = h'(a_h1)"):
        assert words in out


@needs_cli
def test_json_is_one_object_with_checks():
    p = run("report", "--graph", str(EXAMPLES / TWO), "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["notation"] == "bishop"
    assert [n["name"] for n in data["notations"]] == ["bishop", "nielsen", "eglen", "goodfellow",
                                                      "ng"]
    assert data["graph"]["depth"] == 3 and len(data["graph"]["edges"]) == 11
    for c in data["checks"]:
        assert {"id", "claim_latex", "verdict", "conditions", "counterexample"} <= set(c)
        assert ("unit" in c) != ("edge" in c)
    refuted = [c for c in data["checks"] if c["verdict"] == "refuted"]
    assert {(c["id"], c["unit"]) for c in refuted} == {
        ("graph-layered-naive", "h1"), ("graph-every-later-layer", "h1"),
        ("graph-every-later-layer", "h2")}
    for c in refuted:
        ce = c["counterexample"]
        assert ce["lhs_decimal"] != ce["rhs_decimal"]
        roles = {p["role"] for p in ce["point"]}
        assert roles == {"input", "weight", "bias", "target"}
        assert {p["variable"] for p in ce["point"] if p["role"] == "weight"} == {
            e["weight"] for e in data["graph"]["edges"]}
    edge = next(c for c in data["checks"] if c["id"] == "graph-weight-gradient")
    assert set(edge["edge"]) == {"from", "to", "weight"}


BASE = example(SKIP)
EXTRA_EDGE = '\n[[edges]]\nfrom = "{}"\nto = "{}"\nweight = "{}"\n'
HIDDEN_UNIT = '\n[units.h3]\nactivation = "tanh"\n'


def _many_units() -> str:
    names = [f"h{n}" for n in range(3, 24)]
    text = BASE.replace('o = { activation = "identity", bias = "c" }',
                        'o = { activation = "identity", bias = "c" }\n'
                        + "\n".join(f'{u} = {{ activation = "tanh" }}' for u in names))
    return text


BAD_FILES = [
    (BASE + EXTRA_EDGE.format("h1", "h2", "p1") + EXTRA_EDGE.format("h2", "h1", "p2"),
     "the edges form a cycle: h1 -> h2 -> h1"),
    (BASE + EXTRA_EDGE.format("h1", "h1", "p1"), "the edges form a cycle: h1 -> h1"),
    (BASE.replace('to = "o"\nweight = "s"', 'to = "y"\nweight = "s"'),
     "ends at the unknown unit 'y'; units: i1, i2, h1, h2, o"),
    (BASE.replace('from = "i1"\nto = "o"', 'from = "x9"\nto = "o"'),
     "starts at the unknown unit 'x9'"),
    (BASE.replace('outputs = ["o"]', 'outputs = ["y"]'), "outputs: 'y' is not a unit"),
    (BASE + EXTRA_EDGE.format("h1", "i2", "p1"), "goes into the input 'i2'"),
    (BASE + EXTRA_EDGE.format("o", "h1", "p1"), "leaves the output 'o'"),
    (BASE.replace('outputs = ["o"]', 'outputs = ["o", "o2"]') + HIDDEN_UNIT
     + '\n[units.o2]\nactivation = "identity"\n' + EXTRA_EDGE.format("h3", "o2", "p1"),
     "output 'o2' has no path from an input"),
    (BASE + HIDDEN_UNIT + EXTRA_EDGE.format("h3", "o", "p1"),
     "unit 'h3' has no incoming edge and is not an input"),
    (BASE + HIDDEN_UNIT + EXTRA_EDGE.format("i1", "h3", "p1"), "unit 'h3' feeds nothing"),
    (BASE.replace('inputs = ["i1", "i2"]', 'inputs = ["i1", "i2", "i3"]'),
     "input 'i3' feeds nothing"),
    (BASE.replace('inputs = ["i1", "i2"]', 'inputs = ["i1", "i1"]'), "names the unit 'i1' twice"),
    (BASE.replace('[units]', '[units]\ni2 = { activation = "tanh" }'),
     "'i2' is an input and also in [units]"),
    (BASE.replace('h2 = {', 'h1 = {'), "not valid TOML"),
    (BASE.replace('weight = "u12"', 'weight = "u11"'), "weight name 'u11' is used by edge i1 -> h1"),
    (BASE.replace('bias = "b2"', 'bias = "u11"'), "weight name 'u11' is used by unit h2"),
    (BASE + EXTRA_EDGE.format("i1", "h1", "p1"), "(i1 -> h1) is given twice"),
    (BASE.replace('loss = "sse"', 'loss = "sse"\nlayers = [2, 2, 1]'),
     "unknown key 'layers'; accepted keys: title, loss, inputs, outputs, units, edges"),
    (BASE.replace('weight = "s"', 'weight = "s"\nscale = 2'), "unknown key 'scale'"),
    (BASE.replace('"tanh", bias = "b1"', '"tanh", bias = "b1", size = 3'), "unknown key 'size'"),
    (BASE.replace('activation = "tanh"', 'activation = 3'), "must be a string, got 3"),
    (BASE.replace('activation = "tanh"', 'activation = "softmax"'),
     "'softmax' couples all units of a layer"),
    (BASE.replace('activation = "tanh"', 'activation = "swish"'),
     "unknown activation 'swish'; accepted: identity, sigmoid, tanh, relu, softplus, abstract"),
    (BASE.replace('loss = "sse"', 'loss = "hinge"'), "unknown loss 'hinge'; accepted: sse, bce, ce"),
    (BASE.replace('loss = "sse"', 'loss = "ce"'), "takes logarithms of the outputs"),
    (BASE.replace('inputs = ["i1", "i2"]', 'inputs = "i1"'), "inputs must be a list of unit names"),
    (BASE.replace('h1 = {', 'h-1 = {'), "'h-1' is not a unit name"),
    (BASE.replace('h1 = {', '"h 1" = {'), "'h 1' is not a unit name"),
    (BASE.replace('weight = "s"', 'weight = "s; import os"'), "'s; import os' is not a weight or bias name"),
    ("\n".join(line for line in BASE.splitlines() if not line.startswith("loss")),
     "missing key 'loss'"),
    (_many_units(), "26 units is beyond the bound of 24"),
    (BASE + "".join(EXTRA_EDGE.format("i2", "o", f"p{n}") for n in range(90)),
     "97 edges is beyond the bound of 96"),
]


@needs_cli
@pytest.mark.parametrize("text,message", BAD_FILES,
                         ids=[re.sub(r"\W+", "-", m).strip("-")[:50] for _, m in BAD_FILES])
def test_a_bad_graph_file_is_one_line_on_stderr_and_status_2(tmp_path, text, message):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    p = run("report", "--graph", str(f))
    assert p.returncode == 2, (p.stdout[:500], p.stderr)
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("bpcheck: error: ") and message in lines[0], lines[0]


@needs_cli
@pytest.mark.parametrize("content,message", [
    (b"\xff\xfe loss", "is not UTF-8 text"),
    (None, "no such file"),
])
def test_an_unreadable_graph_file_is_one_line_on_stderr(tmp_path, content, message):
    f = tmp_path / "g.toml"
    if content is not None:
        f.write_bytes(content)
    p = run("report", "--graph", str(f))
    assert p.returncode == 2 and message in p.stderr and len(p.stderr.strip().splitlines()) == 1


@needs_cli
@pytest.mark.parametrize("option", [["--layers", "3,3,1"], ["--hidden", "tanh"], ["--no-bias"],
                                    ["--loss", "bce"]])
def test_graph_with_a_network_option_is_a_usage_error(option):
    p = run("report", "--graph", str(EXAMPLES / SKIP), *option)
    assert p.returncode == 2 and f"leave out {option[0]}" in p.stderr


@needs_cli
def test_report_help_explains_graph():
    p = run("report", "--help")
    assert "--graph" in p.stdout and "replaces --layers" in " ".join(p.stdout.split())


def test_the_file_is_never_evaluated():
    """A name that would do something if it were evaluated is only a name that is refused."""
    with pytest.raises(UsageError, match="is not a weight or bias name"):
        parse_graph(BASE.replace('weight = "s"', 'weight = "__import__(\'os\')"'), source="x")
