"""Mini-batches: a claim about N patterns decided exactly as one about a pattern and N
(latex/batch.py), in Bishop's notation (E the batch's sum), Nielsen's (C its mean) and a
notation of batch matrices (examples/batch-matrices.toml); what is not linear in the batch
is not read, with the reason. The independent oracle on batches of distinct patterns is
tests/test_batch_oracle.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from bpcheck.derive import BpcheckError, UsageError, Verdict, load_notation, make_network
from bpcheck.derive.commands.check import check_text
from bpcheck.derive.io.notation_file import parse_notation
from bpcheck.derive.present.check import read_as

MATRICES = str(Path(__file__).parents[1] / "examples" / "batch-matrices.toml")


def _check(notation: str, text: str, **kw):
    return check_text(text, notation=load_notation(notation), net=make_network(**kw))


# (notation, claim, verdict, mistake)
DECIDED = [
    ("bishop", r"\frac{\partial E}{\partial w_{ji}} = \sum_n \delta_{nj} z_{ni}", "proved", None),
    ("bishop", r"E = \sum_{n=1}^{N} E_n", "proved", None),
    ("bishop", r"\frac{\partial E}{\partial w_{ji}} = \sum_{n=1}^{N} \frac{\partial E_n}{\partial w_{ji}}",
     "proved", None),
    ("bishop", r"\Delta w_{ji} = -\eta \sum_n \delta_{nj} z_{ni}", "proved", None),
    ("bishop", r"w_{ji} \leftarrow w_{ji} - \eta \sum_n \delta_{nj} z_{ni}", "proved", None),
    ("bishop", r"\Delta_n w_{ji} = -\eta \delta_{nj} z_{ni}", "proved", None),
    ("bishop", r"\frac{\partial E}{\partial a_{nj}} = \delta_{nj}", "proved", None),
    ("bishop", r"\frac{\partial E}{\partial w_{ji}} = \frac{1}{N}\sum_n \delta_{nj} z_{ni}",
     "refuted", "batch-mean-extra"),
    ("bishop", r"\Delta w_{ji} = -\frac{\eta}{N} \sum_n \delta_{nj} z_{ni}", "refuted",
     "batch-mean-extra"),
    ("bishop", r"E = \frac{1}{N} \sum_n E_n", "refuted", "batch-mean-extra"),
    ("bishop", r"\frac{\partial E}{\partial w_{ji}} = \sum_n \delta_{ni} z_{nj}", "refuted",
     "swapped-weight-indices"),
    ("nielsen", r"C = \frac{1}{n}\sum_x C_x", "proved", None),
    ("nielsen", r"\frac{\partial C}{\partial w^l_{jk}} = \frac{1}{n}\sum_x a^{l-1}_{xk} \delta^l_{xj}",
     "proved", None),
    ("nielsen", r"\frac{\partial C}{\partial b^l_j} = \sum_x \delta^l_{xj}", "refuted",
     "batch-mean-missing"),
    ("nielsen", r"\frac{\partial C}{\partial b^l_j} = \frac{1}{n^2}\sum_x \delta^l_{xj}", "refuted",
     "batch-mean-extra"),
    ("nielsen", r"\frac{\partial C}{\partial z^l_{xj}} = \frac{1}{n} \delta^l_{xj}", "proved", None),
    ("nielsen", r"\frac{\partial C}{\partial z^l_{xj}} = \delta^l_{xj}", "refuted",
     "batch-mean-missing"),
    # one pattern at a time where the claim writes no batch: Nielsen's BP4 as printed
    ("nielsen", r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j", "proved", None),
    (MATRICES, r"\frac{\partial E}{\partial W^{(2)}} = \frac{1}{N} D^{(2)} (Z^{(1)})^T", "proved",
     None),
    (MATRICES, r"\frac{\partial E}{\partial W^{(l)}} = \frac{1}{N} D^{(l)} (Z^{(l-1)})^T", "proved",
     None),
    (MATRICES, r"\frac{\partial E}{\partial W^{(2)}} = D^{(2)} (Z^{(1)})^T", "refuted",
     "batch-mean-missing"),
    (MATRICES, r"D^{(1)} = ((W^{(2)})^T D^{(2)}) \odot h'(A^{(1)})", "proved", None),
    (MATRICES, r"D^{(1)} = (W^{(2)} D^{(2)}) \odot h'(A^{(1)})", "refuted",
     "swapped-weight-indices"),
    (MATRICES, r"\frac{\partial E}{\partial W^{(2)}} = \frac{1}{N} D^{(2)} Z^{(1)}", "refuted",
     "shapes-do-not-fit"),
]


@pytest.mark.parametrize("notation,text,verdict,mistake", DECIDED,
                         ids=[f"{Path(n).stem}:{t}" for n, t, _, _ in DECIDED])
def test_a_batch_claim_is_decided_and_its_mistake_named(notation, text, verdict, mistake):
    r = _check(notation, text)
    assert str(r.verdict) == verdict
    assert r.diagnosis.id == mistake


def test_the_sum_over_patterns_was_a_refutation_of_a_true_claim_and_is_now_proved():
    # read before as a sum over the units of a layer "n": a true equation refuted
    r = _check("bishop", r"\frac{\partial E}{\partial w_{ji}} = \sum_n \delta_{nj} z_{ni}")
    assert r.verdict is Verdict.PROVED
    assert {c.batch for reading in r.readings for c in reading.claims} == {2}


def test_a_claim_is_decided_at_as_many_batch_sizes_as_its_degree_in_N_needs():
    # N dE_n/dw = delta z (a degree-1 polynomial in N): two sizes; N (dE_n/dw - delta z): one
    r = _check("bishop", r"\frac{\partial E}{\partial w_{ji}} = \frac{1}{N}\sum_n \delta_{nj} z_{ni}")
    assert [c.batch for c in r.readings[0].claims] == [2, 1]
    r = _check("bishop", r"E = \sum_n \frac{1}{N^2} E_n")
    assert [c.batch for c in r.readings[0].claims] == [2, 1, 3]
    assert r.verdict is Verdict.REFUTED


def test_a_refutation_says_which_batch_it_is_in():
    r = _check("nielsen", r"\frac{\partial C}{\partial b^l_j} = \sum_x \delta^l_{xj}")
    reading = r.deciding
    assert reading.outcome.note.startswith("in a mini-batch of N = 2 patterns, each of them at "
                                           "this point")
    assert read_as(r, reading).startswith("at N = 2: ∂C/∂b^2_j = 2 δ^2_j; at N = 1: ")
    assert r.diagnosis.repaired == r"\frac{\partial C}{\partial b_{j}^{l}} = \frac{1}{n} \sum_{x} \delta_{xj}^{l}"
    assert r.diagnosis.convention == ("true with C the sum of the patterns' errors, C = sum_x "
                                      "C_x, as Bishop writes it")


@pytest.mark.parametrize("text,words", [
    (r"E = (\sum_n E_n)^2", "a power of the whole batch's quantities is not linear"),
    (r"\frac{\partial E}{\partial w_{ji}} = \frac{\sum_n \delta_{nj} z_{ni}}{\sum_n 1}",
     "a quotient of the whole batch's quantities is not linear"),
    (r"E \sum_n E_n = 0", "a product of the whole batch's quantities is not linear"),
    (r"\frac{\partial E}{\partial w_{ji}} = \sum_{n=2}^{N} \delta_{nj} z_{ni}",
     "a sum over part of the batch is not supported"),
    (r"\ln N = \sum_n \delta_{nj}", "the batch size stands inside a function"),
])
def test_what_is_not_linear_in_the_batch_is_not_read_and_says_why(text, words):
    with pytest.raises(BpcheckError, match=None) as e:
        _check("bishop", text)
    assert words in str(e.value)


NOTATION = (Path(MATRICES).read_text())


@pytest.mark.parametrize("edit,message", [
    (lambda s: s.replace('total = "mean"', 'total = "average"'), "total = 'average' is not one of"),
    (lambda s: s.replace('layout = "columns"', 'layout = "diagonal"'), "layout = 'diagonal'"),
    (lambda s: s.replace('size = "N"', 'size = "W"'), "'W' is already weight"),
    (lambda s: s.replace('delta = "D"', 'bias = "D"'), "bias"),
    (lambda s: s.replace('size = "N"', 'size = "N"\nbatch = 3'), "batch"),
])
def test_a_bad_pattern_table_names_the_key(edit, message):
    with pytest.raises(UsageError) as e:
        parse_notation(edit(NOTATION), source="batch.toml")
    assert message in str(e.value)


def test_a_notation_says_how_a_batch_is_written():
    n = load_notation(MATRICES)
    assert (n.pattern, n.batch.size, n.batch.total, n.batch.layout) == ("n", "N", "mean", "columns")
    assert dict(n.batch.matrices) == {"weighted_input": "A", "unit_output": "Z", "delta": "D"}
    assert load_notation("bishop").batch.total == "sum"
    assert (load_notation("nielsen").pattern, load_notation("nielsen").batch.size) == ("x", "n")


@pytest.mark.parametrize("text,verdict", [
    (r"\frac{\partial E}{\partial W^{(2)}} = \frac{1}{N} (D^{(2)})^T Z^{(1)}", Verdict.PROVED),
    (r"D^{(1)} = (D^{(2)} W^{(2)}) \odot h'(A^{(1)})", Verdict.PROVED),
    # a column-per-pattern formula, in a notation with a row per pattern: shapes differ
    (r"\frac{\partial E}{\partial W^{(2)}} = \frac{1}{N} D^{(2)} (Z^{(1)})^T", Verdict.REFUTED),
])
def test_batch_matrices_with_a_row_per_pattern_are_read_by_their_rows(text, verdict):
    rows = parse_notation(NOTATION.replace('layout = "columns"', 'layout = "rows"'),
                          source="rows.toml")
    assert check_text(text, notation=rows, net=make_network()).verdict is verdict


@pytest.mark.parametrize("notation,text", [
    ("bishop", r"\frac{\partial E}{\partial w_{ji}} = \delta_{nj} z_{ni}"),
    ("bishop", r"E = E_n"),
    ("bishop", r"\Delta w_{ji} = -\eta \delta_{nj} z_{ni}"),
    ("nielsen", r"\frac{\partial C}{\partial b^l_j} = \frac{1}{n} \delta^l_{xj}"),
])
def test_the_batch_error_beside_one_patterns_term_is_refuted_with_the_sum_missing(notation, text):
    # E beside pattern n's quantities is the batch's (Bishop's E = sum_n E_n): once read as
    # E_n and proved, false for every batch of two patterns
    r = _check(notation, text)
    assert r.verdict is Verdict.REFUTED and r.diagnosis.id == "batch-sum-missing"
    assert r.deciding.outcome.note.startswith("in a mini-batch of N = 2 patterns")


@pytest.mark.parametrize("notation,text", [
    ("bishop", r"\frac{\partial E}{\partial w_{ji}} = N \delta_{nj} z_{ni}"),
    ("bishop", r"\frac{\partial E}{\partial w_{ji}} = N \delta_j z_i"),
    ("nielsen", r"\frac{\partial C}{\partial b^l_j} = \delta^l_{xj}"),
])
def test_one_patterns_term_for_the_whole_batch_is_undecided_never_proved(notation, text):
    # true where every pattern of the batch is alike, false where they differ: the
    # reduction to one pattern cannot tell, and says so
    r = _check(notation, text)
    assert r.verdict is Verdict.UNDECIDED
    assert "it holds where every pattern of the batch is alike" in r.deciding.outcome.note


def test_a_layer_mark_below_the_first_layer_is_a_refutation_naming_it():
    r = _check(MATRICES, r"\frac{\partial E}{\partial W^{(1)}} = \frac{1}{N} D^{(1)} (Z^{(-1)})^T")
    assert r.verdict is Verdict.REFUTED
    assert "the network has no layer -1" in r.deciding.outcome.note
