"""Hostile and careless input for every kind bpcheck reads: LaTeX to `check` and
`translate`, notation, graph and spec files, and command-line options. Each generator takes
a `random.Random`, so hypothesis drives them in the tests (st.randoms) and bench/fuzz.py
runs thousands; each returns the argv of one command (files written under `folder`).

`run` runs one command in this process, as `bpcheck` would, and `judge` says what is
wrong with how it ended: a traceback, an exit status outside the documented ones, an
error that is not one line, a message that shows the engine's internals, or a run past
its budget.
"""
from __future__ import annotations

import contextlib
import io
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

from bpcheck import cli
from bpcheck.equations import load_catalogue

ROOT = Path(__file__).parent.parent.parent
EXAMPLES = ROOT / "examples"
NOTATIONS = ("bishop", "nielsen", "eglen", "goodfellow", "ng")
BUDGET = 1.0
SLACK = 1.0  # the README's bound: a run ends within its budget and a second

# what a message must never show: the model's own names, SymPy's classes, a traceback
INTERNALS = re.compile(r"\b(?:pre|out|delta|W|b|phi|dphi)\d+(?:_\d+)?[\[(]|Traceback|Indexed|"
                       r"IndexedBase|sympy\.|UnitIndex|File \"")
HOSTILE = (r"\input{/etc/passwd}", r"\write18{touch canary}", r"\openout1=canary", "\x00",
           "`touch canary`", "$(touch canary)", "\u202e", "é", "𝛿", "\\", "{", "}", "^", "_",
           "10^{10^{10}}", "9" * 60, "1/0", r"\frac{1}{0}", "((((((((", "\\sum_" * 30,
           r"\delta" * 200, "_{" * 120 + "x" + "}" * 120, "\n", "%", "#", "&", "~")
TOKENS = (r"\frac{", "}", "{", "^", "_", r"\sum_k", r"\sum_{k=1}^{K}", r"\partial", r"\delta",
          "a_j", "z_k", "w_{kj}", "h'(a_j)", r"\odot", "^T", r"\nabla_a", "=", "-", "+", "(",
          ")", "2", "0", r"\ln", "e^{", r"\leftarrow", r"\eta", r"\Delta", "x_{ji}", r"\circ",
          ".*", r"\hat{y}", r"\Theta^{(l)}", "g'(z^{(l)})", "W^{(k)T}", r"\neq", ",", ".")


def _latex(rng: random.Random, entry) -> str:
    """A catalogue equation with a few tokens inserted, deleted or replaced, or noise."""
    text = entry.latex
    for _ in range(rng.choice((0, 1, 1, 2, 4))):
        pos = rng.randint(0, len(text))
        action = rng.random()
        pool = HOSTILE if rng.random() < 0.3 else TOKENS
        if action < 0.4:
            text = text[:pos] + rng.choice(pool) + text[pos:]
        elif action < 0.7:
            text = text[:pos] + text[pos + rng.randint(1, 6):]
        else:
            text = text[:pos] + rng.choice(pool) + text[pos + rng.randint(1, 4):]
    if rng.random() < 0.05:
        text = rng.choice(HOSTILE) * rng.randint(1, 400)
    return text


def _entry(rng: random.Random):
    entry = rng.choice(load_catalogue())
    own = entry.notation if entry.notation in NOTATIONS else "bishop"
    return entry, (own if rng.random() < 0.8 else rng.choice(NOTATIONS + ("nope",)))


def _network(rng: random.Random) -> list[str]:
    out = []
    if rng.random() < 0.5:
        good = ["2,3,2", "2,2,2", "3,4,2", "2,3,3,2", "16,16,16,16,16", "32,32"]
        bad = ["0,2", "2", "a,b", "2,,2", "-1,2,2", "99999,2", "2,3,2" * 50]
        out += ["--layers", rng.choice(good if rng.random() < 0.8 else bad)]
    if rng.random() < 0.3:
        out += ["--output", rng.choice(["softmax", "sigmoid", "identity", "tanh", "nope"])]
    if rng.random() < 0.3:
        out += ["--loss", rng.choice(["ce", "bce", "sse", "mse"])]
    if rng.random() < 0.3:
        out += ["--hidden", rng.choice(["sigmoid", "tanh", "relu", "softplus", "abstract", ""])]
    return out


def check_case(rng: random.Random, folder: Path) -> list[str]:
    entry, notation = _entry(rng)
    argv = ["check", _latex(rng, entry), "--notation", notation]
    if rng.random() < 0.2:
        argv += ["--index", rng.choice(["j=output", "k=hidden", "j=7", "j", "=", "q=input"])]
    return argv + _network(rng) + ["--budget", str(BUDGET)]


def translate_case(rng: random.Random, folder: Path) -> list[str]:
    entry, notation = _entry(rng)
    return (["translate", _latex(rng, entry), "--from", notation, "--to",
             rng.choice(NOTATIONS)] + _network(rng) + ["--budget", str(BUDGET)])


_VALUES = ('""', "[1, 2]", "{ a = 1 }", "3", "true", "-1", "1e400", '"\\\\input{/etc/passwd}"',
           '"\\\\write18{touch canary}"', '"' + "x" * 5000 + '"', '"é"', '"j"', '"k\'"',
           '"\\\\delta"', '"L"', '"enters"', '"leaves"', '"1/0"', '"10^{10^{10}}"',
           '"1/1000000007"', "nan", "inf", '"sigmoid"', '"softmax"', '"a_{j}"', "[]")


def _mutate_toml(rng: random.Random, text: str) -> str:
    """One to three values replaced, a line dropped, or a table duplicated."""
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        candidates = [i for i, l in enumerate(lines) if "=" in l and not l.lstrip().startswith("#")]
        if not candidates:
            break
        i = rng.choice(candidates)
        r = rng.random()
        if r < 0.7:
            key = lines[i].split("=")[0]
            lines[i] = f"{key}= {rng.choice(_VALUES)}"
        elif r < 0.85:
            del lines[i]
        else:
            lines.insert(i, lines[i])
    return "\n".join(lines) + "\n"


def _file(rng: random.Random, folder: Path, source: Path) -> str:
    path = folder / f"f{rng.getrandbits(48):x}.toml"
    path.write_text(_mutate_toml(rng, source.read_text("utf-8")), "utf-8")
    return str(path)


def notation_case(rng: random.Random, folder: Path) -> list[str]:
    source = rng.choice([EXAMPLES / "net-o-f.toml"] + [
        ROOT / "derive" / "model" / "notations" / f"{n}.toml" for n in NOTATIONS])
    path = _file(rng, folder, source)
    if rng.random() < 0.5:
        return ["report", "--notation", path, "--budget", str(BUDGET)]
    return ["check", r"\delta_j = h'(a_j) \sum_k w_{kj}\delta_k", "--notation", path,
            "--budget", str(BUDGET)]


def graph_case(rng: random.Random, folder: Path) -> list[str]:
    source = rng.choice([EXAMPLES / "graph-two-layers.toml", EXAMPLES / "graph-skip.toml"])
    return ["report", "--graph", _file(rng, folder, source), "--budget", str(BUDGET)]


def spec_case(rng: random.Random, folder: Path) -> list[str]:
    source = rng.choice([EXAMPLES / "sigmoid-2-2-2.toml", EXAMPLES / "softmax-ce.toml"])
    argv = ["example", _file(rng, folder, source), "--budget", str(BUDGET)]
    if rng.random() < 0.3:
        argv += ["--digits", rng.choice(["50", "0", "-3", "x", "6", "1000"])]
    return argv


def options_case(rng: random.Random, folder: Path) -> list[str]:
    command = rng.choice(["report", "check", "translate", "catalogue", "example", "export"])
    argv = [command] + _network(rng)
    if rng.random() < 0.5:
        argv += ["--budget", rng.choice(["0", "-1", "nan", "inf", "1e9", "0.01", "x", "1"])]
    else:
        argv += ["--budget", str(BUDGET)]
    if command == "export":
        argv += ["-o", str(folder / rng.choice(["n.tex", "n.txt", "a`b`.tex", "../n.tex"]))]
    if rng.random() < 0.3:
        argv += [rng.choice(["--json", "--width", "--depth", "--id", "--source", "--pdf"])]
    return argv


KINDS = {"check": check_case, "translate": translate_case, "notation": notation_case,
         "graph": graph_case, "spec": spec_case, "options": options_case}


@dataclass(frozen=True)
class Ran:
    argv: tuple[str, ...]
    status: int
    out: str
    err: str
    seconds: float


def run(argv: list[str]) -> Ran:
    """One command in this process, as the console script runs it."""
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(argv)
        except SystemExit as e:  # argparse's own errors
            status = e.code if isinstance(e.code, int) else 2
    return Ran(tuple(argv), status, out.getvalue(), err.getvalue(), time.monotonic() - start)


def judge(ran: Ran) -> list[str]:
    """What is wrong with how the command ended; empty where nothing is."""
    wrong = []
    if ran.status not in (0, 1, 2, 3, 4):
        wrong.append(f"exit status {ran.status}: {ran.err.strip()[:300]}")
    if ran.status == 2 and len(ran.err.strip().splitlines()) != 1 and "usage:" not in ran.err:
        wrong.append(f"an error of {len(ran.err.strip().splitlines())} lines")
    for stream in (ran.out, ran.err):
        m = INTERNALS.search(stream)
        if m:
            wrong.append(f"internals shown: {stream[max(m.start() - 60, 0):m.end() + 60]!r}")
    budget = BUDGET
    if "--budget" in ran.argv:
        try:
            budget = float(ran.argv[ran.argv.index("--budget") + 1])
        except (ValueError, IndexError):
            pass
    if ran.seconds > min(budget, 30) + SLACK and ran.status != 2:
        wrong.append(f"took {ran.seconds:.1f} s on a budget of {budget:g} s")
    return wrong
