"""The quick tier of the fuzz suite: a few generated hostile or careless inputs of every
kind, each run as the command line runs it and judged (tests/fuzz/cases.py). The long run
is bench/fuzz.py."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cases import KINDS, Ran, judge, run


@pytest.mark.every_case  # every kind of input, even in the quick tier: it is cheap
@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rng=st.randoms(use_true_random=False))
def test_hostile_input_ends_in_one_line_or_a_verdict_within_its_budget(kind, rng, tmp_path):
    ran = run(KINDS[kind](rng, tmp_path))
    assert judge(ran) == [], ran.argv


def test_the_judge_sees_what_is_wrong():
    assert judge(Ran(("check",), 70, "", "bpcheck: internal error: TypeError", 0.1))
    assert judge(Ran(("check",), 2, "", "one\ntwo\n", 0.1))
    assert judge(Ran(("check",), 1, "at pre1[1]", "", 0.1))
    assert judge(Ran(("check", "--budget", "1"), 3, "", "", 2.5))
    assert judge(Ran(("check", "--budget", "1"), 0, "proved", "", 0.5)) == []
