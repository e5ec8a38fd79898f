"""The pytest plugin, run in a pytester session as a course's tests would use it."""
from __future__ import annotations

import os

import pytest

from bpcheck.derive.commands.assertions import BpCheck, _listing

BISHOP_556 = r"\delta_j = h'(a_j) \sum_k w_{kj}\delta_k"
NIELSEN_BP1 = r"\delta^L_j = \frac{\partial C}{\partial a^L_j} \sigma'(z^L_j)"
NIELSEN_38 = r"\delta^L_j = \frac{\partial C}{\partial a^L_j} \frac{\partial a^L_j}{\partial z^L_j}"
NIELSEN_BP2 = r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)"


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    """Run one test file; the plugin comes from its entry point, as once installed. The
    other plugins stay off: hypothesis's would be imported afresh in every run."""
    pytester.makepyfile(test_course=source)
    extra = ("-p", "bpcheck.derive.pytest_plugin") if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") else ()
    return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                              "-p", "no:benchmark", *extra, *args)


def test_a_proved_equation_passes(pytester):
    result = run(pytester, f'''
def test_bishop_556(bpcheck):
    r = bpcheck.assert_proved(r"{BISHOP_556}", notation="bishop")
    assert str(r.verdict) == "proved" and r.readings[0].letters == {{"j": 1, "k": 2}}
''')
    result.assert_outcomes(passed=1)


def test_a_refuted_proof_fails_with_the_claim_the_point_and_the_residual(pytester):
    result = run(pytester, f'''
def test_bp1_softmax(bpcheck):
    bpcheck.assert_proved(r"{NIELSEN_BP1}", notation="nielsen", output="softmax", loss="ce")
''')
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*bpcheck.assert_proved(*",  # the test's own line is shown
        "E*expected proved, got refuted: *sigma'(z^L_j)",
        r"E*claim*\delta_{j}^{L} = \frac{\partial C}{\partial a_{j}^{L}} \sigma'(z_{j}^{L})",
        "E*network*2-3-2: hidden abstract, output softmax, loss ce, biases",
        "E*read as*δ^L_j = σ'(z^L_j) ∂C/∂a^L_j*[[]j: output layer L[]]: refuted",
        "E*fails at j = 1: left side *, right side *",
        "E*where δ^L_1 ≈ *, σ'(z^L_1) ≈ *, ∂C/∂a^L_1 ≈ * (the whole point with --json)",
        "E*residual (numerator of left - right in normal form): *exp(*",
        "E*mistake softmax-as-elementwise: *",
        "E*it should read δ^L_j = a^L_j - y_j   (proved if Σ_k y_k = 1)",
        "test_course.py:2: Failed",
    ])
    out = result.stdout.str()
    assert "Traceback" not in out and "Sympy" not in out and "Indexed" not in out
    # the helper's frames are hidden: no source line of the plugin or the engine
    assert "pytest_plugin.py" not in out and "derive/reading.py" not in out
    assert "__tracebackhide__" not in out and "check_text(" not in out


def test_assert_refuted_passes_on_nielsen_38_for_softmax_and_fails_on_a_proof(pytester):
    result = run(pytester, f'''
def test_38_softmax(bpcheck):
    r = bpcheck.assert_refuted(r"{NIELSEN_38}", notation="nielsen", output="softmax", loss="ce")
    assert r.deciding.outcome.counterexample is not None

def test_canonical_softmax(bpcheck):
    bpcheck.assert_refuted(r"\\delta^L_j = a^L_j - y_j", notation="nielsen",
                           output="softmax", loss="ce")
''')
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["E*expected refuted, got proved: *",
                                 "E*read as*δ^L_j = a^L_j - y_j*: proved",
                                 "E*proved if Σ_k y_k = 1"])


def test_the_marker_runs_a_test_on_every_notation_and_activation(pytester):
    result = run(pytester, f'''
import pytest

@pytest.mark.bpcheck_networks(notation=["bishop", "nielsen"], hidden=["sigmoid", "tanh"])
def test_hidden_delta(bpcheck):
    r = bpcheck.assert_proved({{"bishop": r"{BISHOP_556}", "nielsen": r"{NIELSEN_BP2}"}})
    assert r.notation.name == bpcheck.notation and r.net.hidden.name in ("sigmoid", "tanh")
''', "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_hidden_delta[[]bishop-sigmoid[]] PASSED*",
                                 "*test_hidden_delta[[]bishop-tanh[]] PASSED*",
                                 "*test_hidden_delta[[]nielsen-sigmoid[]] PASSED*",
                                 "*test_hidden_delta[[]nielsen-tanh[]] PASSED*"])


def test_the_marker_takes_single_values_and_layers_and_names_a_bad_axis(pytester):
    result = run(pytester, '''
import pytest

@pytest.mark.bpcheck_networks(notation="eglen", layers=[(2, 3, 2), "2,3,3,2"], bias=[False])
def test_output_delta(bpcheck):
    bpcheck.assert_proved(r"\\delta_k = t_k - y_k")
''', "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*test_output_delta[[]eglen-2,3,2-no-bias[]]",
                                 "*test_output_delta[[]eglen-2,3,3,2-no-bias[]]"])
    result = run(pytester, '''
import pytest

@pytest.mark.bpcheck_networks(notation=["bishop"], colour=["red"])
def test_x(bpcheck):
    pass
''')
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*bpcheck_networks on test_x: unknown axis 'colour'; accepted: *"])
    assert "_hooks.py" not in result.stdout.str()


def test_bad_input_fails_with_its_one_line_error(pytester):
    result = run(pytester, '''
def test_unclosed(bpcheck):
    bpcheck.assert_proved(r"\\delta_j = h'(a_j", notation="bishop")

def test_no_notation(bpcheck):
    bpcheck.check(r"\\delta_j = 1")

def test_bad_layers(bpcheck):
    bpcheck.check(r"\\delta_k = y_k - t_k", notation="bishop", layers="2,x")

def test_missing_from_the_dict(bpcheck):
    bpcheck.check({"bishop": r"\\delta_k = y_k - t_k"}, notation="eglen")
''')
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines([
        "E*Failed: bpcheck: at column * expected *",
        "E*Failed: bpcheck: give notation=..., *",
        "E*Failed: bpcheck: layers '2,x': *give widths as positive integers*",
        "E*Failed: bpcheck: no equation for notation 'eglen'; the dict has 'bishop'",
    ])
    out = result.stdout.str()
    assert "ParseError" not in out and "grammar.py" not in out and "During handling" not in out


def test_check_returns_the_result_with_the_given_network():
    r = BpCheck().check(BISHOP_556, notation="bishop", layers=(2, 3, 3, 2), hidden="identity")
    assert str(r.verdict) == "proved" and r.net.widths == (2, 3, 3, 2) and len(r.readings) == 2
    assert BpCheck({"notation": "bishop", "layers": "2,4,2"}).check(BISHOP_556).net.widths == (2, 4, 2)
    assert repr(BpCheck({"notation": "nielsen"})) == "bpcheck(notation='nielsen')"


def test_a_long_point_is_cut_at_a_whole_entry():
    items = [f"w_{i} = {i}/7" for i in range(200)]
    shown = _listing(items, limit=60)
    assert shown.startswith("w_0 = 0/7, w_1 = 1/7") and shown.endswith(" more")
    assert _listing(items[:2]) == "w_0 = 0/7, w_1 = 1/7"


def test_a_course_with_its_own_derive_cli_and_equations_files_still_loads_the_plugin(tmp_path):
    """Installed, bpcheck is one import name: a course's derive.py, cli.py or equations.py
    (or a derive/ folder) cannot shadow it, so every pytest run there still works."""
    import subprocess
    import sys
    for name in ("derive.py", "cli.py", "equations.py"):
        (tmp_path / name).write_text("raise ImportError('the course file was imported')\n")
    (tmp_path / "test_course.py").write_text(
        "def test_bp2(bpcheck):\n"
        f"    bpcheck.assert_proved(r\"{BISHOP_556}\", notation='bishop')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "test_course.py"], cwd=tmp_path, capture_output=True, text=True,
                       env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "1 passed" in p.stdout
    assert "the course file was imported" not in p.stdout + p.stderr


COURSE = '''
import pytest

@pytest.mark.bpcheck_networks(notation=["bishop", "nielsen", "eglen"])
def test_output_delta(bpcheck):
    bpcheck.assert_proved({"bishop": r"\\delta_k = y_k - t_k", "nielsen": r"\\delta^L_j = a^L_j - y_j",
                           "eglen": r"\\delta_r = t_r - y_r"})

def test_wrong(bpcheck):
    bpcheck.assert_proved(r"\\delta_j = \\sum_k w_{kj}\\delta_k", notation="bishop")

def test_not_bpcheck():
    assert True
'''


@pytest.mark.parametrize("spread", [("-n", "2"), ("--dist", "load", "--tx", "2*popen")],
                         ids=["-n 2", "--tx 2*popen"])
def test_under_xdist_the_workers_check_and_one_results_json_is_written(pytester, spread):
    import json

    import jsonschema
    out = pytester.path / "results.json"
    result = run(pytester, COURSE, *spread, f"--bpcheck-results-json={out}")
    result.assert_outcomes(passed=4, failed=1)
    assert "2 workers" in result.stdout.str() or "gw1" in result.stdout.str()
    data = json.loads(out.read_text())
    schema = os.path.join(os.path.dirname(__file__), "schemas", "gradescope-results.schema.json")
    jsonschema.validate(data, json.loads(open(schema).read()))
    # the fixture's tests only, in the order of their ids, a point for each that passed
    assert [t["name"] for t in data["tests"]] == [
        "test_course.py::test_output_delta[bishop]", "test_course.py::test_output_delta[eglen]",
        "test_course.py::test_output_delta[nielsen]", "test_course.py::test_wrong"]
    assert data["score"] == 3 and [t["status"] for t in data["tests"]][-1] == "failed"
    assert "missing-activation-derivative" in data["tests"][-1]["output"]


def test_results_json_without_xdist_is_the_same_file(pytester):
    import json
    out = pytester.path / "results.json"
    run(pytester, COURSE, f"--bpcheck-results-json={out}").assert_outcomes(passed=4, failed=1)
    data = json.loads(out.read_text())
    assert data["score"] == 3 and len(data["tests"]) == 4
