"""A recurrent layer decided one time step at a time (engine/time_steps.py): the same
verdicts as the unrolled map differentiated whole, where that can be done (T <= 4); every
check decided at T = 8 and 16, where it cannot; each refutation's true value the
independent mpmath forward pass's, by central differences (tests/layers_oracle.py); and
mutations generated from the claim, not from a list of ours, refuted where the oracle
sees them wrong.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mpmath as mp
import pytest
import sympy as sp

from bpcheck.derive.engine import typed
from bpcheck.derive.engine.layer_claims import BACKWARD
from bpcheck.derive.engine.proof import Verdict
from bpcheck.derive.engine.time_steps import _decide, _Steps, step_checks, step_jacobian
from bpcheck.derive.errors import UsageError
from bpcheck.derive.io.net_file import parse_net
from bpcheck.derive.model.layers import Recurrent

sys.path.insert(0, str(Path(__file__).parent))
from layers_oracle import AGREE, DIFFER, gradient  # noqa: E402

SMALL = [  # (function, units, inputs, T): where the unrolled map is still in reach
    ("tanh", 2, 1, 1), ("tanh", 2, 1, 3), ("tanh", 1, 2, 4), ("relu", 2, 1, 3),
    ("sigmoid", 2, 1, 2), ("identity", 2, 2, 2), ("softplus", 1, 1, 3), ("relu", 1, 1, 4),
]


def _layer(function: str, units: int, inputs: int) -> Recurrent:
    return Recurrent("1", inputs, units=units, function=function)


@pytest.mark.parametrize("function, units, inputs, T", SMALL,
                         ids=[f"{f}-{n}units-{m}in-T{T}" for f, n, m, T in SMALL])
def test_step_by_step_decides_as_the_unrolled_map_differentiated_whole(function, units, inputs, T):
    layer = _layer(function, units, inputs)
    steps, whole = step_checks(layer, rows=T), typed.layer_checks(layer, rows=T)
    assert [(c.id, c.verdict, c.conditions) for c in steps] == \
        [(c.id, c.verdict, c.conditions) for c in whole]
    by_steps, by_map = step_jacobian(layer, rows=T).blocks, typed.jacobian(layer, rows=T).blocks
    assert [(b.rows, b.features, b.count) for b in by_steps] == \
        [(b.rows, b.features, b.count) for b in by_map]
    for s, m in zip(by_steps, by_map):
        # the same, or where the map's points all fell on a dead ReLU (an entry neither
        # shown non-zero nor proved zero, "some"), each entry shown non-zero at other points
        assert s.vanish == m.vanish or (m.vanish is None and s.vanish is False), (s, m)


def _agrees_with_the_oracle(layer: Recurrent, T: int, check) -> None:
    """The refutation's true value is the forward pass's, differenced; its claimed one is not."""
    claimed, true = (mp.mpf(str(v)) for v in check.values)
    wrt = ("x", *check.entry) if check.gradient == "x" else (check.gradient, *check.entry)
    fd = gradient(layer, T, check.point, wrt)
    assert abs(true - fd) < AGREE * 1e9, (check.id, true, fd)
    assert abs(claimed - fd) > DIFFER, (check.id, claimed, fd)


@pytest.mark.parametrize("function, units, T", [
    ("tanh", 2, 8), ("relu", 2, 8), pytest.param("tanh", 2, 16, marks=pytest.mark.slow),
    pytest.param("sigmoid", 3, 16, marks=pytest.mark.slow)])
def test_every_check_is_decided_where_the_unrolled_map_is_out_of_reach(function, units, T):
    layer = _layer(function, units, 1)
    checks = step_checks(layer, rows=T)
    assert [c.verdict for c in checks if not c.mistake] == [Verdict.PROVED] * 4
    wrong = {c.mistake: c for c in checks if c.mistake}
    assert set(wrong) == {"bptt-future-dropped", "bptt-last-step-only"}
    for check in wrong.values():
        assert check.verdict is Verdict.REFUTED
        _agrees_with_the_oracle(layer, T, check)
    assert (Verdict.PROVED, ("no ReLU's input exactly 0 (its kink)",) if function == "relu" else ()) \
        == (checks[0].verdict, checks[0].conditions)


def _mutants(layer: Recurrent, steps: _Steps):
    """Claims a hand might write, generated from the right one: W transposed, each g_t read
    a step late (every entry's expression changed), and each gradient's first entry
    negated, doubled or its last entry's. (what, the entry or None, the change)"""
    W, n = layer.base("W"), layer.units
    transposed = {W[k, j]: W[j, k] for k in range(1, n + 1) for j in range(1, n + 1)}
    late = {g: steps.G[t + 1][k] if t + 1 < steps.T else 0
            for t, row in enumerate(steps.G) for k, g in enumerate(row)}
    yield "W transposed", None, lambda e: e.xreplace(transposed)
    yield "g_t a step late", None, lambda e: e.xreplace(late)
    for name, value in _claims(layer, steps)[1].items():
        ixs = [ix for ix, _ in typed._entries(value)]
        first, last = ixs[0], ixs[-1]
        yield f"{name}{first} negated", (name, first), lambda es, i=first: -es[i]
        yield f"{name}{first} doubled", (name, first), lambda es, i=first: 2 * es[i]
        yield f"{name}{first} is {name}{last}", (name, first), lambda es, i=last: es[i]


def _shaped(value, entries: dict):
    """`entries` in the shape of `value`: a dict of a parameter's, or a grid."""
    if isinstance(value, dict):
        return dict(entries)
    return tuple(tuple(entries[r, c] for c in range(1, len(row) + 1))
                 for r, row in enumerate(value, 1))


def _claims(layer: Recurrent, steps: _Steps, at=None, change=None) -> tuple[dict, dict]:
    """The claim one step at a time and whole, mutated at one entry or in every one."""
    forms = (BACKWARD["rnn"](layer, steps.X, steps.G, states=steps.S, given=steps.D),
             BACKWARD["rnn"](layer, steps.X, steps.G, states=steps.S))
    if change is None:
        return forms
    if at is None:
        return tuple({k: _shaped(v, {ix: change(e) for ix, e in typed._entries(v)})
                      for k, v in form.items()} for form in forms)
    name, ix = at
    out = []
    for form in forms:
        entries = dict(typed._entries(form[name]))
        out.append(form | {name: _shaped(form[name], entries | {ix: change(entries)})})
    return tuple(out)


@pytest.mark.parametrize("function, T", [("tanh", 5), ("relu", 4)])
def test_generated_mutations_of_the_claim_are_refuted_where_the_oracle_sees_them_wrong(function, T):
    layer = _layer(function, 2, 2)
    steps = _Steps(layer, T)
    right, tried = _claims(layer, steps)[1], 0
    for what, at, change in _mutants(layer, steps):
        claims = _claims(layer, steps, at, change)
        # the gradient the mutation is in: its entry's, or the first it changes
        name = at[0] if at else next(k for k in right if claims[1][k] != right[k])
        check = _decide(steps, name, claims, seed=3, mistake="mutant")
        assert check.verdict is Verdict.REFUTED, what
        _agrees_with_the_oracle(layer, T, check)
        tried += 1
    assert tried == 2 + 3 * 4


def test_a_recurrent_file_takes_sixteen_time_steps_and_other_files_six_rows():
    text = ("rows = {rows}\ninputs = 1\n[[layers]]\nkind = 'rnn'\nunits = {units}\n"
            "[[layers]]\nkind = '{after}'\n{keys}")
    net = parse_net(text.format(rows=16, units=4, after="dense", keys="units = 1\n"),
                    source="r.toml")
    assert net.rows == 16
    refused = [
        (text.format(rows=16, units=2, after="softmax", keys=""),
         "rows = 16 is beyond the bound of 6: layer 2 is 'softmax' (of 16 time steps where "
         "the first layer is an rnn and every later one is dense or activation)"),
        ("rows = 7\ninputs = 1\n[[layers]]\nkind = 'dense'\nunits = 1\n",
         "rows = 7 is beyond the bound of 6"),
        (text.format(rows=16, units=5, after="dense", keys="units = 1\n"),
         "16 rows of 5 features is beyond the bound of 64 entries a layer"),
        (text.format(rows=17, units=1, after="dense", keys="units = 1\n"),
         "rows = 17 is not an integer from 1 to 16"),
    ]
    for bad, message in refused:
        with pytest.raises(UsageError) as e:
            parse_net(bad, source="r.toml")
        assert message in str(e.value)


@pytest.mark.slow
def test_report_proves_a_recurrence_of_sixteen_steps_and_says_where_its_derivation_is(tmp_path):
    f = tmp_path / "rnn16.toml"
    f.write_text("rows = 16\ninputs = 1\n[[layers]]\nkind = 'rnn'\nunits = 2\n"
                 "[[layers]]\nkind = 'dense'\nunits = 1\n")
    p = subprocess.run([sys.executable, "-m", "bpcheck", "report", "--net", str(f), "--json"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    import json
    out = json.loads(p.stdout)
    rnn = [c for c in out["checks"] if c["id"].startswith("layer1.rnn")]
    assert [c["verdict"] for c in rnn] == ["proved"] * 4 + ["refuted"] * 2
    (derivation,) = [d for d in out["derivations"] if d["kind"] == "rnn"]
    assert derivation["size"] == 4 and "4 of the file's 16 time steps" in derivation["note"]
    assert {s["verdict"] for s in derivation["steps"]} == {"proved"}


def test_a_state_is_an_atom_so_a_step_reads_only_the_one_before():
    steps = _Steps(_layer("tanh", 2, 1), 16)
    # the last step's pre-activation holds h_15's atoms, not fifteen tanh's nested
    assert not steps.A[15][0].has(sp.tanh) and steps.A[15][0].has(steps.S[14][0])


def test_where_the_budget_runs_out_the_report_names_what_was_not_checked(tmp_path):
    """A recurrence of 4 units at 16 steps takes well over 2 s: the report still prints,
    says what it did not reach, decides nothing it did not finish, and exits 3."""
    net = tmp_path / "big.toml"
    net.write_text('title = "big"\nrows = 16\ninputs = 4\nloss = "sse"\n\n[[layers]]\nkind = "rnn"\n'
                   'units = 4\nfunction = "sigmoid"\n\n[[layers]]\nkind = "dense"\nunits = 4\n')
    p = subprocess.run([sys.executable, "-m", "bpcheck", "report", "--net", str(net), "--budget",
                        "2", "--json"], capture_output=True, text=True, timeout=120)
    out = json.loads(p.stdout)
    assert p.returncode == 3 and out["worst"] == "undecided", p.stdout + p.stderr
    assert "time budget of 2 s ran out" in out["ran_out"]["why"]
    assert out["ran_out"]["unchecked"][-2:] == ["layer 2 (dense)", "the loss"]
    assert out["derivations"] == []
    assert all(c["verdict"] in ("proved", "refuted") for c in out["checks"])
    p = subprocess.run([sys.executable, "-m", "bpcheck", "report", "--net", str(net), "--budget",
                        "2"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 3 and "not checked: layer 1 (rnn)" in p.stdout.replace("\n", " ")
