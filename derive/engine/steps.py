"""The derivation as a reader follows it: each step an equation at a generic index,
obtained by differentiating a generic sum and collapsing its KroneckerDelta under the
index ranges, never typed in. Steps are canonical; a notation renders them.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .expr import Partial, collapse
from .jacobian import Jacobian
from ..model.network import Network
from ..model.notation import negate
from .normal import NormalForm, is_zero


@dataclass(frozen=True)
class Step:
    """One line of a derivation: an equation and why it holds."""

    why: str
    equation: sp.Eq
    conditions: tuple[sp.Basic, ...] = ()


def _eq(lhs: sp.Expr, rhs: sp.Expr) -> sp.Eq:
    return sp.Eq(lhs, rhs, evaluate=False)


def _width_symbol() -> sp.Dummy:
    return sp.Dummy("n", integer=True, positive=True)


def loss_gradient(net: Network, m: sp.Symbol) -> sp.Expr:
    """dE/dy_m from the generic loss sum_i E_i(y_i, t_i)."""
    L = net.L
    i, n = sp.Dummy("i", integer=True, positive=True), _width_symbol()
    y, t = net.out(L), net.t
    E = sp.Sum(net.loss.value([y[i]], [t[i]]), (i, 1, n))
    return collapse(sp.diff(E, y[m]), net, widths={n: net.width(L)})


def derivative_in_outputs(net: Network, yk: sp.Expr, ak: sp.Expr) -> sp.Expr | None:
    """f'(a_k) written in y_k = f(a_k), for an elementwise activation whose inverse is
    rational in e^a (sigmoid: y(1 - y); tanh: 1 - y^2); checked exactly. None otherwise."""
    act = net.output
    if not act.elementwise or act.abstract or act.kink:
        return None
    form = NormalForm()
    value, slope = form(act.scalar(ak)), form(sp.diff(act.scalar(ak), ak))
    atoms = [s for s in value.free_symbols if s in form.atoms.values()]
    if len(atoms) > 1:
        return None
    Y = sp.Dummy("y")
    if not atoms:  # identity: f' is a constant or a function of a = y
        candidates = {sp.factor(slope.xreplace({ak: Y}))}
    else:
        u = atoms[0]
        try:
            sols = sp.solve(sp.numer(sp.together(value - Y)), u)
        except NotImplementedError:
            return None
        candidates = {sp.factor(sp.cancel(slope.xreplace({u: s}))) for s in sols}
    if len(candidates) != 1:
        return None
    candidate = candidates.pop()
    if candidate.free_symbols - {Y} or not is_zero(slope - candidate.xreplace({Y: value}), form):
        return None  # not a function of the output alone (softplus), or not f' after all
    return _tidy(candidate).xreplace({Y: yk})


def _tidy(expr: sp.Expr) -> sp.Expr:
    """-y (y - 1) as y (1 - y): a leading minus goes into a difference, as books write it.
    The result is equal to the input; only its written form changes."""
    if isinstance(expr, sp.Mul) and expr.could_extract_minus_sign():
        args = list(sp.Mul.make_args(-expr))
        for i, f in enumerate(args):
            if isinstance(f, sp.Add) and not (-f).could_extract_minus_sign():
                args[i] = negate(f)
                return sp.Mul(*args, evaluate=False)
    return expr


def output_steps(net: Network, J: Jacobian) -> list[Step]:
    L = net.L
    k, m = net.index("this", L), net.index("sum", L)
    a, y, delta, E = net.pre(L), net.out(L), net.delta(L), net.E
    n = _width_symbol()
    steps = [
        Step("definition", _eq(delta[k], Partial(E, a[k]))),
        Step("chain rule over every output unit",
             _eq(delta[k], sp.Sum(sp.Mul(Partial(E, y[m]), Partial(y[m], a[k]), evaluate=False),
                                  (m, 1, net.width(L))))),
        Step("the output activation differentiated", _eq(J.partial, J.entry)),
    ]
    dE = loss_gradient(net, m)
    steps.append(Step("the loss differentiated", _eq(Partial(E, y[m]), dE)))
    total = collapse(sp.Sum(sp.expand(dE * J.entry.xreplace({J.row: m, J.col: k})), (m, 1, n)),
                     net, widths={n: net.width(L)})
    total = total.xreplace({n: net.width(L)})
    why = ("substituted; the Kronecker delta keeps one term"
           if net.output.elementwise else "substituted; no term vanishes (softmax)")
    steps.append(Step(why, _eq(delta[k], sp.factor_terms(total))))
    conditions: tuple[sp.Basic, ...] = ()
    if net.loss.targets_sum_to_one:
        # factors that do not depend on the summed index come out of each sum first
        total = total.replace(lambda e: isinstance(e, sp.Sum), sp.factor_terms)
        target_sum = [s for s in total.atoms(sp.Sum)
                      if isinstance(s.function, sp.Indexed) and s.function.base == net.t]
        if target_sum:
            conditions = (sp.Eq(sp.Sum(net.t[m], (m, 1, net.width(L))), 1),)
            total = total.xreplace({s: 1 for s in target_sum})
            steps.append(Step("targets form a distribution", _eq(delta[k], sp.factor_terms(total)),
                              conditions))
    slope = derivative_in_outputs(net, y[k], a[k])
    if slope is not None and net.output.elementwise:
        final = _tidy(sp.factor(sp.cancel(total.xreplace({sp.Derivative(net.phi(L)(a[k]), a[k]): slope}))))
        steps.append(Step(f"the derivative of {net.output.name} written in its output",
                          _eq(delta[k], final)))
    return steps


def hidden_steps(net: Network, l: int) -> list[Step]:
    j, k = net.index("this", l), net.index("next", l + 1)
    i = net.index("sum", l)
    a, a_next, delta, E = net.pre(l), net.pre(l + 1), net.delta(l), net.E
    W = net.W(l + 1)
    n = _width_symbol()
    generic = sp.Sum(W[k, i] * net.phi(l)(a[i]), (i, 1, n))
    raw = sp.diff(generic, a[j])  # Sum(KroneckerDelta(i, j) h'(a_i) w_ki, i)
    entry = collapse(raw, net, widths={n: net.width(l)})
    entry = sp.Mul(*sorted(sp.Mul.make_args(entry), key=lambda f: not isinstance(f, sp.Indexed)),
                   evaluate=False)
    width = net.width(l + 1)
    return [
        Step("definition", _eq(delta[j], Partial(E, a[j]))),
        Step("chain rule over the units this one sends connections to",
             _eq(delta[j], sp.Sum(sp.Mul(Partial(E, a_next[k]), Partial(a_next[k], a[j]),
                                         evaluate=False), (k, 1, width)))),
        Step("the next weighted input differentiated: a sum over this layer",
             _eq(Partial(a_next[k], a[j]), raw.xreplace({n: net.width(l)}))),
        Step("the Kronecker delta keeps one term", _eq(Partial(a_next[k], a[j]), entry)),
        Step("the next layer's deltas substituted; the derivative of the activation comes out of the sum",
             _eq(delta[j], sp.Mul(sp.Derivative(net.phi(l)(a[j]), a[j]),
                                  sp.Sum(sp.Mul(W[k, j], net.delta(l + 1)[k], evaluate=False),
                                         (k, 1, width)), evaluate=False))),
    ]


def gradient_steps(net: Network, l: int) -> list[Step]:
    j, i = net.index("this", l), net.index("prev", l - 1)
    # summed over the previous layer: the letter of that layer, primed (Eglen's p', not
    # the j that names a hidden unit in his notation)
    p, n = net.index("prev'", l - 1), _width_symbol()
    w, a, E = net.W(l)[j, i], net.pre(l), net.E
    generic = sp.Sum(net.W(l)[j, p] * net.out(l - 1)[p], (p, 1, n))
    raw = sp.diff(generic, w)  # Sum(KroneckerDelta(i, p) z_p, p)
    slope = collapse(raw, net, widths={n: net.width(l - 1)})
    return [
        Step("chain rule: a weight reaches the error only through the weighted input it feeds",
             _eq(Partial(E, w), sp.Mul(Partial(E, a[j]), Partial(a[j], w), evaluate=False))),
        Step("the weighted input differentiated: a sum over the previous layer",
             _eq(Partial(a[j], w), raw.xreplace({n: net.width(l - 1)}))),
        Step("the Kronecker delta keeps one term", _eq(Partial(a[j], w), slope)),
        Step("definition of delta", _eq(Partial(E, w), sp.Mul(net.delta(l)[j], slope,
                                                                 evaluate=False))),
    ]
