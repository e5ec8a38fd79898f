"""The checks: each claim built from the network, and the truth it is proved against.

The truth is always the derivative of the network's loss, taken by SymPy, one layer at a
time (DESIGN.md, "Locality"):

- output layer (the base case): E = loss(f(a^L), t), differentiated with respect to a^L_k;
- one hidden layer step (the lemma): E = F(a^{l+1}) with F an undefined function, so the
  step holds for whatever network lies downstream; dF/da^{l+1}_k is delta^{l+1}_k by the
  induction hypothesis;
- gradients: E = G(a^l), with the outputs of layer l-1 free, since they do not depend
  on the weights and biases of layer l.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

from .expr import Partial, collapse
from .network import Network, UnitIndex
from .normal import NormalForm, numerator
from .proof import Condition, Domain, Instance, Outcome, Verdict, prove
from .width import canonical

CHECK_IDS = (
    "output-delta-general",
    "output-delta-diagonal",
    "output-delta-canonical",
    "hidden-delta",
    "weight-gradient",
    "bias-gradient",
    "cross-notation",
)


@dataclass(frozen=True)
class Claim:
    """An equation in canonical symbols, read for all values of its free indices."""

    id: str
    layer: int
    equation: sp.Eq
    free: tuple[UnitIndex, ...]


@dataclass(frozen=True)
class Check:
    claim: Claim
    outcome: Outcome


def downstream(expr: sp.Expr, F: sp.FunctionClass, delta: sp.IndexedBase) -> sp.Expr:
    """Replace each partial derivative of the undefined F by the delta it stands for.

    SymPy writes dF/dx_m at a point as Subs(Derivative(F(.., xi, ..), xi), xi, point)
    (or as a plain Derivative when the argument is a symbol); the position of the
    variable among F's arguments is m.
    """

    def partial(d: sp.Basic) -> bool:
        return isinstance(d, sp.Derivative) and getattr(d.expr, "func", None) == F

    def as_delta(d: sp.Derivative) -> sp.Expr:
        (var, count), = d.variable_count
        if count != 1:
            raise NotImplementedError("second derivatives of the downstream error")
        return delta[d.expr.args.index(var) + 1]

    # Subs first: replace() works bottom-up and would otherwise take the Derivative
    # inside a Subs out of its context.
    expr = expr.replace(lambda e: isinstance(e, sp.Subs) and partial(e.expr),
                        lambda e: as_delta(e.expr))
    return expr.replace(partial, as_delta)


class Through:
    """d/d(wrt) of F(inner_1, ..., inner_n), each partial of F read as a delta.

    SymPy applies the chain rule. Each inner expression enters as an undefined function
    of just the variables it contains, which keeps SymPy's Subs objects small (the
    difference between seconds and minutes at width 32); its derivative is then put back.
    One instance serves every variable of a layer.
    """

    def __init__(self, F: sp.FunctionClass, inner: list[sp.Expr], variables: list[sp.Expr],
                 delta: sp.IndexedBase):
        self.F, self.delta = F, delta
        wanted = set(variables)
        applied = []
        for k, e in enumerate(inner):
            own = sorted(e.free_symbols & wanted, key=str)
            applied.append(sp.Function(f"_inner{k}")(*own) if own else e)
        self.back = {a: e for a, e in zip(applied, inner)}
        self.composed = F(*applied)

    def __call__(self, wrt: sp.Expr) -> sp.Expr:
        d = sp.diff(self.composed, wrt)
        d = d.replace(lambda x: isinstance(x, sp.Derivative) and x.expr in self.back,
                      lambda x: sp.diff(self.back[x.expr], *x.variables))
        return downstream(d, self.F, self.delta)


def instances(claim: Claim, net: Network, meaning: Callable[[sp.Expr], sp.Expr],
              lhs_truth: Callable[[dict], sp.Expr] | None = None) -> list[Instance]:
    """The claim at every value of its free indices, with written symbols given meaning."""
    from itertools import product
    out = []
    for values in product(*(net.units(i.layer) for i in claim.free)):
        at = dict(zip(claim.free, map(sp.Integer, values)))
        lhs, rhs = (side.xreplace(at).doit() for side in (claim.equation.lhs, claim.equation.rhs))
        out.append(Instance(tuple(zip(claim.free, values)), meaning(lhs), meaning(rhs)))
    return out


class Derivation:
    """All checks of one network, proved in canonical symbols.

    >>> from bpcheck.derive.network import make_network
    >>> d = Derivation(make_network(layers=(2, 3, 2)))
    >>> str(d.check("hidden-delta", 1).outcome.verdict)
    'proved'
    """

    def __init__(self, net: Network, *, budget: float | None = 30.0, run: bool = True):
        self.net, self.budget = net, budget
        self._hidden: dict[int, dict] = {}
        self._generic: dict[tuple, dict] = {}
        self._gradient: dict[int, dict] = {}
        self._output_meaning = {} if net.symbolic else self._build_output_meaning()
        self.checks: list[Check] = self._run() if run else []

    # -- the output layer: the real loss -------------------------------------------
    def _build_output_meaning(self) -> dict[sp.Basic, sp.Expr]:
        net, L = self.net, self.net.L
        a = [net.pre(L)[k] for k in net.units(L)]
        Y = [net.out(L)[k] for k in net.units(L)]
        y = net.layer_outputs(L)
        E_of_y = net.loss_value(Y)
        to_y = dict(zip(Y, y))
        m: dict[sp.Basic, sp.Expr] = {}
        for k, (ak, Yk) in enumerate(zip(a, Y)):
            m[net.delta(L)[k + 1]] = m[Partial(net.E, ak)] = sp.diff(net.loss_value(y), ak)
            m[Partial(net.E, Yk)] = sp.diff(E_of_y, Yk).xreplace(to_y)
            for mm, Ym in enumerate(Y):
                m[Partial(Ym, ak)] = sp.diff(y[mm], ak)
            # f'(a_k), read as the diagonal entry dy_k/da_k whatever f is
            m[sp.Derivative(net.phi(L)(ak), ak)] = sp.diff(y[k], ak)
        m.update(to_y)
        return m

    def _output_domain(self) -> tuple[Domain, tuple[Condition, ...]]:
        return loss_domain(self.net)

    def output_claims(self) -> list[Claim]:
        net, L = self.net, self.net.L
        k, m = net.index("this", L), net.index("sum", L)
        delta, y, a, E = net.delta(L), net.out(L), net.pre(L), net.E
        general = sp.Sum(sp.Mul(Partial(E, y[m]), Partial(y[m], a[k]), evaluate=False),
                         (m, 1, net.width(L)))
        diagonal = sp.Mul(Partial(E, y[k]), sp.Derivative(net.phi(L)(a[k]), a[k]), evaluate=False)
        canonical = sp.Add(y[k], -net.t[k], evaluate=False)
        return [Claim(cid, L, sp.Eq(delta[k], rhs, evaluate=False), (k,))
                for cid, rhs in (("output-delta-general", general),
                                 ("output-delta-diagonal", diagonal),
                                 ("output-delta-canonical", canonical))]

    def _prove_output(self, claim: Claim) -> Outcome:
        if self.net.symbolic:
            return self._kinked(self._prove_every_width(claim, self._symbolic_output), claim)
        domain, conditions = self._output_domain()
        meaning = lambda e: e.xreplace(self._output_meaning)
        return self._kinked(prove(instances(claim, self.net, meaning), conditions=conditions,
                                  domain=domain, budget=self.budget), claim)

    # -- one hidden layer step: the lemma ---------------------------------------------
    def hidden_claim(self, l: int) -> Claim:
        net = self.net
        j, k = net.index("this", l), net.index("next", l + 1)
        rhs = sp.Mul(sp.Derivative(net.phi(l)(net.pre(l)[j]), net.pre(l)[j]),
                     sp.Sum(sp.Mul(net.W(l + 1)[k, j], net.delta(l + 1)[k], evaluate=False),
                            (k, 1, net.width(l + 1))),
                     evaluate=False)
        return Claim("hidden-delta", l, sp.Eq(net.delta(l)[j], rhs, evaluate=False), (j,))

    def hidden_truth(self, l: int) -> dict[sp.Basic, sp.Expr]:
        """delta^l_j := dE/da^l_j with E = F(a^{l+1}) for an undefined F."""
        if l not in self._hidden:
            self._hidden[l] = self._hidden_truth(l)
        return self._hidden[l]

    def _hidden_truth(self, l: int) -> dict[sp.Basic, sp.Expr]:
        net = self.net
        F = sp.Function(f"F{l + 1}")
        z = net.layer_outputs(l)
        A = [net.weighted_input(l + 1, k, z) for k in net.units(l + 1)]
        a = [net.pre(l)[j] for j in net.units(l)]
        m: dict[sp.Basic, sp.Expr] = {}
        for k in net.units(l + 1):
            m[Partial(net.E, net.pre(l + 1)[k])] = net.delta(l + 1)[k]
        through = Through(F, A, a, net.delta(l + 1))
        for j in net.units(l):
            aj = net.pre(l)[j]
            m[net.delta(l)[j]] = m[Partial(net.E, aj)] = through(aj)
            for k, Ak in zip(net.units(l + 1), A):
                m[Partial(net.pre(l + 1)[k], aj)] = sp.diff(Ak, aj)
            m[sp.Derivative(net.phi(l)(aj), aj)] = net.activation(l).derivative(aj, net.phi(l))
        return m

    def generic_hidden_truth(self, l: int, j: UnitIndex) -> dict[sp.Basic, sp.Expr]:
        """delta^l_j at a generic index j, for every unit of the layer at once.

        Each next-layer weighted input is a sum over layer l; SymPy takes the chain rule
        through F once, and the derivative of each sum collapses its KroneckerDelta under
        the range of j. One differentiation a layer, not one a unit."""
        key = (l, j)
        if key not in self._generic:
            net = self.net
            i = sp.Dummy("i", integer=True, positive=True)
            act, phi, aj = net.activation(l), net.phi(l), net.pre(l)[j]
            F = sp.Function(f"F{l + 1}")
            inner = [sp.Sum(net.W(l + 1)[k, i] * act.values([net.pre(l)[i]], phi)[0],
                            (i, 1, net.width(l))) + (net.b(l + 1)[k] if net.bias else 0)
                     for k in net.units(l + 1)]
            applied = [sp.Function(f"_inner{k}")(aj) for k in net.units(l + 1)]
            back = dict(zip(applied, inner))
            d = sp.diff(F(*applied), aj)
            d = d.replace(lambda x: isinstance(x, sp.Derivative) and x.expr in back,
                          lambda x: collapse(sp.diff(back[x.expr], aj), net))
            self._generic[key] = {net.delta(l)[j]: downstream(d, F, net.delta(l + 1)),
                                  sp.Derivative(phi(aj), aj): act.derivative(aj, phi)}
        return self._generic[key]

    def _prove_hidden(self, claim: Claim) -> Outcome:
        if self.net.symbolic:
            return self._kinked(self._prove_every_width(claim, self._generic_meaning(claim)), claim)
        (j,) = claim.free
        meaning = self.generic_hidden_truth(claim.layer, j)
        generic = prove([Instance((), claim.equation.lhs.xreplace(meaning),
                                  claim.equation.rhs.doit().xreplace(meaning))], budget=None)
        if generic.verdict is Verdict.PROVED:  # for every j at once
            return self._kinked(generic, claim)
        if claim.equation.has(Partial):  # a derivation step: the chain rule as a sum
            generic = self._at_generic_index(claim, self._generic_meaning(claim))
            if generic.verdict is Verdict.PROVED:
                return self._kinked(generic, claim)
        truth = self.hidden_truth(claim.layer)
        outcome = prove(instances(claim, self.net, lambda e: e.xreplace(truth)),
                        budget=self.budget)
        return self._kinked(outcome, claim)

    # -- gradients ------------------------------------------------------------------
    def gradient_claims(self, l: int) -> list[Claim]:
        net = self.net
        j, i = net.index("this", l), net.index("prev", l - 1)
        claims = [Claim("weight-gradient", l, sp.Eq(
            Partial(net.E, net.W(l)[j, i]),
            sp.Mul(net.delta(l)[j], net.out(l - 1)[i], evaluate=False), evaluate=False), (j, i))]
        if net.bias:
            claims.append(Claim("bias-gradient", l, sp.Eq(
                Partial(net.E, net.b(l)[j]), net.delta(l)[j], evaluate=False), (j,)))
        return claims

    def gradient_truth(self, l: int) -> dict[sp.Basic, sp.Expr]:
        """dE/dw and dE/db of layer l with E = G(a^l) for an undefined G."""
        if l not in self._gradient:
            self._gradient[l] = self._gradient_truth(l)
        return self._gradient[l]

    def _gradient_truth(self, l: int) -> dict[sp.Basic, sp.Expr]:
        net = self.net
        G = sp.Function(f"G{l}")
        A = [net.weighted_input(l, j) for j in net.units(l)]
        params = [net.W(l)[j, i] for j in net.units(l) for i in net.units(l - 1)]
        if net.bias:
            params += [net.b(l)[j] for j in net.units(l)]
        through = Through(G, A, params, net.delta(l))
        return {Partial(net.E, p): through(p) for p in params}

    def _prove_gradient(self, claim: Claim) -> Outcome:
        if self.net.symbolic:
            return self._prove_every_width(claim, self._generic_meaning(claim))
        # at generic indices first, for every weight of the layer at once
        generic = self._at_generic_index(claim, self._generic_meaning(claim))
        if generic.verdict is Verdict.PROVED:
            return generic
        truth = self.gradient_truth(claim.layer)
        return prove(instances(claim, self.net, lambda e: e.xreplace(truth)), budget=self.budget)

    # -- generic indices, and every width at once ----------------------------------------
    def _sum_limit(self, l: int) -> tuple[sp.Expr, dict]:
        """The upper limit of a sum over layer l, kept a symbol so that doit() does not
        unroll it, and the width it stands for."""
        w = self.net.width(l)
        if isinstance(w, sp.Symbol):
            return w, {}
        n = sp.Dummy("n", integer=True, positive=True)
        return n, {n: w}

    def _weighted_input(self, l: int, k: sp.Expr, *, of_pre: bool) -> tuple[sp.Expr, dict]:
        """a^l_k as a sum over layer l-1: of its outputs z (for gradients) or of its
        weighted inputs through the activation (for the layer step)."""
        net = self.net
        n, widths = self._sum_limit(l - 1)
        i = sp.Dummy("i", integer=True, positive=True)
        z = (net.activation(l - 1).value_at(net.pre(l - 1), i, n, net.phi(l - 1)) if of_pre
             else net.out(l - 1)[i])
        total = sp.Sum(net.W(l)[k, i] * z, (i, 1, n))
        return (total + net.b(l)[k] if net.bias else total), widths

    def _d(self, expr: sp.Expr, wrt: sp.Expr, widths: dict) -> sp.Expr:
        return collapse(sp.diff(expr, wrt), self.net, widths=widths).xreplace(widths)

    def chain(self, l: int, wrt: sp.Expr) -> sp.Expr:
        """dE/d(wrt) = sum_k (dE/da^l_k) (da^l_k/d(wrt)), for a quantity that reaches the
        error only through the weighted inputs of layer l: the chain rule, written once.
        E = G(a^l) for whatever network lies downstream, and dG/da^l_k is delta^l_k."""
        net = self.net
        k = sp.Dummy("k", integer=True, positive=True)
        n, widths = self._sum_limit(l)
        a_k, inner = self._weighted_input(l, k, of_pre=isinstance(wrt, sp.Indexed)
                                          and wrt.base == net.pre(l - 1))
        term = net.delta(l)[k] * self._d(a_k, wrt, inner)
        return collapse(sp.Sum(term, (k, 1, n)), net, widths=widths).xreplace(widths)

    def _generic_meaning(self, claim: Claim) -> Callable[[sp.Expr], sp.Expr]:
        """What each written quantity of a hidden-layer or gradient claim means, at generic
        indices: the layer's own deltas and derivatives by the chain rule, the next
        layer's deltas kept (the induction hypothesis)."""
        net, l = self.net, claim.layer
        gradient = claim.id in ("weight-gradient", "bias-gradient")
        own = l if gradient else l + 1  # the layer whose deltas are given

        def partial(p: Partial) -> sp.Expr:
            num, den = p.num, p.den
            if num == net.E and isinstance(den, sp.Indexed):
                if den.base == net.pre(own):
                    return net.delta(own)[den.indices[0]]
                if den.base in (net.W(own), net.b(own)) or (not gradient and den.base == net.pre(l)):
                    return self.chain(own, den)
            if isinstance(num, sp.Indexed) and num.base == net.pre(own):
                a_k, widths = self._weighted_input(own, num.indices[0], of_pre=den.base == net.pre(own - 1))
                return self._d(a_k, den, widths)
            return p

        def meaning(expr: sp.Expr) -> sp.Expr:
            expr = expr.replace(lambda e: isinstance(e, Partial), partial)
            if not gradient:
                act, phi = net.activation(l), net.phi(l)
                expr = expr.replace(
                    lambda e: isinstance(e, sp.Derivative) and getattr(e.expr, "func", None) == phi,
                    lambda e: act.derivative(e.variables[0], phi))
                expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == net.delta(l),
                                    lambda e: self.chain(own, net.pre(l)[e.indices[0]]))
            return expr
        return meaning

    def _symbolic_output(self, expr: sp.Expr) -> sp.Expr:
        """The meaning of the output layer's written quantities at symbolic width: the real
        loss, a sum over the output units, differentiated."""
        net, L = self.net, self.net.L
        n, a, Y, t, phi = net.width(L), net.pre(L), net.out(L), net.t, net.phi(L)
        y = lambda x: net.output.value_at(a, x, n, phi)
        m = sp.Dummy("m", integer=True, positive=True)
        E_of_Y = sp.Sum(net.loss.value([Y[m]], [t[m]]), (m, 1, n))
        E = sp.Sum(net.loss.value([y(m)], [t[m]]), (m, 1, n))
        d = lambda e, x: collapse(sp.diff(e, x), net)
        outputs = lambda e: e.replace(lambda q: isinstance(q, sp.Indexed) and q.base == Y,
                                      lambda q: y(q.indices[0]))

        def partial(p: Partial) -> sp.Expr:
            num, den = p.num, p.den
            if not isinstance(den, sp.Indexed):
                return p
            if num == net.E and den.base == a:
                return d(E, den)
            if num == net.E and den.base == Y:
                return outputs(d(E_of_Y, den))
            if isinstance(num, sp.Indexed) and num.base == Y and den.base == a:
                return d(y(num.indices[0]), den)
            return p

        expr = expr.replace(lambda e: isinstance(e, Partial), partial)
        expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and getattr(e.expr, "func", None) == phi,
                            lambda e: d(y(e.variables[0].indices[0]), e.variables[0]))
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == net.delta(L),
                            lambda e: d(E, a[e.indices[0]]))
        return outputs(expr)

    def _sides(self, claim: Claim, meaning: Callable[[sp.Expr], sp.Expr]) -> tuple[sp.Expr, sp.Expr]:
        """Both sides given their meaning, with their sums canonical."""
        return tuple(self._canonical(meaning(side)) for side in (claim.equation.lhs, claim.equation.rhs))

    def _at_generic_index(self, claim: Claim, meaning: Callable[[sp.Expr], sp.Expr]) -> Outcome:
        """The claim at its generic indices, once for every unit (concrete widths)."""
        return prove([Instance((), *self._sides(claim, meaning))], budget=None)

    def _canonical(self, expr: sp.Expr) -> sp.Expr:
        net = self.net
        same = lambda x, lo, hi: lo == 1 and isinstance(x, UnitIndex) and net.width(x.layer) == hi
        return canonical(collapse(expr, net), same_range=same)

    def _prove_every_width(self, claim: Claim, meaning: Callable[[sp.Expr], sp.Expr]) -> Outcome:
        """Proved for every width when the canonical difference is zero; refuted when the
        claim fails at a concrete width; undecided, with the reason, otherwise."""
        lhs, rhs = self._sides(claim, meaning)
        conditions = ()
        if claim.id.startswith("output-delta"):
            conditions = loss_domain(self.net)[1]
        form = NormalForm()
        residual = numerator(form(lhs - rhs))
        if residual == 0:
            return Outcome(Verdict.PROVED, note="for every width")
        for cond in conditions:
            sub = {self._canonical(old): new for old, new in cond.substitution}
            if numerator(form((lhs - rhs).xreplace(sub))) == 0:
                return Outcome(Verdict.PROVED, conditions=(cond.statement,),
                               note="for every width; needs the condition: without it the two sides differ")
        return self._at_concrete_width(claim)

    def _at_concrete_width(self, claim: Claim) -> Outcome:
        """A claim for every width that does not reduce to zero: look for a width where it
        fails, so that a refutation is a concrete point as always."""
        from dataclasses import replace
        net, tried = self.net, []
        names = list(dict.fromkeys(w for w in net.widths if isinstance(w, sp.Symbol)))
        # equal widths, then different ones both ways, so that a sum over the wrong
        # layer's units shows
        for sizes in ([2] * len(names), [2 + n % 3 for n in range(len(names))],
                      [4 - n % 3 for n in range(len(names))]):
            at = dict(zip(names, sizes))
            concrete = replace(net, widths=tuple(at.get(w, w) for w in net.widths))
            outcome = Derivation(concrete, budget=None, run=False).prove(
                Claim(claim.id, claim.layer, claim.equation.xreplace(at), claim.free))
            widths = ", ".join(f"{w} = {v}" for w, v in at.items())
            tried.append(widths)
            if outcome.verdict is Verdict.REFUTED:
                return Outcome(Verdict.REFUTED, counterexample=outcome.counterexample,
                               residual=outcome.residual, note=f"fails at width {widths}")
        return Outcome(Verdict.UNDECIDED, note=(
            "at symbolic width the two sides' sums do not cancel term by term, and the claim "
            "holds at " + "; at ".join(tried) + ": no width was found where it fails"))

    # -- all of them ------------------------------------------------------------------
    def _kinked(self, outcome: Outcome, claim: Claim) -> Outcome:
        """A proof through a ReLU holds on each side of its kink, not at it: say so."""
        if outcome.verdict is not Verdict.PROVED or not self.net.activation(claim.layer).kink:
            return outcome
        j = claim.free[0]
        return Outcome(outcome.verdict, outcome.conditions
                       + (sp.Ne(self.net.pre(claim.layer)[j], 0),),
                       note=(outcome.note + "; " if outcome.note else "")
                       + "ReLU is not differentiable at 0: proved on each side of the kink")

    def claims(self) -> list[Claim]:
        out = self.output_claims()
        out += [self.hidden_claim(l) for l in range(self.net.L - 1, 0, -1)]
        for l in range(self.net.L, 0, -1):
            out += self.gradient_claims(l)
        return out

    def prove(self, claim: Claim) -> Outcome:
        """Decide a claim; building its truth counts against the same time budget."""
        from .proof import BudgetExceeded, time_budget
        budget, self.budget = self.budget, None  # one alarm for the whole of it
        try:
            with time_budget(budget):
                if claim.id.startswith("output-delta"):
                    return self._prove_output(claim)
                if claim.id == "hidden-delta":
                    return self._prove_hidden(claim)
                return self._prove_gradient(claim)
        except BudgetExceeded:
            return Outcome(Verdict.UNDECIDED, note=f"the time budget of {budget:g} s ran out")
        finally:
            self.budget = budget

    def _run(self) -> list[Check]:
        return [Check(c, self.prove(c)) for c in self.claims()]

    def _repr_latex_(self) -> str:
        """For Jupyter: every claim in Bishop's notation with its verdict."""
        from .notation import load_notation
        from .render import latex
        n = load_notation("bishop")
        lines = [rf"&{latex(n.express(c.claim.equation), n, self.net)} && "
                 rf"\text{{{c.claim.id}: {c.outcome.verdict}}}" for c in self.checks]
        return "$$\\begin{aligned}" + r" \\ ".join(lines) + "\\end{aligned}$$"

    def __rich_console__(self, console, options):
        from .notation import load_notation
        from .report import build_report
        yield build_report(self.net, [load_notation("bishop")], budget=self.budget)

    def check(self, id: str, layer: int | None = None) -> Check:
        for c in self.checks:
            if c.claim.id == id and (layer is None or c.claim.layer == layer):
                return c
        raise KeyError((id, layer))

    def delta_truth(self, l: int) -> dict[sp.Basic, sp.Expr]:
        """The meaning of every written symbol at layer l, deltas included."""
        return self._output_meaning if l == self.net.L else self.hidden_truth(l)


def loss_domain(net: Network) -> tuple[Domain, tuple[Condition, ...]]:
    """Where targets may be sampled, and the side condition a loss may need."""
    L = net.L
    t = () if net.symbolic else tuple(net.t[k] for k in net.units(L))
    domain = Domain(t, simplex=net.loss.targets_sum_to_one,
                    unit_interval=net.loss.needs_unit_interval)
    conditions: tuple[Condition, ...] = ()
    if net.loss.targets_sum_to_one:
        m = net.index("sum", L)
        total = sp.Sum(net.t[m], (m, 1, net.width(L)))
        # at symbolic width the sum itself is replaced; at a concrete one, the last target
        impose = ((total, sp.Integer(1)),) if net.symbolic else ((t[-1], 1 - sp.Add(*t[:-1])),)
        conditions = (Condition(sp.Eq(total, 1), impose),)
    return domain, conditions


def bound_claim(claim: Claim, equation: sp.Eq) -> Claim:
    """The same claim, written differently (in a notation, then bound back)."""
    return Claim(claim.id, claim.layer, equation, claim.free)
