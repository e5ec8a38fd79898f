"""Checking the equations people write: the catalogue, the check command, translation."""
from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings, strategies as st

from bpcheck.derive import BpcheckError, Verdict, load_notation, make_network
from bpcheck.derive.commands.catalogue import check_catalogue, network_of, notation_of
from bpcheck.derive.engine.claims import Claim, instances
from bpcheck.derive.engine.proof import Instance, prove
from bpcheck.derive.present.check import pins
from bpcheck.derive.commands.check import check_text
from bpcheck.derive.latex.binding import read
from naive import Semantics
from bpcheck.derive.commands.translate import translate
from bpcheck.equations import load_catalogue

# a typed layer's entries are read in its slice, not in a notation (tests/test_slices.py)
CATALOGUE = [(e, x) for e in load_catalogue() for x in e.expect if not e.layer]
BPCHECK = shutil.which("bpcheck")


@pytest.mark.parametrize("entry,expectation", CATALOGUE,
                         ids=[f"{e.id}[{x.describe()}]" for e, x in CATALOGUE])
def test_every_catalogue_entry_has_its_expected_verdict(entry, expectation):
    result = check_text(entry.latex, notation=notation_of(entry),
                        net=network_of(expectation), index=entry.index)
    assert str(result.verdict) == expectation.verdict
    # a wrong entry is the named mistake the catalogue says it is; a right one has none
    assert result.diagnosis.id == expectation.mistake
    if expectation.verdict == "refuted":
        assert expectation.mistake, "every wrong catalogue entry names its mistake"
    for r in result.readings:
        if r.outcome.verdict is Verdict.REFUTED:
            # refuted at a point where the sides differ, or by what does not exist (a
            # quantity, or a product of shapes that do not fit), named in the note
            ce = r.outcome.counterexample
            assert (sp.N(ce.lhs - ce.rhs, 30) != 0) if ce else r.outcome.note


def test_the_catalogue_covers_every_source_and_the_wrong_seed_claims():
    entries = load_catalogue()
    assert {e.source for e in entries} == {"bishop", "nielsen", "eglen", "goodfellow", "ng",
                                           "seeds", "ioffe-szegedy", "ba-kiros-hinton",
                                           "vaswani", "he", "pooling"}
    assert {"bishop-5.55", "bishop-5.56", "nielsen-37", "nielsen-38", "nielsen-bp2",
            "eglen-2c", "goodfellow-6.4-propagate", "ng-hidden-delta"} <= {e.id for e in entries}
    refuted = {e.id for e in entries if all(x.verdict == "refuted" for x in e.expect)}
    assert {"seed-da-k-da-j-is-kronecker", "seed-every-later-layer",
            "seed-nielsen-38-softmax", "seed-superscripts-output-delta",
            "goodfellow-wrong-no-transpose", "ng-wrong-off-by-one"} <= refuted


@pytest.mark.parametrize("text,notation,kw,verdict", [
    # the false claim of a seed answer: da_k/da_j is not the identity
    (r"\frac{\partial a_k}{\partial a_j} = I_{kj}", "bishop", {}, "refuted"),
    # it is w_kj h'(a_j)
    (r"\frac{\partial a_k}{\partial a_j} = w_{kj} h'(a_j)", "bishop", {}, "proved"),
    # a total derivative as many books write it, d for \partial: along every path
    (r"\frac{dE_n}{da_j} = \delta_j", "bishop", {}, "proved"),
    (r"\frac{d a_k}{d a_j} = w_{kj} h'(a_j)", "bishop", {}, "proved"),
    (r"\frac{d z^4_k}{d z^2_j} = w^4_{kj}", "nielsen", {"layers": (2, 3, 3, 2)}, "refuted"),
    (r"\delta_q = g'(a_q) \sum_k \delta_k w_{kq}", "eglen", {"bias": False}, "refuted"),
    (r"\delta_k = y_k - t_k", "eglen", {"bias": False}, "refuted"),  # Eglen's delta has the other sign
    (r"\delta_k = t_k - y_k", "eglen", {"bias": False}, "proved"),
    (r"\delta^L_j = a^L_j - y_j", "nielsen", {"output": "sigmoid", "loss": "bce"}, "proved"),
    (r"\delta^L_j = \sum_k \frac{\partial C}{\partial a^L_k} \frac{\partial a^L_k}{\partial z^L_j}",
     "nielsen", {"output": "softmax", "loss": "sse", "hidden": "relu"}, "proved"),
    # found by review: bounds are honoured, h and f, z and y keep their layers, ln is a function
    (r"a_j = \sum_{i=0}^{D} w_{ji} x_i", "bishop", {}, "proved"),  # x_0 = 1 carries the bias
    (r"h'(a_j) = 1 - z_j^2", "bishop", {"hidden": "tanh"}, "proved"),
    (r"\frac{\partial z_j}{\partial a_j} = z_j(1-z_j)", "bishop", {"hidden": "sigmoid"}, "proved"),
    (r"\frac{\partial z_j}{\partial a_j} = 1", "bishop", {"hidden": "relu"}, "refuted"),
    (r"E_n = -\sum_k t_k \ln y_k", "bishop", {"output": "softmax", "loss": "ce"}, "proved"),
    (r"\frac{\partial y_k}{\partial a_j} = y_k(\delta_{kj} - y_j)", "bishop",
     {"output": "softmax", "loss": "ce"}, "proved"),  # y_j makes j an output unit
    (r"z^l = w^l a^{l-1} + b^l", "nielsen", {}, "proved"),  # Nielsen's vector form
    (r"z^l = w^l a^{l-1}", "nielsen", {}, "refuted"),        # without the bias
])
def test_equations_as_written(text, notation, kw, verdict):
    assert str(check_text(text, notation=load_notation(notation), net=make_network(**kw)).verdict) == verdict


def test_softmax_cross_entropy_states_its_condition():
    r = check_text(r"\delta_k = y_k - t_k", notation=load_notation("bishop"),
                   net=make_network(output="softmax", loss="ce"))
    assert r.verdict is Verdict.PROVED
    (cond,) = r.readings[0].outcome.conditions
    assert isinstance(cond, sp.Eq) and cond.rhs == 1


def test_sums_over_different_layers_may_share_a_letter():
    r = check_text(load_catalogue_entry("seed-every-later-layer").latex,
                   notation=load_notation("nielsen"), net=make_network(layers=(2, 3, 3, 2)))
    assert r.verdict is Verdict.REFUTED


def load_catalogue_entry(id):
    return next(e for e in load_catalogue() if e.id == id)


@pytest.mark.parametrize("text,message", [
    (r"\delta_j = \sum_k \sum_k w_{kj} \delta_k", "summed twice"),
    (r"\delta_j = \frac{1}{0}", "divides by zero"),
    (r"E_n = \sum_{k=2}^{K} t_k", "a sum over part of a layer"),
    (r"\delta_j = h''(a_j)", "second derivatives"),
    (r"\delta_j = q_j", "unknown symbol q_{j}; the bishop notation knows"),
    (r"\delta_j = ", "column"),
    (r"\delta_j", "needs a left and a right side"),
    (r"\frac{\partial E_n}{a_j} = \delta_j", "\\partial on one side only"),
    (r"\delta_j = e^{\eta} z_j", "the learning rate must appear as a factor"),
    (r"a_7 = 1", "that layer has units 1 to"),
    (r"\delta_j = u(a_j)", "unknown symbol"),
])
def test_what_cannot_be_read_is_an_error_that_says_why(text, message):
    with pytest.raises(BpcheckError) as e:
        check_text(text, notation=load_notation("bishop"), net=make_network())
    assert message in str(e.value)


def test_softmax_written_as_elementwise_is_an_error_not_a_proof():
    with pytest.raises(BpcheckError, match="softmax of one weighted input alone is not defined"):
        check_text(r"a^L_j = \sigma(z^L_j)", notation=load_notation("nielsen"),
                   net=make_network(output="softmax", loss="ce"))


SOURCES = ("bishop", "nielsen", "eglen", "goodfellow", "ng")


@pytest.mark.parametrize("target", SOURCES)
@pytest.mark.parametrize("entry", [e for e in load_catalogue() if e.notation in SOURCES],
                         ids=lambda e: e.id)
def test_every_catalogue_entry_translates_to_an_equivalent_equation(entry, target):
    """The translation, read back in the target notation, is the same claim: each side
    equal to the source's side at every value of the indices, proved exactly."""
    x = entry.expect[0]
    net, source = network_of(x), load_notation(entry.notation)
    if target == "eglen" and net.bias and _mentions_bias(entry):
        pytest.skip("Eglen's notation has no biases")
    try:
        t = translate(entry.latex, source=source, target=load_notation(target), net=net,
                      index=entry.index)
    except BpcheckError as e:
        # a wrong claim about what the network does not have, or one letter on units of
        # two layers, has no translation; every other claim must translate
        assert all(x.verdict == "refuted" for x in entry.expect), str(e)
        pytest.skip(str(e))
    semantics = Semantics(net)
    for (letters, latex_out, _), sides in zip(t.readings, t.sides):
        _, back = read(latex_out, notation=load_notation(target), net=net)
        matches = [b.claims for b in back if
                   sorted(b.letters.values()) == sorted(v for k, v in letters.items() if not k.startswith("%"))]
        assert matches, (latex_out, letters)
        claims = matches[0]
        written = [claims[0].equation.lhs] + [c.equation.rhs for c in claims]
        for mine, theirs in zip(sides, written):
            eq = sp.Eq(mine, theirs, evaluate=False)
            free = tuple(sorted({i for i in eq.free_symbols if hasattr(i, "layer")}
                                - {l[0] for s in eq.atoms(sp.Sum) for l in s.limits}, key=str))
            outcome = prove([Instance(i, semantics.meaning(l), semantics.meaning(r)) for i, l, r
                             in instances(Claim("translation", 0, eq, free), net)])
            assert outcome.verdict is Verdict.PROVED, (entry.id, latex_out)


def _mentions_bias(entry):
    return "b^" in entry.latex or "_{j0}" in entry.latex


@pytest.mark.parametrize("source,target,text,out", [
    ("bishop", "eglen", r"\delta_j = h'(a_j) \sum_k w_{kj}\delta_k", "δ_q = g'(a_q) Σ_k δ_k w_qk"),
    ("bishop", "nielsen", r"\delta_k = y_k - t_k", "δ^L_j = a^L_j - y_j"),
    ("eglen", "bishop", r"\delta_k = t_k - y_k", "δ_k = y_k - t_k"),
])
def test_translation_renames_swaps_reverses_and_flips(source, target, text, out):
    t = translate(text, source=load_notation(source), target=load_notation(target),
                  net=make_network(bias=source != "eglen"))
    assert t.readings[0][2] == out


# -- untrusted input ------------------------------------------------------------------------

VALID = [e.latex for e in load_catalogue()]
alphabet = st.sampled_from(list("ajkzwxy_^{}()+-=*/'0123 \\") + [r"\frac", r"\partial", r"\sum",
                                                                    r"\delta", r"\odot", "^T"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), st.lists(alphabet, max_size=30).map("".join),
                 st.tuples(st.sampled_from(VALID), st.integers(0, 200), st.text(max_size=3),
                           st.integers(0, 3)).map(lambda t: t[0][:t[1]] + t[2] + t[0][t[1] + t[3]:])))
def test_any_text_gives_a_verdict_or_a_documented_error_quickly(text):
    start = time.perf_counter()
    try:
        r = check_text(text, notation=load_notation("bishop"), net=make_network(), budget=5)
        assert r.verdict in (Verdict.PROVED, Verdict.REFUTED, Verdict.UNDECIDED)
    except BpcheckError:
        pass
    assert time.perf_counter() - start < 20


# -- the command ---------------------------------------------------------------------------

def run(*args):
    return subprocess.run([BPCHECK, *args], capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed")
@pytest.mark.parametrize("args,status,verdict", [
    ([r"\delta_j = h'(a_j) \sum_k w_{kj}\delta_k", "--notation", "bishop"], 0, "proved"),
    ([r"\delta^L_j = \frac{\partial C}{\partial a^L_j} \sigma'(z^L_j)", "--notation", "nielsen",
      "--output", "softmax", "--loss", "ce"], 1, "refuted"),
    ([r"\delta_k = y_k - t_k", "--notation", "bishop", "--layers", "3,8,8,3", "--output",
      "softmax", "--loss", "sse", "--budget", "0.0001"], 3, "undecided"),
    ([r"\delta_j = \frac{\partial C}{\partial a_j}\sigma'(z_j)", "--notation", "nielsen",
      "--output", "softmax", "--loss", "ce"], 4, "ambiguous"),
])
def test_check_exit_status_and_json(args, status, verdict):
    p = run("check", *args, "--json")
    assert p.returncode == status, p.stderr
    data = json.loads(p.stdout)
    assert data["verdict"] == verdict
    assert {"verdict", "claim_latex", "conditions", "counterexample"} <= set(data)
    # an ambiguous verdict shows where its refuted reading fails
    assert (data["counterexample"] is not None) == (verdict in ("refuted", "ambiguous"))
    if verdict == "ambiguous":
        assert {(x["pin"], x["verdict"]) for x in data["readings"]} == {
            ("--index j=hidden", "proved"), ("--index j=output", "refuted")}


@pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed")
@pytest.mark.parametrize("args,message", [
    ([r"\delta_j = \foo", "--notation", "bishop"], "column"),
    ([r"\delta_j = h'(a_j)", "--notation", "klingon"], "unknown notation 'klingon'"),
    ([r"x" * 10_001, "--notation", "bishop"], "10"),
    ([r"\delta_j = 1", "--notation", "bishop", "--index", "j"], "LETTER=LAYER"),
    (["--notation", "bishop"], "give one equation"),
])
def test_check_bad_input_is_one_line_and_status_2(args, message):
    p = run("check", *args)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and message in p.stderr


@pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed")
def test_check_a_file_gives_a_table_and_the_worst_status(tmp_path):
    tex = tmp_path / "notes.tex"
    tex.write_text(r"""Some prose.
\begin{equation}\delta^L_j = \frac{\partial C}{\partial z^L_j}\end{equation}
and \[ \delta^L_j = \frac{\partial C}{\partial a^L_j} \sigma'(z^L_j) \] then
\begin{align*} \delta^l &= ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l) \\
 \frac{\partial C}{\partial b^l_j} &= \delta^l_j \end{align*}
""")
    p = run("check", "--file", str(tex), "--notation", "nielsen", "--output", "softmax",
            "--loss", "ce", "--json")
    assert p.returncode == 1
    verdicts = [r["verdict"] for r in json.loads(p.stdout)["results"]]
    assert verdicts == ["proved", "refuted", "proved", "proved"]
    lines = tmp_path / "eqs.txt"
    lines.write_text("\\delta_k = y_k - t_k\n% a comment\n\\delta_k = \\zeta\n")
    p = run("check", "--file", str(lines), "--notation", "bishop")
    assert p.returncode == 2 and "error" in p.stdout and "proved" in p.stdout


@pytest.mark.slow
@pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed")
def test_catalogue_command_lists_verdicts_computed_now():
    p = run("catalogue", "--source", "nielsen", "--json")
    assert p.returncode == 0, p.stderr
    entries = json.loads(p.stdout)["entries"]
    assert entries and all(e["agrees"] for e in entries)
    assert {e["source"] for e in entries} == {"nielsen"}
    p = run("catalogue", "--id", "no-such-entry")
    assert p.returncode == 2 and "no catalogue entry" in p.stderr


@pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed")
def test_translate_command():
    p = run("translate", r"\delta_k = y_k - t_k", "--from", "bishop", "--to", "nielsen", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["text"] == "δ^L_j = a^L_j - y_j"


@pytest.mark.parametrize("inner", [r"\sum_k x_k", r"\sum_i x_i"])
def test_a_sum_inside_a_power_gets_an_index_of_its_own(inner):
    """Every pass reaches every node (one generic visitor): the second k, inside a power,
    is its own index, as the first one is."""
    r = check_text(rf"\delta_j = h'(a_j)\sum_k w_{{kj}}\delta_k + 0\cdot({inner})^2",
                   notation=load_notation("bishop"), net=make_network())
    assert r.verdict is Verdict.PROVED
    assert r.readings[0].letters["j"] == 1 and r.readings[0].letters["k"] == 2


@pytest.mark.parametrize("layers", [(2, 3, 2), (2, 2, 2)])
def test_a_weight_with_its_indices_swapped_is_refuted_naming_the_weight(layers):
    """A wrong equation that parses is a verdict: no connection runs the way w_{jk} says."""
    r = check_text(r"\delta_j = h'(a_j) \sum_k w_{jk} \delta_k", notation=load_notation("bishop"),
                   net=make_network(layers=layers))
    assert r.verdict is Verdict.REFUTED
    note = r.deciding.outcome.note
    assert "w_{jk}" in note and "from layer 2 into layer 1" in note and "w_{kj}" in note


@pytest.mark.parametrize("text,words", [
    # k is a hidden unit (h is the hidden activation) and y_k the output of the same number
    (r"y_k = h(a_k)", "at k = 3: y_3 does not exist"),
    (r"w^{(5)}_{ji} = 0", "its layer mark for one into layer 5"),
])
def test_a_quantity_the_network_does_not_have_refutes_the_claim(text, words):
    r = check_text(text, notation=load_notation("bishop"), net=make_network())
    assert r.verdict is Verdict.REFUTED and words in r.deciding.outcome.note


def test_nielsens_bp2_with_the_weight_of_the_wrong_layer_is_refuted():
    r = check_text(r"\delta^l = ((w^{l})^T \delta^{l+1}) \odot \sigma'(z^l)",
                   notation=load_notation("nielsen"), net=make_network())
    assert r.verdict is Verdict.REFUTED
    assert r.deciding.outcome.note == (r"(w^{l})^{T} has 3 columns and \delta^{l + 1} 2 rows: "
                                       "their product does not exist")


@pytest.mark.parametrize("text,notation,kw", [
    (r"\delta_{nk} = y_{nk} - t_{nk}", "bishop", {}),
    (r"\frac{\partial a_{k'}}{\partial a_k} = I_{k'k}", "bishop", {}),
    (r"\sigma'(z^l) = a^l \circ (1 - a^l)", "nielsen", {"hidden": "sigmoid"}),
])
def test_equations_as_courses_write_them_are_proved(text, notation, kw):
    r = check_text(text, notation=load_notation(notation), net=make_network(**kw))
    assert r.verdict is Verdict.PROVED, [(x.letters, x.outcome) for x in r.readings]


AMBIGUOUS = r"\delta_j = \frac{\partial C}{\partial a_j}\sigma'(z_j)"  # true but at a softmax


def test_readings_that_disagree_are_ambiguous_each_with_the_index_that_pins_it():
    net = make_network(output="softmax", loss="ce")
    r = check_text(AMBIGUOUS, notation=load_notation("nielsen"), net=net)
    assert r.verdict is Verdict.AMBIGUOUS and r.status == 4
    assert sorted((pin, str(v)) for pin, v in pins(r)) == [
        ("--index j=hidden", "proved"), ("--index j=output", "refuted")]
    for value, verdict in (("hidden", Verdict.PROVED), ("output", Verdict.REFUTED)):
        pinned = check_text(AMBIGUOUS, notation=load_notation("nielsen"), net=net,
                            index={"j": value})
        assert pinned.verdict is verdict


def test_instances_in_several_hidden_layers_are_one_claim_not_two_readings():
    """j in hidden layer 1 and in hidden layer 2 are one claim about hidden units: the
    claim must hold in both, so one failure refutes it (not ambiguous)."""
    net = make_network(layers=(2, 3, 3, 2), output="softmax", loss="ce")
    r = check_text(AMBIGUOUS, notation=load_notation("nielsen"), net=net, index={"j": "hidden"})
    assert r.verdict is Verdict.PROVED and {x.letters["j"] for x in r.readings} == {1, 2}
    wrong = check_text(r"\delta_j = \frac{\partial C}{\partial a_j}", notation=load_notation("nielsen"),
                       net=net, index={"j": "hidden"})
    assert wrong.verdict is Verdict.REFUTED


def test_a_kronecker_delta_of_units_of_two_layers_is_zero_never_an_equation_of_indices():
    net = make_network(layers=(2, 2, 2))
    r = check_text(r"\frac{\partial a_k}{\partial a_j} = I_{kj}", notation=load_notation("bishop"),
                   net=net, index={"j": "hidden", "k": "output"})
    assert r.verdict is Verdict.REFUTED  # ∂a_k/∂a_j is w_kj h'(a_j), not 0
    r = check_text(r"\frac{\partial a_k}{\partial z_j} = I_{kj}", notation=load_notation("bishop"),
                   net=net, index={"j": "input", "k": "output"})
    assert r.verdict is Verdict.REFUTED
    assert all(x.letters["j"] != x.letters["k"] for x in r.readings)


@pytest.mark.parametrize("text,layers,verdict,note", [
    # a gradient has the shape of what it differentiates by: dC/dw^l is a matrix, the
    # outer product of delta^l and a^{l-1}
    (r"\frac{\partial C}{\partial w^l} = \delta^l (a^{l-1})^T", (2, 3, 2), Verdict.PROVED, ""),
    (r"\nabla_{w^l} C = \delta^l (a^{l-1})^{\top}", (2, 3, 2), Verdict.PROVED, ""),
    (r"\frac{\partial C}{\partial w^l} = a^{l-1} (\delta^l)^T", (2, 3, 2), Verdict.REFUTED,
     r"\frac{\partial C}{\partial w^{l}} has 3 rows and a^{l - 1} (\delta^{l})^{T} 2 rows: "
     "the sides have different shapes"),
    (r"\frac{\partial C}{\partial w^l} = a^{l-1} (\delta^l)^T", (2, 2, 2), Verdict.REFUTED,
     r"the rows of \frac{\partial C}{\partial w^{l}} are the units of layer 2, the rows of "
     r"a^{l - 1} (\delta^{l})^{T} those of layer 1"),
    (r"\frac{\partial C}{\partial w^l} = \delta^l a^{l-1}", (2, 3, 2), Verdict.REFUTED,
     r"\delta^{l} (a column) times a^{l - 1} (a column) does not exist"),
    (r"\delta^l = (w^{l+1} \delta^{l+1}) \odot \sigma'(z^l)", (2, 3, 2), Verdict.REFUTED,
     r"w^{l + 1} has 3 columns and \delta^{l + 1} 2 rows: their product does not exist"),
    (r"\delta^L = (a^L - y) \sigma'(z^L)", (2, 3, 2), Verdict.REFUTED,
     r"a^{L} - y (a column) times \sigma'(z^{L}) (a column) does not exist"),
    (r"\delta^L = (a^L - y) \circ \sigma'(z^L)", (2, 3, 2), Verdict.PROVED, ""),
])
def test_matrix_forms_are_read_with_shapes_and_a_mismatch_is_a_verdict(text, layers, verdict, note):
    r = check_text(text, notation=load_notation("nielsen"), net=make_network(layers=layers))
    assert r.verdict is verdict and r.deciding.outcome.note == note


@pytest.mark.parametrize("text,notation,verdict", [
    (r"\Delta w_{ji} = -\eta \delta_j z_i", "bishop", Verdict.PROVED),
    (r"\Delta w_{ji} = \eta \delta_j z_i", "bishop", Verdict.REFUTED),          # ascent
    (r"\Delta w_{ji} = -\eta^2 \delta_j z_i", "bishop", Verdict.REFUTED),       # not for every eta
    (r"\Delta w_{ji} = -\delta_j z_i", "bishop", Verdict.REFUTED),              # eta dropped
    (r"w_{ji} \leftarrow w_{ji} - \eta \delta_j z_i", "bishop", Verdict.PROVED),
    (r"w_{ji} \gets w_{ji} + \eta \delta_j z_i", "bishop", Verdict.REFUTED),
    (r"w_{ji} := w_{ji} - \eta \frac{\partial E_n}{\partial w_{ji}}", "bishop", Verdict.PROVED),  # on-line
    (r"w_{ji} := w_{ji} - \eta \sum_n \frac{\partial E_n}{\partial w_{ji}}", "bishop", Verdict.PROVED),
    (r"w_{ji} := w_{ji} - \frac{\eta}{N} \sum_n \frac{\partial E_n}{\partial w_{ji}}", "bishop",
     Verdict.REFUTED),                                                          # Bishop's E sums
    (r"w^l \rightarrow w^l - \eta \delta^l (a^{l-1})^T", "nielsen", Verdict.PROVED),
    (r"b^l \to b^l - \eta \delta^l", "nielsen", Verdict.PROVED),
    (r"w^l \to w^l - \eta (\delta^l)^T a^{l-1}", "nielsen", Verdict.REFUTED),
])
def test_a_gradient_descent_update_is_a_claim_about_the_step(text, notation, verdict):
    r = check_text(text, notation=load_notation(notation), net=make_network())
    assert r.verdict is verdict


def test_an_inequation_is_not_decided_as_an_equation():
    with pytest.raises(BpcheckError, match=r"\\neq: bpcheck decides equations"):
        check_text(r"a_j \neq z_j", notation=load_notation("bishop"), net=make_network())


@pytest.mark.parametrize("text,verdict,note", [
    # an input written per connection: x_{ji} is what unit i sends unit j
    (r"\Delta w_{ji} = -\eta \delta_j x_{ji}", Verdict.PROVED, ""),
    (r"\frac{\partial E_n}{\partial w_{j0}} = \delta_j x_{j0}", Verdict.PROVED, ""),
    (r"\Delta w_{ji} = -\eta \delta_j x_{ij}", Verdict.REFUTED,
     "x_{ij} would be the input to unit i (the input layer (0)) from unit j (hidden layer 1); "
     "a unit's inputs come from the layer before it: the input between these units is x_{ji}"),
    # an activation written per unit: h_j is the activation of j's layer
    (r"\delta_j = h_j'(a_j) \sum_k w_{kj}\delta_k", Verdict.PROVED, ""),
    (r"\delta_j = h'_j(a_j) \sum_k w_{kj}\delta_k", Verdict.PROVED, ""),
])
def test_inputs_per_connection_and_activations_per_unit(text, verdict, note):
    r = check_text(text, notation=load_notation("bishop"), net=make_network())
    assert r.verdict is verdict and r.deciding.outcome.note == note


@pytest.mark.parametrize("text,layers,verdict", [
    # a letter free in the equation and summed too: the sum's is a letter of its own
    (r"\delta_j = \sum_j \delta_j", (2, 3, 2), Verdict.REFUTED),
])
def test_a_letter_free_and_summed_is_two_letters(text, layers, verdict):
    r = check_text(text, notation=load_notation("bishop"), net=make_network(layers=layers))
    assert r.verdict is verdict


@pytest.mark.parametrize("layers,words", [
    ((2, 2, 2), ""),                                  # refuted at a point: delta^2_1 != delta^L_1
    ((2, 3, 2), "at j = 3: δ^L_3 does not exist"),    # j runs over layer 2's three units
])
def test_a_letter_on_units_of_two_layers_is_the_same_number_in_both(layers, words):
    r = check_text(r"\delta^2_j = \delta^L_j", notation=load_notation("nielsen"),
                   net=make_network(layers=layers))
    assert r.verdict is Verdict.REFUTED and r.deciding.outcome.note == words
    assert (r.deciding.outcome.counterexample is None) == bool(words)


def test_without_a_notation_the_shipped_notation_that_reads_it_decides_and_is_named():
    from bpcheck.derive.commands.check import check_any
    from bpcheck.derive.present.check import check_json, notation_words, pins
    r = check_any(r"\delta_j = h'(a_j) \sum_k w_{kj}\delta_k", net=make_network())
    assert (r.notation.name, r.verdict, r.also) == ("bishop", Verdict.PROVED, ())
    assert notation_words(r) == "none given: read in bishop's (--notation bishop)"
    # Bishop's delta is +dE/da, Eglen's -dE/da: the notations that read it disagree
    r = check_any(r"\delta_k = y_k - t_k", net=make_network())
    assert r.verdict is Verdict.AMBIGUOUS and r.status == 4
    assert pins(r) == [("--notation bishop", Verdict.PROVED), ("--notation eglen", Verdict.REFUTED)]
    assert check_json(r)["also_read_in"] == {"eglen": "refuted"}
    # the verdict shown under the reading is that notation's, never the claim's
    from bpcheck.derive.present.check import outcome_lines
    line = next(x for x in outcome_lines(r, r.deciding) if x.verdict is not None)
    assert (line.verdict, line.note) == (Verdict.PROVED, "in bishop's notation")
    with pytest.raises(BpcheckError, match=r"no shipped notation reads this equation \(each: "
                                           r"unknown symbol \\zeta\)"):
        check_any(r"\zeta = 1", net=make_network())


@pytest.mark.slow
def test_the_catalogue_in_two_processes_is_the_catalogue_in_one_in_its_order():
    key = lambda rows: [(r.entry.id, r.verdict, r.mistake) for r in rows]
    told = []
    two = check_catalogue(source="ng", jobs=2, progress=lambda done, total, what: told.append(done))
    assert key(two) == key(check_catalogue(source="ng", jobs=1))
    assert told == list(range(len(two) + 1))


def test_jobs_below_one_is_one_line_and_exit_2():
    out = subprocess.run([BPCHECK, "catalogue", "--source", "ng", "--jobs", "0"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == "bpcheck: error: --jobs 0: give a number of processes, 1 or more\n"


def test_a_relu_output_under_an_abstract_hidden_layer_is_decided_not_a_crash():
    """The side of the output's kink is read at the point with the hidden layer's values
    (it was an internal error: the abstract activations were left inside the side)."""
    r = check_text(r"\delta_k = h'(a_k)(y_k - t_k)", notation=load_notation("bishop"),
                   net=make_network(output="relu"))
    assert r.verdict is Verdict.REFUTED and r.diagnosis.correct is not None
    assert check_text(r"\delta_k = f'(a_k)(y_k - t_k)", notation=load_notation("bishop"),
                      net=make_network(output="relu")).verdict is Verdict.PROVED
