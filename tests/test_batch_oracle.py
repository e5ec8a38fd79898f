r"""bpcheck's verdicts on claims about a mini-batch, against an independent numeric oracle.

tests/batch_oracle.py builds each claim from its own nodes, renders it to LaTeX for
bpcheck, and evaluates it by its own forward pass over a batch of N = 2 and N = 3
distinct random patterns (E the batch's sum in Bishop's notation, its mean in Nielsen's
and in examples/batch-matrices.toml). The correct claims must be proved and true; each
generated mutation of them must be proved only where the oracle finds it true on every
batch, and refuted only where it finds a difference.
"""
from __future__ import annotations

import functools

import pytest

from bpcheck.derive import Verdict, load_notation, make_network
from bpcheck.derive.commands.check import check_text
from bpcheck.derive.errors import BpcheckError

from batch_oracle import (BISHOP, MATRICES, MEAN, NIELSEN, Add, ActD, Batch, Bias, Claim,
                          DTotal, Eta, Had, Lay, MQ, MW, Mul, Neg, Net, PatErr, PSum, Step, T,
                          Total, U, USum, Weight, judge, unique_mutations)

NET = Net((2, 3, 2), "sigmoid")
NETS = [NET, Net((2, 2, 2), "sigmoid"), Net((2, 3, 2), "tanh")]

l, L = Lay("l"), Lay("L")
Lm1, lm1, lp1 = Lay("L", -1), Lay("l", -1), Lay("l", 1)

CLAIMS = {
    # Bishop: E = sum_n E_n
    "bishop-dw": Claim(BISHOP, DTotal(Weight("j", "i")),
                       PSum(Mul((U("delta", "j"), U("out", "i"))))),
    "bishop-step": Claim(BISHOP, Step(Weight("j", "i")),
                         Neg(Mul((Eta(), PSum(Mul((U("delta", "j"), U("out", "i")))))))),
    "bishop-total": Claim(BISHOP, Total(), PSum(PatErr())),
    "bishop-dE-da": Claim(BISHOP, DTotal(U("pre", "j")), U("delta", "j")),
    "bishop-output-dw": Claim(BISHOP, DTotal(Weight("k", "j")), PSum(Mul((
        Add(((1, U("y", "k")), (-1, U("t", "k")))), U("out", "j"))), limits=True)),
    "bishop-bias": Claim(BISHOP, DTotal(Bias("j")), PSum(U("delta", "j"))),
    "bishop-backprop": Claim(BISHOP, DTotal(Weight("j", "i")), PSum(Mul((
        ActD("h", U("pre", "j")), U("out", "i"),
        USum("k", Mul((Weight("k", "j"), U("delta", "k")))))))),
    "bishop-unmarked": Claim(BISHOP, DTotal(Weight("j", "i")),
                             PSum(Mul((U("delta", "j", pat=False), U("out", "i", pat=False))))),
    # Nielsen: C = (1/n) sum_x C_x
    "nielsen-db": Claim(NIELSEN, DTotal(Bias("j", l)), Mul((MEAN, PSum(U("delta", "j", l))))),
    "nielsen-dw": Claim(NIELSEN, DTotal(Weight("j", "k", l)), Mul((MEAN, PSum(Mul((
        U("delta", "j", l), U("out", "k", lm1))))))),
    "nielsen-output-dw": Claim(NIELSEN, DTotal(Weight("j", "k", L)), Mul((MEAN, PSum(Mul((
        Add(((1, U("out", "j", L)), (-1, U("t", "j")))), U("out", "k", Lm1))))))),
    "nielsen-dC-dz": Claim(NIELSEN, DTotal(U("pre", "j", l)), Mul((MEAN, U("delta", "j", l)))),
    "nielsen-total": Claim(NIELSEN, Total(), Mul((MEAN, PSum(PatErr())))),
    "nielsen-backprop-db": Claim(NIELSEN, DTotal(Bias("j", l)), Mul((MEAN, PSum(Mul((
        ActD("sigma", U("pre", "j", l)),
        USum("k", Mul((Weight("k", "j", lp1), U("delta", "k", lp1)))))))))),
    # the batch as matrices, a column per pattern: E = (1/N) sum_n E_n
    "matrices-dW2": Claim(MATRICES, DTotal(MW(2)), Mul((MEAN, MQ("delta", 2), T(MQ("out", 1))))),
    "matrices-dW1": Claim(MATRICES, DTotal(MW(1)), Mul((MEAN, MQ("delta", 1), T(MQ("out", 0))))),
    "matrices-backprop": Claim(MATRICES, DTotal(MW(1)), Mul((MEAN, Had(
        ActD("h", MQ("pre", 1)), Mul((T(MW(2)), MQ("delta", 2)))), T(MQ("out", 0))))),
    "matrices-index-form": Claim(MATRICES, DTotal(Weight("j", "i", Lay(2))), Mul((MEAN, PSum(Mul((
        U("delta", "j", Lay(2)), U("out", "i", Lay(1)))), limits=True)))),
    "matrices-bias": Claim(MATRICES, DTotal(Bias("j", Lay(2))), Mul((MEAN, PSum(
        U("delta", "j", Lay(2)))))),
}

NOTATION_FILES = {}


def notation(nt):
    if nt.key not in NOTATION_FILES:
        NOTATION_FILES[nt.key] = load_notation(nt.load)
    return NOTATION_FILES[nt.key]


@functools.lru_cache(maxsize=None)
def batches(net: Net) -> tuple[Batch, ...]:
    return tuple(Batch(net, N, seed) for N, seed in ((2, 11), (3, 12)))


@functools.lru_cache(maxsize=None)
def bpcheck(latex: str, nt_key: str, net: Net, diagnose: bool = False) -> tuple[str, str | None]:
    """(verdict, mistake id), or ("error", the error's words), or ("crash", ...) where
    check_text raised something other than a BpcheckError."""
    nt = {"bishop": BISHOP, "nielsen": NIELSEN, "matrices": MATRICES}[nt_key]
    try:
        r = check_text(latex, notation=notation(nt), net=make_network(**net.options()),
                       diagnose_it=diagnose)
    except BpcheckError as e:
        return "error", f"{type(e).__name__}: {e}"
    except Exception as e:  # a crash, not a verdict: reported by the tests that meet it
        return "crash", f"{type(e).__name__}: {e}"
    return r.verdict.name, (r.diagnosis.id if r.diagnosis is not None else None)


_judged: dict = {}


def oracle(claim: Claim, net: Net):
    key = (claim, net)
    if key not in _judged:
        _judged[key] = judge(claim, list(batches(net)))
    return _judged[key]


def _report(claim: Claim, net: Net, verdict, found) -> str:
    return (f"{claim.tex()!r} in {claim.nt.key}'s notation on {net}: bpcheck {verdict}; "
            f"oracle: {'no value: ' + found.ill if found.ill else f'max rel diff {mp_str(found.diff)} at {found.where}'}")


def mp_str(x) -> str:
    import mpmath as mp
    return mp.nstr(x, 3)


# ---- 1. the correct claims -------------------------------------------------------------
@pytest.mark.parametrize("net", NETS, ids=str)
@pytest.mark.parametrize("name", CLAIMS)
def test_a_correct_batch_claim_is_proved_and_true_on_batches_of_distinct_patterns(name, net):
    claim = CLAIMS[name]
    found = oracle(claim, net)
    assert found.true, _report(claim, net, "-", found)
    verdict = bpcheck(claim.tex(), claim.nt.key, net)
    assert verdict[0] == "PROVED", _report(claim, net, verdict, found)


def test_the_oracle_tells_the_batch_sum_from_the_mean():
    """The oracle itself: Bishop's dE/dw is the sum over the patterns, not the mean, and a
    batch of distinct patterns is not N copies of one."""
    right = CLAIMS["bishop-dw"]
    mean = Claim(BISHOP, right.lhs, Mul((MEAN, right.rhs)))
    one = Claim(BISHOP, right.lhs, right.rhs.body)
    assert oracle(right, NET).true
    assert oracle(mean, NET).false and oracle(one, NET).false
    b2, b3 = batches(NET)
    assert len({tuple(x) for x in b3.x}) == 3 and len({tuple(x) for x in b2.x}) == 2


# ---- 2. generated mutations ------------------------------------------------------------
# every mutation on the 2-3-2 sigmoid network; on the other two networks too (the verdict
# alone, without a diagnosis, is quick)
MUTANTS = [(name, kind, m) for name, claim in CLAIMS.items()
           for kind, m in unique_mutations(claim)]

# bpcheck's verdicts that disagree with the oracle (found by this file): latex -> reason.
# Empty: E beside pattern n's quantities outside a sum, read once as E_n and proved, and
# the diagnosis's crash on h'(z_j), were both mended.
KNOWN: dict[str, str] = {}


def _mutant_params(nets):
    out = []
    for net in nets:
        for k, (name, kind, m) in enumerate(MUTANTS):
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[m.tex()])] \
                if m.tex() in KNOWN else []
            out.append(pytest.param(name, kind, m, net, id=f"{net.widths}-{net.hidden}-{name}-{kind}-{k}",
                                    marks=marks))
    return out


@pytest.mark.parametrize("name,kind,mutant,net", _mutant_params(NETS))
def test_a_mutation_is_proved_only_if_true_and_refuted_only_if_false(name, kind, mutant, net):
    found = oracle(mutant, net)
    verdict = bpcheck(mutant.tex(), mutant.nt.key, net)
    assert found.true or found.false, _report(mutant, net, verdict, found)
    if verdict[0] == "PROVED":
        assert found.true, _report(mutant, net, verdict, found)
    if verdict[0] == "REFUTED":
        assert found.false, _report(mutant, net, verdict, found)
    assert verdict[0] != "crash", _report(mutant, net, verdict, found)


# N times one pattern's term, beside the batch's gradient: true where every pattern of the
# batch is alike, so the reduction to one pattern cannot refute it; refuting it needs two
# distinct patterns at one point, which the engine does not evaluate. bpcheck says
# undecided (never proved).
ALIKE = ("one pattern's term times N beside the batch's: undecided (true for a batch of "
         "alike patterns), not refuted")


def _refuted_params():
    out = []
    for k, (name, kind, m) in enumerate(MUTANTS):
        reason = KNOWN.get(m.tex()) or (ALIKE if kind == "sum-as-N-times" else None)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(name, kind, m, id=f"{name}-{kind}-{k}", marks=marks))
    return out


@pytest.mark.parametrize("name,kind,mutant", _refuted_params())
def test_a_mutation_the_oracle_finds_false_is_refuted_not_refused(name, kind, mutant):
    found = oracle(mutant, NET)
    if not found.false:
        pytest.skip("true by the oracle")
    verdict = bpcheck(mutant.tex(), mutant.nt.key, NET)
    assert verdict[0] == "REFUTED", _report(mutant, NET, verdict, found)


def _rate(net):
    false = [m for _, _, m in MUTANTS if oracle(m, net).false]
    verdicts = [bpcheck(m.tex(), m.nt.key, net) for m in false]
    return false, verdicts


@pytest.mark.slow
def test_most_mutations_the_oracle_finds_false_are_refuted():
    for net in NETS:
        false, verdicts = _rate(net)
        refuted = sum(v[0] == "REFUTED" for v in verdicts)
        counts = {k: sum(v[0] == k for v in verdicts) for k in {v[0] for v in verdicts}}
        print(f"\n{net}: {len(CLAIMS)} claims, {len(MUTANTS)} mutations, {len(false)} false "
              f"by the oracle: {counts}, {refuted / len(false):.0%} refuted")
        assert refuted / len(false) >= 0.8, [(m.tex(), v) for m, v in zip(false, verdicts)
                                             if v[0] != "REFUTED"]


# ---- 3. the diagnosis of a missing or an extra 1/N -------------------------------------
MEAN_MUTANTS = [(name, kind, m) for name, kind, m in MUTANTS
                if kind in ("extra-mean", "missing-mean", "squared-mean")]


@pytest.mark.parametrize("name,kind,mutant",
                         [pytest.param(*x, id=f"{x[0]}-{x[1]}-{k}") for k, x in
                          enumerate(MEAN_MUTANTS)])
def test_a_refuted_missing_or_extra_mean_is_diagnosed_as_such(name, kind, mutant):
    assert oracle(mutant, NET).false
    verdict, mistake = bpcheck(mutant.tex(), mutant.nt.key, NET, diagnose=True)
    assert verdict == "REFUTED", _report(mutant, NET, (verdict, mistake), oracle(mutant, NET))
    want = "batch-mean-missing" if kind == "missing-mean" else "batch-mean-extra"
    assert mistake == want, _report(mutant, NET, (verdict, mistake), oracle(mutant, NET))


# ---- 4. the diagnosis does not crash -----------------------------------------------
# It once raised TypeError('cannot determine truth value of Relational: out1[=j@1] > 0')
# for an activation's derivative at a unit's output, h'(z_j), when it tried a ReLU network:
# the kink's side kept the free index through the claim's instances (model/activation.py).
@pytest.mark.slow
@pytest.mark.parametrize("key,latex", [
    ("bishop", r"\frac{\partial E}{\partial w_{ji}} = \sum_n h'(z_{nj}) z_{ni} \sum_k w_{kj} "
               r"\delta_{nk}"),
    ("matrices", r"\frac{\partial E}{\partial W^{(1)}} = \frac{1}{N} (h'(Z^{(1)}) \odot "
                 r"(W^{(2)})^T D^{(2)}) (Z^{(0)})^T"),
])
def test_a_refuted_mutation_is_diagnosed_without_crashing(key, latex):
    assert any(m.tex() == latex for _, _, m in MUTANTS)  # the generator's, not a hand list
    verdict = bpcheck(latex, key, NET, diagnose=True)
    assert verdict[0] == "REFUTED", verdict
