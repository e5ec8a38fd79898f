"""Hostile and careless input: nothing executed, nothing read that should not be, nothing
overwritten, and every refusal one line."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bpcheck.derive.errors import BpcheckError, UsageError
from bpcheck.derive.io.notation_file import parse_notation
from bpcheck.derive.io.publish import compile_pdf, publish

BPCHECK = shutil.which("bpcheck")
PDFTOTEXT = shutil.which("pdftotext")
needs_cli = pytest.mark.skipif(BPCHECK is None, reason="bpcheck is not installed")
needs_tex = pytest.mark.skipif(not (shutil.which("pdflatex") and PDFTOTEXT),
                               reason="pdflatex and pdftotext are needed (.ci/run installs them)")
EXAMPLE = Path(__file__).parent.parent / "examples" / "net-o-f.toml"


def bpcheck(*args, cwd, home=None):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run([BPCHECK, *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=600)


def one_line_error(p: subprocess.CompletedProcess, *words: str) -> None:
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr
    for w in words:
        assert w in p.stderr, (w, p.stderr)


# -- nothing executed ----------------------------------------------------------------------

@needs_cli
@needs_tex
def test_a_file_name_with_backquotes_reaches_no_shell(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    name = "e`cd;touch canary`f.tex"
    p = bpcheck("export", "--notation", "bishop", "--pdf", "-o", name, cwd=tmp_path, home=home)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / name).exists() and (tmp_path / "e`cd;touch canary`f.pdf").exists()
    assert not list(tmp_path.rglob("canary")) and not (home / "canary").exists()


@needs_tex
@pytest.mark.parametrize("attack", [
    r"\input{%(secret)s}",
    r"\immediate\write18{touch %(canary)s}",
    r"\immediate\openout5=%(canary)s \immediate\write5{x}\immediate\closeout5",
])
def test_tex_runs_paranoid_no_shell_no_reading_or_writing_outside(tmp_path, attack):
    secret = tmp_path / "secret.tex"
    secret.write_text("THESECRET")
    canary = tmp_path / "canary"
    doc = ("\\documentclass{article}\\begin{document}hello "
           + attack % {"secret": secret, "canary": canary} + "\\end{document}\n")
    try:
        pdf = compile_pdf(doc)
    except BpcheckError:
        pdf = None  # refusing to read is TeX's fatal error: no PDF, and nothing leaked
    assert not canary.exists()
    if pdf is not None:
        (tmp_path / "out.pdf").write_bytes(pdf)
        text = subprocess.run([PDFTOTEXT, str(tmp_path / "out.pdf"), "-"],
                              capture_output=True, text=True).stdout
        assert "hello" in text and "THESECRET" not in text


@pytest.mark.parametrize("key,line", [
    ("indices.this", 'this = "\\\\input{/etc/passwd}"'),
    ("indices.prev", 'prev = "\\\\input{/etc/passwd}"'),
    ("symbols.error", 'error = "E\\\\label{\\\\input x}"'),
    ("symbols.delta", 'delta = "\\\\input"'),
    ("output_layer", 'output_layer = "\\\\input{/etc/passwd}"'),
    ("indices.layers", 'hidden = ["\\\\write18"]'),
])
def test_a_notation_cannot_put_a_command_into_latex(key, line):
    text = EXAMPLE.read_text()
    field = line.split(" = ")[0]
    if key == "indices.layers":
        text += "\n[indices.layers]\n" + line + "\n"
    else:
        lines = text.splitlines()
        at = next(n for n, l in enumerate(lines) if l.split("#")[0].strip().startswith(field + " ="))
        lines[at] = line
        text = "\n".join(lines) + "\n"
    with pytest.raises(UsageError) as e:
        parse_notation(text, source="evil.toml")
    assert "evil.toml" in str(e.value) and "\n" not in str(e.value)


# -- nothing overwritten -------------------------------------------------------------------

@needs_cli
@needs_tex
def test_pdf_obeys_force_and_never_writes_through_a_link(tmp_path):
    (tmp_path / "notes.pdf").write_text("old")
    p = bpcheck("export", "--notation", "bishop", "--pdf", "-o", "notes.tex", cwd=tmp_path)
    one_line_error(p, "notes.pdf", "--force")
    assert (tmp_path / "notes.pdf").read_text() == "old" and not (tmp_path / "notes.tex").exists()
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "linked.pdf").symlink_to(victim)
    for force in ([], ["--force"]):
        p = bpcheck("export", "--notation", "bishop", "--pdf", "-o", "linked.tex", *force,
                    cwd=tmp_path)
        one_line_error(p, "linked.pdf", "link")
    assert victim.read_text() == "precious"


def test_a_link_named_like_the_target_is_refused_even_with_force(tmp_path):
    victim = tmp_path / "victim.tex"
    victim.write_text("precious")
    (tmp_path / "notes.tex").symlink_to(victim)
    for force in (False, True):
        with pytest.raises(UsageError, match="symbolic link"):
            publish(tmp_path / "notes.tex", "x", force=force)
    assert victim.read_text() == "precious"


def test_writers_racing_for_one_name_without_force_cannot_both_succeed(tmp_path):
    target = tmp_path / "notes.tex"
    barrier = threading.Barrier(8)
    won, lost = [], []

    def write(n: int) -> None:
        barrier.wait()
        try:
            publish(target, f"writer {n}")
            won.append(n)
        except UsageError:
            lost.append(n)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == 7
    assert target.read_text() == f"writer {won[0]}"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.tex"]


def test_an_interrupted_write_leaves_no_temporary_file_and_no_target(tmp_path, monkeypatch):
    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        publish(tmp_path / "notes.tex", "x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where,words", [
    ("missing/notes.tex", ["does not exist"]),
    ("/proc/notes.tex", ["cannot write", "/proc/notes.tex"]),
    (".", ["not a regular file"]),
])
def test_errors_writing_are_one_line(tmp_path, where, words):
    path = where if where.startswith("/") else tmp_path / where
    with pytest.raises(UsageError) as e:
        publish(path, "x", force=True)
    assert "\n" not in str(e.value)
    for w in words:
        assert w in str(e.value)


@needs_cli
def test_sigterm_ends_a_run_as_an_interrupt(tmp_path):
    p = subprocess.Popen([BPCHECK, "report", "--layers", "32,32,32,32,32,32"], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert err.strip() == "bpcheck: interrupted"


# -- every run bounded -----------------------------------------------------------------------

def timed(*args, cwd):
    start = time.monotonic()
    p = bpcheck(*args, cwd=cwd)
    return p, time.monotonic() - start


@needs_cli
@pytest.mark.parametrize("args", [
    ("check", r"\delta_k = y_k - t_k", "--notation", "bishop", "--layers", "16,16,16,16,16"),
    ("check", r"\delta_k = y_k - t_k", "--notation", "bishop", "--layers", ",".join(["32"] * 13)),
    ("check", r"\frac{\partial E_n}{\partial w_{ji}} = \delta_j z_i", "--notation", "bishop",
     "--layers", "32,32"),
    ("report", "--layers", "32,32,32,32,32,32"),
    ("example", str(Path(__file__).parent.parent / "examples" / "sigmoid-2-2-2.toml"),
     "--digits", "50"),
])
def test_the_budget_bounds_the_whole_command(tmp_path, args):
    """--budget 1: ended (proved, refuted, or undecided with exit 3) in under 5 s of wall
    time, however large the network; imports included."""
    p, seconds = timed(*args, "--budget", "1", cwd=tmp_path)
    assert seconds < 5, (seconds, p.stderr)
    assert p.returncode in (0, 1, 3), p.stderr
    if p.returncode == 3:
        assert "undecided" in p.stdout + p.stderr


@needs_cli
@pytest.mark.parametrize("args,words", [
    (("check", "a_j = 10^{10^{10}}", "--notation", "bishop"), "beyond the bound of 1000"),
    (("translate", "a_j = 10^{10^{7}}", "--from", "bishop", "--to", "nielsen"), "beyond the bound"),
    (("check", "a_j = ((10^{1000})^{1000})^{1000}", "--notation", "bishop"), "more than 12000 digits"),
    (("check", "a_j = " + "9" * 40, "--notation", "bishop"), "40 digits; at most 30"),
])
def test_numbers_too_large_are_one_line_naming_them_before_any_evaluation(tmp_path, args, words):
    p, seconds = timed(*args, cwd=tmp_path)
    one_line_error(p, words)
    assert seconds < 5


@needs_cli
def test_a_large_file_of_openers_is_read_in_linear_time(tmp_path):
    (tmp_path / "big.tex").write_text("\\[" * (320 * 1024), "utf-8")  # 640 kB
    p, seconds = timed("check", "--file", "big.tex", "--notation", "bishop", cwd=tmp_path)
    one_line_error(p, "has no equations")
    assert seconds < 5


@needs_cli
@pytest.mark.parametrize("value", ["[1, 2]", "{ a = 1 }", "3", "true"])
@pytest.mark.parametrize("key", ["error", "delta", "this", "order", "name"])
def test_a_value_of_the_wrong_type_in_a_notation_file_is_one_line(tmp_path, key, value):
    text = EXAMPLE.read_text("utf-8")
    lines = [f"{l.split('=')[0]}= {value}" if l.split("=")[0].strip() == key else l
             for l in text.splitlines()]
    (tmp_path / "n.toml").write_text("\n".join(lines) + "\n", "utf-8")
    p = bpcheck("check", r"\delta_j = 1", "--notation", "n.toml", cwd=tmp_path)
    one_line_error(p, "n.toml")


@needs_cli
def test_a_graph_of_relu_then_softplus_is_reported(tmp_path):
    (tmp_path / "g.toml").write_text(
        'loss = "sse"\ninputs = ["i1"]\noutputs = ["o1"]\nedges = [\n'
        '  { from = "i1", to = "h1", weight = "u" },\n  { from = "h1", to = "o1", weight = "v" },\n]\n'
        '[units]\nh1 = { activation = "relu", bias = "b1" }\n'
        'o1 = { activation = "softplus", bias = "b2" }\n', "utf-8")
    p = bpcheck("report", "--graph", "g.toml", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "graph-bias-gradient" in p.stdout


@needs_cli
def test_a_worked_example_on_a_wide_network_ends_within_its_budget(tmp_path):
    rows = lambda n, m: "[" + ", ".join("[" + ", ".join(["0.25"] * m) + "]" for _ in range(n)) + "]"
    vec = "[" + ", ".join(["0.5"] * 32) + "]"
    (tmp_path / "wide.toml").write_text(
        'layers = [32, 32, 32]\nhidden = "sigmoid"\noutput = "sigmoid"\nloss = "sse"\n'
        f'learning_rate = 0.5\ninput = {vec}\ntarget = {vec}\n[weights]\n"1" = {rows(32, 32)}\n'
        f'"2" = {rows(32, 32)}\n[biases]\n"1" = {vec}\n"2" = {vec}\n', "utf-8")
    p, seconds = timed("example", "wide.toml", "--digits", "50", "--budget", "1", cwd=tmp_path)
    assert seconds < 5 and p.returncode in (0, 3), (seconds, p.stderr)


def test_a_command_called_late_in_a_long_process_has_its_whole_budget(monkeypatch, capsys):
    """main([...]) in a test or a notebook counts its budget from its own start; only the
    process's own command (no argv) counts from the process's start, imports included. It
    used to count the first call of any process from the import, so a call a minute later
    was out of time before it began (exit 3)."""
    import time
    from bpcheck.cli import main
    from bpcheck.derive.commands import run
    monkeypatch.setattr(run, "STARTED", time.monotonic() - 1000)
    status = main(["check", r"\delta_k = y_k - t_k", "--notation", "bishop"])
    out = capsys.readouterr()
    assert status == 0 and "proved" in out.out, (status, out, signal.getitimer(signal.ITIMER_REAL))
    monkeypatch.setattr("sys.argv", ["bpcheck", "check", r"\delta_k = y_k - t_k",
                                     "--notation", "bishop"])
    status = main()                          # the process's own: 1000 s since it started
    out = capsys.readouterr()
    assert status == 3 and "time budget of 30 s ran out" in out.out, (status, out)


def test_a_budget_that_ends_as_its_block_starts_or_ends_leaves_no_alarm_behind():
    """Budgets so short that the alarm lands while the timer is being armed or disarmed:
    each must end its block or let it finish, and afterwards no timer is left running and
    the handler before is back (a stray one raised BudgetExceeded every 50 ms elsewhere)."""
    import signal
    import time
    from bpcheck.derive.engine.proof import BudgetExceeded, time_budget
    before = signal.getsignal(signal.SIGALRM)
    ended = finished = 0
    for n in range(3000):
        try:
            with time_budget(1e-6 * (1 + n % 50)):
                sum(range(n % 300))
            finished += 1
        except BudgetExceeded:
            ended += 1
    assert ended + finished == 3000 and ended > 0
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before
    time.sleep(0.2)  # a stray alarm would raise here


_X = r"(w^{(2)}_{11} + w^{(2)}_{12} + w^{(2)}_{21} + w^{(2)}_{22} + y_k + t_k)"
# true (X^20 = X^19 (A + B) with X = A + B), equal at every point, and its normal form
# would be over 100,000 terms: X^20 alone expands to 53,130, X^19 to 42,504
_TOO_LARGE = (rf"\delta_k = y_k - t_k + {_X}^{{20}} - {_X}^{{19}} (w^{{(2)}}_{{11}} + "
              rf"w^{{(2)}}_{{12}} + w^{{(2)}}_{{21}}) - {_X}^{{19}} (w^{{(2)}}_{{22}} + y_k + t_k)")


def test_a_normal_form_too_large_to_expand_is_undecided_by_counted_work_at_once():
    """The work limit is counted (terms the expansion could form), not timed: the same
    verdict and note on any machine under any load, reached before any expansion."""
    import time
    from bpcheck.derive import load_notation, make_network
    from bpcheck.derive.commands.check import check_text
    start = time.process_time()
    r = check_text(_TOO_LARGE, notation=load_notation("bishop"),
                   net=make_network(layers=(2, 2, 2), output="identity"), budget=600)
    assert str(r.verdict) == "undecided"
    assert [x.outcome.note for x in r.readings] == [
        "the difference in normal form could have more than 100,000 terms, the most the "
        "engine expands (counted work: the same on any machine, under any load)"]
    assert time.process_time() - start < 10


def test_a_proofs_budget_counts_this_processs_cpu_time_not_the_wall():
    """A proof's budget is CPU time: waiting (another process's turn) does not use it up,
    computing does."""
    import time
    from bpcheck.derive.engine.proof import BudgetExceeded, time_budget
    with time_budget(0.2, clock="cpu"):
        time.sleep(0.5)
    with pytest.raises(BudgetExceeded) as e:
        with time_budget(0.2, clock="cpu"):
            while True:
                sum(range(1000))
    assert e.value.why == "the time budget of 0.2 s of CPU time ran out"
    with pytest.raises(BudgetExceeded) as e:
        with time_budget(0.2):
            time.sleep(0.5)
    assert e.value.why == "the time budget of 0.2 s ran out"
