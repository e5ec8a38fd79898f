"""Documents: every display environment of a .tex file read, each row with its line and
label, an aligned chain step by step with the first wrong step named."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bpcheck.derive.commands.check import check_file, check_files
from bpcheck.derive.io.documents import equations_of
from bpcheck.derive.io.notation_file import load_notation
from bpcheck.derive.model.network import make_network
from bpcheck.derive.engine.proof import Verdict

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


@pytest.mark.parametrize("opener,closer,labels", [
    (r"\begin{align}", r"\end{align}", ["eq:a", "", "eq:c"]),      # a number a row
    (r"\begin{eqnarray}", r"\end{eqnarray}", ["eq:a", "", "eq:c"]),
    (r"\begin{align*}", r"\end{align*}", ["eq:a", "eq:a", "eq:c"]),  # one chain, one name
    (r"\[ \begin{aligned}", r"\end{aligned} \]", ["eq:a", "eq:a", "eq:c"]),
])
def test_a_label_names_its_own_row_where_each_row_is_numbered(tmp_path, opener, closer, labels):
    tex = tmp_path / "c.tex"
    rel = "&=&" if "eqnarray" in opener else "&="
    tex.write_text(f"{opener}\n\\delta_j {rel} x \\label{{eq:a}} \\\\\n{rel} y \\\\\n"
                   f"{rel} z \\label{{eq:c}}\n{closer}\n")
    assert [e.label for e in equations_of(str(tex))] == labels


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


def test_a_file_carries_its_notation_network_and_expectations():
    """`% bpcheck:` lines: the notation and network for the rest of the file, what the
    next display is expected to be (a mistake shown on purpose), or that it is skipped."""
    rows = check_file(str(DOCS / "lecture.tex"), notation=None, net=make_network())
    got = [(eq.line, None if r is None else str(r.verdict), eq.holds(r)) for eq, r in rows]
    assert got == [(4, "proved", None), (8, "refuted", True), (10, None, None),
                   (12, "proved", None), (14, "refuted", True)]
    assert rows[0][1].net.hidden.name == "sigmoid" and rows[3][1].net.output.name == "softmax"
    assert rows[3][1].deciding.outcome.conditions  # softmax + ce: if the targets sum to 1
    from bpcheck.derive.commands.check import worst_status
    assert worst_status(rows) == 0  # every expectation holds


def test_an_expectation_that_does_not_hold_fails_the_run(tmp_path):
    from bpcheck.derive.commands.check import worst_status
    tex = tmp_path / "n.tex"
    tex.write_text("% bpcheck: notation=bishop\n% bpcheck: expect=refuted\n"
                   "\\[ \\delta_k = y_k - t_k \\]\n")
    rows = check_file(str(tex), notation=None, net=make_network())
    assert rows[0][0].holds(rows[0][1]) is False and worst_status(rows) == 1


@pytest.mark.parametrize("line,message", [
    ("% bpcheck: colour=red", "'colour=red': write KEY=VALUE with a key of notation"),
    ("% bpcheck: expect=maybe", "expect='maybe'; accepted: proved, refuted"),
    ("% bpcheck: bias=yes", "bias='yes'; accepted: true, false"),
])
def test_a_bad_setting_is_one_line_naming_it(tmp_path, line, message):
    from bpcheck.derive.errors import UsageError
    tex = tmp_path / "n.tex"
    tex.write_text(f"x\n{line}\n\\[ a = b \\]\n")
    with pytest.raises(UsageError, match="line 2: "):
        equations_of(str(tex))
    try:
        equations_of(str(tex))
    except UsageError as e:
        assert message in str(e)


def test_without_a_notation_anywhere_each_equation_is_tried_in_the_shipped_ones(tmp_path):
    tex = tmp_path / "n.tex"
    tex.write_text("\\[ \\delta^L_j = a^L_j - y_j \\]\n\\[ \\delta_k = y_k - t_k \\]\n"
                   "\\[ \\zeta = 1 \\]\n")
    rows = check_file(str(tex), notation=None, net=make_network())
    first, second, third = (r for _, r in rows)
    assert (first.notation.name, str(first.verdict), first.guessed) == ("nielsen", "proved", True)
    # proved in Bishop's notation, refuted in Eglen's (the other sign of delta): ambiguous
    assert str(second.verdict) == "ambiguous"
    assert dict(second.also)["eglen"] is Verdict.REFUTED
    assert "no shipped notation reads this equation (each: unknown symbol \\zeta)" in str(third)


def test_markdown_gives_dollar_bracket_and_myst_math_with_its_settings():
    rows = check_file(str(DOCS / "notes.md"), notation=None, net=make_network())
    got = [(eq.line, eq.label, str(r.verdict), r.diagnosis.id) for eq, r in rows]
    assert got == [(6, "", "proved", None), (11, "wrong", "refuted", "missing-activation-derivative"),
                   (14, "", "proved", None)]
    assert rows[0][1].net.hidden.name == "tanh"  # from <!-- bpcheck: ... -->


def test_a_notebook_gives_its_markdown_cells_placed_by_cell_and_line():
    rows = check_file(str(DOCS / "notebook.ipynb"), notation=None, net=make_network())
    assert [(eq.where, str(r.verdict)) for eq, r in rows] == [
        ("cell 1, line 3", "proved"), ("cell 3, line 3", "refuted")]
    assert rows[1][1].notation.name == "nielsen"  # a setting of cell 1 holds in cell 3


@pytest.mark.parametrize("content", ["[[[[", "{\"cells\": 3}", "\"text\"", "[" * 5000])
def test_a_broken_notebook_is_one_line(tmp_path, content):
    from bpcheck.derive.errors import UsageError
    nb = tmp_path / "n.ipynb"
    nb.write_text(content)
    try:
        eqs = equations_of(str(nb))
    except UsageError as e:
        assert "is not a Jupyter notebook" in str(e)
    else:
        assert eqs == []


def test_a_users_text_is_never_read_as_rich_markup(tmp_path):
    from rich.console import Console
    from bpcheck.derive.present.check import check_table
    tex = tmp_path / "n.tex"
    tex.write_text("\\[ \\delta_k = y_k - t_k \\text{[red]:smile:} \\]\n")
    rows = check_file(str(tex), notation=load_notation("bishop"), net=make_network())
    console = Console(width=200, record=True)
    console.print(check_table(rows))
    assert "[red]:smile:" in console.export_text()


@pytest.mark.parametrize("notation", ["bishop", "nielsen", "eglen", "goodfellow", "ng"])
def test_an_exported_report_reads_back_with_every_equation_proved(tmp_path, notation):
    """export, then check --file on what it wrote: its own settings line names the notation
    and the network, a matrix of entries is skipped, every other equation is proved."""
    from bpcheck.derive.commands.check import worst_status
    from bpcheck.derive.commands.export import export
    out = tmp_path / "notes.tex"
    n = load_notation(notation)
    export(make_network(bias=n.bias_style != "none"), [n], tex=str(out))
    rows = check_file(str(out), notation=None, net=make_network(layers=(5, 5)))
    checked = [(eq.where, r) for eq, r in rows if r is not None]
    assert len(checked) >= 15
    assert all(str(getattr(r, "verdict", r)) == "proved" for _, r in checked), \
        [(w, str(getattr(r, "verdict", r))) for w, r in checked]
    assert worst_status(rows) == 0


def test_junit_xml_and_results_json_say_which_equations_pass(tmp_path):
    """A test case per equation (a failure for one that is not what the file expects or
    not proved, skipped where the file skips it), and Gradescope's results.json."""
    import xml.etree.ElementTree as ET
    from bpcheck.derive.present.checked_file import junit_xml, results_json
    tex = tmp_path / "hw.tex"
    tex.write_text("% bpcheck: notation=bishop\n\\[ \\delta_k = y_k - t_k \\]\n"
                   "\\[ \\delta_j = \\sum_k w_{kj}\\delta_k \\]\n% bpcheck: skip\n\\[ x \\]\n")
    rows = check_file(str(tex), notation=None, net=make_network())
    suite = ET.fromstring(junit_xml(str(tex), rows))
    assert suite.tag == "testsuite" and suite.get("tests") == "3"
    assert (suite.get("failures"), suite.get("skipped"), suite.get("errors")) == ("1", "1", "0")
    cases = suite.findall("testcase")
    assert [c.get("classname") for c in cases] == ["hw.tex"] * 3
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure.get("message") == "refuted" and "missing-activation-derivative" in failure.text
    assert cases[2].find("skipped") is not None
    results = json.loads(results_json(str(tex), rows))
    assert results["score"] == 1 and sum(t["max_score"] for t in results["tests"]) == 2
    for t in results["tests"]:  # the fields Gradescope reads, each of its type
        assert set(t) == {"name", "score", "max_score", "status", "output", "visibility"}
        assert t["status"] in ("passed", "failed") and t["visibility"] == "visible"
        assert isinstance(t["score"], int) and isinstance(t["output"], str)
    assert results["tests"][1]["name"] == "hw.tex line 3" and "it should read" in results["tests"][1]["output"]


def test_a_wrong_equation_expected_wrong_passes_as_refuted_never_as_proved(tmp_path):
    """A lecture's deliberate mistake passes by being refuted, and says so; with several
    files, each test is named by its own file once."""
    import xml.etree.ElementTree as ET
    from bpcheck.derive.present.checked_file import junit_xml, results_json
    a, b = tmp_path / "a.tex", tmp_path / "b.tex"
    a.write_text("% bpcheck: notation=bishop expect=refuted\n"
                 "\\[ \\delta_j = \\sum_k w_{kj}\\delta_k \\]\n")
    b.write_text("% bpcheck: notation=bishop\n\\[ \\delta_k = y_k - t_k \\]\n")
    rows = check_files([str(a), str(b)], notation=None, net=make_network())
    name = f"{a}, {b}"
    tests = json.loads(results_json(name, rows))["tests"]
    assert [t["status"] for t in tests] == ["passed", "passed"]
    assert tests[0]["output"].startswith("refuted as expected: ")
    assert tests[1]["output"].startswith("proved: ")
    assert [t["name"] for t in tests] == ["a.tex line 2", "b.tex line 2"]
    cases = ET.fromstring(junit_xml(name, rows)).findall("testcase")
    assert [c.get("classname") for c in cases] == ["a.tex", "b.tex"]


@pytest.mark.skipif(shutil.which("bpcheck") is None, reason="bpcheck is not installed")
def test_the_output_files_are_written_whole_and_never_over_a_file(tmp_path):
    doc = DOCS / "lecture.tex"
    run = lambda *a: subprocess.run([shutil.which("bpcheck"), "check", "--file", str(doc), *a],
                                    capture_output=True, text=True, cwd=tmp_path)
    assert run("--junit-xml", "j.xml", "--results-json", "r.json").returncode == 0
    assert (tmp_path / "j.xml").read_text().startswith("<?xml")
    again = run("--junit-xml", "j.xml")
    assert again.returncode == 2 and "exists; use --force" in again.stderr
    bad = run("--junit-xml", "j.txt")
    assert bad.returncode == 2 and "must end in .xml" in bad.stderr
    no_file = subprocess.run([shutil.which("bpcheck"), "check", r"\delta_k = y_k - t_k",
                              "--notation", "bishop", "--results-json", "r2.json"],
                             capture_output=True, text=True, cwd=tmp_path)
    assert no_file.returncode == 2 and "give --file FILE with it" in no_file.stderr


SCHEMAS = Path(__file__).parent / "schemas"


@pytest.mark.parametrize("name", sorted(p.name for p in DOCS.iterdir()))
def test_the_junit_and_results_json_of_every_document_validate_against_their_schemas(name):
    import jsonschema
    import xmlschema
    from bpcheck.derive.present.checked_file import junit_xml, results_json
    rows = check_file(str(DOCS / name), notation=load_notation("bishop"), net=make_network())
    xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd")).validate(junit_xml(name, rows))
    schema = json.loads((SCHEMAS / "gradescope-results.schema.json").read_text())
    jsonschema.validate(json.loads(results_json(name, rows)), schema)
    # the schemas refuse what a reader would not take: they are no rubber stamps
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**json.loads(results_json(name, rows)), "max_score": 3}, schema)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd")).validate(
            junit_xml(name, rows).replace('tests="', 'tests="many'))


def test_with_jobs_the_rows_are_those_of_one_process_in_the_files_order():
    from bpcheck.derive.commands.check import check_files
    paths = [str(DOCS / n) for n in ("lecture.tex", "notes.md", "environments.tex")]
    told = []
    kw = dict(notation=load_notation("bishop"), net=make_network())
    one = check_files(paths, **kw)
    two = check_files(paths, **kw, jobs=2, progress=lambda done, total, what: told.append(done))
    key = lambda rows: [(eq.source, eq.line, eq.label, str(getattr(r, "verdict", r)),
                         getattr(getattr(r, "diagnosis", None), "id", None)) for eq, r in rows]
    assert key(one) == key(two) and len({eq.source for eq, _ in two}) == 3
    assert told == list(range(len(two) + 1))  # each row told in order, then the end
