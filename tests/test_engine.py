"""The proof machinery itself: normal form, KroneckerDelta collapse, verdicts."""
from __future__ import annotations

import random

import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from bpcheck.derive import BpcheckError, NotSupported, UsageError, Verdict, make_network
from bpcheck.derive.engine.expr import collapse
from bpcheck.derive.engine.normal import NormalForm, is_zero
from bpcheck.derive.engine.proof import Domain, Instance, prove, sample_point, evaluate

a = sp.IndexedBase("pre1", real=True)
u1, u2 = a[1], a[2]


@pytest.mark.parametrize("expr", [
    sp.diff(1 / (1 + sp.exp(-u1)), u1) - (1 / (1 + sp.exp(-u1))) * (1 - 1 / (1 + sp.exp(-u1))),
    sp.diff(sp.tanh(u1), u1) - (1 - sp.tanh(u1) ** 2),
    sp.diff(sp.log(1 + sp.exp(u1)), u1) - 1 / (1 + sp.exp(-u1)),
    sp.diff(sp.log(sp.exp(u1) / (sp.exp(u1) + sp.exp(u2))), u2) + sp.exp(u2) / (sp.exp(u1) + sp.exp(u2)),
])
def test_identities_of_the_activations_are_decided_zero(expr):
    assert is_zero(expr)


@pytest.mark.parametrize("expr", [
    sp.diff(1 / (1 + sp.exp(-u1)), u1) - 1 / (1 + sp.exp(-u1)),
    sp.diff(sp.tanh(u1), u1) - (1 + sp.tanh(u1) ** 2),
    sp.exp(u1) - sp.exp(u2),
])
def test_non_identities_are_not_zero(expr):
    assert not is_zero(expr)


def test_the_piecewise_sympy_leaves_is_removed_under_the_index_range():
    """SymPy issues 12750, 13993, 27544: the KroneckerDelta sum leaves a Piecewise."""
    net = make_network(layers=(2, 3, 2))
    j, k = net.index("this", 1), net.index("next", 2)
    i, n = sp.Dummy("i", integer=True, positive=True), sp.Dummy("n", integer=True, positive=True)
    h = net.phi(1)
    raw = sp.diff(sp.Sum(net.W(2)[k, i] * h(net.pre(1)[i]), (i, 1, n)), net.pre(1)[j]).doit()
    assert raw.has(sp.Piecewise)
    assert collapse(raw, net, widths={n: 3}) == net.W(2)[k, j] * sp.Derivative(h(net.pre(1)[j]), net.pre(1)[j])


def test_a_piecewise_whose_range_does_not_hold_everywhere_stays():
    net = make_network(layers=(2, 3, 2))
    j = net.index("this", 1)
    pw = sp.Piecewise((sp.Integer(1), j <= 2), (sp.Integer(0), True))
    assert collapse(pw, net) == pw


def test_a_wrong_identity_is_refuted_with_exact_values():
    lhs = sp.diff(sp.tanh(u1), u1)
    outcome = prove([Instance(((sp.Symbol("j"), 1),), lhs, 1 + sp.tanh(u1) ** 2)])
    assert outcome.verdict is Verdict.REFUTED
    ce = outcome.counterexample
    assert ce.exact and ce.lhs != ce.rhs
    assert evaluate(lhs, dict(ce.point)) == ce.lhs


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_sampled_points_respect_the_loss_domain(seed):
    t = sp.IndexedBase("t", real=True)
    targets = (t[1], t[2], t[3])
    point = sample_point([sum(targets)], random.Random(seed), Domain(targets, simplex=True))
    values = [point[x] for x in targets]
    assert sum(values) == 1 and all(0 < v < 1 for v in values)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3), min_size=2, max_size=4),
       st.sampled_from(["identity", "sigmoid", "tanh", "relu", "softplus", "abstract"]))
def test_the_recursion_and_gradients_hold_for_every_small_network(widths, hidden):
    from bpcheck.derive import Derivation
    d = Derivation(make_network(layers=widths, hidden=hidden))
    for c in d.checks:
        if c.claim.id != "output-delta-canonical":
            assert c.outcome.verdict is Verdict.PROVED, c.claim.id


@pytest.mark.parametrize("kw,message", [
    (dict(layers=(2,)), "at least two widths"),
    (dict(layers=(2, 0)), "width 0 is not a positive integer"),
    (dict(layers=(2, 33)), "beyond the bound"),
    (dict(layers=(2,) * 14), "13 layers of weights is beyond the bound of 12"),
    (dict(layers=("n", "2n")), "width '2n' is neither a positive integer nor a name"),
    (dict(hidden="softmax"), "output activation only"),
    (dict(hidden="swish"), "unknown hidden activation 'swish'"),
    (dict(output="swish"), "unknown output activation 'swish'"),
    (dict(loss="hinge"), "unknown loss 'hinge'; accepted: sse, bce, ce"),
    (dict(loss="ce"), "use --output sigmoid, softmax"),
    (dict(output="softmax", layers=(2, 1)), "needs at least 2 output units"),
])
def test_bad_networks_are_refused_with_the_accepted_values(kw, message):
    with pytest.raises(BpcheckError) as e:
        make_network(**kw)
    assert message in str(e.value)
    assert isinstance(e.value, NotSupported if kw.get("hidden") == "softmax" else UsageError)


def test_the_recursion_is_proved_once_for_every_unit_at_a_generic_index():
    from bpcheck.derive import Derivation
    from bpcheck.derive.engine.claims import Claim, hidden_claim
    d = Derivation(make_network(layers=(3, 6, 4), hidden="tanh"))
    net = d.net
    claim = hidden_claim(net, 1)
    (j,) = claim.free
    meaning = d.generic.delta_at(1, j)
    assert is_zero(claim.equation.lhs.xreplace(meaning) - claim.equation.rhs.doit().xreplace(meaning))
    # a recursion without h'(a_j) is not zero at a generic j, and the per-unit proof refutes it
    k = net.index("next", 2)
    wrong = sp.Eq(net.delta(1)[j], sp.Sum(net.W(2)[k, j] * net.delta(2)[k], (k, 1, 4)))
    outcome = d.prove(Claim("hidden-delta", 1, wrong, (j,)))
    assert outcome.verdict is Verdict.REFUTED and outcome.counterexample.index[0][1] in range(1, 7)


# -- the Jacobian tables: the zeros decided once from the generic entry ------------------------

JACOBIAN_NETS = [dict(layers=(2, 3, 2), hidden=h, output=o, loss=l, bias=b)
                 for h, o, l, b in [("abstract", "identity", "sse", True),
                                    ("relu", "softmax", "ce", False),
                                    ("sigmoid", "sigmoid", "bce", True),
                                    ("tanh", "relu", "sse", False),
                                    ("identity", "softmax", "sse", True)]]


@pytest.mark.parametrize("kw", JACOBIAN_NETS, ids=lambda kw: f"{kw['hidden']}-{kw['output']}")
def test_the_zeros_from_the_generic_entry_are_the_zeros_of_every_entry(kw):
    """The oracle: each entry of the concrete matrix, the output's differentiated from the
    network's own outputs, decided on its own."""
    from bpcheck.derive.engine.jacobian import jacobians
    net = make_network(**kw)
    maps = jacobians(net)
    assert len(maps) == len(kw["layers"]) - 1
    for J in maps:
        if J.kind == "layer":
            oracle = [[is_zero(J.entry_at(r, c)) for c in net.units(J.layer - 1)]
                      for r in net.units(J.layer)]
        else:
            ys, a = net.layer_outputs(net.L), net.pre(net.L)
            oracle = [[is_zero(sp.diff(ys[r - 1], a[c])) for c in net.units(net.L)]
                      for r in net.units(net.L)]
        assert [list(row) for row in J.zero] == oracle
    out = maps[-1]
    assert out.vanishing == ("none" if kw["output"] == "softmax" else "off-diagonal")


def test_an_entry_whose_zeros_the_generic_one_cannot_tell_is_decided_entry_by_entry():
    from bpcheck.derive.engine.jacobian import _pattern
    k, j = sp.symbols("k j", integer=True, positive=True)
    a, w = sp.IndexedBase("a"), sp.IndexedBase("w")
    units = (1, 2, 3)
    assert _pattern(a[j] - a[1], k, j, units, units) is None        # zero where j = 1 only
    assert _pattern(w[k, j] * (k - 2), k, j, units, units) is None  # zero in row 2 only
    assert _pattern(w[k, j] * sp.KroneckerDelta(k, 1), k, j, units, units) is None
    d = sp.Derivative(a[k], a[j], evaluate=False)            # zero off the diagonal
    assert _pattern(d, k, j, units, units) == tuple(
        tuple(is_zero(d.xreplace({k: r, j: c}).doit()) for c in units) for r in units) == (
        (False, True, True), (True, False, True), (True, True, False))
    assert _pattern(w[k, j] - w[j, k], k, j, units, units) == (
        (True, False, False), (False, True, False), (False, False, True))
    assert _pattern(w[k, j] * sp.KroneckerDelta(k, j), k, j, units, units) == (
        (False, True, True), (True, False, True), (True, True, False))


_ATOMS = sp.symbols("v1:6", positive=True)


def _expressions():
    """Rational expressions of a few atoms: sums, products, integer powers (negative ones
    too), so common denominators and expansions of every shape."""
    leaf = st.one_of(st.sampled_from(_ATOMS), st.integers(1, 3).map(sp.Integer))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: sp.Add(*xs)),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: sp.Mul(*xs)),
        st.tuples(inner, st.integers(-2, 3)).map(lambda p: sp.Pow(p[0], p[1]))),
        max_leaves=10)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(_expressions())
def test_the_counted_work_bound_is_never_below_the_terms_the_expansion_forms(expr):
    """The work limit refuses by expansion_bound: it must be an upper bound of the terms of
    the numerator the engine then forms, or a refusal would not say what it says."""
    from bpcheck.derive.engine.normal import expansion_bound, numerator
    if expr.has(sp.zoo, sp.nan):
        return
    got = numerator(expr, limit=10 ** 9)
    assert len(sp.Add.make_args(got)) <= max(expansion_bound(expr), 1), (expr, got)


v1, v2, v3, v4 = _ATOMS[:4]  # not u1: the module has its own
BOUND_CASES = [  # (expression, the bound, the terms of its numerator)
    ((v1 + v2 + v3) ** 3, 10, 10),
    (1 / (v1 + v2) + 1 / (v3 + v4), 4, 4),
    (v1 / (1 + v2) ** 2 + v3 / (1 + v2), 5, 5),  # (1 + v2)^2 expanded is a factor of its own
    ((v1 + v2) / (v3 + v4) - (v3 + v4) / (v1 + v2), 8, 6),
    ((v1 + 1) ** 70 * (v2 + v3 + v4) ** 70, 10 ** 12, None),  # past 64 a power is the cap
]


@pytest.mark.parametrize("expr,bound,terms", BOUND_CASES, ids=[str(c[0])[:30] for c in BOUND_CASES])
def test_the_counted_work_bound_of_sums_products_and_common_denominators(expr, bound, terms):
    from bpcheck.derive.engine.normal import expansion_bound, numerator
    assert expansion_bound(expr) == bound
    if terms is not None:
        assert len(sp.Add.make_args(numerator(expr))) == terms
