"""Backward equations of typed layers as the papers print them, read in the layer's slice:
the catalogue's entries decided as it expects, each against an independent oracle (the
slice's forward pass in mpmath, derivatives by differences, tests/slices_oracle.py), and
generated mutations of every right entry decided as the oracle judges them; the reader's
refusals and check --net's command line."""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from dataclasses import fields, replace
from itertools import product

import mpmath as mp
import pytest

from bpcheck.derive.commands.layer_check import check_layer_text
from bpcheck.derive.commands.layer_derivation import CHAIN_RULE, derivation
from bpcheck.derive.engine.stage_generic import GENERIC
from bpcheck.derive.model.stages import slice_of
from bpcheck.derive.engine.proof import Verdict
from bpcheck.derive.latex.ast import (NODES, Add, Mul, Neg, Number, Paren, Power, Shift, Sum,
                                      Symbol, children)
from bpcheck.derive.latex.grammar import parse
from bpcheck.derive.latex.slice_reader import SliceReadError
from bpcheck.derive.latex.tex import to_latex
from bpcheck.equations import load_catalogue
from slices_oracle import (AGREE, DIFFER, Missing, Oracle, _symbols, indexed, point_from_engine,
                           random_point, sides)

LAYER_ENTRIES = [(e, x) for e in load_catalogue() if e.layer for x in e.expect]
RIGHT = [(e, x) for e, x in LAYER_ENTRIES if x.verdict == "proved"]
# wrong versions no slice's mistake is: a transpose forgotten, a shift the wrong way, an
# entry right for another configuration (a padding, a slope), one window's gradient kept
UNNAMED = {"bptt-wrong-not-transposed", "conv-wrong-valid-correlation", "conv1d-input",
           "goodfellow-10.21", "maxpool-wrong-overlap-not-added", "avgpool-image-wrong-by-width"}


def _free(side, o: Oracle, *, compound: bool = False) -> dict[str, int]:
    """A side's index letters and their ranges, where each is first used as an index of
    its own (a size's letter too on the left: dl/dK_{k,l}); with `compound`, the letters
    used only inside an index with arithmetic (x_{2i-1}) instead, each with no range."""
    out: dict[str, int] = {}
    inside: set[str] = set()
    bound = {n.index for n in _nodes(side) if isinstance(n, Sum)}
    for s in _symbols(side):
        found = indexed(s, o)
        if found is None:
            continue
        name, subs = found
        for t, n in zip(subs, o.shapes[name]):
            if re.fullmatch(r"[A-Za-z]", t) and t not in bound:
                out.setdefault(t, n)
            else:
                inside |= set(re.findall(r"[A-Za-z]", re.sub(r"\\[A-Za-z]+", "", t))) - bound
    return dict.fromkeys(inside - set(out) - {"k", "n", "m", "T", "w"}) if compound else out


def _nodes(node):
    yield node
    for c in children(node):
        yield from _nodes(c)


def options_of(x) -> dict:
    return {k: v for k, v in x.network.items() if k != "size"}


def oracle_judges(text: str, kind: str, n: int, *, seeds=range(3), local: bool = False,
                  options: dict | None = None) -> bool:
    """True where the sides agree at every point tried and every value of the free
    indices; False where they differ somewhere."""
    eq = parse(text, shifts=True)
    for seed in seeds:
        o = Oracle(kind, n, random_point(kind, n, random.Random(seed), options=options),
                   options=options)
        free = _free(eq.sides[0], o)
        right = _free(eq.sides[1], o)
        deltas = {t for s in _symbols(eq.sides[0]) if s.name == r"\delta" for t in s.sub}
        free.update({t: n for t, n in right.items() if t in deltas - set(free)})
        for t in _free(eq.sides[0], o, compound=True):
            if t not in right:
                raise ValueError(f"no range for {t}: free on the left only inside an index")
            free[t] = right[t]
        for values in product(*(range(1, k + 1) for k in free.values())):
            try:
                left, right_ = sides(eq, o, dict(zip(free, values)), local=local)
            except Missing:  # it names a quantity the slice does not have
                return False
            except ZeroDivisionError:  # undefined at this point (a root of 0): no verdict here
                continue
            gap = abs(left - right_)
            if gap > DIFFER:
                return False
            assert gap < AGREE, f"neither agree nor differ: {gap}"
    return True


def assert_oracle_sees(result, text: str, kind: str, n: int, options: dict | None = None) -> None:
    """A proof the oracle agrees with everywhere it looks; a refutation's point where the
    oracle sees the sides differ, with the engine's values."""
    if result.verdict is Verdict.PROVED:
        assert oracle_judges(text, kind, n, options=options)
        return
    assert result.verdict is Verdict.REFUTED
    if not result.values:
        assert any(why in result.note for why in ("does not exist", "not the same quantity",
                                                  "as a quantity to differentiate by"))
        return
    o = Oracle(kind, n, point_from_engine(result.point, kind, n, options=options),
               options=options)
    left, right = sides(parse(text, shifts=True), o, dict(zip(result.free, result.entry)))
    assert abs(left - right) > DIFFER
    for engine, oracle in zip(result.values, (left, right)):
        assert abs(mp.mpf(str(engine)) - oracle) < mp.mpf("1e-20") * (1 + abs(oracle))


@pytest.mark.parametrize("entry,x", LAYER_ENTRIES,
                         ids=[f"{e.id}[{x.describe()}]" for e, x in LAYER_ENTRIES])
def test_each_published_layer_equation_is_decided_as_expected_and_the_oracle_agrees(entry, x):
    n, options = int(x.network["size"]), options_of(x)
    r = check_layer_text(entry.latex, kind=entry.layer, size=n, options=options)
    assert (str(r.verdict), r.diagnosis.id) == (x.verdict, x.mistake)
    if x.verdict == "refuted" and entry.id not in UNNAMED:
        assert x.mistake, "every wrong layer entry names its mistake"
    assert_oracle_sees(r, entry.latex, entry.layer, n, options)


def test_the_layer_catalogue_has_each_paper_and_each_wrong_version():
    ids = {e.id for e, _ in LAYER_ENTRIES}
    assert {"ioffe-szegedy-dx", "layernorm-dx", "attention-softmax-jacobian", "he-5",
            "goodfellow-9.11", "conv-input-flipped-kernel", "maxpool-routed", "goodfellow-10.21",
            "goodfellow-10.26"} <= ids
    named = {x.mistake for _, x in LAYER_ENTRIES if x.mistake}
    assert named == {"batchnorm-statistics-held-fixed", "layernorm-elementwise",
                     "attention-softmax-diagonal", "residual-averaged", "residual-skip-dropped",
                     "conv-kernel-not-flipped", "maxpool-gradient-spread", "avgpool-not-divided",
                     "bptt-future-dropped", "bptt-last-step-only"}


# -- generated mutations -----------------------------------------------------------------------

def rewrites(node, change):
    """The tree with one node replaced by one of change(node)'s replacements, at each place
    where it gives some."""
    yield from change(node) or ()
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, NODES):
            for v in rewrites(value, change):
                yield replace(node, **{f.name: v})
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, NODES):
                    for v in rewrites(item, change):
                        yield replace(node, **{f.name: value[:i] + (v,) + value[i + 1:]})


def _dropped(items):
    return [items[:i] + items[i + 1:] for i in range(len(items))] if len(items) > 1 else []


MUTATIONS = {
    "sign": lambda n: None,  # the whole right side negated (below)
    "term-dropped": lambda n: [replace(n, terms=t) if len(t) > 1 else t[0]
                               for t in _dropped(n.terms)] if isinstance(n, Add) else None,
    "factor-dropped": lambda n: [replace(n, factors=f) if len(f) > 1 else f[0]
                                 for f in _dropped(n.factors)] if isinstance(n, Mul) else None,
    "number-changed": lambda n: [Number("3" if n.text == "2" else "2")]
    if isinstance(n, Number) else None,
    "indices-swapped": lambda n: [replace(n, sub=n.sub[::-1])]
    if isinstance(n, Symbol) and len(n.sub) == 2 and n.sub[0] != n.sub[1] else None,
    "exponent-negated": lambda n: [replace(n, exponent=Neg(n.exponent))]
    if isinstance(n, Power) else None,
    # an index with arithmetic off by one either way (the kernel's flip, h_{t+1}, a stride)
    "shift-moved": lambda n: [replace(n, sub=n.sub[:i] + (_moved(t, d),) + n.sub[i + 1:])
                              for i, t in enumerate(n.sub) if isinstance(t, Shift)
                              for d in (1, -1)] if isinstance(n, Symbol) else None,
    # a step's mark one step off: h^{(t)} as h^{(t-1)} or h^{(t+1)}
    "step-moved": lambda n: [replace(n, sup=Paren(Add((n.sup.body, d))))
                             for d in (Number("1"), Neg(Number("1")))]
    if isinstance(n, Symbol) and isinstance(n.sup, Paren) and isinstance(n.sup.body, Symbol)
    else None,
}


def _moved(shift: Shift, by: int) -> Shift:
    constant = sum(c for c, letter in shift.terms if letter is None) + by
    terms = tuple(t for t in shift.terms if t[1] is not None)
    return Shift(terms + (((constant, None),) if constant else ()))


def mutants(text: str):
    eq = parse(text, shifts=True)
    lhs, rhs = eq.sides
    yield "sign", f"{to_latex(lhs)} = {to_latex(Neg(rhs))}"
    for kind, change in MUTATIONS.items():
        for m in rewrites(rhs, change):
            yield kind, f"{to_latex(lhs)} = {to_latex(m)}"


CASES = sorted({(kind, text, e.layer, int(x.network["size"]), tuple(sorted(options_of(x).items())))
                for e, x in RIGHT for kind, text in mutants(e.latex)})


@pytest.mark.slow
@pytest.mark.parametrize("kind,text,layer,n,options", CASES,
                         ids=[f"{c[2]}-{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_mutated_right_equation_is_refuted_exactly_where_the_oracle_sees_it_wrong(kind, text, layer,
                                                                                   n, options):
    options = dict(options)
    try:
        r = check_layer_text(text, kind=layer, size=n, options=options)
    except SliceReadError:  # refused only where an index's range is not given: so says the oracle
        with pytest.raises(ValueError, match="no range for"):
            oracle_judges(text, layer, n, options=options)
        return
    right = oracle_judges(text, layer, n, options=options)
    assert (r.verdict is Verdict.PROVED) == right
    assert_oracle_sees(r, text, layer, n, options)


def test_mutations_are_generated_for_every_right_entry_and_most_are_wrong():
    by_entry = {e.latex: [t for _, t in mutants(e.latex)] for e, _ in RIGHT}
    assert all(len(v) >= 2 for v in by_entry.values())
    sample = random.Random(0).sample(CASES, 12)
    wrong = [c for c in sample
             if not oracle_judges(c[1], c[2], c[3], seeds=range(1), options=dict(c[4]))]
    assert len(wrong) >= 8


# -- derivations, and the two readings of a derivative between stages ---------------------------

DERIVED = [("batchnorm", 3, {}), ("layernorm", 3, {}), ("softmax", 3, {}), ("attention", 2, {}),
           ("residual", 3, {}), ("conv1d", 5, {"kernel": 3, "padding": 1}),
           ("conv2d", 3, {"kernel": 2}), ("maxpool", 5, {"window": 3, "stride": 1}),
           ("avgpool", 4, {}), ("maxpool", 3, {"columns": 3, "stride": 1}),
           ("avgpool", 4, {"columns": 4}), ("rnn", 3, {"units": 2}),
           ("rnn", 3, {"function": "sigmoid", "inputs": 2, "outputs": 2})]


@pytest.mark.parametrize("kind,n,options", DERIVED)
def test_each_derivation_step_is_proved_and_the_oracle_agrees_reading_it_as_a_chain_rule_step(
        kind, n, options):
    steps = derivation(kind, n, options=options)
    chain = [s for s in steps if s.why == CHAIN_RULE]
    sl = slice_of(kind, n, **options)
    assert len(chain) == len(sl.stages) - 1 + len(sl.inputs)
    for s in steps:
        assert s.result.verdict is Verdict.PROVED, s.latex
        assert oracle_judges(s.latex, kind, n, local=True, seeds=range(2), options=options), s.latex


@pytest.mark.parametrize("kind,n,options", DERIVED)
def test_a_chain_rule_step_with_a_term_left_out_is_refuted_where_the_oracle_sees_it(kind, n, options):
    refuted = 0
    for s in (s for s in derivation(kind, n, options=options) if s.why == CHAIN_RULE):
        lhs, rhs = parse(s.latex, shifts=True).sides
        for m in (rewrites(rhs, MUTATIONS["term-dropped"]) if isinstance(rhs, Add) else ()):
            text = f"{to_latex(lhs)} = {to_latex(m)}"
            r = check_layer_text(text, kind=kind, size=n, partial="local", options=options)
            # a term that vanishes identically (d sigma^2 / d mu, the deviations summing to 0)
            # may go: the oracle says which
            assert (r.verdict is Verdict.PROVED) == oracle_judges(text, kind, n, local=True,
                                                                  options=options), text
            refuted += r.verdict is Verdict.REFUTED
    assert refuted >= (1 if kind in ("batchnorm", "layernorm", "residual", "rnn") else 0)


def test_a_derivative_between_stages_that_reads_two_ways_is_ambiguous_until_pinned():
    text = r"\frac{\partial \hat{x}_i}{\partial x_i} = \frac{1}{\sqrt{\sigma^2 + \epsilon}}"
    both = check_layer_text(text, kind="batchnorm", size=3)
    assert both.verdict is Verdict.AMBIGUOUS
    assert dict(both.readings) == {"local": Verdict.PROVED, "total": Verdict.REFUTED}
    assert check_layer_text(text, kind="batchnorm", size=3, partial="local").verdict is Verdict.PROVED
    total = check_layer_text(text, kind="batchnorm", size=3, partial="total")
    assert total.verdict is Verdict.REFUTED
    assert oracle_judges(text, "batchnorm", 3, local=True)
    assert not oracle_judges(text, "batchnorm", 3)
    # where the argument reaches the stage one way only, there is one reading
    one = check_layer_text(r"\frac{\partial s_1}{\partial z_2} = -s_1 s_2", kind="softmax", size=2)
    assert one.verdict is Verdict.PROVED and one.readings == ()


# -- what the slice does not read, and the command line -------------------------------------

@pytest.mark.parametrize("text,message", [
    (r"\frac{\partial \ell}{\partial w_i} = 0", r"'w' is not a quantity of the batchnorm slice; accepted: x, \mu"),
    (r"\frac{\partial \ell}{\partial x_{ij}} = 0", "x takes 1 subscript in the batchnorm slice, not 2 (i, j)"),
    (r"\frac{\partial \ell}{\partial x_i} = f(x_i)", "unknown function 'f'; accepted: exp, tanh"),
    (r"\frac{\partial \ell}{\partial \beta} = \sum_{i=1}^{m} \delta_{ik}", "the index 'k' is neither free on the left nor summed"),
    (r"\frac{\partial \ell}{\partial \beta} = \sum_i \delta_{ii}", "the sum over i has no bounds"),
    (r"\frac{\partial \ell}{\partial x_i}", "is not one equation with two sides"),
])
def test_what_a_slice_cannot_mean_is_an_error_quoting_it(text, message):
    with pytest.raises(SliceReadError, match=None) as e:
        check_layer_text(text, kind="batchnorm", size=3)
    assert message in str(e.value)


@pytest.mark.parametrize("text,note", [
    (r"\frac{\partial \ell}{\partial x_5} = 0", "x[5] does not exist: x runs over 1..4"),
    (r"\frac{\partial \ell}{\partial \beta} = \frac{\partial \ell}{\partial y_j}",
     "the right side's index j is free and the left side's is not"),
])
def test_an_equation_naming_what_is_not_there_is_refuted_saying_so(text, note):
    r = check_layer_text(text, kind="batchnorm", size=4)
    assert r.verdict is Verdict.REFUTED and note in r.note


def _bpcheck(*args):
    return subprocess.run([sys.executable, "-m", "bpcheck", *args], capture_output=True,
                          text=True, timeout=120)


def test_check_net_refutes_the_held_fixed_batch_norm_gradient_naming_the_mistake():
    wrong = r"\frac{\partial \ell}{\partial x_i} = \frac{\partial \ell}{\partial \hat{x}_i} \cdot \frac{1}{\sqrt{\sigma^2_{\mathcal{B}} + \epsilon}}"
    p = _bpcheck("check", "--net", "examples/batchnorm.toml", "--json", wrong)
    assert p.returncode == 1, p.stderr
    out = json.loads(p.stdout)
    assert (out["verdict"], out["mistake"], out["size"]) == (
        "refuted", "batchnorm-statistics-held-fixed", 4)
    o = Oracle("batchnorm", 4, point_from_engine(
        tuple((_Var(k), _frac(v)) for k, v in out["counterexample"]["point"].items()),
        "batchnorm", 4))
    left, right = sides(parse(wrong, shifts=True), o, out["counterexample"]["at"])
    assert abs(left - right) > DIFFER
    p = _bpcheck("check", "--net", "examples/batchnorm.toml",
                 r"\frac{\partial \ell}{\partial \beta} = \sum_{i=1}^{m} \frac{\partial \ell}{\partial y_i}")
    assert p.returncode == 0 and p.stdout.startswith("proved")


@pytest.mark.parametrize("args,message", [
    (["--net", "examples/dense.toml", "a = b"], "no layer of"),
    (["--net", "examples/residual.toml", "--layer", "9", "a = b"], "--layer '9': no such layer"),
    (["--net", "examples/residual.toml", "--notation", "bishop", "a = b"], "leave out --notation"),
    (["--net", "examples/residual.toml", "--layers", "2,2", "a = b"], "leave out --layers"),
    (["--layer", "2", "a = b"], "give --net FILE"),
])
def test_check_net_refuses_what_does_not_go_with_it_in_one_line(args, message):
    p = _bpcheck("check", *args)
    assert p.returncode == 2 and message in p.stderr and "Traceback" not in p.stderr


class _Var:
    def __init__(self, name):
        self.name = name

    def __str__(self):
        return self.name


def _frac(text: str):
    import sympy as sp
    return sp.Rational(text)


# -- for every size ---------------------------------------------------------------------------

EVERY = sorted({(e.latex, e.layer) for e, x in RIGHT if e.layer in GENERIC}
               | {(s.latex, k) for k in GENERIC for s in derivation(k, 3)})
EVERY_MUTANTS = sorted({(t, layer) for text, layer in EVERY for _, t in mutants(text)})


@pytest.mark.parametrize("text,kind", EVERY, ids=[f"{k}-{i}" for i, (_, k) in enumerate(EVERY)])
def test_each_published_line_and_derivation_step_of_a_one_range_slice_is_proved_for_every_size(text, kind):
    r = check_layer_text(text, kind=kind, size=3, partial="local")
    assert r.verdict is Verdict.PROVED and r.every == {"batchnorm": "m", "layernorm": "H",
                                                       "softmax": "n"}[kind]
    for n in (1, 2, 5):  # the oracle, at sizes the proof was not made at
        assert oracle_judges(text, kind, n, local=True, seeds=range(1)), n


@pytest.mark.slow
@pytest.mark.parametrize("text,kind", EVERY_MUTANTS,
                         ids=[f"{k}-{i}" for i, (_, k) in enumerate(EVERY_MUTANTS)])
def test_a_mutant_proved_for_every_size_holds_wherever_the_oracle_looks(text, kind):
    r = check_layer_text(text, kind=kind, size=3, partial="local")
    # proved at 3 alone (an identity of that size) is allowed: the result says so
    assert (r.verdict is Verdict.PROVED) == oracle_judges(text, kind, 3, local=True)
    if r.every:
        for n in (1, 2, 4, 5):
            assert oracle_judges(text, kind, n, local=True, seeds=range(1)), n


@pytest.mark.parametrize("text,kind,size", [
    (r"\hat{x}_i = 0", "batchnorm", 1),                        # one pattern: x-hat is 0
    (r"\hat{x}_1 + \hat{x}_2 = 0", "batchnorm", 2),            # two: they cancel
    (r"\frac{\partial \ell}{\partial x_1} = 0", "batchnorm", 1),
    (r"s_1 + s_2 = 1", "softmax", 2),
])
def test_what_holds_at_one_size_only_is_proved_there_and_not_for_every_size(text, kind, size):
    r = check_layer_text(text, kind=kind, size=size)
    assert r.verdict is Verdict.PROVED and r.every == ""
    assert not oracle_judges(text, kind, size + 2)


# -- as people write it: what a first reader of the README tried ------------------------------

@pytest.mark.parametrize("text,kind,verdict,every", [
    # a sign after \cdot, sigma's negative powers, e^{...}, a Unicode ell, N for the batch
    (r"\frac{\partial \ell}{\partial \sigma^2} = \sum_{i=1}^{m} \frac{\partial \ell}{\partial \hat{x}_i} \cdot (x_i - \mu) \cdot -\frac{1}{2} (\sigma^2 + \epsilon)^{-3/2}",
     "batchnorm", "proved", "m"),
    (r"\frac{\partial \ell}{\partial \sigma^2} = \sum_{i=1}^{N} \frac{\partial \ell}{\partial \hat{x}_i} (x_i - \mu) \frac{-1}{2} \sigma^{-3}",
     "batchnorm", "refuted", ""),  # sigma is the root of sigma^2 alone: epsilon left out
    (r"s_i = \frac{e^{z_i}}{\sum_j e^{z_j}}", "softmax", "proved", "n"),
    (r"\frac{∂ ℓ}{∂ β} = \sum_{i=1}^{m} \frac{∂ ℓ}{∂ y_i}", "batchnorm", "proved", "m"),
    # two free indices: the case i = j and the case i != j, each for every n
    (r"\frac{\partial s_i}{\partial z_j} = s_j(\delta_{ij} - s_i)", "softmax", "proved", "n"),
    (r"\frac{\partial s_i}{\partial z_j} = s_i(1 - s_j)", "softmax", "refuted", ""),
])
def test_equations_as_course_notes_write_them_are_read(text, kind, verdict, every):
    r = check_layer_text(text, kind=kind, size=3)
    assert (str(r.verdict), r.every) == (verdict, every)
    assert (r.verdict is Verdict.PROVED) == oracle_judges(text.replace("∂", r"\partial ").replace(
        "ℓ", r"\ell").replace("β", r"\beta").replace("{N}", "{m}"), kind, 3)


@pytest.mark.parametrize("text,message", [
    (r"p_i = s_i", "'p' is not a quantity of the softmax slice"),  # on the left: not a refutation
    (r"\frac{\partial \ell}{\partial x_i} = \frac{1}{0}", r"\frac{1}{0} divides by zero"),
])
def test_a_letter_the_slice_lacks_or_a_division_by_zero_is_an_input_error(text, message):
    kind = "softmax" if text.startswith("p_i") else "batchnorm"
    with pytest.raises(SliceReadError) as e:
        check_layer_text(text, kind=kind, size=3)
    assert message in str(e.value)


def test_a_normalisation_without_gamma_and_beta_is_read_without_them():
    no = {"affine": False}
    assert check_layer_text(r"y_i = \hat{x}_i", kind="batchnorm", size=3,
                            options=no).verdict is Verdict.PROVED
    assert check_layer_text(r"y_i = \hat{x}_i", kind="batchnorm", size=3).verdict is Verdict.REFUTED
    with pytest.raises(SliceReadError, match="'.gamma' is not a quantity"):
        check_layer_text(r"\frac{\partial \ell}{\partial \hat{x}_i} = \gamma \frac{\partial \ell}{\partial y_i}",
                         kind="layernorm", size=3, options=no)
    steps = derivation("batchnorm", 3, options=no)
    assert steps and all(s.result.verdict is Verdict.PROVED for s in steps)
    assert not any(r"\gamma" in s.latex or r"\beta" in s.latex for s in steps)


def test_an_attention_rows_values_have_d_v_entries_and_d_k_1_is_said_to_hide_the_scale():
    wide = {"d_k": 1, "d_v": 3}
    r = check_layer_text(r"\frac{\partial \ell}{\partial v_{13}} = \alpha_1 \frac{\partial \ell}{\partial y_3}",
                         kind="attention", size=2, options=wide)
    assert r.verdict is Verdict.PROVED
    unscaled = r"\frac{\partial \ell}{\partial q_c} = \sum_t \frac{\partial \ell}{\partial e_t} k_{tc}"
    assert check_layer_text(unscaled, kind="attention", size=2, options=wide).verdict is Verdict.PROVED
    assert check_layer_text(unscaled, kind="attention", size=2,
                            options={"d_k": 2}).verdict is Verdict.REFUTED
    p = _bpcheck("check", "--net", "examples/attention.toml", unscaled)
    assert "with d_k = 1, a factor 1/sqrt(d_k) left out cannot be seen" in " ".join(p.stdout.split())


@pytest.mark.parametrize("text,kind,size", [
    # an entry picked by a number exists only where the size reaches it
    (r"\sum_{k=1}^{m} \delta_{k5} = \sum_{k=1}^{m} \delta_{k6}", "batchnorm", 4),
    (r"\frac{\partial \ell}{\partial \beta} = \sum_{i=1}^{m} \frac{\partial \ell}{\partial y_i} + \sum_{i=1}^{m} \delta_{i5} - \sum_{i=1}^{m} \delta_{i6}", "batchnorm", 4),
    # a sum inside a sum keeps its link to the outer index
    (r"\sum_{j=1}^{m} x_j \sum_{k=1}^{m} \frac{1}{x_j + x_k} = \frac{\mu}{2} \sum_{j=1}^{m} 2 \sum_{k=1}^{m} \frac{1}{x_j + x_k}", "batchnorm", 1),
    (r"\sum_{j=1}^{n} s_j \sum_{k=1}^{n} \exp(z_k - z_j) = \frac{1}{n} \sum_{j=1}^{n} 2 \sum_{k=1}^{n} \frac{\exp(z_k - z_j)}{2}", "softmax", 1),
    (r"0 x_i x_j + \sum_{k=1}^{m} \delta_{ik} \sum_{l=1}^{m} \frac{1}{x_k + x_l} = \sum_{k=1}^{m} \delta_{jk} \sum_{l=1}^{m} \frac{1}{x_k + x_l}", "batchnorm", 1),
    # true at this size in both readings, false in one of them at others
    (r"(m-2) \frac{\partial \hat{x}_i}{\partial x_i} = \frac{m-2}{\sqrt{\sigma^2+\epsilon}}", "batchnorm", 2),
    # a division by m - 1, which is 0 at m = 1
    (r"\frac{m-1}{m-1}\sum_{i=1}^{m}\frac{\partial \ell}{\partial y_i} = \frac{\partial \ell}{\partial \beta}", "batchnorm", 2),
])
def test_what_is_true_at_one_size_and_false_at_another_is_never_proved_for_every_size(text, kind, size):
    r = check_layer_text(text, kind=kind, size=size)
    assert r.verdict is Verdict.PROVED and r.every == "", r.note
    others = [n for n in (1, 2, 3, 5, 6) if n != size]
    assert not all(_proved_at(text, kind, n) for n in others)


def _proved_at(text: str, kind: str, n: int) -> bool:
    try:
        return check_layer_text(text, kind=kind, size=n).verdict is Verdict.PROVED
    except SliceReadError:  # 0/0 at that size
        return False


def test_sums_sympy_joins_are_taken_one_at_a_time():
    r = check_layer_text(r"\sum_{j=1}^{m} \sum_{k=1}^{m} \hat{x}_j \hat{x}_k = 0", kind="batchnorm",
                         size=3)
    assert (r.verdict, r.every) == (Verdict.PROVED, "m")


@pytest.mark.parametrize("text,kind,size,verdict", [
    # a superscript that is not the quantity's name is a power, whatever it is
    (r"\frac{\partial \ell}{\partial \hat{x}_i} = \gamma^{-1} \frac{\partial \ell}{\partial y_i}", "batchnorm", 3, "refuted"),
    (r"\sum_i s_i^{n} = 1", "softmax", 3, "refuted"),
    (r"x_i^{2+1} = x_i", "batchnorm", 3, "refuted"),
    (r"m^{-1} = m", "batchnorm", 3, "refuted"),
    (r"\epsilon^{-1} = \epsilon", "batchnorm", 3, "refuted"),
    (r"x_i^{2 \cdot 1} = x_i^2", "batchnorm", 3, "proved"),
    (r"\mu = m^{-1} \sum_i x_i", "batchnorm", 3, "proved"),
    (r"\sum_{i=1}^{m} \hat{x}_i^2 = m^2 \frac{\sigma^2}{m (\sigma^2 + \epsilon)}", "batchnorm", 3, "proved"),
    # a sum's bounds as written, one of them or both
    (r"\frac{\partial \ell}{\partial \beta} = \sum_{i=2} \frac{\partial \ell}{\partial y_i}", "batchnorm", 3, "refuted"),
    (r"\frac{\partial \ell}{\partial \beta} = \sum_{i}^{2} \frac{\partial \ell}{\partial y_i}", "batchnorm", 3, "refuted"),
    # an index free on the left only in a delta takes its range from the right
    (r"\sum_k \delta_{ik} x_k = x_i", "batchnorm", 3, "proved"),
    (r"\sum_k (\delta_{ik} - \frac{1}{m}) x_k = x_i - \mu", "batchnorm", 3, "proved"),
    (r"\delta_{ij} x_i = \delta_{ij} x_j", "batchnorm", 3, "proved"),
    (r"\sum_j \gamma_j \hat{x}_j \delta_{ij} = \gamma_i \hat{x}_i", "layernorm", 3, "proved"),
])
def test_superscripts_bounds_and_deltas_mean_what_they_say(text, kind, size, verdict):
    r = check_layer_text(text, kind=kind, size=size)
    assert str(r.verdict) == verdict, r.note
    assert (r.verdict is Verdict.PROVED) == oracle_judges(text, kind, size)


@pytest.mark.parametrize("text,message", [
    (r"x'_i = x_i", "with a prime means nothing in a slice"),
    (r"\sum_{k \in U_i} x_k = x_i", "a sum over a set"),
    (r"\sum_{k=1}^{\epsilon} x_k = 0", "a sum's bounds are whole numbers here"),
    (r"\sum_{k=1}^{\frac{m}{2}} x_k = x_1", "a sum's bounds are whole numbers here"),
])
def test_what_has_no_meaning_in_a_slice_is_an_input_error_not_a_proof(text, message):
    with pytest.raises(SliceReadError) as e:
        check_layer_text(text, kind="batchnorm", size=3)
    assert message in str(e.value)


@pytest.mark.parametrize("text,size", [
    (r"(m-1)^{-1} (m-1) x_i = x_i", 2),
    (r"(m-2)^{-1}(m-2)\mu = \mu", 3),
])
def test_a_power_of_an_expression_of_the_size_that_is_0_somewhere_is_not_for_every_size(text, size):
    r = check_layer_text(text, kind="batchnorm", size=size)
    assert r.verdict is Verdict.PROVED and r.every == ""


@pytest.mark.parametrize("text,kind,size,partial,verdict", [
    # local: y_k's own formula does not take x_i for k != i, so its derivative is 0 there
    (r"\frac{\partial y_k}{\partial x_i} = \delta_{ki} + (1 - \delta_{ki}) J_{ki}", "residual", 3, "local", "refuted"),
    (r"\frac{\partial y_k}{\partial x_i} = \delta_{ki} + J_{ki}", "residual", 3, "total", "proved"),
    (r"\frac{\partial y_k}{\partial x_i} = \delta_{ki} + J_{ki}", "residual", 3, None, "ambiguous"),
    (r"\frac{\partial E}{\partial x_i} = \sum_k \frac{\partial E}{\partial y_k} \frac{\partial y_k}{\partial x_i} + \sum_k \frac{\partial E}{\partial F_k}\frac{\partial F_k}{\partial x_i}", "residual", 3, "local", "proved"),
    (r"\frac{\partial \hat{x}_i}{\partial x_j} = \frac{\delta_{ij}}{\sqrt{\sigma^2 + \epsilon}}", "batchnorm", 3, "local", "proved"),
    (r"\frac{\partial \hat{x}_i}{\partial x_j} = \frac{\delta_{ij}}{\sqrt{\sigma^2 + \epsilon}}", "batchnorm", 3, None, "ambiguous"),
    # a size letter as a subscript is the last entry, not a free index
    (r"\hat{x}_m = -\sum_{i=1}^{m-1} \hat{x}_i", "batchnorm", 3, None, "proved"),
    (r"\mu = \frac{x_1 + x_m}{2}", "batchnorm", 2, None, "proved"),
    # but a sum's own index is an index, even a size's letter
    (r"\sum_n s_n = 1", "softmax", 3, None, "proved"),
])
def test_a_derivative_between_stages_and_a_size_subscript_mean_one_thing_each(text, kind, size, partial, verdict):
    r = check_layer_text(text, kind=kind, size=size, partial=partial)
    assert str(r.verdict) == verdict, r.note


@pytest.mark.parametrize("text,kind,message", [
    (r"\frac{\sum_i \hat{x}_i}{\sum_i \hat{x}_i} = 1", "batchnorm", "divides by zero"),
    (r"\frac{1}{\sum_k s_k - 1} = \frac{2}{\sum_k s_k - 1}", "softmax", "divides by zero"),
])
def test_a_denominator_zero_everywhere_is_an_input_error(text, kind, message):
    options = {"d_k": 1, "d_v": 2} if kind == "attention" else {}
    with pytest.raises(SliceReadError) as e:
        check_layer_text(text, kind=kind, size=2 if kind == "attention" else 3, options=options)
    assert message in str(e.value)


def test_a_sum_over_an_index_of_two_ranges_runs_over_the_widest_and_names_what_is_not_there():
    r = check_layer_text(r"\frac{\partial \ell}{\partial y_1} v_{t1} = \sum_c \frac{q_c}{q_c} "
                         r"\frac{\partial \ell}{\partial y_c} v_{tc}", kind="attention", size=2,
                         options={"d_k": 1, "d_v": 2})
    assert r.verdict is Verdict.REFUTED and "q[2] does not exist" in r.note
