"""LaTeX for lecture notes: compiled with real pdflatex and read back from the PDF."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from bpcheck.derive import load_notation, make_network
from bpcheck.derive.present.article import body, document, escape
from bpcheck.derive.io.publish import publish
from bpcheck.derive.io.notation_file import parse_notation
from bpcheck.derive.commands.report import build_report

PDFLATEX, PDFTOTEXT = shutil.which("pdflatex"), shutil.which("pdftotext")
BPCHECK = shutil.which("bpcheck")
needs_tex = pytest.mark.skipif(not (PDFLATEX and PDFTOTEXT),
                               reason="pdflatex and pdftotext are needed (.ci/run installs them)")


def compile_and_read(tmp_path, tex: str) -> str:
    src = tmp_path / "notes.tex"
    src.write_text(tex)
    run = subprocess.run([PDFLATEX, "-no-shell-escape", "-interaction=nonstopmode",
                          "-halt-on-error", src.name], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]
    out = subprocess.run([PDFTOTEXT, "notes.pdf", "-"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    return out.stdout


@needs_tex
@pytest.mark.parametrize("notation,kw,expected", [
    # the equations themselves, as pdftotext reads the typeset math back
    ("bishop", {}, ["Forward equations", "Derivation", "Jacobians", "hidden-delta", "proved",
                    "δk = yk − tk", "δj = h′ (aj )", "= wkj h′ (aj )"]),
    ("nielsen", {}, ["Nielsen", "output-delta-diagonal", "proved", "δj2 = σ ′ (zj2 )"]),
    ("eglen", {}, ["Eglen", "not applicable", "no biases", "δr = tr − yr",
                   "= wqk g ′ (aq )"]),
    ("bishop", {"output": "softmax", "loss": "ce"}, ["refuted", "fails at", "softmax"]),
    ("nielsen", {"output": "softmax", "loss": "sse", "hidden": "relu"}, ["refuted", "kink"]),
])
def test_the_article_compiles_and_says_what_the_report_says(tmp_path, notation, kw, expected):
    report = build_report(make_network(**kw), [load_notation(notation)])
    text = compile_and_read(tmp_path, document(report))
    for word in expected:
        assert word in text, word
    # the concrete Jacobian of an elementwise output shows its zeros
    if not kw:
        assert "0" in text


@needs_tex
def test_user_supplied_text_is_escaped_and_still_compiles(tmp_path):
    src = (tmp_path.parent / "x.toml")
    text = open(os.path.join(os.path.dirname(__file__), "..", "examples", "net-o-f.toml")).read()
    text = text.replace('title = "net/o/f notation (a user\'s notation file)"',
                        'title = "50% & $x_1$ #1 {braces} \\\\input{/etc/passwd} ~^_"')
    n = parse_notation(text, source="x.toml")
    tex = document(build_report(make_network(), [n]))
    assert r"\input{/etc/passwd}" not in tex
    out = compile_and_read(tmp_path, tex)
    assert "50% & $x" in out and "#1 {braces}" in out and "\\input{/etc/passwd}" in out


@pytest.mark.parametrize("raw,escaped", [
    ("a_b", r"a\_b"), ("50%", r"50\%"), ("$x$", r"\$x\$"), ("\\input", r"\textbackslash{}input"),
    ("{}", r"\{\}"), ("δ ≈ 1", r"$\delta$ $\approx$ 1"),
])
def test_escape(raw, escaped):
    assert escape(raw) == escaped


def test_a_fragment_is_only_the_body():
    report = build_report(make_network(), [load_notation("bishop")])
    frag = body(report)
    assert r"\documentclass" not in frag and r"\section*" in frag
    assert document(report).startswith(r"\documentclass")


def test_writing_never_replaces_without_force_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "notes.tex"
    publish(str(target), "one")
    with pytest.raises(Exception, match="--force"):
        publish(str(target), "two")
    publish(str(target), "three", force=True)
    assert target.read_text() == "three"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.tex"]


@pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed")
@needs_tex
def test_export_command_writes_and_compiles(tmp_path):
    out = tmp_path / "notes.tex"
    p = subprocess.run([BPCHECK, "export", "--notation", "nielsen", "--output", "softmax",
                        "--loss", "ce", "-o", str(out), "--pdf"], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    assert out.exists() and out.with_suffix(".pdf").exists()
    again = subprocess.run([BPCHECK, "export", "-o", str(out)], capture_output=True, text=True)
    assert again.returncode == 2 and "--force" in again.stderr


@pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed")
def test_pdf_without_tex_names_the_package_to_install(tmp_path):
    bindir = os.path.dirname(BPCHECK)
    env = {"PATH": bindir, "HOME": str(tmp_path)}
    p = subprocess.run([BPCHECK, "export", "-o", str(tmp_path / "n.tex"), "--pdf",
                        "--notation", "bishop"], capture_output=True, text=True, env=env,
                       timeout=600)
    if shutil.which("pdflatex", path=bindir):
        pytest.skip("pdflatex lives beside bpcheck")
    assert p.returncode == 2
    assert "texlive-latex-base" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_results_render_for_notebooks_and_terminals():
    from rich.console import Console
    from bpcheck.derive import Derivation, shown
    from bpcheck.derive.commands.check import check_text
    d = Derivation(make_network(output="softmax", loss="ce"))
    view = shown(d, notation=load_notation("bishop"))
    assert view._repr_latex_().startswith("$$") and "refuted" in view._repr_latex_()
    assert shown(d.checks[0].outcome)._repr_latex_() == r"$\text{proved}$"
    r = shown(check_text(r"\delta_k = y_k - t_k", notation=load_notation("bishop"), net=d.net))
    assert r._repr_latex_().startswith("$$\\delta_{k} = y_{k} - t_{k}")
    assert repr(r) == r"<proved: \delta_k = y_k - t_k>" and r.verdict.value == "proved"
    report = build_report(d.net, [load_notation("eglen")])
    assert "not applicable" in report._repr_latex_()
    console = Console(width=120, record=True)
    console.print(shown(d.checks[1].outcome))
    assert "refuted" in console.export_text()
