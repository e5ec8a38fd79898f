"""Every verdict of the report, for every notation, activation and loss, against what the
mathematics says it must be."""
from __future__ import annotations

import pytest
import sympy as sp

from bpcheck.derive import Verdict
from bpcheck.derive.engine.proof import evaluate

from conftest import HIDDEN, NOTATIONS, PAIRS, derivation, report

CANONICAL_PAIRS = {("identity", "sse"), ("sigmoid", "bce"), ("softmax", "ce")}
ELEMENTWISE = {"identity", "sigmoid", "tanh", "relu", "softplus", "abstract"}


def expected(check_id, notation, hidden, output, loss):
    if check_id == "output-delta-diagonal":
        return Verdict.PROVED if output in ELEMENTWISE else Verdict.REFUTED
    if check_id == "output-delta-canonical":
        return Verdict.PROVED if (output, loss) in CANONICAL_PAIRS else Verdict.REFUTED
    if check_id == "bias-gradient" and notation == "eglen":
        return Verdict.NOT_APPLICABLE
    return Verdict.PROVED  # general chain rule, hidden recursion, gradients, cross-notation


def views(notation, **kw):
    r = report(**kw)
    return next(n for n in r.notations if n.notation.name == notation).checks


@pytest.mark.parametrize("notation", NOTATIONS)
@pytest.mark.parametrize("output,loss", PAIRS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_verdict_is_the_expected_one(notation, hidden, output, loss):
    checks = views(notation, hidden=hidden, output=output, loss=loss)
    ids = {c.id for c in checks}
    assert ids == {"output-delta-general", "output-delta-diagonal", "output-delta-canonical",
                   "hidden-delta", "weight-gradient", "bias-gradient", "cross-notation"}
    for c in checks:
        assert c.verdict is expected(c.id, notation, hidden, output, loss), (c.id, c.layer)


@pytest.mark.parametrize("output,loss", PAIRS)
def test_a_refutation_carries_a_point_where_the_sides_differ(output, loss):
    d = derivation(output=output, loss=loss)
    for check in d.checks:
        ce = check.outcome.counterexample
        if check.outcome.verdict is Verdict.REFUTED:
            assert ce is not None and ce.index
            assert sp.N(ce.lhs - ce.rhs, 30) != 0
        else:
            assert ce is None


def test_softmax_with_cross_entropy_needs_targets_that_sum_to_one():
    d = derivation(output="softmax", loss="ce")
    outcome = d.check("output-delta-canonical").outcome
    assert outcome.verdict is Verdict.PROVED
    (cond,) = outcome.conditions
    assert isinstance(cond, sp.Eq) and cond.rhs == 1 and isinstance(cond.lhs, sp.Sum)
    assert "needs the condition" in outcome.note


@pytest.mark.parametrize("output,loss", [("softmax", "sse"), ("sigmoid", "sse"),
                                         ("tanh", "sse"), ("sigmoid", "ce")])
def test_the_canonical_form_is_refuted_where_it_is_false(output, loss):
    """Bishop (5.54) does not hold for these pairs: the reported point shows it, and the
    reported values are those of the two sides at that point, recomputed here."""
    d = derivation(output=output, loss=loss)
    check = d.check("output-delta-canonical")
    ce = check.outcome.counterexample
    assert check.outcome.verdict is Verdict.REFUTED
    point = dict(ce.point)
    net, (k_symbol, k) = d.net, ce.index[0]
    claimed = net.out(net.L)[k] - net.t[k]
    frame = d.truth.frame_of([net.delta(net.L)[k], claimed], real_loss=True)
    truth, claimed = d.truth.meanings([net.delta(net.L)[k], claimed], frame)
    assert evaluate(truth, point) == ce.lhs
    assert evaluate(claimed, point) == ce.rhs
    assert ce.lhs != ce.rhs


def test_nielsen_38_is_refuted_for_softmax_and_37_holds():
    checks = {c.id: c for c in views("nielsen", output="softmax", loss="ce")}
    assert checks["output-delta-general"].verdict is Verdict.PROVED
    diagonal = checks["output-delta-diagonal"]
    assert diagonal.verdict is Verdict.REFUTED
    assert diagonal.claim.text == "δ^L_j = ∂C/∂a^L_j σ'(z^L_j)"
    assert set(diagonal.counterexample["index"]) == {"j"}


def test_relu_is_proved_on_each_side_of_its_kink_and_says_so():
    outcome = derivation(hidden="relu").check("hidden-delta", 1).outcome
    assert outcome.verdict is Verdict.PROVED
    assert any(isinstance(c, sp.Ne) for c in outcome.conditions)
    assert "not differentiable at 0" in outcome.note


def test_a_proof_out_of_time_is_undecided():
    from bpcheck.derive import Derivation, make_network
    """A proof's budget is CPU time, which the kernel counts in ticks of a few ms: a proof
    shorter than a tick may finish (proved), a wrong claim's point may be found within one
    (refuted, as with all the time it needs); every other one ends undecided, saying so,
    and none is refuted for want of time."""
    net = make_network(layers=(3, 8, 8, 3), output="softmax", loss="ce")
    d = Derivation(net, budget=1e-4)
    full = {c.claim.id: c.outcome.verdict for c in Derivation(net).checks}
    undecided = [c for c in d.checks if c.outcome.verdict is Verdict.UNDECIDED]
    assert all(c.outcome.verdict in (Verdict.UNDECIDED, full[c.claim.id]) for c in d.checks)
    assert len(undecided) * 2 >= len(d.checks)
    assert all(c.outcome.note == "the time budget of 0.0001 s of CPU time ran out"
               for c in undecided)


@pytest.mark.parametrize("layers", [(1, 1), (2, 2), (1, 4, 1), (2, 3, 3, 3, 2)])
def test_every_depth_and_width_is_proved(layers):
    d = derivation(layers=layers, hidden="sigmoid")
    hidden = [c for c in d.checks if c.claim.id == "hidden-delta"]
    assert len(hidden) == len(layers) - 2
    assert all(c.outcome.verdict is Verdict.PROVED for c in d.checks
               if c.claim.id != "output-delta-canonical")


def test_without_biases_there_is_no_bias_check():
    d = derivation(bias=False)
    assert "bias-gradient" not in {c.claim.id for c in d.checks}
