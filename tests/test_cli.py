"""The installed command, run as a user runs it: in a subprocess."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

BPCHECK = shutil.which("bpcheck")
pytestmark = pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed (pip install -e .)")

CHECK_IDS = {"output-delta-general", "output-delta-diagonal", "output-delta-canonical",
             "hidden-delta", "weight-gradient", "bias-gradient", "cross-notation"}


def run(*args, env=None):
    e = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    e.update(env or {})
    return subprocess.run([BPCHECK, *args], capture_output=True, text=True, env=e, timeout=300)


def test_the_default_report_shows_every_notation_and_verdict():
    p = run("report")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    for title in ("Bishop", "Nielsen", "Eglen", "Cross-notation"):
        assert title in out
    assert "δ_j = h'(a_j) Σ_k w^(2)_kj δ_k" in out          # Bishop (5.56)
    assert "δ^2_j = σ'(z^2_j) Σ_k w^L_kj δ^L_k" in out      # Nielsen BP2
    assert "δ_q = g'(a_q) Σ_k w_qk δ_k" in out              # Eglen
    assert "proved" in out and "not applicable" in out and "refuted" not in out
    assert "\x1b[" not in out  # no colour codes when stdout is not a terminal
    assert p.stderr == ""


def test_json_is_one_object_with_stable_check_ids():
    p = run("report", "--output", "softmax", "--loss", "ce", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["network"] == {"layers": [2, 3, 2], "hidden": "abstract", "output": "softmax",
                               "loss": "ce", "bias": True, "weights": 17,
                               "symbolic_widths": False}
    assert [n["name"] for n in data["notations"]] == ["bishop", "nielsen", "eglen", "goodfellow", "ng"]
    for n in data["notations"]:
        checks = {(c["id"], c["layer"]): c for c in n["checks"]}
        assert {i for i, _ in checks} == CHECK_IDS
        diagonal = checks[("output-delta-diagonal", 2)]
        assert diagonal["verdict"] == "refuted"
        assert diagonal["counterexample"]["lhs"] != diagonal["counterexample"]["rhs"]
        canonical = checks[("output-delta-canonical", 2)]
        assert canonical["verdict"] == "proved" and canonical["counterexample"] is None
        assert len(canonical["conditions"]) == 1 and "= 1" in canonical["conditions"][0]
        assert {"claim_latex", "verdict", "conditions", "counterexample", "layer"} <= set(diagonal)
        out = next(j for j in n["jacobians"] if j["kind"] == "output-activation")
        assert out["vanishing"] == "none"


def test_a_deeper_network_and_one_notation():
    p = run("report", "--layers", "3,4,4,2", "--hidden", "tanh", "--notation", "nielsen", "--json")
    data = json.loads(p.stdout)
    (n,) = data["notations"]
    hidden = [c for c in n["checks"] if c["id"] == "hidden-delta"]
    assert [c["layer"] for c in hidden] == [2, 1]
    assert all(c["verdict"] == "proved" for c in hidden)


def test_no_bias_means_no_bias_check():
    data = json.loads(run("report", "--no-bias", "--json").stdout)
    assert all(c["id"] != "bias-gradient" for n in data["notations"] for c in n["checks"])


COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])[;m]")


def test_colour_on_a_terminal_and_none_with_no_color():
    coloured = run("report", "--notation", "bishop", env={"FORCE_COLOR": "1"})
    assert COLOUR.search(coloured.stdout)
    plain = run("report", "--notation", "bishop", env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert plain.returncode == 0 and not COLOUR.search(plain.stdout)


def test_a_users_notation_file(tmp_path):
    src = os.path.join(os.path.dirname(__file__), "..", "examples", "net-o-f.toml")
    p = run("report", "--notation", src, "--json")
    (n,) = json.loads(p.stdout)["notations"]
    assert n["name"] == "netof"


@pytest.mark.parametrize("args,message", [
    (["report", "--hidden", "softmax"], "hidden activation 'softmax' is not supported"),
    (["report", "--hidden", "swish"], "unknown hidden activation 'swish'; accepted: identity"),
    (["report", "--output", "gelu"], "unknown output activation 'gelu' (did you mean 'relu'?); accepted:"),
    (["report", "--loss", "hinge"], "unknown loss 'hinge'; accepted: sse, bce, ce"),
    (["report", "--notation", "haykin"], "unknown notation 'haykin'; accepted: bishop, nielsen, eglen"),
    (["report", "--layers", "2,-3,2"], "'-3' is not a positive integer"),
    (["report", "--layers", "2,0,2"], "width 0 is not a positive integer"),
    (["report", "--layers", "two"], "'two' is not a positive integer"),
    (["report", "--layers", "2,100,2"], "beyond the bound of 32"),
    (["report", "--layers", ",".join(["2"] * 20)], "beyond the bound of 12"),
    (["report", "--loss", "ce"], "use --output sigmoid, softmax"),
    (["report", "--budget", "0"], "--budget"),
    (["report", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "give a command: report, check"),
])
def test_bad_input_is_one_line_on_stderr_and_status_2(args, message):
    p = run(*args)
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("bpcheck: error: ")
    assert message in lines[0]
    assert "Traceback" not in p.stderr


def test_a_command_out_of_time_ends_undecided_and_nothing_hangs():
    """--budget bounds the whole command: out of time, the run says undecided, exit 3."""
    p = run("report", "--layers", "3,6,6,3", "--budget", "0.001", "--notation", "bishop", "--json")
    assert p.returncode == 3, p.stderr
    data = json.loads(p.stdout)
    assert data["verdict"] == "undecided" and "0.001 s ran out" in data["note"]
    p = run("report", "--layers", "3,6,6,3", "--budget", "0.001")
    assert p.returncode == 3 and p.stdout.startswith("undecided: the time budget of 0.001 s")


@pytest.mark.parametrize("args", [["--help"], ["report", "--help"]])
def test_help_explains_every_option_with_an_example(args):
    p = run(*args)
    assert p.returncode == 0
    for word in (["report"] if args == ["--help"] else
                 ["--layers", "--hidden", "--output", "--loss", "--bias", "--no-bias",
                  "--notation", "--json", "--budget", "examples:", "bpcheck report --output softmax"]):
        assert word in p.stdout


def test_python_dash_m_bpcheck_works_as_well():
    p = subprocess.run([sys.executable, "-m", "bpcheck", "report", "--notation", "eglen", "--json"],
                       capture_output=True, text=True, timeout=300,
                       cwd=os.path.join(os.path.dirname(__file__), ".."))
    assert p.returncode == 0 and json.loads(p.stdout)["notations"][0]["name"] == "eglen"


EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


@pytest.mark.slow
def test_example_prints_the_worked_numbers_and_writes_latex(tmp_path):
    p = run("example", os.path.join(EXAMPLES, "sigmoid-2-2-2.toml"), "--json")
    assert p.returncode == 0, p.stderr
    assert "0.2983711088" in p.stdout
    out = tmp_path / "worked.tex"
    p = run("example", os.path.join(EXAMPLES, "softmax-ce.toml"), "--notation", "nielsen",
            "--latex", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_text().startswith("\\documentclass")
    again = run("example", os.path.join(EXAMPLES, "softmax-ce.toml"), "--latex", str(out))
    assert again.returncode == 2 and "--force" in again.stderr


def test_a_malformed_spec_names_the_key(tmp_path):
    spec = tmp_path / "bad.toml"
    text = open(os.path.join(EXAMPLES, "sigmoid-2-2-2.toml")).read()
    spec.write_text(text.replace("0.15", '"abc"'))
    p = run("example", str(spec))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "weights" in p.stderr and "'abc'" in p.stderr


@pytest.mark.parametrize("args,suggestion", [
    (["chek", "x"], "(did you mean 'check'?)"),
    (["report", "--loss", "sde"], "(did you mean 'sse'?)"),
    (["check", "a = b", "--notation", "nielson"], "(did you mean 'nielsen'?)"),
    (["report", "--hidden", "sigmoidd"], "(did you mean 'sigmoid'?)"),
])
def test_a_mistyped_name_gets_the_close_one_suggested(args, suggestion):
    p = subprocess.run([sys.executable, "-m", "bpcheck", *args], capture_output=True, text=True)
    assert p.returncode == 2 and suggestion in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("value,expected", [("sde", " (did you mean 'sse'?)"),
                                            ("quadratic", ""), ("x" * 500, "")])
def test_did_you_mean_suggests_only_a_close_name(value, expected):
    from bpcheck.derive.errors import did_you_mean
    assert did_you_mean(value, ("sse", "bce", "ce")) == expected
