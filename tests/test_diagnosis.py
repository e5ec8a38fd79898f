"""Diagnosis: each named mistake, in two notations, is found where it was made (and proved:
the claim is that variant of the right equation, or its repair is proved), is not given to
a claim that only looks like it (that one is proved, with no diagnosis), nor to a claim
that is wrong in another way. The right equation offered is checked by the oracle."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from oracle import judge
from bpcheck.derive.commands.check import check_text
from bpcheck.derive.engine.claims import Claim
from bpcheck.derive.engine.mistakes import BY_ID, MISTAKES
from bpcheck.derive.engine.proof import Verdict
from bpcheck.derive.io.notation_file import load_notation
from bpcheck.derive.model.network import UnitIndex, make_network
from bpcheck.derive.present.check import check_json

P = "'"
HIDDEN_DELTA = r"\delta_j = h'(a_j)\sum_k w_{kj}\delta_k"
NIELSEN_BP2 = r"\delta^l_j = \sum_k w^{l+1}_{kj}\delta^{l+1}_k \sigma'(z^l_j)"

# (mistake, notation, network, the mistake made, a claim like it that is true, a claim
# wrong in another way); index pins go in the network dict as "index"
TABLE = [
    ("missing-activation-derivative", "bishop", {}, r"\delta_j = \sum_k w_{kj}\delta_k",
     None, r"\delta_j = 2 h'(a_j) \sum_k w_{kj}\delta_k"),
    ("missing-activation-derivative", "bishop", {"hidden": "identity"}, None,
     r"\delta_j = \sum_k w_{kj}\delta_k", None),
    ("missing-activation-derivative", "nielsen", {"output": "sigmoid"},
     r"\delta^L_j = a^L_j - y_j", r"\delta^L_j = (a^L_j - y_j)\sigma'(z^L_j)",
     r"\delta^L_j = (a^L_j + y_j)\sigma'(z^L_j)"),
    ("derivative-at-wrong-argument", "bishop", {"hidden": "sigmoid"},
     r"\delta_j = a_j(1-a_j)\sum_k w_{kj}\delta_k", r"\delta_j = z_j(1-z_j)\sum_k w_{kj}\delta_k",
     r"\delta_j = z_j(1+z_j)\sum_k w_{kj}\delta_k"),
    ("derivative-at-wrong-argument", "nielsen", {"output": "sigmoid"},
     r"\delta^L = (a^L - y) \odot \sigma'(a^L)", r"\delta^L = (a^L - y) \odot \sigma'(z^L)",
     r"\delta^L = (a^L + y) \odot \sigma'(z^L)"),
    ("derivative-at-wrong-argument", "bishop", {"hidden": "tanh"},
     r"\delta_j = (1-a_j^2)\sum_k w_{kj}\delta_k", r"\delta_j = (1-z_j^2)\sum_k w_{kj}\delta_k",
     None),
    ("swapped-weight-indices", "bishop", {}, r"\delta_j = h'(a_j)\sum_k w_{jk}\delta_k",
     HIDDEN_DELTA, r"\delta_j = \sum_k w_{jk}\delta_k"),
    ("swapped-weight-indices", "goodfellow", {},
     r"\nabla_{h^{(k-1)}} J = W^{(k)} \nabla_{a^{(k)}} J",
     r"\nabla_{h^{(k-1)}} J = W^{(k)\top} \nabla_{a^{(k)}} J", None),
    ("wrong-layer", "nielsen", {"layers": "2,3,3,2"},
     r"\delta^l_j = \sum_k w^{l}_{kj}\delta^{l+1}_k \sigma'(z^l_j)", NIELSEN_BP2,
     r"\delta^l_j = \sum_k w^{l}_{kj}\delta^{l+1}_k"),
    ("wrong-layer", "ng", {}, r"\delta^{(l)} = (\Theta^{(l-1)})^T \delta^{(l+1)} .* g'(z^{(l)})",
     r"\delta^{(l)} = (\Theta^{(l)})^T \delta^{(l+1)} .* g'(z^{(l)})", None),
    ("sum-over-wrong-index", "bishop", {"layers": "2,3,3,2", "index": {"j": "2"}},
     r"\delta_j = h'(a_j)\sum_i w_{ji}\delta_i", None, None),
    ("sum-over-wrong-index", "nielsen", {},
     r"\delta^2_j = \sigma'(z^2_j)\sum_k w^3_{kj}\delta^3_j",
     r"\delta^2_j = \sigma'(z^2_j)\sum_k w^3_{kj}\delta^3_k", None),
    ("sum-over-wrong-index", "goodfellow", {"hidden": "sigmoid"},
     r"g_{i}^{(1)} = f'(a_{i}^{(1)}) \sum_{m} W_{ii}^{(2)} g_{m}^{(2)}",
     r"g_{i}^{(1)} = f'(a_{i}^{(1)}) \sum_{m} W_{mi}^{(2)} g_{m}^{(2)}", None),
    ("sum-over-every-later-layer", "nielsen", {"layers": "2,3,3,2"},
     r"\delta^2_j = \sum_k \frac{\partial C}{\partial z^3_k}\frac{\partial z^3_k}{\partial z^2_j}"
     r" + \sum_k \frac{\partial C}{\partial z^4_k}\frac{\partial z^4_k}{\partial z^2_j}",
     r"\delta^2_j = \sum_k \frac{\partial C}{\partial z^3_k}\frac{\partial z^3_k}{\partial z^2_j}",
     None),
    ("sum-over-every-later-layer", "ng", {"layers": "2,3,3,2"},
     r"\delta^{(2)}_j = \sum_k \delta^{(3)}_k \frac{\partial z^{(3)}_k}{\partial z^{(2)}_j}"
     r" + \sum_k \delta^{(4)}_k \frac{\partial z^{(4)}_k}{\partial z^{(2)}_j}",
     r"\delta^{(2)}_j = \sum_k \delta^{(3)}_k \frac{\partial z^{(3)}_k}{\partial z^{(2)}_j}", None),
    ("opposite-sign", "bishop", {}, r"\delta_k = t_k - y_k", r"\delta_k = y_k - t_k",
     r"\delta_k = t_k + y_k"),
    ("opposite-sign", "eglen", {"bias": False}, r"\delta_k = y_k - t_k", r"\delta_k = t_k - y_k",
     None),
    ("softmax-as-elementwise", "bishop", {"output": "softmax"},
     r"\delta_k = (y_k - t_k) y_k (1 - y_k)", None, None),
    ("softmax-as-elementwise", "bishop", {"output": "sigmoid"}, None,
     r"\delta_k = (y_k - t_k) y_k (1 - y_k)", None),
    ("softmax-as-elementwise", "nielsen", {"output": "softmax", "loss": "ce"},
     r"\delta^L_j = \frac{\partial C}{\partial a^L_j} \frac{\partial a^L_j}{\partial z^L_j}",
     r"\delta^L_j = \sum_k \frac{\partial C}{\partial a^L_k} \frac{\partial a^L_k}{\partial z^L_j}",
     None),
    ("off-diagonal-terms-dropped", "bishop", {"output": "softmax", "index": {"j": "output"}},
     r"\frac{\partial y_k}{\partial a_j} = I_{kj} y_k(1-y_k)",
     r"\frac{\partial y_k}{\partial a_j} = y_k(I_{kj} - y_j)", None),
    ("off-diagonal-terms-dropped", "nielsen", {"output": "softmax"},
     r"\frac{\partial a^L_j}{\partial z^L_k} = I_{jk} a^L_j(1-a^L_j)",
     r"\frac{\partial a^L_j}{\partial z^L_k} = a^L_j(I_{jk} - a^L_k)", None),
    ("kronecker-across-layers", "bishop", {}, r"\frac{\partial a_k}{\partial a_j} = I_{kj}",
     r"\frac{\partial a_k}{\partial a_j} = w_{kj} h'(a_j)", None),
    ("kronecker-across-layers", "nielsen", {"layers": "2,3,3,2"},
     r"\frac{\partial z^3_k}{\partial z^2_j} = I_{kj}",
     r"\frac{\partial z^3_k}{\partial z^3_j} = I_{kj}", None),
    ("fan-out-averaged", "bishop", {"layers": "2,2,2"},
     r"\delta_j = \frac{1}{2} h'(a_j)\sum_k w_{kj}\delta_k", None,
     r"\delta_j = \frac{1}{3} h'(a_j)\sum_k w_{kj}\delta_k"),
    ("fan-out-averaged", "bishop", {"layers": "2,2,1"}, None,
     r"\delta_j = \frac{1}{1} h'(a_j)\sum_k w_{kj}\delta_k", None),
    ("fan-out-averaged", "nielsen", {"layers": "2,3,3,2"},
     r"\delta^2_j = \frac{1}{3}\sum_k w^{3}_{kj}\delta^{3}_k \sigma'(z^2_j)", None, None),
    ("index-mismatch", "nielsen", {}, r"\delta^L_j = a^L_k - y_k", r"\delta^L_j = a^L_j - y_j",
     None),
    ("index-mismatch", "bishop", {}, r"\delta_k = y_j - t_j", r"\delta_k = y_k - t_k", None),
    ("another-network", "bishop", {"output": "softmax", "loss": "sse"},
     r"\delta_k = y_k - t_k", None, None),
    ("another-network", "bishop", {"output": "softmax", "loss": "ce"}, None,
     r"\delta_k = y_k - t_k", None),
    ("another-network", "nielsen", {"output": "sigmoid", "loss": "bce"},
     r"\delta^L = (a^L - y) \odot \sigma'(z^L)", r"\delta^L = a^L - y", None),
    ("a-and-z-swapped", "nielsen", {"output": "sigmoid"},
     r"\delta^L_j = (z^L_j - y_j)\sigma'(a^L_j)", r"\delta^L_j = (a^L_j - y_j)\sigma'(z^L_j)",
     None),
    ("a-and-z-swapped", "bishop", {}, r"\frac{\partial E}{\partial w_{kj}} = \delta_k a_j",
     r"\frac{\partial E}{\partial w_{kj}} = \delta_k z_j", r"\frac{\partial E}{\partial w_{kj}} = \delta_j a_k"),
    ("other-layout", "goodfellow", {}, r"\nabla_{W^{(k)}} J = h^{(k-1)} g^{\top}",
     r"\nabla_{W^{(k)}} J = g h^{(k-1)\top}", None),
    ("other-layout", "nielsen", {}, r"\frac{\partial C}{\partial w^l} = a^{l-1} (\delta^l)^T",
     r"\frac{\partial C}{\partial w^l} = \delta^l (a^{l-1})^T",
     r"\frac{\partial C}{\partial w^l} = a^{l-1} (a^l)^T"),
    ("shapes-do-not-fit", "goodfellow", {},
     r"\nabla_{a^{(k)}} J = \nabla_{h^{(k)}} J \, f'(a^{(k)})",
     r"\nabla_{a^{(k)}} J = \nabla_{h^{(k)}} J \odot f'(a^{(k)})", None),
    ("shapes-do-not-fit", "nielsen", {}, r"\delta^L = \nabla_a C \sigma'(z^L)",
     r"\delta^L = \nabla_a C \odot \sigma'(z^L)", None),
    # Bishop's E is the batch's sum, Nielsen's C its mean (latex/batch.py)
    ("batch-mean-missing", "nielsen", {}, r"\frac{\partial C}{\partial b^l_j} = \sum_x \delta^l_{xj}",
     r"\frac{\partial C}{\partial b^l_j} = \frac{1}{n}\sum_x \delta^l_{xj}",
     r"\frac{\partial C}{\partial b^l_j} = \sum_x \delta^l_{xj} a^{l-1}_{xj}"),
    ("batch-mean-missing", "nielsen", {}, r"\frac{\partial C}{\partial z^l_{xj}} = \delta^l_{xj}",
     r"\frac{\partial C}{\partial z^l_{xj}} = \frac{1}{n}\delta^l_{xj}", None),
    ("batch-mean-missing", "examples/batch-matrices.toml", {},
     r"\frac{\partial E}{\partial W^{(2)}} = D^{(2)} (Z^{(1)})^T",
     r"\frac{\partial E}{\partial W^{(2)}} = \frac{1}{N} D^{(2)} (Z^{(1)})^T", None),
    ("batch-sum-missing", "bishop", {}, r"\frac{\partial E}{\partial w_{ji}} = \delta_{nj} z_{ni}",
     r"\frac{\partial E_n}{\partial w_{ji}} = \delta_{nj} z_{ni}",
     r"\frac{\partial E}{\partial w_{ji}} = \delta_{ni} z_{nj}"),
    ("batch-sum-missing", "nielsen", {},
     r"\frac{\partial C}{\partial w^l_{jk}} = \frac{1}{n} \delta^l_{xj} a^{l-1}_{xk}",
     r"\frac{\partial C_x}{\partial w^l_{jk}} = \delta^l_{xj} a^{l-1}_{xk}", None),
    ("batch-mean-extra", "bishop", {},
     r"\frac{\partial E}{\partial w_{ji}} = \frac{1}{N}\sum_n \delta_{nj} z_{ni}",
     r"\frac{\partial E}{\partial w_{ji}} = \frac{1}{N}\sum_n N \delta_{nj} z_{ni}",
     r"\frac{\partial E}{\partial w_{ji}} = \frac{1}{N}\sum_n \delta_{ni} z_{nj}"),
    ("batch-mean-extra", "nielsen", {},
     r"\frac{\partial C}{\partial w^l_{jk}} = \frac{1}{n^2}\sum_x \delta^l_{xj} a^{l-1}_{xk}",
     r"\frac{\partial C}{\partial w^l_{jk}} = \frac{1}{n}\sum_x \delta^l_{xj} a^{l-1}_{xk}", None),
    ("condition-left-out", "bishop", {"output": "softmax"}, r"\sum_k (y_k - t_k) = 0",
     r"\sum_k (y_k - t_k) = 1 - \sum_k t_k", r"\sum_k (y_k - t_k) = 1"),
    ("condition-left-out", "nielsen", {"output": "softmax"}, r"\sum_j (a^L_j - y_j) = 0",
     r"\sum_j (a^L_j - y_j) = 1 - \sum_j y_j", None),
]


def _check(notation, kw, text):
    kw = dict(kw)
    index = kw.pop("index", None)
    if "layers" in kw:
        kw["layers"] = tuple(int(w) for w in kw["layers"].split(","))
    net = make_network(**kw)
    if notation.endswith(".toml"):  # a user's notation file, in the project
        notation = str(Path(__file__).parents[1] / notation)
    return check_text(text, notation=load_notation(notation), net=net, index=index), net


MADE = [(m, n, kw, w) for m, n, kw, w, _, _ in TABLE if w]
LOOKALIKE = [(m, n, kw, t) for m, n, kw, _, t, _ in TABLE if t]
OTHER = [(m, n, kw, o) for m, n, kw, _, _, o in TABLE if o]


def test_every_mistake_is_in_the_table_in_two_notations():
    for mistake in MISTAKES:
        notations = {n for m, n, _, _ in MADE if m == mistake.id}
        assert len(notations) >= 2, mistake.id
        assert any(m == mistake.id for m, *_ in LOOKALIKE), mistake.id


@pytest.mark.parametrize("mistake,notation,kw,text", MADE, ids=[f"{m}-{n}" for m, n, *_ in MADE])
def test_a_mistake_is_named_where_it_was_made(mistake, notation, kw, text):
    r, net = _check(notation, kw, text)
    assert r.verdict is Verdict.REFUTED
    assert r.diagnosis.id == mistake
    out = check_json(r)["diagnosis"]
    assert out["id"] == mistake and out["message"] == BY_ID[mistake].explanation
    json.dumps(out)
    if r.diagnosis.correct is not None:  # the right equation offered is true by the oracle
        eq = r.diagnosis.correct
        bound = {v for s in eq.atoms(__import__("sympy").Sum) for v, *_ in s.limits}
        free = tuple(sorted(eq.atoms(UnitIndex) - bound, key=str))
        if not net.hidden.abstract:
            assert judge([Claim("right", 0, eq, free)], net) == "agree"


@pytest.mark.parametrize("mistake,notation,kw,text", LOOKALIKE,
                         ids=[f"{m}-{n}" for m, n, *_ in LOOKALIKE])
def test_a_claim_that_only_looks_like_the_mistake_is_proved_with_no_diagnosis(
        mistake, notation, kw, text):
    r, _ = _check(notation, kw, text)
    assert r.verdict is Verdict.PROVED
    assert not r.diagnosis and check_json(r)["diagnosis"] is None


@pytest.mark.parametrize("mistake,notation,kw,text", OTHER, ids=[f"{m}-{n}" for m, n, *_ in OTHER])
def test_a_claim_wrong_in_another_way_is_not_given_the_mistake(mistake, notation, kw, text):
    r, _ = _check(notation, kw, text)
    assert r.verdict is Verdict.REFUTED
    assert r.diagnosis.id != mistake


def test_true_under_another_convention_names_the_book():
    r, _ = _check("bishop", {}, r"\delta_k = t_k - y_k")
    assert r.diagnosis.convention == ("true with delta with the opposite sign (delta = -dE/da), "
                                      "as Eglen writes it: proved with --notation eglen")
    r, _ = _check("nielsen", {"output": "sigmoid"}, r"\delta^L_j = (z^L_j - y_j)\sigma'(a^L_j)")
    assert r.diagnosis.convention == ("true with z and a the other way round (a the weighted "
                                      "input, z the output), as Bishop writes it")


def test_the_right_equation_is_written_in_the_claims_own_letters():
    r, net = _check("bishop", {}, r"\delta_q = \sum_m w_{mq}\delta_m")
    from bpcheck.derive.present.check import diagnosis_lines
    lines = diagnosis_lines(r)
    assert lines[0].startswith("mistake missing-activation-derivative")
    assert lines[1] == "it should read δ_q = h'(a_q) Σ_m δ_m w^(2)_mq   (proved)"


def test_a_diagnosis_never_turns_a_verdict():
    """Generated claims: where a diagnosis names a mistake, the claim was refuted, and the
    verdict is the same with the diagnosis off."""
    rng = random.Random(7)
    for mistake, notation, kw, text in rng.sample(MADE, 6):
        kw = dict(kw)
        index = kw.pop("index", None)
        if "layers" in kw:
            kw["layers"] = tuple(int(w) for w in kw["layers"].split(","))
        net, n = make_network(**kw), load_notation(notation)
        plain = check_text(text, notation=n, net=net, index=index, diagnose_it=False)
        assert plain.verdict is Verdict.REFUTED and not plain.diagnosis


def test_the_plugin_asserts_a_mistake(pytester):
    pytester.makepyfile(r'''
        def test_fires(bpcheck):
            bpcheck.assert_mistake(r"\delta_j = \sum_k w_{kj}\delta_k",
                                   "missing-activation-derivative", notation="bishop")

        def test_other(bpcheck):
            bpcheck.assert_mistake(r"\delta_k = t_k - y_k",
                                   "missing-activation-derivative", notation="bishop")

        def test_unknown(bpcheck):
            bpcheck.assert_mistake(r"\delta_k = t_k - y_k", "typo", notation="bishop")
    ''')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*expected the mistake missing-activation-derivative, got "
                                 "opposite-sign*", "*unknown mistake 'typo'; accepted: "
                                 "missing-activation-derivative, *"])


def test_the_diagnosis_appears_in_the_notebook_view_and_the_file_table(tmp_path):
    from bpcheck.derive.commands.check import check_file
    from bpcheck.derive.present.check import check_table
    from bpcheck.derive.present.notebook import shown
    from rich.console import Console
    r, _ = _check("bishop", {}, r"\delta_j = \sum_k w_{kj}\delta_k")
    view = shown(r)._repr_latex_()
    assert r"\text{mistake: missing-activation-derivative}" in view
    assert r"\delta_{j} = h'(a_{j})" in view and r"\text{(proved)}" in view
    notes = tmp_path / "notes.tex"
    notes.write_text("\\[ \\delta_j = \\sum_k w_{kj}\\delta_k \\]\n"
                     "\\[ \\delta_j = h'(a_j)\\sum_k w_{kj}\\delta_k \\]\n")
    rows = check_file(str(notes), notation=load_notation("bishop"), net=make_network())
    console = Console(width=200, record=True)
    console.print(check_table(rows))
    out = console.export_text()
    assert "mistake" in out.splitlines()[1] and "missing-activation-derivative" in out
    assert [r.diagnosis.id for _, r in rows] == ["missing-activation-derivative", None]


@pytest.mark.slow
def test_a_checked_file_is_exported_as_latex_with_each_diagnosis(tmp_path):
    import shutil
    import subprocess
    notes, out = tmp_path / "notes.tex", tmp_path / "checked.tex"
    notes.write_text("\\[ \\delta_j = \\sum_k w_{kj}\\delta_k \\]\n\\[ \\delta_k = y_k - t_k \\]\n")
    run = lambda *a: subprocess.run([shutil.which("bpcheck"), "check", "--file", str(notes),
                                     "--notation", "bishop", "--latex", str(out), *a],
                                    capture_output=True, text=True)
    first = run()
    assert first.returncode == 1, first.stderr
    tex = out.read_text()
    assert r"\texttt{missing-activation-derivative}" in tex
    assert r"it should read (proved): \[ \delta_{j} = h'(a_{j})" in tex
    assert tex.count(r"\textbf{proved}") == 1 and tex.count(r"\textbf{refuted}") == 1
    again = run()  # never overwritten without --force
    assert again.returncode == 2 and "exists; use --force" in again.stderr
    assert run("--force").returncode == 1
