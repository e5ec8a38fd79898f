"""Every width and every depth at once: symbolic widths, the induction, and the refutations
at a concrete width that a claim for every width gets when it is wrong."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import mpmath as mp
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from bpcheck.derive import Verdict, load_notations, make_network
from bpcheck.derive.engine.claims import Claim
from bpcheck.derive.engine.derivation import Derivation
from bpcheck.derive.commands.depth import build_depth_report
from bpcheck.derive.engine.theorem import BASE, INDUCTION, LEMMA, induction
from bpcheck.derive.engine.expr import Partial, collapse
from bpcheck.derive.model.network import UnitIndex
from bpcheck.derive.engine.proof import Outcome
from bpcheck.derive.commands.report import build_report
from bpcheck.derive.engine.sums import canonical, holds_throughout

from conftest import HIDDEN, NOTATIONS, PAIRS, derivation as concrete, mp_activations
from test_cli import run

SYMBOLIC = ("d", "n", "K")
GRAPH = str(Path(__file__).parent.parent / "examples" / "graph-skip.toml")


@pytest.fixture(autouse=True)
def digits():
    with mp.workdps(50):
        yield


@functools.lru_cache(maxsize=None)
def symbolic(hidden="abstract", output="identity", loss="sse", layers=SYMBOLIC):
    return Derivation(make_network(layers=layers, hidden=hidden, output=output, loss=loss))


# -- the machinery: sums at symbolic width ---------------------------------------------

def test_a_kronecker_delta_under_a_sum_over_a_symbolic_width_keeps_one_term():
    net = make_network(layers=SYMBOLIC)
    n, j, k = net.width(1), net.index("this", 1), net.index("next", 2)
    i = sp.Dummy("i", integer=True, positive=True)
    raw = sp.diff(sp.Sum(net.W(2)[k, i] * net.phi(1)(net.pre(1)[i]), (i, 1, n)), net.pre(1)[j])
    assert raw.doit().has(sp.Piecewise)  # what SymPy leaves (DESIGN.md, known traps)
    assert collapse(raw, net) == net.W(2)[k, j] * sp.Derivative(net.phi(1)(net.pre(1)[j]), net.pre(1)[j])


def test_a_condition_that_fails_somewhere_in_the_range_is_not_removed():
    net = make_network(layers=SYMBOLIC)
    j = net.index("this", 1)  # ranges over 1..n, which is not within 1..d
    d = net.width(0)
    assert holds_throughout(sp.And(j >= 1, j <= d), {j: (1, net.width(1))}) is not True
    pw = sp.Piecewise((net.out(0)[j], sp.And(j >= 1, j <= d)), (0, True))
    assert collapse(pw, net).has(sp.Piecewise)
    assert holds_throughout(sp.And(j >= 1, j <= net.width(1)), {j: (1, net.width(1))}) is True


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-3, 3).filter(bool), min_size=1, max_size=4), st.integers(0, 3))
def test_canonical_sums_are_linear_and_do_not_depend_on_the_index_name(coeffs, pulled):
    n = sp.Symbol("n", integer=True, positive=True)
    w, z, c = sp.IndexedBase("w"), sp.IndexedBase("z"), sp.Symbol("c")
    i, m = sp.Dummy("i", integer=True, positive=True), sp.Dummy("m", integer=True, positive=True)
    terms = [q * w[i] ** (p + 1) * z[i] for p, q in enumerate(coeffs)]
    together = sp.Sum(c ** pulled * sp.Add(*terms), (i, 1, n))
    apart = c ** pulled * sp.Add(*[sp.Sum(t.xreplace({i: m}), (m, 1, n)) for t in terms])
    assert sp.expand(canonical(together) - canonical(apart)) == 0
    assert sp.expand(canonical(together) - canonical(apart + sp.Sum(w[m], (m, 1, n)))) != 0


# -- every width: the verdicts ------------------------------------------------------------

@pytest.mark.parametrize("output,loss", PAIRS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_verdict_at_symbolic_width_is_the_concrete_engines(hidden, output, loss):
    """Two routes: sums over symbolic ranges, and the concrete engine at 2-3-2. A claim
    proved for every width holds at 2-3-2; one refuted fails at some width, and so there."""
    sym = symbolic(hidden, output, loss)
    conc = concrete(hidden=hidden, output=output, loss=loss)
    for c in sym.checks:
        want = conc.check(c.claim.id, c.claim.layer).outcome
        assert c.outcome.verdict is want.verdict, (c.claim.id, c.claim.layer)
        assert len(c.outcome.conditions) == len(want.conditions)
        if c.outcome.verdict is Verdict.PROVED:
            assert "for every width" in c.outcome.note
            assert c.outcome.counterexample is None
        else:
            assert c.outcome.note.startswith("fails at width") and c.outcome.counterexample


def test_every_width_proves_the_textbook_claims_with_their_conditions():
    d = symbolic("tanh", "softmax", "ce")
    verdicts = {(c.claim.id, c.claim.layer): c.outcome for c in d.checks}
    assert verdicts[("output-delta-diagonal", 2)].verdict is Verdict.REFUTED
    canonical_ = verdicts[("output-delta-canonical", 2)]
    assert canonical_.verdict is Verdict.PROVED
    (cond,) = canonical_.conditions
    K = d.net.width(2)
    assert isinstance(cond.lhs, sp.Sum) and cond.lhs.limits[0][2] == K and cond.rhs == 1


def test_relu_at_every_width_is_proved_on_each_side_of_its_kink():
    d = symbolic("relu", "identity", "sse")
    hidden = d.check("hidden-delta").outcome
    assert hidden.verdict is Verdict.PROVED
    assert sp.Ne(d.net.pre(1)[d.net.index("this", 1)], 0) in hidden.conditions


@pytest.mark.parametrize("notation", NOTATIONS)
@pytest.mark.parametrize("hidden", ["abstract", "sigmoid", "relu"])
def test_the_report_at_symbolic_width_proves_every_claim_in_every_notation(notation, hidden):
    net = make_network(layers=("D", "M", "K"), hidden=hidden, output="softmax", loss="ce")
    (r,) = build_report(net, load_notations(notation)).notations
    verdicts = {(c.id, c.layer): c.verdict for c in r.checks}
    assert verdicts.pop(("output-delta-diagonal", 2)) is Verdict.REFUTED
    if notation == "eglen":  # no biases in the notation
        assert verdicts.pop(("bias-gradient", 1)) is verdicts.pop(("bias-gradient", 2)) \
            is Verdict.NOT_APPLICABLE
    assert set(verdicts.values()) == {Verdict.PROVED}, verdicts
    # the sums show the symbolic width they run to
    hidden_claim = next(c for c in r.checks if c.id == "hidden-delta")
    assert "K" in hidden_claim.claim.text and "^{K}" in hidden_claim.claim.latex


def test_the_derivation_at_symbolic_width_shows_the_sum_the_kronecker_delta_and_the_result():
    net = make_network(layers=SYMBOLIC)
    (r,) = build_report(net, load_notations("bishop")).notations
    hidden = dict(r.derivation)["hidden layer (shown for the layer before the output; every layer alike)"]
    texts = [s.equation.text for s in hidden]
    assert "δ_j = Σ_(k=1..K) ∂E_n/∂a_k ∂a_k/∂a_j" in texts
    assert "∂a_k/∂a_j = Σ_(j'=1..n) h'(a_j') w^(2)_(k,j') I_(j',j)" in texts
    assert "∂a_k/∂a_j = w^(2)_kj h'(a_j)" in texts
    assert texts[-1] == "δ_j = h'(a_j) Σ_(k=1..K) w^(2)_kj δ_k"
    assert all(s.verdict in (None, Verdict.PROVED) for s in hidden)


# -- wrong claims for every width: refuted at a width, the point checked -------------------

def _wrong_hidden(net, which):
    j, k = net.index("this", 1), net.index("next", 2)
    W, delta, a = net.W(2), net.delta(2), net.pre(1)
    hp = sp.Derivative(net.phi(1)(a[j]), a[j])
    rhs = {"transposed weight": hp * sp.Sum(W[j, k] * delta[k], (k, 1, net.width(2))),
           "no activation slope": sp.Sum(W[k, j] * delta[k], (k, 1, net.width(2))),
           "sum over the wrong layer": hp * sp.Sum(W[k, j] * delta[k], (k, 1, net.width(1)))}[which]
    return Claim("hidden-delta", 1, sp.Eq(net.delta(1)[j], rhs, evaluate=False), (j,))


@pytest.mark.parametrize("which", ["transposed weight", "no activation slope", "sum over the wrong layer"])
def test_a_wrong_recursion_for_every_width_is_refuted_at_a_concrete_width(which):
    d = symbolic("tanh", "identity", "sse")
    outcome = d.prove(_wrong_hidden(d.net, which))
    assert outcome.verdict is Verdict.REFUTED
    assert outcome.note.startswith("fails at width")
    ce = outcome.counterexample
    # both sides again, from the point alone: the true delta by the recursion, with mpmath
    point = dict(ce.point)
    (j_value,) = [v for _, v in ce.index]
    value = {q: mp.mpf(str(sp.N(v, 40))) for q, v in point.items()}
    W = {(q.indices[0], q.indices[1]): v for q, v in value.items()
         if isinstance(q, sp.Indexed) and q.base == d.net.W(2)}
    deltas = {q.indices[0]: v for q, v in value.items()
              if isinstance(q, sp.Indexed) and q.base == d.net.delta(2)}
    a_j = value[d.net.pre(1)[j_value]]
    truth = (1 - mp.tanh(a_j) ** 2) * sum(W[k, j_value] * deltas[k] for k in deltas)
    assert abs(truth - mp.mpf(str(sp.N(ce.lhs, 40)))) < mp.mpf(10) ** -25
    assert abs(truth - mp.mpf(str(sp.N(ce.rhs, 40)))) > mp.mpf(10) ** -6


def test_softmax_diagonal_formula_for_every_width_fails_where_both_sides_say_so():
    """Nielsen's BP1 as (38) writes it, for a softmax output with cross-entropy: refuted at a
    concrete width; at the reported point an independent forward pass, differentiated
    numerically, gives the true delta, and the claim's side differs from it."""
    d = symbolic("abstract", "softmax", "ce")
    outcome = d.check("output-delta-diagonal").outcome
    assert outcome.verdict is Verdict.REFUTED
    ce = outcome.counterexample
    (k,) = [v for _, v in ce.index]
    point = {q: v for q, v in ce.point}
    a = {q.indices[0]: mp.mpf(str(sp.N(v, 60))) for q, v in point.items()
         if isinstance(q, sp.Indexed) and q.base == d.net.pre(2)}
    t = {q.indices[0]: mp.mpf(str(sp.N(v, 60))) for q, v in point.items()
         if isinstance(q, sp.Indexed) and q.base == d.net.t}
    units = sorted(a)

    def loss(shift):
        aa = {m: a[m] + (shift if m == k else 0) for m in units}
        total = sum(mp.exp(aa[m]) for m in units)
        return -sum(t[m] * mp.log(mp.exp(aa[m]) / total) for m in units)

    true_delta = mp.diff(loss, 0)
    y = {m: mp.exp(a[m]) / sum(mp.exp(a[i]) for i in units) for m in units}
    claimed = (-t[k] / y[k]) * y[k] * (1 - y[k])  # dE/dy_k times f'(a_k), the diagonal
    assert abs(true_delta - mp.mpf(str(sp.N(ce.lhs, 40)))) < mp.mpf(10) ** -25
    assert abs(claimed - mp.mpf(str(sp.N(ce.rhs, 40)))) < mp.mpf(10) ** -25
    assert abs(true_delta - claimed) > mp.mpf(10) ** -6


# -- every depth ------------------------------------------------------------------------------

@pytest.mark.parametrize("notation", NOTATIONS)
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output,loss", [("identity", "sse"), ("softmax", "ce"), ("sigmoid", "bce"),
                                         ("tanh", "sse")])
def test_the_induction_proves_every_depth_in_every_notation(notation, hidden, output, loss):
    (theorem,) = build_depth_report(hidden=hidden, output=output, loss=loss,
                                    notations=load_notations(notation)).theorems
    lemma, base, every = (p.check for p in theorem.parts)
    assert (lemma.id, base.id, every.id) == (LEMMA, BASE, INDUCTION)
    assert lemma.verdict is base.verdict is every.verdict is Verdict.PROVED
    # the recursion needs the lemma's conditions only: sum_k t_k = 1 serves y - t, not it
    assert [c.text for c in every.conditions] == [c.text for c in lemma.conditions]
    if hidden == "relu":
        assert lemma.conditions
    if (output, loss) == ("softmax", "ce"):
        assert base.conditions and "= 1" in base.conditions[0].text
    # the base case is the most specific output formula that holds
    canonical_pair = (output, loss) in {("identity", "sse"), ("softmax", "ce"), ("sigmoid", "bce")}
    assert ("-" in base.claim.text and "∂" not in base.claim.text) is canonical_pair


def test_the_lemma_is_written_for_a_generic_layer():
    (theorem,) = build_depth_report(notations=load_notations("nielsen")).theorems
    lemma = theorem.parts[0].check
    assert lemma.claim.text == "δ^l_j = σ'(z^l_j) Σ_(k=1..n_(l+1)) w^(l+1)_kj δ^(l+1)_k"
    assert lemma.claim.latex == r"\delta^{l}_{j} = \sigma'(z^{l}_{j}) \, \sum_{k=1}^{n_{l+1}} w^{l+1}_{kj} \, \delta^{l+1}_{k}"


@pytest.mark.parametrize("lemma,base,verdict", [
    (Verdict.PROVED, Verdict.PROVED, Verdict.PROVED),
    (Verdict.REFUTED, Verdict.PROVED, Verdict.UNDECIDED),
    (Verdict.PROVED, Verdict.UNDECIDED, Verdict.UNDECIDED),
])
def test_the_induction_holds_exactly_as_far_as_its_premises(lemma, base, verdict):
    assert induction(Outcome(lemma), Outcome(base)).verdict is verdict


# -- the command ----------------------------------------------------------------------------

def test_report_width_n_proves_every_claim_for_every_width():
    p = run("report", "--width", "n", "--notation", "nielsen", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["network"]["layers"] == ["n_0", "n_1", "n_2"] and data["network"]["symbolic_widths"]
    (n,) = data["notations"]
    assert {c["verdict"] for c in n["checks"]} == {"proved"}
    assert all("for every width" in c["note"] for c in n["checks"] if c["id"] != "cross-notation")


@pytest.mark.slow
def test_report_layers_by_name_refutes_with_the_width_where_it_fails():
    p = run("report", "--layers", "D,M,K", "--output", "softmax", "--loss", "sse",
            "--notation", "bishop")
    assert p.returncode == 0, p.stderr
    assert "Σ_(k'=1..K)" in p.stdout
    assert "fails at width D = 2, M = 2, K = 2" in p.stdout


def test_report_depth_any_carries_the_theorem_as_checks():
    p = run("report", "--depth", "any", "--json", "--notation", "bishop")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["network"]["depth"] == "any"
    (n,) = data["notations"]
    assert [(c["id"], c["verdict"]) for c in n["checks"]] == [
        (LEMMA, "proved"), (BASE, "proved"), (INDUCTION, "proved")]
    text = run("report", "--depth", "any", "--notation", "bishop").stdout
    for words in ("Lemma: one layer step", "Base case: the output layer", "Induction: every depth"):
        assert words in text


@pytest.mark.parametrize("args,message", [
    (["--layers", "d,j,K", "--notation", "bishop"], "'j' is a letter of bishop's notation"),
    (["--width", "nn"], "--width 'nn': give one letter"),
    (["--width", "n", "--layers", "d,n,K"], "give one of the two"),
    (["--layers", "2,n+1,2"], "'n+1' is not a positive integer"),
    (["--depth", "any", "--layers", "2,2"], "leave out --layers and --width"),
    (["--depth", "every"], "invalid choice: 'every'"),
    (["--depth", "any", "--layers", "2,3,2"], "leave out --layers"),  # a default, but given
    (["--graph", GRAPH, "--loss", "sse"], "leave out --loss"),
    (["--graph", GRAPH, "--bias"], "leave out --bias"),
    (["--graph", GRAPH, "--width", "n"], "leave out --width"),
])
def test_bad_widths_and_depths_are_one_line_and_status_2(args, message):
    p = run("report", *args)
    assert p.returncode == 2
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1
