"""Indices with arithmetic in a layer's slice (convolution, pooling, recurrence): what is
read beyond a range and said so, a size's letter on the left read both ways, the products
that name what does not exist, and `check --net` on the example files, each verdict
against the slices' oracle (tests/slices_oracle.py)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sympy as sp

from bpcheck.derive.commands.layer_check import check_layer_text
from bpcheck.derive.engine.proof import Verdict
from bpcheck.derive.latex.grammar import parse
from bpcheck.derive.latex.slice_reader import SliceReadError
from slices_oracle import DIFFER, Oracle, point_from_engine, sides
from test_slices import oracle_judges

FLIPPED = r"\frac{\partial E}{\partial x_j} = \sum_{m=1}^{k} \frac{\partial E}{\partial y_{j-m+1}} w_m"
TANH_STEP = (r"\frac{\partial L}{\partial h_t} = v \frac{\partial L}{\partial o_t} + w (1 - h_{t+1}^2)"
             r" \frac{\partial L}{\partial h_{t+1}}")


@pytest.mark.parametrize("text,kind,n,options,verdict,note", [
    # the full correlation's edges: dl/dy beyond the output read as 0, each named
    (FLIPPED, "conv1d", 4, {"kernel": 2}, "proved", "the gradient on y[0], y[4]"),
    # an input in the zero padding is 0
    (r"\frac{\partial E}{\partial w_m} = \sum_{i=1}^{n} \frac{\partial E}{\partial y_i} x_{i+m-2}",
     "conv1d", 4, {"kernel": 3, "padding": 1}, "proved", "x[0], x[5]"),
    # the last step: dL/dh_{T+1} is 0, so the product naming h_{T+1} is 0
    (TANH_STEP, "rnn", 3, {}, "proved", "the gradient on h[4, 1]"),
    # the initial state h_0 is 0
    (r"\frac{\partial L}{\partial w} = \sum_{t=1}^{T} \frac{\partial L}{\partial a_t} h_{t-1}",
     "rnn", 3, {}, "proved", "h[0, 1]"),
])
def test_what_the_right_side_names_beyond_a_range_is_read_as_0_and_said(text, kind, n, options,
                                                                        verdict, note):
    r = check_layer_text(text, kind=kind, size=n, options=options)
    assert str(r.verdict) == verdict
    assert "read as 0 beyond the ranges: " in r.note and note in r.note
    assert oracle_judges(text, kind, n, options=options) == (verdict == "proved")


@pytest.mark.parametrize("text,kind,n,options,note", [
    # a value beyond its range that no convention makes 0: it does not exist
    (r"\frac{\partial E}{\partial w_m} = \sum_{i=1}^{n-k+1} \frac{\partial E}{\partial y_i} x_{i+m}",
     "conv1d", 4, {"kernel": 2}, "x[5] does not exist"),
    (r"\frac{\partial L}{\partial w} = \sum_{t=1}^{T} \frac{\partial L}{\partial a_t} h_{t+1}",
     "rnn", 3, {}, "h[4, 1] does not exist"),
    # nothing beyond a range is read on the left
    (r"\frac{\partial E}{\partial y_{j+1}} = \frac{\partial E}{\partial y_{j+1}}", "conv1d", 4,
     {"kernel": 2}, None),
])
def test_a_quantity_beyond_its_range_that_no_convention_zeroes_refutes_saying_so(text, kind, n,
                                                                               options, note):
    try:
        r = check_layer_text(text, kind=kind, size=n, options=options)
    except SliceReadError as e:  # y_{j+1} free only inside arithmetic: no range for j
        assert note is None and "its range is not known" in str(e)
        return
    assert r.verdict is Verdict.REFUTED and not r.values and note in r.note


K_AS_INDEX = (r"\frac{\partial J}{\partial K_{k,l}} = \sum_{m} \sum_{n} \frac{\partial J}"
              r"{\partial Z_{m,n}} V_{m+k-1,n+l-1}")


@pytest.mark.parametrize("text,kind,options,verdict,readings", [
    # Goodfellow's 9.11 with k a kernel index: right both ways
    (K_AS_INDEX, "conv2d", {"kernel": 2}, "proved", ("proved", "proved")),
    # right for the last entry w_k only: the readings differ
    (r"\frac{\partial E}{\partial w_k} = \sum_{i} \frac{\partial E}{\partial y_i} x_{i+1}",
     "conv1d", {"kernel": 2}, "ambiguous", ("proved", "refuted")),
])
def test_a_size_letter_as_an_index_on_the_left_is_read_both_ways(text, kind, options, verdict,
                                                                 readings):
    r = check_layer_text(text, kind=kind, size=4, options=options)
    assert str(r.verdict) == verdict
    assert tuple(str(v) for _, v in r.readings[-2:]) == readings
    assert "k on the left read as the size (the last entry)" in r.note
    assert oracle_judges(text, kind, 4, options=options) == (readings[1] == "proved")


def test_a_size_letter_that_is_also_a_value_is_the_size():
    r = check_layer_text(r"\hat{x}_m = -\sum_{i=1}^{m-1} \hat{x}_i", kind="batchnorm", size=3)
    assert r.verdict is Verdict.PROVED and r.readings == ()


@pytest.mark.parametrize("text,mistake", [
    (r"\frac{\partial E}{\partial x_{2i-1}} = \frac{\partial E}{\partial y_i}", "maxpool-gradient-spread"),
    (r"\frac{\partial E}{\partial x_{2i}} = \frac{\partial E}{\partial y_i}", "maxpool-gradient-spread"),
])
def test_the_max_pool_gradient_spread_is_refuted_where_the_entry_is_not_its_window_maximum(text,
                                                                                          mistake):
    r = check_layer_text(text, kind="maxpool", size=4)
    assert (r.verdict, r.diagnosis.id) == (Verdict.REFUTED, mistake)
    point = point_from_engine(r.point, "maxpool", 4)
    window = [point[("x", (2 * r.entry[0] - a,))] for a in (1, 0)]
    assert window[0] != window[1]  # the refutation's window has one maximum
    o = Oracle("maxpool", 4, point)
    left, right = sides(parse(text, shifts=True), o, dict(zip(r.free, r.entry)))
    assert abs(left - right) > DIFFER


def test_the_routed_max_pool_gradient_is_proved_under_a_unique_maximum():
    r = check_layer_text(r"\frac{\partial E}{\partial x_j} = \sum_i \frac{\partial E}{\partial y_i}"
                         r" \frac{\partial y_i}{\partial x_j}", kind="maxpool", size=5,
                         options={"window": 3, "stride": 1})
    assert r.verdict is Verdict.PROVED
    assert r.conditions == ("each window's maximum unique (no tie)",)


def _bpcheck(*args):
    return subprocess.run([sys.executable, "-m", "bpcheck", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("file,text,code,mistake", [
    ("examples/conv1d.toml", r"\frac{\partial E}{\partial x_j} = \sum_{m=1}^{k} \frac{\partial E}"
     r"{\partial y_{j-m+2}} w_m", 0, None),  # the file's padding of 1 shifts the output
    ("examples/conv1d.toml", r"\frac{\partial E}{\partial x_j} = \sum_{m=1}^{k} \frac{\partial E}"
     r"{\partial y_{j-k+m+1}} w_m", 1, "conv-kernel-not-flipped"),
    ("examples/rnn.toml", r"\nabla_{h^{(t)}_k} L = \sum_l V_{lk} \nabla_{o^{(t)}_l} L", 1,
     "bptt-future-dropped"),
    ("examples/rnn.toml", r"\frac{\partial L}{\partial W_{kj}} = \sum_t \left(1 - (h^{(t)}_k)^2"
     r"\right) \frac{\partial L}{\partial h^{(t)}_k} h^{(t-1)}_j", 0, None),
    ("examples/conv2d.toml", K_AS_INDEX, 0, None),
])
def test_check_net_reads_convolution_and_recurrence_as_their_books_write_them(file, text, code,
                                                                             mistake):
    p = _bpcheck("check", "--net", file, "--json", text)
    assert p.returncode == code, p.stderr
    out = json.loads(p.stdout)
    assert out["mistake"] == mistake
    if code == 1:
        o = Oracle(out["layer"], out["size"], point_from_engine(tuple(
            (sp.Symbol(k), sp.Rational(v)) for k, v in out["counterexample"]["point"].items()),
            out["layer"], out["size"], options={"units": 2} if out["layer"] == "rnn" else
            {"kernel": 2, "padding": 1}), options={"units": 2} if out["layer"] == "rnn" else
            {"kernel": 2, "padding": 1})
        left, right = sides(parse(text, shifts=True), o, out["counterexample"]["at"])
        assert abs(left - right) > DIFFER


def test_check_net_reads_a_pooling_over_an_image_in_its_slice(tmp_path):
    """Windows of 2 by 2 at stride 1 over a 3 by 3 image: the routed gradient proved
    under the condition, the gradient spread over a square refuted with its mistake, and
    the size said as an image's."""
    net = tmp_path / "pool.toml"
    net.write_text('title = "2-D pooling"\nrows = 1\ninputs = 9\nloss = "sse"\n\n[[layers]]\n'
                   'kind = "maxpool"\nwindow = 2\nstride = 1\nheight = 3\n')
    routed = (r"\frac{\partial E}{\partial x_{u,v}} = \sum_{i} \sum_{j} \frac{\partial E}"
              r"{\partial y_{i,j}} \frac{\partial y_{i,j}}{\partial x_{u,v}}")
    p = _bpcheck("check", "--net", str(net), "--json", routed)
    out = json.loads(p.stdout)
    assert p.returncode == 0 and out["verdict"] == "proved", p.stdout + p.stderr
    assert out["conditions"] == ["each window's maximum unique (no tie)"]
    p = _bpcheck("check", "--net", str(net), "--layer", "1",
                 r"\frac{\partial E}{\partial x_{i,j}} = \frac{\partial E}{\partial y_{i,j}}")
    assert p.returncode == 1 and "an image of 3 rows by 3 columns" in p.stdout, p.stdout


def test_in_a_notation_an_index_with_arithmetic_is_refused_saying_where_it_is_read():
    p = _bpcheck("check", "--notation", "bishop", r"\delta_{j+1} = \delta_j")
    assert p.returncode == 2
    assert "read only in a layer's slice (check --net" in p.stderr
