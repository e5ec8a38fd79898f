"""Networks of typed layers (report --net): each layer's published backward equations are
proved and agree with an independent forward pass in mpmath (tests/layers_oracle.py);
each wrong version, and every generated mutation of a right one, is refuted at a point
where the oracle sees the same difference; the Jacobians vanish where the definitions
say; bad network files are one line naming the key."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import mpmath as mp
import pytest
import sympy as sp

from bpcheck.derive.engine.layer_claims import BACKWARD, WRONG
from bpcheck.derive.engine.proof import Verdict
from bpcheck.derive.engine.typed import _indices, _truth, decide_gradient, is_zero, value_at
from bpcheck.derive.engine.typed_net import layer_checks, layer_jacobian, typed_report
from bpcheck.derive.errors import UsageError
from bpcheck.derive.io.net_file import load_net, parse_net
from bpcheck.derive.model.layers import (EPSILON, Attention, AvgPool1d, BatchNorm, Conv1d, Conv2d,
                                         Dense, Elementwise, Flatten, LayerNorm, Pool1d,
                                         Recurrent, Residual, Softmax, grid)

from layers_oracle import AGREE, DIFFER, gradient

EXAMPLES = Path(__file__).parent.parent / "examples"

# (layer, rows): every kind, small enough to prove in a second or two
LAYERS = [
    (Dense("1", 2, units=3), 2),
    (Dense("1", 3, units=2, bias=False), 2),
    (Elementwise("1", 2, function="sigmoid"), 2),
    (Elementwise("1", 2, function="tanh"), 1),
    (Elementwise("1", 2, function="softplus"), 1),
    (Elementwise("1", 2, function="relu"), 2),
    (Softmax("1", 3), 2),
    (LayerNorm("1", 3), 2),
    (LayerNorm("1", 2, affine=False), 1),
    (BatchNorm("1", 2), 3),
    (BatchNorm("1", 2, affine=False), 2),
    (Residual("1", 2, inner=(Dense("1.1", 2, units=2), Elementwise("1.2", 2, function="tanh"))), 2),
    (Residual("1", 3, inner=(LayerNorm("1.1", 3),)), 1),
    (Attention("1", 1, d_k=1), 2),
    (Attention("1", 2, d_k=1, d_v=1), 2),
    (Conv1d("1", 4, channels=2, filters=2, kernel=2, padding=1), 1),
    (Conv1d("1", 5, kernel=3, stride=2, padding=1), 2),
    (Conv2d("1", 9, height=3, kernel=2), 1),
    (Conv2d("1", 8, channels=2, height=2, filters=2, kernel=2, stride=2, padding=1), 1),
    (Pool1d("1", 4, window=2, stride=1), 1),
    (Pool1d("1", 4, channels=2, window=2, stride=2), 2),
    (AvgPool1d("1", 5, window=3, stride=2), 1),
    (Pool1d("1", 9, height=3, window=2, stride=1), 1),       # 2-D, overlapping squares
    (AvgPool1d("1", 8, channels=2, height=2, window=2), 1),
    (Flatten("1", 3), 2),
    (Recurrent("1", 1, units=2), 3),
    (Recurrent("1", 2, units=2, function="identity"), 3),  # a linear recurrence: W's powers
]
IDS = [f"{l.kind}-{rows}x{l.width}" + ("" if getattr(l, "affine", True) and getattr(l, "bias", True)
                                        else "-bare") for l, rows in LAYERS]


def full_point(layer, rows: int, rng: random.Random) -> tuple:
    """Every variable of the layer's local frame at small rationals, epsilon positive."""
    X, G = grid(f"x{layer.at.replace('.', '_')}", rows, layer.width), \
        grid(f"g{layer.at.replace('.', '_')}", rows, layer.out)
    truth = _truth(layer, X, G)
    free = set()
    for grads in truth.values():
        items = grads.values() if isinstance(grads, dict) else [v for row in grads for v in row]
        for e in items:
            free |= e.atoms(sp.Indexed)
    free |= {x for row in X + G for x in row}
    free |= {p[ix] for p, shape in layer.params().items() for ix in _indices(shape)}
    point = {q: sp.Rational(rng.choice([-3, -2, -1, 1, 2, 3]), rng.choice([1, 2, 3, 4]))
             for q in sorted(free, key=str)}
    point[EPSILON] = sp.Rational(rng.randint(1, 4), 4)
    return X, G, truth, point


def entries(grads) -> list[tuple[tuple, sp.Expr]]:
    if isinstance(grads, dict):
        return list(grads.items())
    return [((r, c), v) for r, row in enumerate(grads, 1) for c, v in enumerate(row, 1)]


@pytest.mark.parametrize("layer, rows", LAYERS, ids=IDS)
def test_every_published_backward_equation_is_proved(layer, rows):
    checks = [c for c in layer_checks(layer, rows=rows) if not c.mistake]
    assert checks and {c.verdict for c in checks} == {Verdict.PROVED}, checks
    assert {c.gradient for c in checks} == {"x"} | {str(p) for p in layer.params()}


@pytest.mark.parametrize("layer, rows", LAYERS, ids=IDS)
def test_each_proved_equation_agrees_with_the_forward_pass_differenced(layer, rows):
    rng, compared = random.Random(7), 0
    for _ in range(2):
        X, G, _, point = full_point(layer, rows, rng)
        claimed = BACKWARD[layer.kind](layer, X, G)
        for name, grads in claimed.items():
            for ix, e in entries(grads):
                wrt = ("x", *ix) if name == "x" else (name, *ix)
                v = value_at(e, point)
                if not v.is_number:  # a tie in a pooling window: no derivative there
                    continue
                fd = gradient(layer, rows, tuple(point.items()), wrt)
                assert abs(mp.mpf(str(v)) - fd) < AGREE * 1e9, (name, ix)
                compared += 1
    assert compared


@pytest.mark.parametrize("mistake, words, kind, wrong", WRONG, ids=[w[0] for w in WRONG])
def test_each_wrong_version_is_refuted_where_the_oracle_sees_it_wrong(mistake, words, kind, wrong):
    layer, rows = next((l, r) for l, r in LAYERS if l.kind == kind)
    check = next(c for c in layer_checks(layer, rows=rows) if c.mistake == mistake)
    assert check.verdict is Verdict.REFUTED and check.entry
    claimed, true = (mp.mpf(str(v)) for v in check.values)
    wrt = ("x", *check.entry) if check.gradient == "x" else (check.gradient, *check.entry)
    fd = gradient(layer, rows, check.point, wrt)
    assert abs(true - fd) < AGREE * 1e9
    assert abs(claimed - fd) > DIFFER


def _mutants(expr: sp.Expr) -> list[tuple[str, sp.Expr]]:
    """Mutations a hand might make: the sign flipped, doubled, one term of a sum dropped."""
    out = [("sign flipped", -expr), ("doubled", 2 * expr)]
    if expr.is_Add:
        out += [(f"term {n} dropped", expr - t) for n, t in enumerate(expr.args[:3])]
    return out


@pytest.mark.parametrize("layer, rows", LAYERS, ids=IDS)
def test_generated_mutations_are_refuted_or_proved_as_the_oracle_says(layer, rows):
    X, G, truth, point = full_point(layer, rows, random.Random(3))
    claimed = BACKWARD[layer.kind](layer, X, G)
    for name in claimed:
        grads = claimed[name]
        (ix, first), *rest = entries(grads)
        for what, mutant in _mutants(first):
            wrong = {ix: mutant, **dict(rest)}
            check = decide_gradient(layer, name, wrong, dict(entries(truth[name])), seed=1)
            if check.verdict is Verdict.REFUTED:
                wrt = ("x", *check.entry) if name == "x" else (name, *check.entry)
                fd = gradient(layer, rows, check.point, wrt)
                assert abs(mp.mpf(str(check.values[0])) - fd) > DIFFER, (name, what)
            else:  # an equivalent mutant (0 doubled): the oracle must agree it is right
                assert check.verdict is Verdict.PROVED and is_zero(mutant - first), (name, what)


JACOBIAN = [  # (layer, rows, {(rows, features): vanish}) as the definitions say
    (BatchNorm("1", 2), 3, {("same", "other"): True, ("other", "other"): True,
                            ("other", "same"): False, ("same", "same"): False}),
    (LayerNorm("1", 3), 2, {("same", "other"): False, ("other", "same"): True,
                            ("other", "other"): True, ("same", "same"): False}),
    (Softmax("1", 3), 2, {("same", "other"): False, ("other", "same"): True}),
    (Elementwise("1", 2, function="sigmoid"), 2, {("same", "other"): True, ("same", "same"): False}),
    (Attention("1", 2, d_k=1), 2, {("other", "same"): False, ("other", "other"): False}),
    (Dense("1", 2, units=3), 2, {("other", "any"): True, ("same", "any"): False}),
    (Pool1d("1", 4, window=2, stride=2), 2, {("same", "any"): None, ("other", "any"): True}),
    (Flatten("1", 2), 2, {("same", "same"): False, ("same", "other"): True,
                          ("other", "same"): True}),
    # a step depends on the earlier ones, not the later: some entries across rows vanish
    (Recurrent("1", 1, units=1), 3, {("same", "same"): False, ("other", "same"): None}),
]


@pytest.mark.parametrize("layer, rows, expected", JACOBIAN, ids=[j[0].kind for j in JACOBIAN])
def test_the_jacobian_vanishes_by_block_as_the_definition_says(layer, rows, expected):
    blocks = {(b.rows, b.features): b for b in layer_jacobian(layer, rows=rows).blocks}
    for key, vanish in expected.items():
        assert blocks[key].vanish is vanish, key
        assert bool(blocks[key].example) is (not vanish)


@pytest.mark.parametrize("kind", ["dense", "activation", "softmax", "layernorm", "batchnorm",
                                  "residual", "attention", "conv1d", "conv2d", "maxpool", "rnn"])
def test_each_example_file_reports_every_check_proved(kind):
    p = subprocess.run([sys.executable, "-m", "bpcheck", "report", "--net",
                        str(EXAMPLES / f"{kind}.toml"), "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    right = [c for c in out["checks"] if not c["mistake"]]
    assert right and all(c["verdict"] == "proved" for c in right)
    assert all(c["verdict"] == "refuted" for c in out["checks"] if c["mistake"])
    assert any(c["id"] == f"layer1.{load_net(str(EXAMPLES / f'{kind}.toml')).layers[0].kind}.x"
               for c in out["checks"])
    assert out["worst"] == "proved" and out["jacobians"]


BAD_FILES = [
    ("inputs = 2\n[[layers]]\nkind = 'dense'\nunits = 2\n", "missing key rows: give an integer from 1 to 6"),
    ("rows = 2\ninputs = 2\n[[layers]]\nkind = 'conv'\n", "kind = 'conv' is not one of dense"),
    ("rows = 2\ninputs = 2\n[[layers]]\nkind = 'dense'\n", "missing key units"),
    ("rows = 2\ninputs = 2\n[[layers]]\nkind = 'softmax'\nunits = 3\n", "unknown key 'units'"),
    ("rows = 2\ninputs = 2\nlayers = 3\n", "layers must be a list of tables"),
    ("rows = 2\ninputs = 2\n[[layers]]\nkind = 'residual'\n[[layers.block]]\nkind = 'dense'\n"
     "units = 3\n", "y = x + F(x) needs F to keep the width"),
    ("rows = 2\ninputs = 2\nloss = 'ce'\n[[layers]]\nkind = 'dense'\nunits = 2\n",
     "the last layer must be a softmax"),
    ("rows = 9\ninputs = 2\n[[layers]]\nkind = 'softmax'\n", "rows = 9 is beyond the bound of 6 (of 16 time steps where the first layer is an rnn"),
    ("rows = 2\ninputs = 2\n[[layers]]\nkind = 'activation'\nfunction = 'softmax'\n",
     "function = 'softmax' is not one of identity"),
    ("rows = 1\ninputs = 5\n[[layers]]\nkind = 'conv1d'\nchannels = 2\n",
     "channels = 2 does not divide the row's 5 features"),
    ("rows = 1\ninputs = 3\n[[layers]]\nkind = 'conv1d'\nkernel = 2\npadding = 2\n",
     "padding = 2 is not an integer from 0 to 1"),
    ("rows = 1\ninputs = 3\n[[layers]]\nkind = 'maxpool'\nwindow = 4\n",
     "window = 4 is not an integer from 1 to 3"),
    ("rows = 2\ninputs = 2\n[[layers]]\nkind = 'rnn'\n", "missing key units"),
    ("rows = 2\ninputs = 2\n[[layers]]\nkind = 'maxpol'\n", "(did you mean 'maxpool'?)"),
]


@pytest.mark.parametrize("text, message", BAD_FILES, ids=[m[:30] for _, m in BAD_FILES])
def test_a_bad_network_file_is_one_line_naming_the_key(text, message):
    with pytest.raises(UsageError, match=None) as e:
        parse_net(text, source="net.toml")
    assert message in str(e.value) and str(e.value).startswith("net.toml")


def test_a_bad_network_file_exits_2_with_one_line(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(BAD_FILES[1][0])
    p = subprocess.run([sys.executable, "-m", "bpcheck", "report", "--net", str(f)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and "kind = 'conv'" in p.stderr


# (--depth any goes with --net: backpropagation through time, tests/test_bptt.py)
@pytest.mark.parametrize("extra", [["--layers", "2,2"], ["--graph", "examples/graph-skip.toml"],
                                   ["--width", "n"]])
def test_net_gives_the_whole_network_so_no_other_network_option_is_taken(extra):
    p = subprocess.run([sys.executable, "-m", "bpcheck", "report", "--net",
                        str(EXAMPLES / "dense.toml"), *extra], capture_output=True, text=True,
                       cwd=EXAMPLES.parent)
    assert p.returncode == 2 and f"leave out {extra[0]}" in p.stderr


def test_a_relu_recurrence_is_evaluated_side_by_side_through_time():
    from bpcheck.derive.engine.typed import resolve_sides
    net = parse_net("rows = 3\ninputs = 1\n[[layers]]\nkind = 'rnn'\nunits = 1\nfunction = 'relu'\n",
                    source="r.toml")
    layer = net.layers[0]
    X = grid("x1", 3, 1)
    h3 = layer.forward(X)[2][0]
    point = {X[0][0]: sp.Rational(1), X[1][0]: sp.Rational(-1, 2), X[2][0]: sp.Rational(2)}
    point.update({p[ix]: sp.Rational(1, 2) for p, shape in layer.params().items() for ix in _indices(shape)})
    value = resolve_sides(sp.Tuple(h3).xreplace(point)[0])
    # h1 = relu(1/2 + 1/2) = 1, h2 = relu(1/2 - 1/4 + 1/2) = 3/4, h3 = relu(3/8 + 1 + 1/2)
    assert value == sp.Rational(15, 8)


def test_a_wrong_version_no_different_at_a_small_size_is_shown_not_counted():
    net = parse_net("rows = 1\ninputs = 3\n[[layers]]\nkind = 'conv1d'\nkernel = 1\n", source="k.toml")
    report = typed_report(net)
    flipped = next(c for c in report.checks if c.mistake == "conv-kernel-not-flipped")
    assert flipped.verdict is Verdict.PROVED and report.worst is Verdict.PROVED


def test_a_relu_side_nested_only_inside_another_sides_argument_is_resolved():
    from bpcheck.derive.engine.typed import resolve_sides
    from bpcheck.derive.model.activation import KinkSide
    inner = KinkSide(sp.Rational(11, 16))
    outer = KinkSide(-11 * inner / 32 - sp.Rational(1, 4))  # -19/32 once inner is 1
    assert resolve_sides(-9 * outer) == 0 and resolve_sides(3 + outer * inner) == 3
    # a side alone is an atom, which xreplace does not enter: resolved all the same
    assert resolve_sides(outer) == 0 and resolve_sides(KinkSide(1 - inner / 2)) == 1


@pytest.mark.parametrize("source,units,rows", [("relu", 1, 2), ("sigmoid", 3, 3)])
def test_recurrences_once_left_undecided_are_decided(source, units, rows):
    # the last-step-only mistake of a 1-unit ReLU RNN was left undecided where every point's
    # claimed value held an unresolved nested side; a 3-unit sigmoid RNN at T = 3 exceeded
    # the counted-work bound before sigmoids were written through z = 1/(1 + e^u)
    net = parse_net(f"rows = {rows}\ninputs = 1\n[[layers]]\nkind = 'rnn'\nunits = {units}\n"
                    f"function = '{source}'\n", source="r.toml")
    checks = typed_report(net).checks
    assert all(c.verdict is (Verdict.REFUTED if c.mistake else Verdict.PROVED) for c in checks)
    assert {c.mistake for c in checks if c.mistake} == {"bptt-future-dropped",
                                                        "bptt-last-step-only"}


def test_report_net_refuses_a_notation_it_would_not_use():
    p = subprocess.run([sys.executable, "-m", "bpcheck", "report", "--net",
                        str(EXAMPLES / "dense.toml"), "--notation", "bishop"],
                       capture_output=True, text=True, cwd=EXAMPLES.parent)
    assert p.returncode == 2 and "leave out --notation" in p.stderr and p.stdout == ""
