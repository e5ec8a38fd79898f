"""Soundness against an independent oracle, on claims the tests did not choose: the
engine's own equations in every shipped notation and generated mutations of them
(tests/soundness.py), each judged by a forward pass in mpmath (tests/oracle.py).
bench/soundness.py runs every case and prints the confusion table."""
from __future__ import annotations

import random
from dataclasses import replace

import pytest

from oracle import Oracle, judge
from soundness import EXPECTED, QUICK, cases, catalogue_cases, check
from bpcheck.derive.engine.claims import all_claims
from bpcheck.derive.model.network import make_network

CASES = list(cases(networks=QUICK))
SAMPLE = (random.Random(20261201).sample(CASES, 100)
          + random.Random(1).sample(list(catalogue_cases(QUICK[:2])), 40))


def test_the_oracle_agrees_with_every_claim_the_engine_derives():
    """The oracle is independent, so first it must agree with what differentiating the
    network gives (softmax's diagonal claims are the engine's own refuted ones)."""
    for kw in QUICK:
        net = make_network(**kw)
        for claim in all_claims(net):
            word = judge([claim], net, points=1)
            softmax_diagonal = net.output.name == "softmax" and claim.id in (
                "output-delta-diagonal", "output-delta-canonical") and net.loss.name != "ce"
            expected = "differ" if softmax_diagonal or (
                net.output.name == "softmax" and claim.id == "output-delta-diagonal") else "agree"
            assert word == expected, (kw, claim.id)


def test_the_oracle_sees_a_wrong_claim():
    net = make_network(hidden="sigmoid")
    claim = all_claims(net)[3]  # the hidden delta
    wrong = type(claim)(claim.id, claim.layer, claim.equation.func(claim.equation.lhs,
                                                                    2 * claim.equation.rhs),
                        claim.free)
    assert judge([wrong], net) == "differ"
    assert Oracle(net, random.Random(1)).forward()["E"] > 0


@pytest.mark.parametrize("case", SAMPLE, ids=lambda c: f"{c.notation}-{c.kind}")
def test_a_generated_claim_is_never_proved_or_refuted_against_the_oracle(case):
    judged = check(case)
    assert judged.verdict != "crashed", judged.note
    assert not judged.false_proved, (judged.readings, judged.note)
    assert not judged.false_refuted, (judged.readings, judged.note)
    if case.kind == "engine":  # the engine's own claims, printed and read back: decided
        assert judged.correct, (case.latex, judged.verdict, judged.readings, judged.note)
    # the right equation a diagnosis offers is true by the oracle too
    assert judged.right in ("", "agree"), (case.latex, judged.right)
    if judged.verdict == "proved":
        assert judged.mistake is None


@pytest.mark.slow
def test_a_generated_mistake_is_named_as_the_mutation_that_made_it():
    """Of the refuted mutations that are a named mistake, at least 90% get that name; any
    other name given is one whose variant the claim was proved to be (engine/diagnose.py)."""
    judged = [check(c) for c in SAMPLE if c.kind in EXPECTED]
    # a mutation of a true equation is one mistake; of a false one (softmax's diagonal), two
    base = lambda c: check(replace(c, kind="engine", latex=c.base)).oracle
    refuted = [j for j in judged if j.verdict == "refuted" and base(j.case) == "true"]
    named = [j for j in refuted if j.mistake == j.expected_mistake]
    assert len(refuted) >= 20
    assert len(named) >= 0.9 * len(refuted), [(j.case.latex, j.case.kind, j.mistake)
                                              for j in refuted if j not in named]


@pytest.mark.slow
def test_the_quick_sample_is_decided():
    judged = [check(c) for c in SAMPLE[:40]]
    assert sum(j.correct for j in judged) >= 0.95 * len(judged)
