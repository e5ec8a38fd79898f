"""LaTeX for lecture notes: compiled with real pdflatex and read back from the PDF."""
from __future__ import annotations

import os
import re
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
    # TeX paranoid, as --pdf runs it: no shell, no file read or written outside the folder
    env = {**os.environ, "openin_any": "p", "openout_any": "p", "shell_escape": "f"}
    run = subprocess.run([PDFLATEX, "-no-shell-escape", "-interaction=nonstopmode",
                          "-halt-on-error", src.name], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env=env)
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


@pytest.mark.slow
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


# -- issue 12, item 6: export for notes --------------------------------------------------

def exported(tmp_path, *args, name="notes.tex") -> str:
    """`bpcheck export ARGS -o NAME`, run in this process; the file it wrote."""
    from bpcheck.cli import main
    out = tmp_path / name
    assert main(["export", *args, "-o", str(out)]) == 0
    return out.read_text()


def test_a_rounded_value_is_written_once_with_approx():
    """The counterexample's point: a^{[2]}_1 = -ln 3 is long exactly, so it is written as
    its digits after \\approx, never '= \\approx' and never twice."""
    report = build_report(make_network(output="softmax", loss="ce"), [load_notation("bishop")])
    tex = body(report)
    [line] = [l for l in tex.splitlines() if "It fails at" in l]
    assert r"a^{[2]}_{1} \approx -1.09861228867" in line
    assert r"a^{[2]}_{2} \approx 0.810930216216" in line
    assert line.count("1.09861228867") == 1 and line.count("0.810930216216") == 1
    assert r"t_{1} = \frac{1}{2}" in line          # an exact value keeps its '='
    assert r"the left side is $\frac{-23}{62}$" in line
    for bad in (r"= \approx", r"=\approx", "= ≈", r"\approx \approx"):
        assert bad not in tex


@pytest.mark.parametrize("raw,typeset", [
    ("delta = -dE/da, so the gradient is -delta times",
     r"$\delta = -\partial E/\partial a$, so the gradient is $-\delta$ times"),
    ("δ = -∂E/∂a", r"$\delta = -\partial E/\partial a$"),
    ("--no-bias gives it; see --hidden or --notation.",
     r"\texttt{-{}-no-bias} gives it; see \texttt{-{}-hidden} or \texttt{-{}-notation}."),
    ("h is relu (hidden layers), f is softmax", "$h$ is relu (hidden layers), $f$ is softmax"),
    ("a bias held at 1 (index 0), 2-3-2: 17 parameters",
     "a bias held at 1 (index 0), 2-3-2: 17 parameters"),
    ("x ≈ 0.5 and 50% of {y}", r"$x \approx 0.5$ and 50\% of \{y\}"),
])
def test_prose_typesets_option_names_as_code_and_mathematics_as_math(raw, typeset):
    from bpcheck.derive.present.tex import prose
    assert prose(raw) == typeset


@needs_tex
def test_option_names_and_the_notes_mathematics_are_typeset(tmp_path):
    """Eglen on a network with biases: the note names --no-bias and says delta = -dE/da."""
    tex = document(build_report(make_network(), [load_notation("eglen")]))
    assert r"\texttt{-{}-no-bias} gives the network" in tex and " --no-bias" not in tex
    assert r"$\delta = -\partial E/\partial a$, so the gradient is $-\delta$ times" in tex
    assert "covered by \\texttt{weight-gradient}" in tex
    assert all(ord(ch) < 128 for ch in tex)
    text = compile_and_read(tmp_path, tex)
    assert "--no-bias gives the network" in text     # typewriter dashes, not an en dash
    assert "δ = −∂E/∂a" in text and "–no-bias" not in text


def test_a_fragment_has_no_preamble_and_no_heading_of_its_own(tmp_path):
    tex = exported(tmp_path, "--notation", "bishop", "--fragment")
    assert r"\documentclass" not in tex and r"\begin{document}" not in tex
    assert r"\section" not in tex and "Backpropagation in" not in tex
    assert tex.startswith("% bpcheck: notation=bishop layers=2,3,2")
    assert "In the notation of Bishop, Pattern Recognition" in tex
    assert tex.count(r"\subsection*{Forward equations}") == 1  # under the user's section


def test_heading_chooses_the_sectioning_level(tmp_path):
    tex = exported(tmp_path, "--notation", "bishop,nielsen", "--fragment", "--heading",
                   "subsection")
    assert r"\subsection*{Backpropagation in Bishop, Pattern Recognition" in tex
    assert r"\subsection*{Backpropagation in Nielsen, Neural Networks" in tex
    assert r"\subsection*{Cross-notation" in tex
    assert tex.count(r"\subsubsection*{Forward equations}") == 2
    assert r"\section" not in tex and r"\documentclass" not in tex
    whole = exported(tmp_path, "--notation", "ng", "--heading", "chapter", name="ch.tex")
    assert whole.startswith(r"\documentclass[11pt]{report}")  # article has no \chapter
    assert r"\chapter*{Backpropagation in Ng" in whole and r"\section*{Checks}" in whole


@pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed")
def test_a_bad_heading_is_one_line_and_exit_2(tmp_path):
    p = subprocess.run([BPCHECK, "export", "--heading", "part", "-o", str(tmp_path / "n.tex")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and p.stdout == ""
    [line] = p.stderr.strip().splitlines()
    assert "'part'" in line and "chapter, section, subsection, subsubsection" in line
    assert not (tmp_path / "n.tex").exists()


def _row(tex: str, tag: str) -> str:
    """The align row (or check item) that carries a tag."""
    [row] = [r for line in tex.splitlines() for r in line.split(r" \\ ") if tag in r]
    return row


def test_book_numbers_tag_the_equations_the_catalogue_has():
    from bpcheck.derive.commands.export import book_numbers
    from bpcheck.derive.present.article import Layout
    report = build_report(make_network(), [load_notation(n) for n in ("bishop", "nielsen")])
    tex = body(report, Layout(numbers=book_numbers(report)))
    assert _row(tex, r"\tag{Bishop 5.56}").startswith(
        r"\delta_{j} &= h'(a_{j}) \, \sum_{k} w^{(2)}_{kj} \, \delta_{k}")
    assert _row(tex, r"\tag{Bishop 5.54}").startswith(r"\delta_{k} &= y_{k} - t_{k}")
    assert _row(tex, r"\tag{Bishop 5.49}").startswith(r"z_{j} &= h(a_{j})")
    assert _row(tex, r"\tag{Nielsen BP4}").startswith(r"\frac{\partial C}{\partial w^{2}_{jk}}")
    assert r"\tag{Bishop 5.51}" in tex and r"\tag{Nielsen 36}" in tex
    # in the checks, beside the claim
    assert r"\delta_{j} = h'(a_{j}) \, \sum_{k} w^{(2)}_{kj} \, \delta_{k}$ (Bishop 5.56)" in tex
    # Nielsen's (66) and (84) are delta^L = a^L - y for cross-entropy and for softmax: on
    # quadratic cost and a linear output neither is the book's, so no number is given
    assert r"\delta^{L}_{j} &= a^{L}_{j} - y_{j} &&" in tex
    assert "Nielsen 66" not in tex and "Nielsen 84" not in tex
    softmax = build_report(make_network(output="softmax", loss="ce"), [load_notation("nielsen")])
    assert book_numbers(softmax)[("nielsen", r"\delta^{L}_{j} = a^{L}_{j} - y_{j}")] == "Nielsen 84"
    # a notation whose catalogue has no equation numbers (algorithm lines) gets no tags
    assert not book_numbers(build_report(make_network(), [load_notation("goodfellow")]))


@pytest.mark.parametrize("notation,args", [
    ("eglen", ["--no-bias"]), ("bishop", ["--heading", "subsection"]), ("nielsen", []),
])
def test_a_fragment_reads_back_with_every_equation_proved(tmp_path, notation, args):
    """export --fragment, then check --file on what it wrote: the settings line, the
    skipped matrices and the book's tags read back, every other equation proved."""
    from bpcheck.derive.commands.check import check_file, worst_status
    from bpcheck.derive.io.documents import equations_of
    tex = exported(tmp_path, "--notation", notation, "--fragment", *args)
    assert r"\documentclass" not in tex and r"\tag{" in tex
    rows = check_file(str(tmp_path / "notes.tex"), notation=None, net=make_network(layers=(5, 5)))
    checked = [(eq.where, r) for eq, r in rows if r is not None]
    assert len(checked) >= 15
    assert all(str(getattr(r, "verdict", r)) == "proved" for _, r in checked), \
        [(w, str(getattr(r, "verdict", r))) for w, r in checked]
    assert worst_status(rows) == 0
    tagged = [eq.text for eq in equations_of(str(tmp_path / "notes.tex")) if r"\tag{" in eq.text]
    assert tagged and all(rf"\tag{{{notation.capitalize()} " in t for t in tagged)


@needs_tex
def test_a_fragment_compiles_under_the_users_own_section(tmp_path):
    tex = exported(tmp_path, "--notation", "eglen", "--no-bias", "--fragment", name="body.tex")
    text = compile_and_read(tmp_path, "\\documentclass{article}\\usepackage{amsmath}\n"
                            "\\setcounter{MaxMatrixCols}{64}\\begin{document}\n"
                            "\\section{Backpropagation}\n\\input{body}\n\\end{document}\n")
    assert text.index("Backpropagation") < text.index("In the notation of Eglen") \
        < text.index("Forward equations")
    assert "(Eglen 1)" in text and "δ = −∂E/∂a" in text
    assert r"\tag{Eglen 1}" in tex


@needs_tex
@pytest.mark.parametrize("example,expected", [
    ("batchnorm", ["Backward through layer 1 (batchnorm)", "Ioffe and Szegedy", "backward",
                   "pass, line 4", "statistics-held-fixed", "refuted", "all vanish"]),
    ("attention", ["Backward through layer 1 (attention)", "Vaswani", "softmax"]),
])
def test_a_typed_network_exports_with_its_derivation_and_compiles(tmp_path, example, expected):
    from bpcheck.derive.commands.layer_derivation import net_derivations
    from bpcheck.derive.engine.typed_net import typed_report
    from bpcheck.derive.io.net_file import load_net
    from bpcheck.derive.present.typed_tex import typed_document
    net = load_net(os.path.join(os.path.dirname(__file__), "..", "examples", f"{example}.toml"))
    derivations = net_derivations(net)
    text = compile_and_read(tmp_path, typed_document(typed_report(net), derivations))
    for word in expected:
        assert word in text, word
    # every derivation step is typeset, each with its verdict
    steps = sum(len(d.steps) for d in derivations)
    assert len(re.findall(r"proved (?:for every \w )?\(", text)) == steps
    if example == "batchnorm":  # each of batch norm's steps holds for every mini-batch size
        assert text.count("proved for every m (") == steps


@pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed")
@pytest.mark.parametrize("args,message", [
    (["--layers", "2,2,2"], "leave out --layers"),
    (["--notation", "bishop"], "leave out --notation"),
])
def test_export_net_refuses_the_options_it_replaces(tmp_path, args, message):
    p = subprocess.run([BPCHECK, "export", "--net", "examples/residual.toml", *args, "-o",
                        str(tmp_path / "r.tex")], capture_output=True, text=True, timeout=120,
                       cwd=os.path.join(os.path.dirname(__file__), ".."))
    assert p.returncode == 2 and message in p.stderr
    assert not (tmp_path / "r.tex").exists()
