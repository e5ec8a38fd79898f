"""Worked examples (derive/example.py): the classic example's published numbers, every
gradient against finite differences of a forward pass written here, exactness, notations,
and a malformed spec as an error that names the key.

The oracle below reads the spec with tomllib and runs its own forward pass in mpmath; it
uses nothing of the engine's.
"""
from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
import tomllib
from fractions import Fraction
from pathlib import Path

import mpmath as mp
import pytest
import sympy as sp
from rich.console import Console

from conftest import mp_activations

import bpcheck.derive.commands.example as example
from bpcheck.derive import load_notation
from bpcheck.derive.errors import NotSupported, UsageError
from bpcheck.derive.commands.example import compute, load_spec, run
from bpcheck.derive.io.spec_file import parse_spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SHIPPED = ("sigmoid-2-2-2.toml", "softmax-ce.toml")


@functools.lru_cache(maxsize=None)
def worked(name: str, digits: int = 10, notation: str = "bishop"):
    return run(str(EXAMPLES / name), notation=load_notation(notation), digits=digits)


@functools.lru_cache(maxsize=None)
def worked_text(text: str, digits: int = 10):
    return compute(parse_spec(text, source="test.toml"), digits=digits)


# -- a spec written from a dict, and the oracle ---------------------------------------------

def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return {float("inf"): "inf", float("-inf"): "-inf"}.get(v, repr(v))
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


def dump(spec: dict) -> str:
    lines = [f"{k} = {toml_value(v)}" for k, v in spec.items() if not isinstance(v, dict)]
    for k, v in spec.items():
        if isinstance(v, dict):
            lines.append(f"[{k}]")
            lines += [f'"{kk}" = {toml_value(vv)}' for kk, vv in v.items()]
    return "\n".join(lines) + "\n"


def mpf(v) -> mp.mpf:
    """A spec's number, read by the oracle itself."""
    if isinstance(v, str):
        f = Fraction(v)
        return mp.mpf(f.numerator) / f.denominator
    return mp.mpf(repr(v)) if isinstance(v, float) else mp.mpf(v)


SCALAR = mp_activations()


class Oracle:
    """The spec's network in mpmath: a forward pass and central finite differences."""

    STEP = mp.mpf("1e-12")

    def __init__(self, data: dict):
        self.data = data
        self.widths = data["layers"]
        self.L = len(self.widths) - 1
        self.W = {l: [[mpf(v) for v in row] for row in data["weights"][str(l)]]
                  for l in range(1, self.L + 1)}
        bias = data.get("bias", True)
        self.b = {l: [mpf(v) for v in data["biases"][str(l)]] if bias else
                  [mp.mpf(0)] * self.widths[l] for l in range(1, self.L + 1)}
        self.x = [mpf(v) for v in data["input"]]
        self.t = [mpf(v) for v in data["target"]]
        self.eta = mpf(data["learning_rate"])

    def activate(self, l, pre):
        name = self.data["output"] if l == self.L else self.data.get("hidden", "identity")
        if name == "softmax":
            e = [mp.exp(v) for v in pre]
            return [v / mp.fsum(e) for v in e]
        return [SCALAR[name](v) for v in pre]

    def loss(self, y):
        t, name = self.t, self.data["loss"]
        if name == "sse":
            return mp.fsum((a - b) ** 2 for a, b in zip(y, t)) / 2
        if name == "bce":
            return -mp.fsum(b * mp.log(a) + (1 - b) * mp.log(1 - a) for a, b in zip(y, t))
        return -mp.fsum(b * mp.log(a) for a, b in zip(y, t) if b)

    def forward(self, W=None, b=None, at=None):
        """(pre, out) of every layer; `at` = (l, j, h) adds h to the weighted input pre_l,j."""
        W, b = W or self.W, b or self.b
        out, pre = {0: self.x}, {}
        for l in range(1, self.L + 1):
            pre[l] = [mp.fsum(W[l][j][i] * out[l - 1][i] for i in range(self.widths[l - 1]))
                      + b[l][j] for j in range(self.widths[l])]
            if at and at[0] == l:
                pre[l][at[1]] += at[2]
            out[l] = self.activate(l, pre[l])
        return pre, out

    def E(self, **kw):
        return self.loss(self.forward(**kw)[1][self.L])

    def central(self, f):
        h = self.STEP
        return (f(h) - f(-h)) / (2 * h)

    def d_weight(self, l, j, i):
        def f(h):
            W = copy.deepcopy(self.W)
            W[l][j][i] += h
            return self.E(W=W)
        return self.central(f)

    def d_bias(self, l, j):
        def f(h):
            b = copy.deepcopy(self.b)
            b[l][j] += h
            return self.E(b=b)
        return self.central(f)

    def d_pre(self, l, j):
        return self.central(lambda h: self.E(at=(l, j, h)))


def close(got, want, tol="1e-18") -> bool:
    got = mp.mpf(str(sp.N(got, 40)))
    return abs(got - want) <= mp.mpf(tol) * (1 + abs(want))


def agrees_with_finite_differences(ex, data: dict) -> int:
    """Assert every number of the example against the oracle; return how many."""
    with mp.workdps(50):
        return _agrees(ex, data)


def _agrees(ex, data: dict) -> int:
    o, net = Oracle(data), ex.net
    pre, out = o.forward()
    checked = 0
    assert close(ex.loss, o.E())
    for l in range(1, o.L + 1):
        for j in range(o.widths[l]):
            assert close(ex.value(net.pre(l)[j + 1]), pre[l][j])
            assert close(ex.value(net.out(l)[j + 1]), out[l][j])
            assert close(ex.value(net.delta(l)[j + 1]), o.d_pre(l, j)), ("delta", l, j)
            for i in range(o.widths[l - 1]):
                p, want = net.W(l)[j + 1, i + 1], o.d_weight(l, j, i)
                assert close(ex.gradient(p), want), ("weight", l, j, i)
                assert close(ex.after(p), o.W[l][j][i] - o.eta * want)
                checked += 1
            if net.bias:
                p, want = net.b(l)[j + 1], o.d_bias(l, j)
                assert close(ex.gradient(p), want), ("bias", l, j)
                assert close(ex.after(p), o.b[l][j] - o.eta * want)
                checked += 1
    assert checked == len(ex.gradients) == len(ex.updated)
    return checked


# -- the shipped examples ----------------------------------------------------------------------

def test_the_classic_example_gives_the_published_numbers():
    ex = worked("sigmoid-2-2-2.toml")
    net = ex.net
    assert abs(ex.loss - sp.Float("0.298371109")) < 5e-10
    assert abs(ex.value(net.out(2)[1]) - sp.Float("0.75136507")) < 5e-9
    assert abs(ex.value(net.out(2)[2]) - sp.Float("0.772928465")) < 5e-10
    assert abs(ex.after(net.W(2)[1, 1]) - sp.Float("0.35891648")) < 5e-9      # w5
    assert abs(ex.after(net.W(1)[1, 1]) - sp.Float("0.149780716")) < 5e-10    # w1
    assert abs(ex.after(net.W(1)[1, 2]) - sp.Float("0.19956143")) < 5e-9      # w2
    assert abs(ex.after(net.W(2)[2, 2]) - sp.Float("0.561370121")) < 5e-10    # w8
    # the weighted inputs of the hidden layer are rational, and stay exact
    assert ex.value(net.pre(1)[1]) == sp.Rational("0.3775")
    assert ex.value(net.W(1)[1, 1]) == sp.Rational(3, 20)


def test_the_classic_example_rows_in_bishop_notation():
    rows = dict(worked("sigmoid-2-2-2.toml").rows(load_notation("bishop")))
    # Bishop marks no layer on a, z and delta: a concrete unit carries it as [l]
    assert rows["forward, layer 1 (hidden)"][0] == ("a^[1]_1", "0.3775")
    assert rows["forward, layer 1 (hidden)"][2] == ("z^[1]_1", "≈ 0.5932699921")
    assert rows["loss (sum of squares)"] == [("E_n", "≈ 0.2983711088")]
    assert ("δ^[2]_1", "≈ 0.1384985616") in rows["deltas, layer 2 (output)"]
    assert ("w^(2)_11", "≈ 0.3589164797") in rows["after one step (η = 0.5), layer 2"]
    assert ("∂E_n/∂w^(1)_10", "≈ 0.008771354690") in rows["gradients, layer 1"]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_gradient_of_a_shipped_example_agrees_with_finite_differences(name):
    ex = worked(name, digits=30)
    data = tomllib.loads((EXAMPLES / name).read_text("utf-8"))
    assert agrees_with_finite_differences(ex, data) == ex.net.n_weights


def test_the_softmax_example_keeps_the_relu_layer_exact_and_its_inactive_unit_at_zero():
    ex = worked("softmax-ce.toml")
    net = ex.net
    assert ex.value(net.pre(1)[2]) == sp.Rational(-1, 2)
    assert ex.value(net.out(1)[3]) == sp.Rational(3, 4)
    assert ex.value(net.delta(1)[2]) == 0                       # ReLU off: no error flows
    assert ex.gradient(net.W(1)[2, 1]) == ex.gradient(net.W(2)[1, 2]) == 0
    # softmax with cross-entropy: delta_k = y_k - t_k, though computed from the general form
    for k in net.units(2):
        assert close(ex.value(net.delta(2)[k]),
                     mp.mpf(str(ex.value(net.out(2)[k]))) - (1 if k == 2 else 0), "1e-10")


# -- more networks: every activation and loss, against the oracle ----------------------------

def random_spec(seed: str, layers, hidden, output, loss, bias=True) -> dict:
    import random
    rng = random.Random(seed)
    r = lambda: f"{rng.choice([-1, 1]) * rng.randint(1, 40)}/{rng.choice([7, 11, 13, 20])}"
    L = len(layers) - 1
    n = layers[-1]
    if loss == "ce":
        target = [1 if k == rng.randrange(n) else 0 for k in range(n)]
        target = target if sum(target) == 1 else [1] + [0] * (n - 1)
    elif loss == "bce":
        target = [f"{rng.randint(0, 8)}/8" for _ in range(n)]
    else:
        target = [r() for _ in range(n)]
    spec = {"layers": list(layers), "hidden": hidden, "output": output, "loss": loss,
            "bias": bias, "learning_rate": "1/4", "input": [r() for _ in range(layers[0])],
            "target": target,
            "weights": {str(l): [[r() for _ in range(layers[l - 1])] for _ in range(layers[l])]
                        for l in range(1, L + 1)}}
    if bias:
        spec["biases"] = {str(l): [r() for _ in range(layers[l])] for l in range(1, L + 1)}
    return spec


NETWORKS = [
    ((2, 3, 2), "tanh", "identity", "sse", True),
    ((2, 3, 2), "softplus", "sigmoid", "bce", True),
    ((3, 2, 3), "sigmoid", "softmax", "ce", False),
    ((2, 3, 3, 2), "relu", "tanh", "sse", True),
    ((2, 2, 2, 3), "tanh", "softmax", "ce", True),
    ((2, 3), "identity", "relu", "sse", True),
    ((2, 3, 2), "identity", "softplus", "sse", False),
]


@pytest.mark.parametrize("layers,hidden,output,loss,bias", NETWORKS)
def test_every_gradient_agrees_with_finite_differences_for_each_activation_and_loss(
        layers, hidden, output, loss, bias):
    data = random_spec(f"{layers}-{hidden}-{output}-{loss}", layers, hidden, output, loss, bias)
    ex = worked_text(dump(data), digits=30)
    assert agrees_with_finite_differences(ex, data) == ex.net.n_weights


# -- exact examples ----------------------------------------------------------------------------

EXACT = {
    "layers": [2, 3, 1], "hidden": "relu", "output": "identity", "loss": "sse",
    "learning_rate": "1/3", "input": ["1/3", -2], "target": ["5/7"],
    "weights": {"1": [["1/2", "-1/3"], [1, "-2/5"], ["-3/4", "1/6"]],   # unit 3 inactive
                "2": [["2/3", "-1/2", 3]]},
    "biases": {"1": ["1/9", "-1/5", "1/7"], "2": ["1/11"]},
}


def exact_gradients(data: dict) -> dict:
    """Exact central differences with Fractions: the loss of an identity output over ReLU
    layers is quadratic in each parameter near the point, so they are the derivative."""
    o = Oracle(data)
    F = lambda v: Fraction(v) if isinstance(v, (str, int)) else Fraction(repr(v))
    W = {l: [[F(v) for v in row] for row in data["weights"][str(l)]] for l in o.W}
    b = {l: [F(v) for v in data["biases"][str(l)]] for l in o.W}
    x, t = [F(v) for v in data["input"]], [F(v) for v in data["target"]]

    def E(W, b):
        out = x
        for l in range(1, o.L + 1):
            pre = [sum(W[l][j][i] * out[i] for i in range(len(out))) + b[l][j]
                   for j in range(len(W[l]))]
            out = pre if l == o.L else [max(v, Fraction(0)) for v in pre]
        return sum((y - tk) ** 2 for y, tk in zip(out, t)) / 2

    h, grads = Fraction(1, 10 ** 9), {}
    for l in W:
        for j in range(len(W[l])):
            for i in range(len(W[l][j])):
                up, down = copy.deepcopy(W), copy.deepcopy(W)
                up[l][j][i] += h
                down[l][j][i] -= h
                grads[("W", l, j + 1, i + 1)] = (E(up, b) - E(down, b)) / (2 * h)
            up, down = copy.deepcopy(b), copy.deepcopy(b)
            up[l][j] += h
            down[l][j] -= h
            grads[("b", l, j + 1)] = (E(W, up) - E(W, down)) / (2 * h)
    return grads, E(W, b)


def test_a_rational_relu_network_is_worked_exactly():
    ex = worked_text(dump(EXACT))
    assert ex.exact
    assert all(v.is_Rational for _, v in ex.values + ex.gradients + ex.updated)
    grads, loss = exact_gradients(EXACT)
    assert ex.loss == sp.Rational(loss.numerator, loss.denominator)
    net = ex.net
    for key, g in grads.items():
        p = net.W(key[1])[key[2], key[3]] if key[0] == "W" else net.b(key[1])[key[2]]
        assert ex.gradient(p) == sp.Rational(g.numerator, g.denominator), key
        assert ex.after(p) == ex.value(p) - sp.Rational(1, 3) * ex.gradient(p)


def test_exact_values_are_shown_as_fractions_without_approximation_marks():
    ex = worked_text(dump(EXACT))
    shown = [v for _, rows in ex.rows() for _, v in rows]
    assert not any("≈" in v for v in shown)
    assert "1/3" in shown and "1/7" in shown      # fractions that do not terminate
    assert "-0.75" in shown                       # and one that does, as a decimal
    assert not any("Exact values" in t for t, _ in ex.notes())


def test_decimals_in_a_spec_are_read_exactly():
    spec = load_spec(str(EXAMPLES / "sigmoid-2-2-2.toml"))
    assert spec.input == (sp.Rational(1, 20), sp.Rational(1, 10))
    assert spec.weights[1][0] == (sp.Rational(2, 5), sp.Rational(9, 20))   # into o1
    assert spec.learning_rate == sp.Rational(1, 2)
    text = dump({**EXACT, "input": ["0.1", "-3e-2"], "learning_rate": 0.1})
    spec = parse_spec(text, source="x.toml")
    assert spec.input == (sp.Rational(1, 10), sp.Rational(-3, 100))
    assert spec.learning_rate == sp.Rational(1, 10)


# -- notations -----------------------------------------------------------------------------------

def deltas(ex, notation: str) -> dict[str, sp.Rational]:
    out = {}
    for s in ex.to_json(load_notation(notation))["sections"]:
        for r in s["rows"]:
            if r["quantity"].startswith("delta"):
                out[r["quantity"]] = sp.Rational(r["value"])
    return out


def test_eglen_shows_every_delta_with_the_opposite_sign():
    ex = worked_text(dump(EXACT))
    bishop, eglen = deltas(ex, "bishop"), deltas(ex, "eglen")
    assert bishop.keys() == eglen.keys() and len(bishop) == 4
    assert any(v != 0 for v in bishop.values())
    for q in bishop:
        assert eglen[q] == -bishop[q]
    # the gradients are the same quantity in every notation
    grads = lambda n: {r["quantity"]: r["value"] for s in ex.to_json(load_notation(n))["sections"]
                       for r in s["rows"] if r["quantity"].startswith("dE/dW")}
    assert grads("eglen") == grads("bishop")


def test_eglen_leaves_out_the_biases_with_a_note_and_reverses_weight_indices():
    ex = worked("sigmoid-2-2-2.toml")
    eglen = load_notation("eglen")
    rows = dict(ex.rows(eglen))
    assert all("b" not in label for label, _ in rows["gradients, layer 1"])
    assert len(rows["gradients, layer 1"]) == 4
    assert any("no biases" in t for t, _ in ex.notes(eglen))
    assert any("opposite sign" in t for t, _ in ex.notes(eglen))
    # W2[1, 2] is into unit 1 from unit 2: Bishop's w_12, Eglen's w_21
    labels = dict(ex.rows(eglen))["after one step (η = 0.5), layer 2"]
    assert labels[1][0] == "w^[2]_21"
    assert dict(ex.rows(load_notation("bishop")))["after one step (η = 0.5), layer 2"][1][0] \
        == "w^(2)_12"


def test_nielsen_labels_layers_from_1_with_the_output_layer_L():
    ex = worked("sigmoid-2-2-2.toml", notation="nielsen")
    rows = dict(ex.rows())
    assert "forward, layer 1 (input)" in rows and "deltas, layer L (output)" in rows
    assert rows["deltas, layer L (output)"][0] == ("δ^L_1", "≈ 0.1384985616")
    assert rows["loss (sum of squares)"] == [("C", "≈ 0.2983711088")]


# -- outputs -------------------------------------------------------------------------------------

def test_digits_sets_the_significant_digits_shown():
    ex = worked("sigmoid-2-2-2.toml", digits=4)
    assert dict(ex.rows())["loss (sum of squares)"] == [("E_n", "≈ 0.2984")]
    with pytest.raises(UsageError, match="--digits 0"):
        compute(load_spec(str(EXAMPLES / "sigmoid-2-2-2.toml")), digits=0)


def test_to_json_is_plain_json_with_the_loss_and_every_section():
    data = worked("sigmoid-2-2-2.toml").to_json()
    again = json.loads(json.dumps(data))
    assert again["loss"] == {"value": "0.2983711088", "exact": False}
    assert again["network"] == {"layers": [2, 2, 2], "hidden": "sigmoid", "output": "sigmoid",
                                "loss": "sse", "bias": True}
    rows = {r["quantity"]: r for s in again["sections"] for r in s["rows"]}
    assert rows["W2[1,1] updated"]["value"] == "0.3589164797"
    assert rows["pre1[1]"] == {"quantity": "pre1[1]", "label": "a^[1]_1", "label_latex": "a^{[1]}_{1}",
                               "value": "0.3775", "exact": True}


def test_the_terminal_output_shows_every_section_in_the_notation():
    console = Console(record=True, width=120, color_system=None)
    console.print(worked("sigmoid-2-2-2.toml"))
    out = console.export_text()
    for piece in ("Worked example", "forward, layer 1 (hidden)", "a^[1]_1", "≈ 0.2983711088",
                  "δ^[2]_1", "∂E_n/∂w^(2)_11", "w^(2)_11", "≈ 0.3589164797", "η = 0.5"):
        assert piece in out


def test_to_latex_is_a_complete_document_with_the_loss():
    doc = worked("sigmoid-2-2-2.toml").to_latex()
    assert doc.startswith(r"\documentclass{article}") and doc.rstrip().endswith(r"\end{document}")
    assert r"\usepackage{amsmath}" in doc
    assert r"E_n &\approx 0.2983711088" in doc
    assert r"a^{[1]}_{1} &= 0.3775" in doc
    assert r"w^{(2)}_{11} &\approx 0.3589164797" in doc


HOSTILE_TITLE = r'50% & $x_1$ #1 \input{/etc/passwd} ~^ <a|b> "q" é'


def hostile_example():
    return worked_text(dump({**EXACT, "title": HOSTILE_TITLE}))


def test_to_latex_escapes_user_text():
    doc = hostile_example().to_latex(load_notation("eglen"))
    heading = next(line for line in doc.splitlines() if line.startswith(r"\section*"))
    assert r"\input{" not in heading and "/etc/passwd" in heading
    assert r"50\% \& \$x\_1\$ \#1" in heading
    assert r"\frac{1}{3}" in doc  # exact values as fractions


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("notation", ["bishop", "nielsen", "eglen"])
def test_to_latex_compiles_with_pdflatex(tmp_path, notation):
    docs = {"classic": worked("sigmoid-2-2-2.toml").to_latex(load_notation(notation)),
            "hostile": hostile_example().to_latex(load_notation(notation))}
    for name, doc in docs.items():
        (tmp_path / f"{name}.tex").write_text(doc, "utf-8")
        env = {**os.environ, "TEXMFVAR": str(tmp_path / "texmf-var")}
        done = subprocess.run(["pdflatex", "-no-shell-escape", "-interaction=nonstopmode",
                               "-halt-on-error", f"{name}.tex"], cwd=tmp_path, env=env,
                              capture_output=True, timeout=120)
        assert done.returncode == 0, done.stdout.decode(errors="replace")[-2000:]
        assert (tmp_path / f"{name}.pdf").stat().st_size > 1000


# -- every number from the engine's proved claims ---------------------------------------------

def test_every_delta_and_gradient_comes_from_the_engine_claims(monkeypatch):
    """Each number is computed at the values of a claim's free indices: the output layer's
    from its instances (read with the real loss), the others term by term (index_values)."""
    from bpcheck.derive.engine import worked
    used = []

    def spy(real):
        def at(claim, net):
            used.append((claim.id, claim.layer))
            return real(claim, net)
        return at

    monkeypatch.setattr(worked, "instances", spy(worked.instances))
    monkeypatch.setattr(worked, "index_values", spy(worked.index_values))
    compute(parse_spec((EXAMPLES / "sigmoid-2-2-2.toml").read_text("utf-8"), source="s.toml"))
    assert used == [("output-delta-general", 2), ("hidden-delta", 1),
                    ("weight-gradient", 1), ("bias-gradient", 1),
                    ("weight-gradient", 2), ("bias-gradient", 2)]


def test_a_hidden_delta_formula_the_engine_does_not_prove_is_refused(monkeypatch):
    from bpcheck.derive.engine import claims
    from bpcheck.derive.engine.claims import Claim

    def wrong(net, l):  # Bishop (5.56) without h'(a_j)
        j, k = net.index("this", l), net.index("next", l + 1)
        rhs = sp.Sum(net.W(l + 1)[k, j] * net.delta(l + 1)[k], (k, 1, net.width(l + 1)))
        return Claim("hidden-delta", l, sp.Eq(net.delta(l)[j], rhs, evaluate=False), (j,))

    monkeypatch.setattr(claims, "hidden_claim", wrong)
    with pytest.raises(NotSupported, match="did not prove hidden-delta at layer 1 .refuted"):
        compute(load_spec(str(EXAMPLES / "sigmoid-2-2-2.toml")))


# -- malformed specs -------------------------------------------------------------------------------

BASE = tomllib.loads((EXAMPLES / "sigmoid-2-2-2.toml").read_text("utf-8"))


def edit(**changes):
    def apply(spec):
        for path, value in changes.items():
            keys = path.split("__")
            where = spec
            for k in keys[:-1]:
                where = where[int(k) - 1] if isinstance(where, list) else where[k]
            last = keys[-1]
            if isinstance(where, list):
                where[int(last) - 1] = value
            elif value is DELETE:
                del where[last]
            else:
                where[last] = value
        return spec
    return apply


DELETE = object()

MALFORMED = {
    "missing weight layer": (edit(weights__2=DELETE), "weights.2 is missing"),
    "wrong row length": (edit(weights__2__1=[0.4, 0.45, 0.1]),
                         "weights.2 row 1 has 3 numbers; layer 2 takes 2 inputs"),
    "too many rows": (edit(weights__1=[[0.1, 0.2]] * 3),
                      "weights.1 has 3 rows; layer 1 has 2 units"),
    "a row that is a number": (edit(weights__1=[0.1, 0.2]), "weights.1 must be a list of 2 rows"),
    "weights not a table": (edit(weights=[[1]]), "weights must be a table"),
    "a layer of weights too many": (edit(weights__3=[[1, 1]]), "weights.3"),
    "not a number": (edit(weights__1__2__1="abc"), "weights.1 row 2 entry 1: 'abc' is not a number"),
    "almost a number": (edit(input__2="1e5x"), "input entry 2: '1e5x' is not a number"),
    "an expression": (edit(target__1="__import__('os')"), "target entry 1: "),
    "a boolean": (edit(weights__1__1__1=True), "weights.1 row 1 entry 1: True is not a number"),
    "infinity": (edit(biases__1__1=float("inf")), "biases.1 entry 1: inf is not a finite"),
    "division by zero": (edit(input__1="3/0"), "input entry 1: '3/0' divides by zero"),
    "too large": (edit(input__1="1e10"), "input entry 1: '1e10' is beyond the bound"),
    "abstract hidden": (edit(hidden="abstract"), "hidden = 'abstract'"),
    "abstract output": (edit(output="abstract"), "output = 'abstract'"),
    "softmax hidden": (edit(hidden="softmax"), "hidden = 'softmax' is not one of"),
    "unknown activation": (edit(output="gelu"), "output = 'gelu' is not one of"),
    "biases with bias = false": (edit(bias=False), "biases is given but bias = false"),
    "bias not a boolean": (edit(bias="yes"), "bias = 'yes'"),
    "missing biases": (edit(biases=DELETE), "biases is missing"),
    "missing bias layer": (edit(biases__2=DELETE), "biases.2 is missing"),
    "short bias list": (edit(biases__1=[0.35]), "biases.1 has 1 number; layer 1 has 2 units"),
    "unknown key": (edit(momentum=0.9), "unknown key 'momentum'"),
    "unknown loss": (edit(loss="mse"), "loss = 'mse' is not one of sse, bce, ce"),
    "cross-entropy of an unbounded output": (edit(loss="bce", output="tanh"), "loss = 'bce'"),
    "targets not a distribution": (edit(output="softmax", loss="ce", target=[0.5, 0.7]),
                                   "target sums to 6/5"),
    "target outside 0..1": (edit(loss="bce", target=[0.5, 2]), "target entry 2 = 2"),
    "wrong input length": (edit(input=[1, 2, 3]), "input has 3 numbers; the input layer has 2"),
    "wrong target length": (edit(target=[1]), "target has 1 number; the output layer has 2"),
    "learning rate not a number": (edit(learning_rate="fast"), "learning_rate: 'fast'"),
    "learning rate zero": (edit(learning_rate=0), "learning_rate = 0"),
    "missing learning rate": (edit(learning_rate=DELETE), "missing key 'learning_rate'"),
    "bad widths": (edit(layers=[2, 0, 2]), "layers: width 0"),
    "widths not integers": (edit(layers=[2, "2", 2]), "layers = "),
    "title on two lines": (edit(title="a\nb"), "title must be one line"),
}


@pytest.mark.parametrize("change,message", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_spec_is_an_error_naming_the_key(change, message):
    spec = change(copy.deepcopy(BASE))
    with pytest.raises(UsageError) as e:
        parse_spec(dump(spec), source="bad.toml")
    assert str(e.value).startswith("bad.toml: ")
    assert message in str(e.value)


def test_a_spec_that_is_not_toml_is_an_error():
    with pytest.raises(UsageError, match="bad.toml: not valid TOML"):
        parse_spec("layers = [2, 2", source="bad.toml")


def test_a_relu_at_its_kink_is_an_error_naming_the_unit():
    spec = copy.deepcopy(EXACT)
    spec["weights"]["1"][0] = ["1/2", "0"]     # pre1[1] = 1/2 * 1/3 + 0 * (-2) + b
    spec["biases"]["1"][0] = "-1/6"            #        = 0
    with pytest.raises(UsageError, match="ReLU is not differentiable at 0: unit 1 of layer 1"):
        compute(parse_spec(dump(spec), source="kink.toml"))


def test_a_spec_file_over_64_kB_is_refused(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text((EXAMPLES / "sigmoid-2-2-2.toml").read_text("utf-8") + "#" * 70_000)
    with pytest.raises(UsageError, match="at most 65536 bytes"):
        load_spec(str(big))


@pytest.mark.parametrize("kind", ["directory", "missing", "binary"])
def test_a_spec_that_is_not_a_readable_text_file_is_refused(tmp_path, kind):
    path = tmp_path / "spec.toml"
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00layers")
    expected = {"directory": "not a regular file", "missing": "no such file",
                "binary": "not UTF-8"}[kind]
    with pytest.raises(UsageError, match=expected):
        load_spec(str(path))
