"""The IPython magics, in IPython's own InteractiveShell, as a notebook runs them."""
from __future__ import annotations

import pytest

IPython = pytest.importorskip("IPython")


@pytest.fixture(scope="module")
def ip():
    from IPython.testing.globalipapp import start_ipython
    shell = start_ipython()
    shell.run_line_magic("load_ext", "bpcheck")
    return shell


def test_the_line_magic_returns_the_result_with_its_diagnosis_as_maths(ip):
    r = ip.run_line_magic("bpcheck", r"--notation bishop \delta_j = \sum_k w_{kj}\delta_k")
    assert repr(r) == r"<refuted: \delta_j = \sum_k w_{kj}\delta_k>"
    view = r._repr_latex_()
    assert r"\text{refuted}" in view and r"\text{mistake: missing-activation-derivative}" in view


def test_the_cell_magic_checks_each_line_and_keeps_the_condition(ip, capsys):
    ip.run_cell_magic("bpcheck", "--notation nielsen --output softmax --loss ce",
                      "\\delta^L_j = a^L_j - y_j\n\n\\delta^L_j = y_j - a^L_j\n")
    out = capsys.readouterr().out
    assert r"<proved: \delta^L_j = a^L_j - y_j>" in out
    assert r"<refuted: \delta^L_j = y_j - a^L_j>" in out
    from bpcheck.derive.commands.magics import run
    proved = run("--notation nielsen --output softmax --loss ce", "\\delta^L_j = a^L_j - y_j")[0]
    assert r"\text{ if }" in proved._repr_latex_()  # Σ y = 1, as the terminal says


@pytest.mark.parametrize("line,message", [
    (r"--colour red x = y", "--colour: not an option of %bpcheck"),
    (r"\zeta_k = y_k - t_k", "no shipped notation reads this equation"),
    (r"--notation bishop", "no equation"),
    (r"--notation bishop --layers 2,x \delta_k = y_k - t_k", "width"),
])
def test_bad_input_is_one_line_not_a_traceback(ip, capsys, line, message):
    assert ip.run_line_magic("bpcheck", line) is None
    out = capsys.readouterr().out
    assert out.startswith("bpcheck: ") and message in out and "Traceback" not in out
