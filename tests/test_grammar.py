"""The LaTeX grammar: every equation of the textbooks and seed questions reads to the AST it
means (the wrong ones too), no term is dropped, anything else is a ParseError with a column,
and to_latex prints an AST back so that it reads the same."""
from __future__ import annotations

import io
import logging
import re
import time
from pathlib import Path

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpcheck.derive.errors import BpcheckError, UsageError
from bpcheck.derive.latex.ast import (Add, Call, Differential, Equation, Frac, Grad, Hadamard, Mul,
                                      Neg, Norm, Number, Paren, Partial, Power, Shift, Sum, Symbol,
                                      Transpose)
from bpcheck.derive.latex.grammar import _parser, parse, parse_expression
from bpcheck.derive.latex.source import MAX_BYTES, ParseError
from bpcheck.derive.latex.tex import to_latex


# -- builders, so an expected AST reads like the equation ------------------------------------

def S(name: str, sub: str | tuple = "", sup=None, *, primes: int = 0, bold: bool = False) -> Symbol:
    """S("w", "kj", "l") is w^l_{kj}: one character per index, a str sup is a letter or digit."""
    sub = tuple(sub) if isinstance(sub, str) else sub
    if isinstance(sup, str):
        sup = Number(sup) if sup.isdigit() else Symbol(sup)
    return Symbol(name, sub, sup, primes, bold)


def N(text: str) -> Number:
    return Number(text)


def mul(*factors) -> Mul:
    return Mul(factors)


def add(*terms) -> Add:
    return Add(terms)


def minus(a, b) -> Add:
    return Add((a, Neg(b)))


def d(num, den) -> Partial:
    return Partial(num, den)


def fn(name: str, *args, primes: int = 0) -> Call:
    return Call(Symbol(name, primes=primes), args)


def sm(index: str, body, **limits) -> Sum:
    return Sum(index=index, body=body, **limits)


def eq(*parts, tag=None, notes=()) -> Equation:
    """eq(lhs, "=", rhs): sides and relations alternating."""
    return Equation(tuple(parts[0::2]), tuple(parts[1::2]), tag, tuple(notes))


D, SIG, ETA = r"\delta", r"\sigma", r"\eta"
HALF = Frac(N("1"), N("2"))
TWO = N("2")
l_plus_1, l_minus_1 = add(S("l"), N("1")), minus(S("l"), N("1"))
L_minus_1, L_minus_2 = minus(S("L"), N("1")), minus(S("L"), N("2"))
E, En, C = S("E"), S("E", "n"), S("C")
aj, ak, ar, aq = S("a", "j"), S("a", "k"), S("a", "r"), S("a", "q")
yk, yq, yr, yp, tk, tr = S("y", "k"), S("y", "q"), S("y", "r"), S("y", "p"), S("t", "k"), S("t", "r")
wji, wkj, wqr, wpq, wqk = S("w", "ji"), S("w", "kj"), S("w", "qr"), S("w", "pq"), S("w", "qk")


def h1(x):
    return fn("h", x, primes=1)


def g1(x):
    return fn("g", x, primes=1)


def sigma1(x):
    return fn(SIG, x, primes=1)


# -- the corpus: EQUATIONS.md and the seed questions, as people write them -------------------

BISHOP = [
    pytest.param(r"E_n = \frac{1}{2} \sum_{k} (y_{nk} - t_{nk})^2",
                 eq(En, "=", mul(HALF, sm("k", Power(minus(S("y", "nk"), S("t", "nk")), TWO)))),
                 id="bishop-5.46"),
    pytest.param(r"a_j = \sum_i w_{ji} z_i", eq(aj, "=", sm("i", mul(wji, S("z", "i")))), id="bishop-5.48"),
    pytest.param(r"z_j = h(a_j)", eq(S("z", "j"), "=", fn("h", aj)), id="bishop-5.49"),
    pytest.param(r"\frac{\partial E_n}{\partial w_{ji}} = \frac{\partial E_n}{\partial a_j}\frac{\partial a_j}{\partial w_{ji}}",
                 eq(d(En, wji), "=", mul(d(En, aj), d(aj, wji))), id="bishop-5.50"),
    pytest.param(r"\delta_j \equiv \frac{\partial E_n}{\partial a_j}", eq(S(D, "j"), r"\equiv", d(En, aj)),
                 id="bishop-5.51"),
    pytest.param(r"\frac{\partial a_j}{\partial w_{ji}} = z_i", eq(d(aj, wji), "=", S("z", "i")), id="bishop-5.52"),
    pytest.param(r"\frac{\partial E_n}{\partial w_{ji}} = \delta_j z_i",
                 eq(d(En, wji), "=", mul(S(D, "j"), S("z", "i"))), id="bishop-5.53"),
    pytest.param(r"\delta_k = y_k - t_k", eq(S(D, "k"), "=", minus(yk, tk)), id="bishop-5.54"),
    pytest.param(r"\delta_j \equiv \frac{\partial E_n}{\partial a_j} = \sum_k \frac{\partial E_n}{\partial a_k}\frac{\partial a_k}{\partial a_j}",
                 eq(S(D, "j"), r"\equiv", d(En, aj), "=", sm("k", mul(d(En, ak), d(ak, aj)))),
                 id="bishop-5.55"),
    pytest.param(r"\delta_j = h'(a_j) \sum_k w_{kj} \delta_k",
                 eq(S(D, "j"), "=", mul(h1(aj), sm("k", mul(wkj, S(D, "k"))))), id="bishop-5.56"),
    pytest.param(r"\delta_j = h'(a_j) \sum_k w^{(2)}_{kj} \delta_k",
                 eq(S(D, "j"), "=", mul(h1(aj), sm("k", mul(S("w", "kj", Paren(TWO)), S(D, "k"))))),
                 id="bishop-5.56-layer-marks"),
    pytest.param(r"\frac{\partial y_k}{\partial a_j} = y_k (I_{kj} - y_j)",
                 eq(d(yk, aj), "=", mul(yk, minus(S("I", "kj"), S("y", "j")))), id="bishop-softmax-jacobian"),
    pytest.param(r"\frac{\partial a_k}{\partial a_j} = w_{kj} h'(a_j)",
                 eq(d(ak, aj), "=", mul(wkj, h1(aj))), id="claim-dak-daj"),
]

SEEDS = [
    pytest.param(r"$$ \frac{\partial E_n}{\partial a_j} = \sum_k \frac{\partial E_n}{\partial a_k} \frac{\partial a_k}{\partial a_j}$$",
                 eq(d(En, aj), "=", sm("k", mul(d(En, ak), d(ak, aj)))), id="seed-question-5.55"),
    pytest.param(r"\frac{\partial E_n}{\partial a_j} = \sum_{k\in U_j} \frac{\partial E_n}{\partial a_k} \frac{\partial a_k}{\partial a_j}",
                 eq(d(En, aj), "=", sm("k", mul(d(En, ak), d(ak, aj)), index_set=S("U", "j"))),
                 id="seed-index-set"),
    pytest.param(r"\frac{\partial E_n}{\partial a_j} = \nabla E_n ^T \cdot \textbf p = \sum_{k \in \mathcal{S}} \frac{\partial E_n}{\partial a_k} \frac{\partial a_k}{\partial a_j}",
                 eq(d(En, aj), "=", mul(Grad(None, Transpose(En)), S("p", bold=True)), "=",
                    sm("k", mul(d(En, ak), d(ak, aj)), index_set=S(r"\mathcal{S}"))),
                 id="seed-directional-derivative"),
    pytest.param(r"\textbf{p}_k = \bigg(\frac{\partial a_k}{\partial a_j}\bigg)",
                 eq(S("p", "k", bold=True), "=", d(ak, aj)), id="seed-direction-vector"),
    pytest.param(r"E_n = \frac{1}{2}\sum_k (y_{nk}(x_n) - t_{nk})^2",
                 eq(En, "=", mul(HALF, sm("k", Power(minus(mul(S("y", "nk"), S("x", "n")), S("t", "nk")), TWO)))),
                 id="seed-error-of-xn"),
    pytest.param(r"z_j = h(a_j)=h\left( \sum_{i\in U_j} w_{ji} z_i \right)",
                 eq(S("z", "j"), "=", fn("h", aj), "=",
                    fn("h", sm("i", mul(wji, S("z", "i")), index_set=S("U", "j")))),
                 id="seed-forward-index-set"),
    pytest.param(r"\frac{\partial}{\partial q_m} f(r(q)) = \sum_s \frac{\partial f}{\partial r_s}\frac{\partial r_s}{\partial q_m}",
                 eq(d(fn("f", mul(S("r"), S("q"))), S("q", "m")), "=",
                    sm("s", mul(d(S("f"), S("r", "s")), d(S("r", "s"), S("q", "m"))))),
                 id="seed-chain-rule-operator-form"),
    pytest.param(r"\frac{df}{dt} = \sum^N_{k=1} \frac{\partial f}{\partial x_k} \frac{d x_k}{d t}",
                 # d on both sides is a total derivative: along every path
                 eq(Partial(S("f"), S("t"), total=True), "=",
                    sm("k", mul(d(S("f"), S("x", "k")), Partial(S("x", "k"), S("t"), total=True)),
                       lower=N("1"), upper=S("N"))),
                 id="seed-total-derivative"),
    pytest.param(r"E_n = \frac{1}{2} \sum_k (y_{nk} - t_{nk} )^2 = \frac{1}{2} \|y_n - t_n \|^2",
                 eq(En, "=", mul(HALF, sm("k", Power(minus(S("y", "nk"), S("t", "nk")), TWO))), "=",
                    mul(HALF, Power(Norm(minus(S("y", "n"), S("t", "n"))), TWO))),
                 id="seed-error-as-norm"),
    pytest.param(r"\delta_j^l = \frac{\partial E}{a_j^l} = \sum_k \frac{\partial E}{z_k^l} \frac{\partial z_k^l}{a_j^{l-1}}",
                 eq(S(D, "j", "l"), "=", Frac(Differential(E), S("a", "j", "l")), "=",
                    sm("k", mul(Frac(Differential(E), S("z", "k", "l")),
                                Frac(Differential(S("z", "k", "l")), S("a", "j", l_minus_1))))),
                 id="seed-superscripts-eq1-wrong"),
    pytest.param(r"a_k^l = \sum_k W_{kj}^{l}*z_j^{l} + b_k^{l}",
                 eq(S("a", "k", "l"), "=", add(sm("k", mul(S("W", "kj", "l"), S("z", "j", "l"))), S("b", "k", "l"))),
                 id="seed-superscripts-eq2"),
    pytest.param(r"z_k^{l+1} = h(a_k^l)", eq(S("z", "k", l_plus_1), "=", fn("h", S("a", "k", "l"))),
                 id="seed-superscripts-eq3"),
    pytest.param(r"\frac{\partial z_k^{l+1}}{\partial a_k^l} = h'(a_k^l)",
                 eq(d(S("z", "k", l_plus_1), S("a", "k", "l")), "=", h1(S("a", "k", "l"))),
                 id="seed-superscripts-eq4"),
    pytest.param(r"\frac{\partial a_k^l}{\partial W_{kj}^{l}} = z_j^{l}",
                 eq(d(S("a", "k", "l"), S("W", "kj", "l")), "=", S("z", "j", "l")), id="seed-superscripts-eq5"),
    pytest.param(r"\frac{\partial a_k^l}{\partial b_k^{l}} = 1",
                 eq(d(S("a", "k", "l"), S("b", "k", "l")), "=", N("1")), id="seed-superscripts-eq6"),
    pytest.param("E = \\frac{1}{2} \\sum_k(z_k^L\u2212t_k)^2",
                 eq(E, "=", mul(HALF, sm("k", Power(minus(S("z", "k", "L"), tk), TWO)))),
                 id="seed-superscripts-eq7-unicode-minus"),
    pytest.param("\\delta_j^L = \\frac{\\partial E}{a_j^{L-1}} = \\sum_k \\frac{\\partial E}{z_k^L} "
                 "\\frac{\\partial z_k^L}{a_j^{L-1}} = (z_k^L\u2212t) .* h'(a_k^l)",
                 eq(S(D, "j", "L"), "=", Frac(Differential(E), S("a", "j", L_minus_1)), "=",
                    sm("k", mul(Frac(Differential(E), S("z", "k", "L")),
                                Frac(Differential(S("z", "k", "L")), S("a", "j", L_minus_1)))), "=",
                    Hadamard((minus(S("z", "k", "L"), S("t")), h1(S("a", "k", "l"))))),
                 id="seed-superscripts-eq8-wrong"),
    pytest.param(r"\frac{\partial E}{\partial W_{kj}^{L-1}} = \frac{\partial E}{\partial a_k^{L-1}} \frac{\partial a_k^{L-1}}{\partial W_{kj}^{L-1}} = \delta_k^L \frac{\partial a_k^{L-1}}{\partial W_{kj}^{L-1}} = \delta_j^L z_k^{L-1}",
                 eq(d(E, S("W", "kj", L_minus_1)), "=",
                    mul(d(E, S("a", "k", L_minus_1)), d(S("a", "k", L_minus_1), S("W", "kj", L_minus_1))), "=",
                    mul(S(D, "k", "L"), d(S("a", "k", L_minus_1), S("W", "kj", L_minus_1))), "=",
                    mul(S(D, "j", "L"), S("z", "k", L_minus_1))),
                 id="seed-superscripts-weight-gradient"),
    pytest.param(r"\frac{\partial E}{\partial b_{k}^{L-1}} = \frac{\partial E}{\partial a_k^{L-1}} \frac{\partial a_k^{L-1}}{\partial b_{k}^{L-1}} = \delta_k^L",
                 eq(d(E, S("b", "k", L_minus_1)), "=",
                    mul(d(E, S("a", "k", L_minus_1)), d(S("a", "k", L_minus_1), S("b", "k", L_minus_1))), "=",
                    S(D, "k", "L")),
                 id="seed-superscripts-bias-gradient"),
    pytest.param(r"\delta_j^{L-1} = \frac{\partial E}{\partial a_{j}^{L-2}} = \delta_k^{L} \frac{\partial a_j^{L-1}}{\partial z_k^{L-1}} \frac{\partial z_j^{L-1}}{\partial a_k^{L-2}} = (\delta_k^{L}* W_{kj}^{L-1}).*h'(a_j^{L-2})",
                 eq(S(D, "j", L_minus_1), "=", d(E, S("a", "j", L_minus_2)), "=",
                    mul(S(D, "k", "L"), d(S("a", "j", L_minus_1), S("z", "k", L_minus_1)),
                        d(S("z", "j", L_minus_1), S("a", "k", L_minus_2))), "=",
                    Hadamard((mul(S(D, "k", "L"), S("W", "kj", L_minus_1)), h1(S("a", "j", L_minus_2))))),
                 id="seed-superscripts-previous-layer"),
    pytest.param(r"a_j^L = \frac{e^{z_j^L}}{\sum_k e^{z_k^L}}",
                 eq(S("a", "j", "L"), "=", Frac(S("e", "", S("z", "j", "L")), sm("k", S("e", "", S("z", "k", "L"))))),
                 id="seed-softmax"),
    pytest.param(r"\partial a_j^L/\partial z_k^L \neq0",
                 eq(d(S("a", "j", "L"), S("z", "k", "L")), r"\neq", N("0")), id="seed-softmax-jacobian-nonzero"),
    pytest.param(r"\delta_j^L=\sum_k\frac{\partial C}{\partial a_k^L}\frac{\partial a_k^L}{\partial z_j^L}",
                 eq(S(D, "j", "L"), "=", sm("k", mul(d(C, S("a", "k", "L")), d(S("a", "k", "L"), S("z", "j", "L"))))),
                 id="seed-softmax-answer"),
    pytest.param(r"\frac{\partial f}{\partial t}=\frac{\partial f}{\partial x}\frac{\partial x}{\partial t}+\frac{\partial f}{\partial y}\frac{\partial y}{\partial t}",
                 eq(d(S("f"), S("t")), "=", add(mul(d(S("f"), S("x")), d(S("x"), S("t"))),
                                                mul(d(S("f"), S("y")), d(S("y"), S("t"))))),
                 id="seed-two-variable-chain-rule"),
]

NIELSEN = [
    pytest.param(r"z^l_j = \sum_k w^l_{jk} a^{l-1}_k + b^l_j",
                 eq(S("z", "j", "l"), "=", add(sm("k", mul(S("w", "jk", "l"), S("a", "k", l_minus_1))), S("b", "j", "l"))),
                 id="nielsen-weighted-input"),
    pytest.param(r"a^l_j = \sigma(z^l_j)", eq(S("a", "j", "l"), "=", fn(SIG, S("z", "j", "l"))), id="nielsen-activation"),
    pytest.param(r"\delta^l_j \equiv \frac{\partial C}{\partial z^l_j}",
                 eq(S(D, "j", "l"), r"\equiv", d(C, S("z", "j", "l"))), id="nielsen-delta"),
    pytest.param(r"C = \frac{1}{2} \sum_j (y_j-a^L_j)^2",
                 eq(C, "=", mul(HALF, sm("j", Power(minus(S("y", "j"), S("a", "j", "L")), TWO)))),
                 id="nielsen-quadratic-cost"),
    pytest.param(r"\delta^L_j = \frac{\partial C}{\partial a^L_j} \sigma'(z^L_j)",
                 eq(S(D, "j", "L"), "=", mul(d(C, S("a", "j", "L")), sigma1(S("z", "j", "L")))), id="nielsen-BP1"),
    pytest.param(r"\delta^L = \nabla_a C \odot \sigma'(z^L)",
                 eq(S(D, "", "L"), "=", Hadamard((Grad(S("a"), C), sigma1(S("z", "", "L"))))), id="nielsen-BP1a"),
    pytest.param(r"\delta^L = \nabla_{a} C \odot \sigma'(z^L)",
                 eq(S(D, "", "L"), "=", Hadamard((Grad(S("a"), C), sigma1(S("z", "", "L"))))), id="nielsen-BP1a-braced"),
    pytest.param(r"\delta^L = (a^L - y) \odot \sigma'(z^L)",
                 eq(S(D, "", "L"), "=", Hadamard((minus(S("a", "", "L"), S("y")), sigma1(S("z", "", "L"))))),
                 id="nielsen-BP1a-quadratic"),
    pytest.param(r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)",
                 eq(S(D, "", "l"), "=", Hadamard((mul(Transpose(S("w", "", l_plus_1)), S(D, "", l_plus_1)),
                                                  sigma1(S("z", "", "l"))))),
                 id="nielsen-BP2"),
    pytest.param(r"\frac{\partial C}{\partial b^l_j} = \delta^l_j",
                 eq(d(C, S("b", "j", "l")), "=", S(D, "j", "l")), id="nielsen-BP3"),
    pytest.param(r"\frac{\partial C}{\partial w^l_{jk}} = a^{l-1}_k \delta^l_j",
                 eq(d(C, S("w", "jk", "l")), "=", mul(S("a", "k", l_minus_1), S(D, "j", "l"))), id="nielsen-BP4"),
    pytest.param(r"\begin{eqnarray} \delta^L_j = \frac{\partial C}{\partial z^L_j}. \tag{36}\end{eqnarray}",
                 eq(S(D, "j", "L"), "=", d(C, S("z", "j", "L")), tag="36"), id="nielsen-36"),
    pytest.param(r"\begin{eqnarray} \delta^L_j = \sum_k \frac{\partial C}{\partial a^L_k} \frac{\partial a^L_k}{\partial z^L_j}, \tag{37}\end{eqnarray}",
                 eq(S(D, "j", "L"), "=", sm("k", mul(d(C, S("a", "k", "L")), d(S("a", "k", "L"), S("z", "j", "L")))),
                    tag="37"), id="nielsen-37"),
    pytest.param(r"\begin{eqnarray} \delta^L_j = \frac{\partial C}{\partial a^L_j} \frac{\partial a^L_j}{\partial z^L_j}. \tag{38}\end{eqnarray}",
                 eq(S(D, "j", "L"), "=", mul(d(C, S("a", "j", "L")), d(S("a", "j", "L"), S("z", "j", "L"))),
                    tag="38"), id="nielsen-38"),
    pytest.param(r"\delta^l_j = \sum_k \frac{\partial C}{\partial z^{l+1}_k} \frac{\partial z^{l+1}_k}{\partial z^l_j}",
                 eq(S(D, "j", "l"), "=", sm("k", mul(d(C, S("z", "k", l_plus_1)), d(S("z", "k", l_plus_1), S("z", "j", "l"))))),
                 id="nielsen-BP2-proof"),
    pytest.param(r"\frac{\partial z^{l+1}_k}{\partial z^l_j} = w^{l+1}_{kj} \sigma'(z^l_j)",
                 eq(d(S("z", "k", l_plus_1), S("z", "j", "l")), "=", mul(S("w", "kj", l_plus_1), sigma1(S("z", "j", "l")))),
                 id="nielsen-BP2-jacobian"),
    pytest.param(r"\delta^L = a^L - y", eq(S(D, "", "L"), "=", minus(S("a", "", "L"), S("y"))), id="nielsen-ch3-sigmoid"),
    pytest.param(r"\delta^L_j = a^L_j - y_j", eq(S(D, "j", "L"), "=", minus(S("a", "j", "L"), S("y", "j"))),
                 id="nielsen-ch3-softmax"),
]

_dE_wqr = d(E, wqr)
EGLEN = [
    pytest.param(r"$$\text{Hidden layer} \quad a_j = \sum_i w_{ij} y_i \quad (1)$$",
                 eq(aj, "=", sm("i", mul(S("w", "ij"), S("y", "i"))), tag="1", notes=["Hidden layer"]), id="eglen-1"),
    pytest.param(r"$$y_j = g(a_j) \quad (2)$$", eq(S("y", "j"), "=", fn("g", aj), tag="2"), id="eglen-2"),
    pytest.param(r"$$\text{Output layer} \quad a_k = \sum_j w_{jk} y_j \quad (3)$$",
                 eq(ak, "=", sm("j", mul(S("w", "jk"), S("y", "j"))), tag="3", notes=["Output layer"]), id="eglen-3"),
    pytest.param(r"$$y_k = g(a_k) \quad (4)$$", eq(yk, "=", fn("g", ak), tag="4"), id="eglen-4"),
    pytest.param(r"$$\text{Error function} \quad E = \frac{1}{2} \sum_k (t_k - y_k)^2 \quad (5)$$",
                 eq(E, "=", mul(HALF, sm("k", Power(minus(tk, yk), TWO))), tag="5", notes=["Error function"]),
                 id="eglen-5"),
    pytest.param(r"$$\Delta w_{ij} = -\eta \frac{\partial E}{\partial w_{ij}}$$",
                 eq(mul(S(r"\Delta"), S("w", "ij")), "=", Neg(mul(S(ETA), d(E, S("w", "ij"))))), id="eglen-learning-rule"),
    pytest.param(r"$$\frac{\partial E}{\partial w_{qr}} = - \sum_k (t_k - y_k) \frac{\partial y_k}{\partial w_{qr}}$$",
                 eq(_dE_wqr, "=", Neg(sm("k", mul(minus(tk, yk), d(yk, wqr))))), id="eglen-2a-error"),
    pytest.param(r"$$\frac{\partial E}{\partial w_{qr}} = -(t_r - y_r) \frac{\partial y_r}{\partial w_{qr}}$$",
                 eq(_dE_wqr, "=", Neg(mul(minus(tr, yr), d(yr, wqr)))), id="eglen-2a-only-k-equals-r"),
    pytest.param(r"$$\frac{\partial y_r}{\partial w_{qr}} = g'(a_r) \frac{\partial a_r}{\partial w_{qr}}$$",
                 eq(d(yr, wqr), "=", mul(g1(ar), d(ar, wqr))), id="eglen-2a-output"),
    pytest.param(r'$$\frac{\partial a_r}{\partial w_{qr}} = y_q \quad (\text{"partial trick"})$$',
                 eq(d(ar, wqr), "=", yq, notes=['"partial trick"']), id="eglen-2a-partial-trick"),
    pytest.param(r"$$\frac{\partial E}{\partial w_{qr}} = -(t_r - y_r) g'(a_r) y_q$$",
                 eq(_dE_wqr, "=", Neg(mul(minus(tr, yr), g1(ar), yq))), id="eglen-2a-gradient"),
    pytest.param(r"$$\text{Let } \delta_k = g'(a_k)(t_k - y_k)$$",
                 eq(S(D, "k"), "=", mul(g1(ak), minus(tk, yk)), notes=["Let "]), id="eglen-2a-delta"),
    pytest.param(r"$$\text{So } \frac{\partial E}{\partial w_{qr}} = -\delta_r y_q$$",
                 eq(_dE_wqr, "=", Neg(mul(S(D, "r"), yq)), notes=["So "]), id="eglen-2a-in-delta"),
    pytest.param(r"$$\frac{\partial E}{\partial w_{pq}} = - \sum_k (t_k - y_k) \frac{\partial y_k}{\partial w_{pq}}$$",
                 eq(d(E, wpq), "=", Neg(sm("k", mul(minus(tk, yk), d(yk, wpq))))), id="eglen-2b-error"),
    pytest.param(r"\frac{\partial y_k}{\partial w_{pq}} = \frac{\partial y_k}{\partial y_q} \frac{\partial y_q}{\partial w_{pq}}",
                 eq(d(yk, wpq), "=", mul(d(yk, yq), d(yq, wpq))), id="eglen-2b-via-yq"),
    pytest.param(r"""\frac{\partial y_k}{\partial y_q} = g'(a_k) \frac{\partial a_k}{\partial y_q} = g'(a_k) w_{qk} \quad \text{from 3, 4 and "partial trick"}""",
                 eq(d(yk, yq), "=", mul(g1(ak), d(ak, yq)), "=", mul(g1(ak), wqk),
                    notes=['from 3, 4 and "partial trick"']), id="eglen-2b-dyk-dyq"),
    pytest.param(r"\frac{\partial y_q}{\partial w_{pq}} = g'(a_q) \frac{\partial a_q}{\partial w_{pq}} = g'(a_q) y_p \quad \text{from 1, 2}",
                 eq(d(yq, wpq), "=", mul(g1(aq), d(aq, wpq)), "=", mul(g1(aq), yp), notes=["from 1, 2"]),
                 id="eglen-2b-dyq-dwpq"),
    pytest.param(r"""$$\begin{aligned} \frac{\partial E}{\partial w_{pq}} &= - \sum_k (t_k - y_k) \times g'(a_k) w_{qk} \times g'(a_q) y_p \\ &= - y_p g'(a_q) \sum_k (t_k - y_k) g'(a_k) w_{qk} \\ &= - y_p g'(a_q) \sum_k \delta_k w_{qk} \end{aligned}$$""",
                 eq(d(E, wpq), "=", Neg(sm("k", mul(minus(tk, yk), g1(ak), wqk, g1(aq), yp))),
                    "=", Neg(mul(yp, g1(aq), sm("k", mul(minus(tk, yk), g1(ak), wqk)))),
                    "=", Neg(mul(yp, g1(aq), sm("k", mul(S(D, "k"), wqk))))),
                 id="eglen-2c-aligned-chain"),
    pytest.param(r"$$\text{Let } \delta_q = g'(a_q) \sum_k \delta_k w_{qk}$$",
                 eq(S(D, "q"), "=", mul(g1(aq), sm("k", mul(S(D, "k"), wqk))), notes=["Let "]), id="eglen-2c-delta"),
    pytest.param(r"$$\frac{\partial E}{\partial w_{pq}} = - \delta_q y_p$$",
                 eq(d(E, wpq), "=", Neg(mul(S(D, "q"), yp))), id="eglen-2c-gradient"),
]

CORPUS = BISHOP + SEEDS + NIELSEN + EGLEN
CORPUS_TEXTS = [p.values[0] for p in CORPUS]


@pytest.mark.parametrize("latex,expected", CORPUS)
def test_each_textbook_and_seed_equation_reads_to_the_ast_it_means(latex, expected):
    assert parse(latex) == expected


@pytest.mark.parametrize("latex,expected", CORPUS)
def test_each_equation_printed_back_reads_to_the_same_ast(latex, expected):
    printed = to_latex(parse(latex))
    assert parse(printed) == expected
    assert to_latex(parse(printed)) == printed


def _symbols(node) -> set[Symbol]:
    """Every Symbol in an AST, found by walking the dataclass fields."""
    found, todo = set(), [node]
    while todo:
        x = todo.pop()
        if isinstance(x, Symbol):
            found.add(x)
        if isinstance(x, tuple):
            todo.extend(x)
        elif hasattr(x, "__dataclass_fields__"):
            todo.extend(getattr(x, f) for f in x.__dataclass_fields__)
    return found


def test_the_hidden_delta_keeps_the_sum_that_sympys_parse_latex_drops():
    got = parse(r"\delta_j = h'(a_j) \sum_k w_{kj}\delta_k")
    assert got.sides[1] == Mul((Call(Symbol("h", primes=1), (aj,)),
                                Sum(index="k", body=Mul((wkj, S(D, "k"))))))
    assert {S(D, "j"), S("h", primes=1), aj, wkj, S(D, "k")} <= _symbols(got)


# -- the documented rules --------------------------------------------------------------------

@pytest.mark.parametrize("latex,expected", [
    (r"\sum_k w_{kj}\delta_k + b_j", add(sm("k", mul(wkj, S(D, "k"))), S("b", "j"))),
    (r"\sum_k w_{kj}\delta_k - b_j", minus(sm("k", mul(wkj, S(D, "k"))), S("b", "j"))),
    (r"\sum_k a_k \cdot b_k \times c_k * d_k", sm("k", mul(ak, S("b", "k"), S("c", "k"), S("d", "k")))),
    (r"\sum_k a_k \odot b", Hadamard((sm("k", ak), S("b")))),
    (r"(\sum_k a_k) b", mul(sm("k", ak), S("b"))),
    (r"c \cdot \sum_k a_k", mul(S("c"), sm("k", ak))),
    (r"\sum_j \sum_k w_{kj}", sm("j", sm("k", wkj))),
    (r"\sum_k \frac{\partial E}{\partial a_k} \frac{\partial a_k}{\partial a_j}", sm("k", mul(d(E, ak), d(ak, aj)))),
    (r"\frac{\partial}{\partial a_j} E_n w", d(mul(En, S("w")), aj)),
])
def test_a_sum_body_is_the_product_that_follows_and_stops_at_plus_minus_odot(latex, expected):
    assert parse_expression(latex) == expected


@pytest.mark.parametrize("latex", [
    r"\sum_{k=1}^{K} x_k", r"\sum_{k=1}^K x_k", r"\sum^K_{k=1} x_k", r"\sum\limits_{k=1}^{K} x_k",
    r"\sum_{k = 1}^{K} x_k"])
def test_sum_limits_read_the_same_in_every_spelling(latex):
    assert parse_expression(latex) == sm("k", S("x", "k"), lower=N("1"), upper=S("K"))


@pytest.mark.parametrize("latex,expected", [
    (r"\sum_k x_k", sm("k", S("x", "k"))), (r"\sum_{k} x_k", sm("k", S("x", "k"))),
    (r"\sum\limits_k x_k", sm("k", S("x", "k"))), ("\u2211_k x_k", sm("k", S("x", "k"))),
    (r"\sum_{k'} x_{k'}", sm("k'", S("x", ("k'",)))),
    (r"\sum_{k \in U_j} x_k", sm("k", S("x", "k"), index_set=S("U", "j"))),
    (r"\sum_{k \in \mathcal{S}} x_k", sm("k", S("x", "k"), index_set=S(r"\mathcal{S}"))),
])
def test_sum_index_and_index_set_are_kept(latex, expected):
    assert parse_expression(latex) == expected


@pytest.mark.parametrize("latex,expected", [
    ("a^2", S("a", "", "2")),
    ("a^L_j", S("a", "j", "L")), ("a_j^{L}", S("a", "j", "L")),
    ("w^{(2)}_{kj}", S("w", "kj", Paren(TWO))), ("w_{kj}^{(2)}", S("w", "kj", Paren(TWO))),
    ("a^{(l)}", S("a", "", Paren(S("l")))), ("z^{l-1}_k", S("z", "k", l_minus_1)),
    ("w^{l+1}_{kj}", S("w", "kj", l_plus_1)), ("e^{a_k}", S("e", "", ak)),
    ("w^T", Transpose(S("w"))), ("w^{T}", Transpose(S("w"))), (r"w^\top", Transpose(S("w"))),
    (r"w_{kj}^{\top}", Transpose(wkj)), (r"(w^{l+1})^T", Transpose(S("w", "", l_plus_1))),
    ("(a)^2", Power(S("a"), TWO)), ("(y - t)^2", Power(minus(S("y"), S("t")), TWO)),
    (r"\sigma(z)^2", Power(fn(SIG, S("z")), TWO)), ("2^{k}", Power(TWO, S("k"))),
    (r"\|x\|^2", Power(Norm(S("x")), TWO)),
])
def test_a_superscript_on_a_symbol_stays_raw_and_elsewhere_is_a_power_or_transpose(latex, expected):
    assert parse_expression(latex) == expected


@pytest.mark.parametrize("latex,expected", [
    (r"\frac{\partial E}{\partial a_j}", d(E, aj)),
    (r"\partial E/\partial a_j", d(E, aj)),
    (r"\dfrac{\partial E}{\partial a_j}", d(E, aj)),
    (r"\frac{\partial}{\partial a_j} E", d(E, aj)),
    (r"\frac{\partial E}{a_j}", Frac(Differential(E), aj)),
    (r"\frac{E}{\partial a_j}", Frac(E, Differential(aj))),
    (r"\frac{\partial (y_k - t_k)}{\partial a_j}", d(minus(yk, tk), aj)),
])
def test_partial_needs_partial_on_both_sides_otherwise_it_is_a_plain_frac(latex, expected):
    assert parse_expression(latex) == expected


@pytest.mark.parametrize("latex,expected", [
    ("h'(a_j)", h1(aj)), (r"\sigma'(z^L_j)", sigma1(S("z", "j", "L"))), ("g'(a_q)", g1(aq)),
    ("h(a_j)", fn("h", aj)), (r"\sigma(z)", fn(SIG, S("z"))), ("f''(x)", fn("f", S("x"), primes=2)),
    ("h (a_j)", fn("h", aj)), (r"\sigma\left( z \right)", fn(SIG, S("z"))), (r"\phi(x)", fn(r"\phi", S("x"))),
    (r"\varphi'(x)", fn(r"\varphi", S("x"), primes=1)), ("f(x, y)", fn("f", S("x"), S("y"))),
    (r"\ln(y_k)", fn("ln", yk)), (r"\ln y_k", fn("ln", yk)), (r"\log(1 - y)", fn("log", minus(N("1"), S("y")))),
    (r"\exp(a_k)", fn("exp", ak)), (r"\exp a_k", fn("exp", ak)), (r"\tanh(x)", fn("tanh", S("x"))),
    (r"\operatorname{softmax}(z)", fn("softmax", S("z"))), (r"\mathrm{ReLU}(z)", fn("ReLU", S("z"))),
    ("\u03c3'(z)", sigma1(S("z"))),
    ("y_k (1 - y_k)", mul(yk, minus(N("1"), yk))), ("y_{nk}(x_n)", mul(S("y", "nk"), S("x", "n"))),
    ("a (b)", mul(S("a"), S("b"))), (r"h \cdot (a_j)", mul(S("h"), aj)),
    ("g'(a_k)(t_k - y_k)", mul(g1(ak), minus(tk, yk))),
])
def test_only_a_function_name_before_a_round_bracket_is_a_call(latex, expected):
    assert parse_expression(latex) == expected


@pytest.mark.parametrize("latex,expected", [
    (r"1/2 \sum_k x_k", mul(HALF, sm("k", S("x", "k")))),
    ("a b / c d", mul(S("a"), Frac(S("b"), S("c")), S("d"))),
    ("a/b/c", Frac(Frac(S("a"), S("b")), S("c"))),
    (r"a b \odot c d + e", add(Hadamard((mul(S("a"), S("b")), mul(S("c"), S("d")))), S("e"))),
    (r"-a b", Neg(mul(S("a"), S("b")))), ("-a - b", add(Neg(S("a")), Neg(S("b")))),
    ("a - -b", minus(S("a"), Neg(S("b")))), ("+a", S("a")),
    (r"a(b c)", mul(S("a"), mul(S("b"), S("c")))), (r"a + (b + c)", add(S("a"), add(S("b"), S("c")))),
])
def test_precedence_slash_then_product_then_odot_then_plus(latex, expected):
    assert parse_expression(latex) == expected


@pytest.mark.parametrize("latex,expected", [
    (r"\mathrm{net}_j", S("net", "j")), (r"\text{net}_j", S("net", "j")), (r"\operatorname{net}_j", S("net", "j")),
    (r"\mathcal{L}", S(r"\mathcal{L}")), (r"\mathcal L", S(r"\mathcal{L}")),
    (r"\mathbf{a}", S("a", bold=True)), (r"\boldsymbol{\delta}^l", S(D, "", "l", bold=True)),
    (r"\vec{a}", S("a", bold=True)), (r"\textbf p", S("p", bold=True)), (r"\bm{W}", S("W", bold=True)),
    (r"\nabla_a C", Grad(S("a"), C)), (r"\nabla_{\mathbf{a}} C", Grad(S("a", bold=True), C)),
    (r"\nabla C", Grad(None, C)), (r"\nabla_{a^L} \mathcal{L}", Grad(S("a", "", "L"), S(r"\mathcal{L}"))),
    (r"\eta \epsilon \lambda \mu \theta \alpha", mul(*(S(rf"\{g}") for g in ("eta", "epsilon", "lambda", "mu", "theta", "alpha")))),
    ("\u03b4_j \u03b7", mul(S(D, "j"), S(ETA))), (r"\ell", S(r"\ell")),
    ("ab", mul(S("a"), S("b"))),
])
def test_names_greek_bold_and_gradients(latex, expected):
    assert parse_expression(latex) == expected


@pytest.mark.parametrize("latex,expected", [
    ("w_{kj}", wkj), ("w_{k,j}", wkj), ("w_{k, j}", wkj), ("w_{j0}", S("w", "j0")), ("y_{nk}", S("y", "nk")),
    ("w_{k'j}", S("w", ("k'", "j"))), ("w_{10,2}", S("w", ("10", "2"))), (r"z_\alpha", S("z", (r"\alpha",))),
    ("x_12", mul(S("x", "1"), TWO)), ("a_k'", S("a", "k", primes=1)), ("E_n", En), ("x_i", S("x", "i")),
])
def test_a_subscript_is_a_list_of_index_tokens(latex, expected):
    assert parse_expression(latex) == expected


@pytest.mark.parametrize("latex,expected", [
    ("12", N("12")), ("0.5", N("0.5")), (r"\frac12", HALF), (r"\frac 12", HALF), (r"\tfrac{1}{2}", HALF),
    (r"\frac1{2}", HALF), (r"\frac12 3", mul(HALF, N("3"))), (r"\frac ab", Frac(S("a"), S("b"))),
])
def test_numbers_and_single_token_fraction_arguments(latex, expected):
    assert parse_expression(latex) == expected


@pytest.mark.parametrize("latex", [
    "$a_j = h(z)$", "$$a_j = h(z)$$", r"\[a_j = h(z)\]", r"\(a_j = h(z)\)",
    r"\begin{equation}a_j = h(z)\end{equation}", r"\begin{equation*} a_j = h(z) \end{equation*}",
    r"\begin{align}a_j &= h(z)\end{align}", r"\begin{align*}a_j &= h(z) \nonumber\end{align*}",
    "a_j = h(z).", "a_j = h(z),", "$a_j = h(z)$.", "  a_j\t=\nh(z)  ", r"a_j \, = \; h\!(z)",
    r"a_j \quad = \qquad h\Bigl( z \Bigr)", r"a_j = h \left( z \right) \label{eq:a}", "a_j ~=~ h(z)",
])
def test_wrappers_spacing_and_alignment_are_ignored(latex):
    assert parse(latex) == eq(aj, "=", fn("h", S("z")))


@pytest.mark.parametrize("latex,expected", [
    (r"\bigl[ a \bigr] b", mul(S("a"), S("b"))), (r"\Big( a + b \Big) c", mul(add(S("a"), S("b")), S("c"))),
    (r"\left[ a \right]", S("a")), ("{a + b} c", mul(add(S("a"), S("b")), S("c"))),
])
def test_brackets_of_every_size_only_group(latex, expected):
    assert parse_expression(latex) == expected


@pytest.mark.parametrize("latex,expected", [
    (r"A \equiv B = C", eq(S("A"), r"\equiv", S("B"), "=", S("C"))),
    (r"A = B = C = D", eq(S("A"), "=", S("B"), "=", S("C"), "=", S("D"))),
    (r"A \ne B", eq(S("A"), r"\neq", S("B"))), ("A \u2261 B", eq(S("A"), r"\equiv", S("B"))),
    ("a_j", eq(aj)), (r"a = b \tag{BP1}", eq(S("a"), "=", S("b"), tag="BP1")),
    (r"a = b \quad (12)", eq(S("a"), "=", S("b"), tag="12")),
    (r"a \\ &= b \nonumber", eq(S("a"), "=", S("b"))),
])
def test_relations_chains_tags_and_bare_expressions_are_kept_in_order(latex, expected):
    assert parse(latex) == expected


def test_parse_expression_returns_the_node_and_refuses_a_relation():
    assert parse_expression(r"\delta^l_j") == S(D, "j", "l")
    with pytest.raises(ParseError, match="column 3"):
        parse_expression("a = b")


# -- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("latex,column,fragment", [
    (r"a = \foo", 5, r"unknown command \foo"),
    (r"\frac{a}", 9, "unexpected end of input; expected"),
    (r"\frac{a}{b", 11, "'}'"),
    ("{a", 3, "'}'"),
    ("a}", 2, "unexpected }"),
    ("(a]", 3, "unexpected ]"),
    ("a_", 3, "unexpected end of input"),
    ("a_ + b", 4, "unexpected +"),
    ("", 1, "empty input"),
    ("$$  $$", 1, "empty input"),
    ("a = ", 4, "expected an expression"),
    ("= b", 1, "unexpected ="),
    ("a^2^3", 4, "a second superscript"),
    ("a_1_2", 4, "a second subscript"),
    (r"\mathbf{ab}", 1, r"cannot read \mathbf here"),
    (r"a_{N_L}^L", 5, "unexpected _"),
    (r"\lim_{h\rightarrow0} f", 1, r"unknown command \lim"),
    (r"g(\cdot)", 3, r"unexpected \cdot"),
    (r"a \in b", 3, r"unexpected \in"),
    (r"\frac{\partial}{a_j} E", 1, r"needs \partial in the denominator"),
    (r"a = b \tag{1} \tag{2}", 15, "a second tag"),
    (r"a = b \text{in the middle} + c", 28, "unexpected +"),
    ("$$a = b", 1, "$$ is not closed"),
    (r"\begin{matrix} a \end{matrix}", 1, r"cannot read \begin"),
    ("a = b \u00e9", 7, "unexpected character"),
    (r"\sum x", 6, "unexpected x"),
    (r"\frac{\partial}{\partial x}", 28, "unexpected end of input"),
    (r"f(a, b", 7, "expected"),
])
def test_anything_outside_the_grammar_is_a_parse_error_naming_the_column(latex, column, fragment):
    with pytest.raises(ParseError) as info:
        parse(latex)
    err = info.value
    assert isinstance(err, BpcheckError)
    assert err.column == column and f"at column {column} " in str(err)
    assert fragment in str(err)


def test_a_parse_error_on_a_later_line_names_the_line_too():
    with pytest.raises(ParseError, match=r"at line 2, column 3 \('\}'\): unexpected \}") as info:
        parse("a = b\n+ }")
    assert (info.value.line, info.value.column) == (2, 3)


def test_several_equations_in_one_aligned_block_are_refused_not_merged():
    block = (r"\begin{aligned} \frac{\partial y_k}{\partial w_{pq}} &= \frac{\partial y_k}{\partial y_q} "
             r"\frac{\partial y_q}{\partial w_{pq}} \\ \frac{\partial y_k}{\partial y_q} &= g'(a_k) w_{qk} "
             r"\quad \text{from 3, 4} \\ \frac{\partial y_q}{\partial w_{pq}} &= g'(a_q) y_p \end{aligned}")
    with pytest.raises(ParseError, match="unexpected"):
        parse(block)


def test_input_over_10_kB_is_refused_before_parsing():
    text = "a + " * (MAX_BYTES // 4) + "b"
    with pytest.raises(ParseError, match=f"at column {MAX_BYTES + 1} .*at most {MAX_BYTES}"):
        parse(text)
    multibyte = "\u03b4" * (MAX_BYTES // 2 + 1)      # 2 bytes each: the limit counts bytes
    with pytest.raises(ParseError, match=f"at column {MAX_BYTES // 2 + 1} "):
        parse(multibyte)


@pytest.mark.parametrize("latex,column", [
    ("(" * 150 + "a" + ")" * 150, 101),
    ("{" * 150 + "a" + "}" * 150, 101),
    (r"\frac{" * 120 + "a" + "}{b}" * 120, 606),
    ("-" * 5000 + "a", None),
    (r"\sum_k " * 1200 + "x", None),
    (r"\partial " * 1000 + "x", None),
    ("a/" * 3000 + "a", None),
])
def test_deep_nesting_is_a_parse_error_not_a_recursion_error(latex, column):
    with pytest.raises(ParseError, match="nested deeper") as info:
        parse(latex)
    assert info.value.column == column if column else info.value.column > 1


def test_nesting_just_inside_the_limits_parses_and_prints_back():
    deep = parse("(" * 60 + "a + b" + ")" * 60 + " c")
    assert deep == eq(mul(add(S("a"), S("b")), S("c")))
    sums = parse(r"\sum_k " * 40 + "x")
    assert parse(to_latex(sums)) == sums and hash(sums)


def test_a_non_string_is_a_usage_error():
    with pytest.raises(UsageError):
        parse(b"a = b")
    with pytest.raises(UsageError):
        to_latex("a")


# -- the grammar itself ----------------------------------------------------------------------

def test_the_grammar_is_lalr1_without_a_single_conflict():
    log = logging.getLogger("lark")
    stream, level = io.StringIO(), log.level
    handler = logging.StreamHandler(stream)
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        _parser.__wrapped__(debug=True)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    assert "conflict" not in stream.getvalue().lower()
    assert _parser().options.parser == "lalr"


def test_the_grammar_never_evaluates_text_and_no_module_of_the_project_does():
    root = Path(__file__).parent.parent
    for part in ("ast.py", "grammar.py", "tex.py"):
        source = (root / "derive" / "latex" / part).read_text()
        assert not re.search(r"(?m)^\s*(?:import|from)\s+sympy", source)  # no SymPy at all
    for path in [root / "cli.py", *sorted((root / "derive").rglob("*.py"))]:
        source = path.read_text()
        for banned in (r"\beval\(", r"\bexec\(", r"\bsympify\b", r"\bparse_expr\b",
                       r"\bparse_latex\b"):
            assert not re.search(banned, source), (path.name, banned)


# -- properties ------------------------------------------------------------------------------

ALPHABET = list("abjkltwyzELC0123456789 _^{}()[]+-=/*.,'&|$\\") + [
    r"\frac", r"\partial", r"\sum", r"\delta", r"\sigma", r"\cdot", r"\odot", r"\nabla", r"\left(",
    r"\right)", r"\equiv", r"\mathbf{a}", r"\text{ x}", r"\tag{1}", r"\|", r"\in", r"\ln", "h'(", r"\top",
    r"\quad (1)", r"\begin{equation}", r"\end{equation}", r"\mathcal{L}", r"\foo", "\u2212", "\u03b4"]


def _parse_or_refuse(text: str) -> None:
    """parse() returns an Equation that prints back to itself, or raises ParseError; quickly
    (CPU time, so other processes on the machine do not count)."""
    start = time.process_time()
    try:
        got = parse(text)
    except ParseError as err:
        assert err.column >= 1 and str(err).startswith(("at column", "at line"))
    else:
        assert isinstance(got, Equation)
        printed = to_latex(got)
        if len(printed.encode()) <= MAX_BYTES:
            assert parse(printed) == got
    assert time.process_time() - start < 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_random_text_never_raises_anything_but_parse_error(text):
    _parse_or_refuse(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=60).map("".join))
def test_random_latex_token_soup_never_raises_anything_but_parse_error(text):
    _parse_or_refuse(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CORPUS_TEXTS), st.data())
def test_mutated_equations_never_raise_anything_but_parse_error(text, data):
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = data.draw(st.sampled_from(ALPHABET))
        if op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + piece + text[at + 1:]
    _parse_or_refuse(text)


@pytest.mark.parametrize("latex", [
    "a" * 9999, "a_b" * 3333, "h(a)" * 2499, "(a)" * 3333, "a+" * 4999 + "a", "h" + " " * 9998,
    " + ".join([r"w^{l+1}_{kj} \delta^{l+1}_k"] * 300), r"\sum_k " * 99 + "x" * 9000,
    "(" * 100 + "x" * 9000 + ")" * 100, r"\text{" + "a b" * 3300 + "}", "a'" * 4999, "1" * 9999])
def test_inputs_up_to_10_kB_parse_or_fail_within_a_second(latex):
    assert len(latex.encode()) <= MAX_BYTES
    parse("a")  # the parse tables built or loaded first: the bound is on reading the input
    start = time.process_time()
    try:
        parse(latex)
    except ParseError:
        pass
    assert time.process_time() - start < 1.0


# generated ASTs, the shapes the parser produces, printed and read back

_INDEX_SUBS = [(), ("j",), ("k", "j"), ("j", "0"), ("k'",), ("n", "k"), (r"\alpha", "j"), ("10", "2")]
_LAYERS = [None, TWO, S("L"), S("l"), l_plus_1, l_minus_1, Paren(TWO), Paren(S("l")), Neg(N("1"))]


@st.composite
def _symbols_st(draw):
    name = draw(st.sampled_from(["a", "w", "z", "y", "e", "E", "L", D, ETA, r"\mathcal{L}", "net"]))
    bold = draw(st.booleans()) and (len(name) == 1 or name in (D, ETA))
    return Symbol(name, draw(st.sampled_from(_INDEX_SUBS)), draw(st.sampled_from(_LAYERS)),
                  draw(st.integers(0, 2)), bold)


_leaves = _symbols_st() | st.sampled_from(["1", "2", "0.5", "10"]).map(Number)
_heads = st.builds(Symbol, st.sampled_from(["h", "g", "f", SIG, r"\phi", r"\varphi", "ln", "exp", "softmax"]),
                   primes=st.integers(0, 2))


def _extend(kids):
    some = st.lists(kids, min_size=2, max_size=3).map(tuple)
    limits = st.sampled_from([{}, {"lower": N("1")}, {"lower": N("1"), "upper": S("K")},
                              {"index_set": S("U", "j")}, {"upper": S("N")}])
    return st.one_of(
        kids.map(Neg), some.map(Add), some.map(Mul), some.map(Hadamard),
        st.builds(Frac, kids, kids).filter(lambda f: not (isinstance(f.num, Differential)
                                                          and isinstance(f.den, Differential))),
        st.builds(Partial, kids, kids), kids.map(Differential),
        st.builds(lambda i, body, lim: Sum(index=i, body=body, **lim), st.sampled_from(["k", "j", "k'"]), kids, limits),
        st.builds(Call, _heads, st.lists(kids, min_size=1, max_size=2).map(tuple)),
        st.builds(Power, kids, kids), kids.map(Transpose),
        st.builds(Grad, st.none() | st.just(S("a")) | st.just(S("a", "", "L")), kids), kids.map(Norm))


_expressions = st.recursive(_leaves, _extend, max_leaves=12)


@st.composite
def _equations(draw):
    sides = draw(st.lists(_expressions, min_size=1, max_size=3))
    relations = [draw(st.sampled_from(["=", r"\equiv", r"\neq"])) for _ in sides[1:]]
    return Equation(tuple(sides), tuple(relations), draw(st.sampled_from([None, "36", "BP1"])),
                    draw(st.sampled_from([(), ("Let ",), ("Hidden layer", "from 1, 2")])))


@pytest.mark.slow
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_equations())
def test_a_generated_ast_printed_by_to_latex_reads_back_to_itself(equation):
    printed = to_latex(equation)
    assert parse(printed) == equation, printed
    assert to_latex(parse(printed)) == printed


def test_to_latex_shows_the_claim_as_understood():
    assert to_latex(parse(r"\delta^L = \nabla_a C \odot \sigma'(z^L)")) == \
        r"\delta^{L} = \nabla_{a} C \odot \sigma'(z^{L})"
    assert to_latex(parse(r"\frac{\partial E}{a_j}")) == r"\frac{\partial E}{a_{j}}"
    assert to_latex(parse(r"h \cdot (a + b)")) == r"h \cdot (a + b)"
    assert to_latex(parse(r"2 \cdot 3")) == r"2 \cdot 3"
    assert to_latex(parse(r"$$\text{Error function} \quad E = \frac{1}{2} \sum_k (t_k - y_k)^2 \quad (5)$$")) == \
        r"E = \frac{1}{2} \sum_{k} (t_{k} - y_{k})^{2} \quad \text{Error function} \tag{5}"


# -- the analysed grammar kept between runs ----------------------------------------------------

def _fresh_parser(monkeypatch, tmp_path, **env):
    from bpcheck.derive.latex import grammar
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("BPCHECK_NO_CACHE", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    grammar._parser.cache_clear()
    try:
        return grammar._parser()
    finally:
        grammar._parser.cache_clear()


def test_the_grammar_is_cached_in_the_users_own_folder_and_read_back(monkeypatch, tmp_path):
    _fresh_parser(monkeypatch, tmp_path)
    [kept] = (tmp_path / "bpcheck").iterdir()
    assert kept.name.startswith("latex-grammar-") and kept.stat().st_size > 1000
    assert (tmp_path / "bpcheck").stat().st_mode & 0o077 == 0     # no one else writes it
    again = _fresh_parser(monkeypatch, tmp_path)
    assert again.parse(r"\delta_k = y_k - t_k", start="start") is not None


@pytest.mark.parametrize("content", [b"", b"not a cache\n", b"0" * 64 + b"\n\x80\x04truncated"],
                         ids=["empty", "garbage", "half-written"])
def test_a_spoilt_cache_file_is_rebuilt_not_trusted(monkeypatch, tmp_path, content):
    _fresh_parser(monkeypatch, tmp_path)
    [kept] = (tmp_path / "bpcheck").iterdir()
    kept.write_bytes(content)
    p = _fresh_parser(monkeypatch, tmp_path)
    assert p.parse(r"\delta_j = h'(a_j) \sum_k w_{kj}\delta_k", start="start") is not None
    assert kept.stat().st_size > 1000                                # written afresh


class _Planted:
    """Pickled, a command that runs when the file is unpickled."""

    def __reduce__(self):
        return (os.system, ("touch PLANTED_PICKLE_RAN",))


def _plant(folder):
    """A hostile pickle where the cache file would be."""
    import pickle
    from bpcheck.derive.latex.grammar import cache_name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / cache_name()).write_bytes(b"x\n" + pickle.dumps(_Planted()))
    return folder / cache_name()


def test_a_relative_or_shared_cache_folder_is_never_read(monkeypatch, tmp_path):
    """A relative XDG_CACHE_HOME (a cloned repository's .cache), a folder others may
    write, or a link, is not read: lark unpickles the file before checking it."""
    import subprocess
    import sys
    repo = tmp_path / "repo"
    _plant(repo / ".cache" / "bpcheck")
    shared = tmp_path / "shared"
    _plant(shared / "bpcheck").parent.chmod(0o777)
    home = tmp_path / "home"
    (home / ".cache" / "bpcheck").mkdir(parents=True, mode=0o700)
    target = _plant(tmp_path / "elsewhere")
    link = home / ".cache" / "bpcheck" / target.name
    link.symlink_to(target)
    code = ("from bpcheck.derive.latex.grammar import parse; "
            "print(parse(r'\\delta_k = y_k - t_k').relations)")
    for xdg in (".cache", str(shared), ""):
        env = {**os.environ, "XDG_CACHE_HOME": xdg, "HOME": str(home)}
        env.pop("BPCHECK_NO_CACHE", None)
        p = subprocess.run([sys.executable, "-c", code], cwd=repo, env=env,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and "=" in p.stdout, p.stderr
        assert not (repo / "PLANTED_PICKLE_RAN").exists(), xdg
    assert link.is_symlink() and link.resolve() == target    # left alone, never followed


def test_no_cache_is_written_when_turned_off_or_impossible(monkeypatch, tmp_path):
    _fresh_parser(monkeypatch, tmp_path, BPCHECK_NO_CACHE="1")
    assert not (tmp_path / "bpcheck").exists()
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would go")
    p = _fresh_parser(monkeypatch, blocked)
    assert p.parse(r"\delta_k = y_k - t_k", start="start") is not None


@pytest.mark.parametrize("latex,column", [(r"\delta_{j+1} = \delta_j", 9),
                                          (r"h_{t-1} = 0", 4),
                                          (r"w_{kj-1} = 2", 4)])
def test_an_index_with_arithmetic_is_refused_in_a_notation_saying_where_it_is_read(latex, column):
    with pytest.raises(ParseError, match=rf"column {column} .*an index with arithmetic .* is read "
                                         r"only in a layer's slice \(check --net"):
        parse(latex)


@pytest.mark.parametrize("latex,terms", [
    (r"x_{i+m-1}", (((1, "i"), (1, "m"), (-1, None)),)),
    (r"h_{t+1}", (((1, "t"), (1, None)),)),
    (r"y_{2i-1}", (((2, "i"), (-1, None)),)),
    (r"x_{i+a-1, j+b-1}", (((1, "i"), (1, "a"), (-1, None)), ((1, "j"), (1, "b"), (-1, None)))),
    (r"K_{k+1-m,k+1-n}", (((1, "k"), (1, None), (-1, "m")), ((1, "k"), (1, None), (-1, "n")))),
    (r"x_{j-12}", (((1, "j"), (-12, None)),)),
])
def test_an_index_with_arithmetic_is_read_as_its_terms_where_a_slice_asks(latex, terms):
    s = parse(f"{latex} = 0", shifts=True).sides[0]
    assert all(isinstance(t, Shift) for t in s.sub)
    assert tuple(t.terms for t in s.sub) == terms
    assert parse(f"{to_latex(s)} = 0", shifts=True).sides[0] == s  # printed as read


@pytest.mark.parametrize("latex,bad", [(r"w_{kj-1}", "kj"), (r"x_{i+j'}", "j'"),
                                       (r"x_{i+\alpha}", "\\alpha"), (r"x_{i2+1}", "i2")])
def test_an_index_term_other_than_a_number_times_a_letter_is_refused_naming_it(latex, bad):
    with pytest.raises(ParseError, match=rf"an index term '{re.escape(bad)}' is not read"):
        parse(f"{latex} = 0", shifts=True)


def test_a_sign_after_a_subscript_is_still_a_sign():
    assert parse("x_{i} - y = 0") is not None and parse("x_i + y_j = 0") is not None
