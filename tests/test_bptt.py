"""Backpropagation through time for every T (engine/bptt.py, report --net --depth any).

The theorem's parts are decided by the engine on stand-ins; here they are checked three
ways the engine does not share: against an independent forward pass in mpmath unrolled
through T steps, with every gradient by central differences (the lemma at every step of
T = 3..8, the tied weights summed over the copies); by generated mutations of the lemma
(each must be refuted); and from the command line as a user runs it.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import mpmath as mp
import pytest
import sympy as sp

from bpcheck.derive.engine.bptt import (EVERY, _picked, copy_sides, every_width, lemma_sides,
                                        prove_every_step)
from bpcheck.derive.engine.proof import Verdict
from bpcheck.derive.engine.typed import decide_pairs
from bpcheck.derive.model.layers import Recurrent

from layers_oracle import ACT

ROOT = Path(__file__).resolve().parent.parent
mp.mp.dps = 40
STEP = mp.mpf("1e-15")


@pytest.mark.parametrize("function,units", [(f, n) for f in ("tanh", "sigmoid", "relu",
                                                             "identity", "softplus")
                                            for n in (1, 2)] + [("tanh", 3), ("sigmoid", 3),
                                                                ("relu", 3)])
def test_every_part_is_proved_and_every_wrong_version_refuted(function, units):
    t = prove_every_step(Recurrent("1", 2, units=units, function=function))
    assert [(p.id, p.verdict) for p in t.parts] == [
        (i, Verdict.PROVED) for i in ("bptt-last-step", "bptt-step-lemma", "bptt-all-steps",
                                      "bptt-step-weights", "bptt-two-steps",
                                      "bptt-weights-all-steps")]
    assert [(w.id, w.verdict) for w in t.wrong] == [("bptt-future-dropped", Verdict.REFUTED),
                                                    ("bptt-last-step-only", Verdict.REFUTED)]
    kink = ("no ReLU's input exactly 0 (its kink)",) if function == "relu" else ()
    assert t.parts[2].conditions == kink and t.parts[5].conditions == kink
    assert t.verdict is Verdict.PROVED
    # proved again with the units and inputs symbols, but the two steps (at this width)
    assert [p.every for p in t.parts] == [EVERY, EVERY, EVERY, EVERY, "", EVERY]


def test_the_every_width_proofs_fail_where_the_slope_is_wrong(monkeypatch):
    # tanh's slope written 1 - h, not 1 - h^2: neither the lemma nor a copy holds at n units
    import dataclasses
    from bpcheck.derive.model import layers
    wrong = dataclasses.replace(layers.ACTIVATIONS["tanh"], slope_by_output=lambda z: 1 - z)
    monkeypatch.setitem(layers.ACTIVATIONS, "tanh", wrong)
    assert every_width(Recurrent("1", 2, units=2)) == (False, False)


def test_a_kronecker_delta_is_picked_only_over_its_own_range():
    n, m = sp.symbols("n m", integer=True, positive=True)
    k, p, u = sp.symbols("k p u", integer=True, positive=True)
    a = sp.IndexedBase("a")
    same = sp.Sum(a[k] * sp.KroneckerDelta(k, p), (k, 1, n))
    other = sp.Sum(a[k] * sp.KroneckerDelta(k, u), (k, 1, n))  # u runs over 1..m
    assert _picked(same, {p: (1, n), u: (1, m)}) == a[p]
    assert _picked(other, {p: (1, n), u: (1, m)}) == other


# -- the oracle: an RNN unrolled in mpmath, o_t = V h_t + c, L = sum_t |o_t - y_t|^2 / 2 ----

class Unrolled:
    """An RNN of n units over T steps with random rational parameters (`q`, for the
    engine's expressions), its forward pass written again here from its definition in
    mpmath (nothing of the engine's)."""

    def __init__(self, layer: Recurrent, T: int, seed: int):
        rng = random.Random(seed)
        r = lambda: sp.Rational(rng.randint(-9, 9), rng.randint(4, 9))
        n, m = layer.units, layer.width
        self.layer, self.T, self.f = layer, T, ACT[layer.function]
        self.q = {"W": {(k, j): r() for k in range(1, n + 1) for j in range(1, n + 1)},
                  "U": {(k, i): r() for k in range(1, n + 1) for i in range(1, m + 1)},
                  "b": {(k,): r() for k in range(1, n + 1)}}
        self.W = {key: _mp(v) for key, v in self.q["W"].items()}
        self.x = [[r() for _ in range(m)] for _ in range(T)]
        self.V, self.c = [_mp(r()) for _ in range(n)], _mp(r())
        self.y = [_mp(r()) for _ in range(T)]

    def step(self, h, t, W=None):
        W, n, U, b = W or self.W, self.layer.units, self.q["U"], self.q["b"]
        return [self.f(mp.fsum(W[k, j] * h[j - 1] for j in range(1, n + 1))
                       + mp.fsum(_mp(U[k, i]) * _mp(v) for i, v in enumerate(self.x[t], 1))
                       + _mp(b[(k,)])) for k in range(1, n + 1)]

    def own(self, h, t):
        o = mp.fsum(v * x for v, x in zip(self.V, h)) + self.c
        return (o - self.y[t]) ** 2 / 2

    def future(self, h, t, W=None):
        """The loss of steps t.. with h_t = h (0-based t)."""
        total = self.own(h, t)
        for s in range(t + 1, self.T):
            h = self.step(h, s, W)
            total += self.own(h, s)
        return total

    def states(self):
        h, out = [mp.mpf(0)] * self.layer.units, []
        for t in range(self.T):
            h = self.step(h, t)
            out.append(h)
        return out

    def parameters(self) -> dict:
        """The engine's parameter entries at these values."""
        return {self.layer.base(name)[key]: v for name, entries in self.q.items()
                for key, v in entries.items()}


def _mp(q) -> mp.mpf:
    q = sp.Rational(q)
    return mp.mpf(q.p) / q.q


def _grad(fn, h):
    return [(fn(h[:j] + [h[j] + STEP] + h[j + 1:]) - fn(h[:j] + [h[j] - STEP] + h[j + 1:]))
            / (2 * STEP) for j in range(len(h))]


def _vector(base, values) -> dict:
    return {base[j]: sp.Float(str(v), 40) for j, v in enumerate(values, 1)}


@pytest.mark.parametrize("function,units,T", [("tanh", 2, 3), ("tanh", 2, 8),
                                              ("sigmoid", 2, 5), ("softplus", 1, 4),
                                              ("tanh", 3, 5)])
def test_the_lemma_gives_the_gradient_of_an_unrolled_pass_at_every_step(function, units, T):
    layer = Recurrent("1", 1, units=units, function=function)
    net, (step, claimed, _, g, d) = Unrolled(layer, T, seed=T), lemma_sides(layer)
    H = net.states()
    for t in range(T - 1):
        at = net.parameters() | _vector(sp.IndexedBase("h_t", real=True), H[t]) \
            | {v: q for v, q in zip(step.x, net.x[t + 1])} \
            | _vector(g, _grad(lambda h: net.own(h, t), H[t])) \
            | _vector(d, _grad(lambda h: net.future(h, t + 1), H[t + 1]))
        oracle = _grad(lambda h: net.future(h, t), H[t])
        for j, c in enumerate(claimed):
            assert abs(mp.mpf(str(sp.N(c.xreplace(at), 40))) - oracle[j]) < mp.mpf("1e-20")
        # the wrong version, the h_(t+1) term dropped, is not the gradient
        assert max(abs(mp.mpf(str(sp.N(g[j + 1].xreplace(at), 40))) - oracle[j])
                   for j in range(units)) > mp.mpf("1e-6")


@pytest.mark.parametrize("function,T", [("tanh", 6), ("sigmoid", 4)])
def test_the_tied_weights_gradient_is_the_sum_of_each_steps_copy(function, T):
    layer = Recurrent("1", 2, units=2, function=function)
    net, (step, sides, dh) = Unrolled(layer, T, seed=7), copy_sides(layer)
    H, zero = net.states(), [mp.mpf(0)] * 2
    for (k, j) in net.W:
        total = 0
        for t in range(T):
            at = net.parameters() | _vector(sp.IndexedBase("h_{t-1}", real=True),
                                            H[t - 1] if t else zero) \
                | {v: q for v, q in zip(step.x, net.x[t])} \
                | _vector(dh, _grad(lambda h: net.future(h, t), H[t]))
            total += mp.mpf(str(sp.N(sides[("W", k, j)][0].xreplace(at), 40)))

        def loss(w):
            W = dict(net.W) | {(k, j): net.W[k, j] + w}
            return net.future(net.step(zero, 0, W), 0, W)
        oracle = (loss(STEP) - loss(-STEP)) / (2 * STEP)
        assert abs(total - oracle) < mp.mpf("1e-20"), (k, j)


# -- generated mutations of the lemma: each must be refuted -----------------------------------

def _mutations(claimed: list, layer: Recurrent) -> list[tuple[str, sp.Expr, int]]:
    """(name, mutant, entry): each term of each entry dropped, negated or doubled; W's
    indices swapped in it; its dh_(t+1) taken at another unit."""
    W, d = layer.base("W"), sp.IndexedBase("dh_{t+1}", real=True)
    out = []
    for j, c in enumerate(claimed):
        terms = sp.Add.make_args(sp.expand(c, mul=False, multinomial=False))
        for n, term in enumerate(terms):
            rest = [u for m, u in enumerate(terms) if m != n]
            for name, new in (("dropped", 0), ("negated", -term), ("doubled", 2 * term)):
                out.append((f"{j}:{name}:{term}", sp.Add(*rest, new)))
            swap = {W[k, jj]: W[jj, k] for k in range(1, layer.units + 1)
                    for jj in range(1, layer.units + 1)}
            out.append((f"{j}:W transposed:{term}", sp.Add(*rest, term.xreplace(swap))))
            for k in range(1, layer.units + 1):
                for kk in range(1, layer.units + 1):
                    if k != kk and term.has(d[k]):
                        out.append((f"{j}:dh at unit {kk}", sp.Add(*rest, term.xreplace({d[k]: d[kk]}))))
    return [(name, new, int(name.split(":")[0])) for name, new in out]


@pytest.mark.parametrize("function,units", [("tanh", 2), ("sigmoid", 2), ("relu", 2),
                                            ("identity", 2), ("tanh", 1)])
def test_every_generated_mutation_of_the_lemma_is_refuted(function, units):
    layer = Recurrent("1", 1, units=units, function=function)
    step, claimed, true, g, d = lemma_sides(layer)
    mutants = [(name, new, j) for name, new, j in _mutations(claimed, layer)
               if sp.expand(new - claimed[j]) != 0]
    assert len(mutants) >= 6 * units
    for name, new, j in mutants:
        found = decide_pairs([(((j,), new), ((j,), true[j]))], seed=1)
        assert found["verdict"] is Verdict.REFUTED, name


# -- from the command line ----------------------------------------------------------------------

def run(*args: str) -> subprocess.CompletedProcess:
    # wide, so that no table cell wraps a phrase the tests look for, whatever the terminal
    return subprocess.run([sys.executable, "-m", "bpcheck", *args], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"})


def test_report_depth_any_proves_the_induction_over_time():
    r = run("report", "--net", "examples/rnn.toml", "--depth", "any")
    assert r.returncode == 0, r.stderr
    assert "induction on T - t" in r.stdout and "worst: proved" in r.stdout
    # the header's word for it, then every part but the two steps' check
    assert r.stdout.count("every width") == 1 + 5
    assert "bptt-future-dropped" in r.stdout and "refuted" in r.stdout
    data = json.loads(run("report", "--net", "examples/rnn.toml", "--depth", "any",
                          "--json").stdout)
    (layer,) = data["layers"]
    assert [(p["id"], p["verdict"]) for p in layer["parts"]][2] == ("bptt-all-steps", "proved")
    assert {w["id"]: w["verdict"] for w in layer["wrong"]} == {
        "bptt-future-dropped": "refuted", "bptt-last-step-only": "refuted"}
    assert data["worst"] == "proved"


def test_depth_any_on_a_net_without_a_recurrent_layer_says_what_it_proves():
    r = run("report", "--net", "examples/layernorm.toml", "--depth", "any")
    assert r.returncode == 2
    assert "has no rnn layer" in r.stderr and "examples/layernorm.toml" in r.stderr


@pytest.mark.skipif(not (shutil.which("pdflatex") and shutil.which("pdftotext")),
                    reason="pdflatex and pdftotext are needed (.ci/run installs them)")
def test_export_depth_any_writes_the_theorem_as_latex_that_compiles(tmp_path):
    tex = tmp_path / "bptt.tex"
    r = run("export", "--net", "examples/rnn.toml", "--depth", "any", "-o", str(tex), "--pdf")
    assert r.returncode == 0, r.stderr
    source = tex.read_text()
    assert r"\nabla_{\boldsymbol{h}^{(t)}} L = \boldsymbol{g}^{(t)} + \boldsymbol{W}^\top" in source
    assert source.count(r"\textbf{proved}") == 6 and source.count(r"\textbf{refuted}") == 2
    text = subprocess.run(["pdftotext", str(tex.with_suffix(".pdf")), "-"],
                          capture_output=True, text=True).stdout
    assert "Induction on T - t" in text and "bptt-weights-all-steps" in text


@pytest.mark.parametrize("args,message", [
    (["--depth", "any"], "give --net FILE with an rnn layer"),
    (["--net", "examples/dense.toml", "--depth", "any"], "has no rnn layer")])
def test_export_depth_any_needs_a_recurrent_layer_and_writes_nothing_without_one(
        tmp_path, args, message):
    tex = tmp_path / "x.tex"
    r = run("export", *args, "-o", str(tex))
    assert r.returncode == 2 and message in r.stderr and not tex.exists()


def test_an_undefined_functions_repeated_argument_is_refused_not_mapped_to_one_atom():
    # no stand-in builds one; were one built, dL/dh_1 of L(h_1, h_1) is g_1 + g_2, not 2 g_1
    from bpcheck.derive.engine.bptt import _gradient
    h, L, g = sp.IndexedBase("h"), sp.Function("L"), sp.IndexedBase("g")
    with pytest.raises(ValueError, match="as 2 arguments"):
        _gradient(L(h[1], h[1]), [h[1]], {L: g})
    assert _gradient(L(h[1], h[2]), [h[1]], {L: g}) == [g[1]]
