"""A notation is data: the three that ship, a user's file, and every way a file can be wrong."""
from __future__ import annotations

from pathlib import Path

import pytest

from bpcheck.derive import UsageError, Verdict, load_notation, make_network
from bpcheck.derive.io.notation_file import parse_notation
from bpcheck.derive.model.names import BUILTIN
from bpcheck.derive.commands.check import check_text
from bpcheck.derive.commands.report import build_report

EXAMPLE = Path(__file__).parent.parent / "examples" / "net-o-f.toml"


@pytest.mark.parametrize("name,sign,order,bias", [
    ("bishop", 1, "to,from", "weight"), ("nielsen", 1, "to,from", "separate"),
    ("eglen", -1, "from,to", "none"), ("goodfellow", 1, "to,from", "separate"),
    ("ng", 1, "to,from", "weight")])
def test_shipped_notations_are_files_with_their_conventions(name, sign, order, bias):
    n = load_notation(name)
    assert (n.delta_sign, n.weight_order, n.bias_style) == (sign, order, bias)
    assert n.source == f"{name}.toml"


def test_a_users_notation_file_works_with_no_code():
    n = load_notation(str(EXAMPLE))
    r = build_report(make_network(), [n])
    (view,) = r.notations
    texts = {(c.id, c.layer): c.claim.text for c in view.checks}
    assert texts[("hidden-delta", 1)] == "δ^(1)_j = f'(net^(1)_j) Σ_k w^(2)_kj δ^(2)_k"
    assert all(c.verdict is Verdict.PROVED for c in view.checks)


def _text():
    return EXAMPLE.read_text()


def _leaving(text: str) -> str:
    """The example with weights marked by the layer they leave and a pattern index p."""
    return (text.replace('order = "to,from"', 'order = "to,from"\nmark = "leaves"')
            + '\n[pattern]\nletter = "p"\n')


@pytest.mark.parametrize("text,verdict", [
    # w^{(1)} leaves layer 1 and feeds layer 2: its own backprop step, proved
    (r"\delta^{(1)}_j = f'(\mathrm{net}^{(1)}_j) \sum_k w^{(1)}_{kj} \delta^{(2)}_k", Verdict.PROVED),
    # the off-by-one weight, the one that feeds layer 1, refuted
    (r"\delta^{(1)}_j = f'(\mathrm{net}^{(1)}_j) \sum_k w^{(0)}_{kj} \delta^{(2)}_k", Verdict.REFUTED),
    # p is the pattern index, so delta_{pj} is pattern p's delta_j, not a Kronecker delta
    (r"\delta^{(2)}_{pk} = o^{(2)}_{pk} - t_{pk}", Verdict.PROVED),
])
def test_a_notation_says_which_layer_a_weight_mark_names_and_its_pattern_index(text, verdict):
    n = parse_notation(_leaving(_text()), source="leaving.toml")
    assert (n.weight_mark, n.pattern) == ("leaves", "p")
    assert check_text(text, notation=n, net=make_network()).verdict is verdict


@pytest.mark.parametrize("edit,message", [
    (lambda s: s.replace("delta_sign = 1", "delta_sign = 2"), "delta_sign = 2 is not one of 1, -1"),
    (lambda s: s.replace('order = "to,from"', 'order = "up,down"'), "order = 'up,down' is not one of"),
    (lambda s: s.replace('style = "separate"', 'style = "hidden"'), "style = 'hidden' is not one of"),
    (lambda s: s.replace('weight = "parenthesised"', 'weight = "sideways"'), "weight = 'sideways'"),
    (lambda s: s.replace('error = "E"\n', ""), "error must be a non-empty string"),
    (lambda s: s.replace("[indices]", "[letters]"), "missing table [indices]"),
    (lambda s: s + "\n[[[", "not valid TOML"),
    (lambda s: s.replace('first_layer = 0', 'first_layer = "one"'), "first_layer = 'one'"),
    (lambda s: s.replace('unit_output = "o"', 'unit_output = "w"'), "are both 'w'"),
    (lambda s: s.replace('next = "k"', 'next = "j"'), "next = 'j' is the letter of this"),
    (lambda s: s.replace('delta = "\\\\delta"', 'delta = "\\\\frac{"'), "is not one symbol"),
    (lambda s: _leaving(s).replace('mark = "leaves"', 'mark = "feeds"'), "mark = 'feeds' is not one of"),
    (lambda s: _leaving(s).replace('letter = "p"', 'letter = "pq"'), "letter"),
])
def test_a_broken_notation_file_is_an_error_naming_the_key(edit, message):
    with pytest.raises(UsageError, match="mine.toml") as e:
        parse_notation(edit(_text()), source="mine.toml")
    assert message in str(e.value)


def test_an_unknown_notation_lists_what_is_accepted():
    with pytest.raises(UsageError) as e:
        load_notation("bishopp")
    assert "'bishopp'" in str(e.value)
    assert all(n in str(e.value) for n in BUILTIN)


def test_a_missing_notation_file_is_an_error(tmp_path):
    with pytest.raises(UsageError, match="cannot read notation file"):
        load_notation(str(tmp_path / "nope.toml"))


def test_a_huge_notation_file_is_refused(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 70_000)
    with pytest.raises(UsageError, match="at most"):
        load_notation(str(big))
