"""Documents: every display environment of a .tex file read, each row with its line and
label, an aligned chain step by step with the first wrong step named."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bpcheck.derive.commands.check import check_file
from bpcheck.derive.io.documents import equations_of
from bpcheck.derive.io.notation_file import load_notation
from bpcheck.derive.model.network import make_network

DOCS = Path(__file__).parent / "documents"


def test_every_environment_gives_its_rows_with_lines_and_labels():
    eqs = equations_of(str(DOCS / "environments.tex"))
    assert [(e.line, e.label, e.step) for e in eqs] == [
        (4, "eq:bp", 0), (5, "", 0), (8, "chain", 1), (9, "chain", 2), (11, "chain", 3),
        (14, "", 0)]
    # a chain's steps are each checked against its first side; \intertext is prose
    assert eqs[3].text == r"\frac{\partial E_n}{\partial a_j} = \sum_k \delta_k w_{kj}"
    assert "intertext" not in eqs[4].text
    # a multline is one equation
    assert eqs[5].text.startswith("E_n = ") and "t_{n2}" in eqs[5].text


def test_the_wrong_step_of_a_chain_is_named_and_the_steps_after_it_still_checked():
    rows = check_file(str(DOCS / "environments.tex"), notation=load_notation("bishop"),
                      net=make_network())
    verdicts = [(eq.line, str(r.verdict)) for eq, r in rows]
    assert verdicts == [(4, "proved"), (5, "proved"), (8, "proved"), (9, "refuted"),
                        (11, "proved"), (14, "proved")]
    assert rows[3][1].diagnosis.id == "missing-activation-derivative"


@pytest.mark.parametrize("env", ["gather", "gather*", "eqnarray*", "multline*", "equation*"])
def test_each_environment_is_read(tmp_path, env):
    tex = tmp_path / "n.tex"
    body = r"\delta_k = y_k - t_k \\ \delta_k = t_k - y_k" if "multline" not in env \
        else r"\delta_k = y_k \\ - t_k"
    if env == "equation*":
        body = r"\delta_k = t_k - y_k"
    tex.write_text(f"x\n\\begin{{{env}}}\n{body}\n\\end{{{env}}}\n")
    eqs = equations_of(str(tex))
    assert eqs and all(e.line == 3 for e in eqs)
    assert len(eqs) == (2 if env in ("gather", "gather*", "eqnarray*") else 1)


@pytest.mark.skipif(shutil.which("bpcheck") is None, reason="bpcheck is not installed")
def test_the_command_names_the_first_wrong_step_with_its_file_line_and_label():
    run = lambda *a: subprocess.run([shutil.which("bpcheck"), "check", "--file",
                                     str(DOCS / "environments.tex"), "--notation", "bishop", *a],
                                    capture_output=True, text=True,
                                    env={**os.environ, "COLUMNS": "200"})
    p = run()
    assert p.returncode == 1
    assert ("first wrong: environments.tex line 9 (chain), step 2: "
            "missing-activation-derivative") in p.stdout
    results = json.loads(run("--json").stdout)["results"]
    assert [(r["line"], r["label"], r["step"]) for r in results][2:5] == [
        (8, "chain", 1), (9, "chain", 2), (11, "chain", 3)]
