"""Binding an equation to a network: the AST read in a notation, as claims in the model's
symbols, one set of claims for each reading (each way its letters may take layers).

Vector forms (Nielsen's BP1a and BP2) are read componentwise first, each sum gets an index
of its own (latex/passes.py), `Collect` (latex/collect.py) states what each symbol says about layers, the
reader (latex/reader.py) solves for every reading that fits, and `Builder` writes the AST
in SymPy under one reading. A chain a = b = c is the claims a = b and b = c.

>>> from bpcheck.derive.io.notation_file import load_notation
>>> from bpcheck.derive.model.network import make_network
>>> eq, readings = read(r"\\delta_j = h'(a_j) \\sum_k w_{kj} \\delta_k",
...                     notation=load_notation("bishop"), net=make_network())
>>> readings[0][0]
{'j': 1, 'k': 2}
"""
from __future__ import annotations

from dataclasses import replace
from typing import Mapping, NamedTuple

import sympy as sp

from ..engine.claims import Claim
from ..engine.expr import Partial, Total
from ..errors import NotSupported, UsageError
from ..model.network import Network, UnitIndex, role_of
from ..model.notation import Notation
from .ast import Differential, Equation, Node, Number, Power, Sum, Symbol, Visitor
from .grammar import parse, parse_expression
from ..engine.checking import shown
from .passes import free_letters, letters, scoped
from .shapes import Mismatch, Shapes
from .collect import Collect, x_key
from .reader import ROLES, UNIT_ROLES, Reader
from .tex import to_latex
from .updates import STEP, as_steps
from .batch import per_pattern

MAX_READINGS = 24
MAX_DIGITS = 30      # in one number as written
MAX_EXPONENT = 1000  # numerator and denominator of a numeric exponent
MAX_BITS = 40_000    # in a power of numbers, about 12,000 digits


class Bound(NamedTuple):
    """One reading: each letter's layer, and the claims in the model's symbols; or, where
    no reading lets every written quantity exist, the words for those that do not."""

    letters: dict
    claims: list[Claim]
    missing: tuple[str, ...] = ()
    shapes: bool = False  # missing because the shapes of a vector form do not fit


def read(text: str, *, notation: Notation, net: Network,
         index: Mapping[str, str] | None = None) -> tuple[Equation, list[Bound]]:
    """Parse and bind: every reading of the equation as claims in canonical symbols."""
    eq = parse(text)
    if len(eq.sides) < 2:
        raise UsageError("an equation needs a left and a right side, e.g. "
                         "\\delta_k = y_k - t_k")
    reader = Reader(notation, net, dict(index or {}))
    written = list(eq.sides) if reader.keys_of(Symbol(STEP))[0] else list(as_steps(
        eq, error=parse_expression(notation.symbols["error"]),
        rate=parse_expression(notation.symbols["learning_rate"]), pattern=notation.pattern))
    shapes = _shapes(written, reader)
    try:
        entries = shapes.entries(written)
    except Mismatch as e:  # shapes that fit no network: a verdict on the claim
        return eq, [Bound({}, [], (str(e),), shapes=True)]
    entries, _, alike = per_pattern(entries, reader)
    # a letter free in the equation and summed somewhere: the sum's is a letter of its own
    sides = scoped(entries, free={c for s in entries for c in free_letters(s)})
    for s in sides:
        Collect(reader, placed=set(shapes.placed.values())).visit(s)
    for letter in reader.hints:
        if letter not in reader.variables:
            raise UsageError(f"--index {letter}=...: the equation has no index {letter!r}")
    assignments = reader.solve()
    if not assignments:
        raise UsageError("no reading fits this network: the layers the symbols ask for "
                         f"contradict each other; in {notation.name}'s notation "
                         + reader.roles_text())
    out = []
    for a, missing in assignments[:MAX_READINGS]:
        sizes = _sizes(shapes, reader, a) if missing else []
        out.append(Bound(_letters(a), [], tuple(sizes or missing), shapes=bool(sizes))
                   if missing else _claims(reader, a, sides, alike))
    return eq, out


def _sizes(shapes: Shapes, reader: Reader, a: dict) -> list[str]:
    """Where a vector form's shapes do not fit the network, in numbers: the words the
    user can act on, who wrote no indices."""
    net, n = reader.net, reader.n
    # the first mismatch is the cause; the rest follow from it
    return shapes.mismatches(lambda s: a.get(x_key(s)), net.width,
                             lambda l: n.layer_label(l, net.L))[:1]


def _shapes(sides: list[Node], reader: Reader) -> Shapes:
    """The vector-form reader for this notation: a unit's symbol without its index is a
    vector (biases too), a weight's a matrix."""
    roles = lambda s: {ROLES[k] for k in reader.keys_of(s)[0]}
    n = reader.n
    name = lambda latex: parse_expression(latex).name
    units = {name(m): name(n.symbols[role]) for role, m in n.batch.matrices.items()} \
        if n.pattern else {}
    return Shapes(vector=lambda s: s.name != "e" and (
        bool(roles(s) & set(UNIT_ROLES)) or roles(s) == {"b"}),
        matrix=lambda s: "W" in roles(s), used={c for s in sides for c in letters(s)},
        from_to=n.weight_order == "from,to", output_layer=n.output_layer,
        batch=lambda s: units.get(s.name), pattern=n.pattern, by_rows=n.batch.layout == "rows")


def _letters(a: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in a.items() if not k.startswith(("@", "#"))}


def _claims(reader: Reader, a: dict[str, int], sides: list[Node], alike: str = "") -> Bound:
    """One reading: the letters' layers and the claims, each side bound to the model
    (this notation's delta is delta_sign times the model's); `alike`, where the claim is
    decided with every pattern of a batch alike only (latex/batch.py)."""
    builder = Builder(reader, a)
    built = [reader.n.bind(builder.visit(s)) for s in sides]
    for side, node in zip(built, sides):
        if side.has(sp.zoo, sp.nan, sp.oo):
            raise UsageError(f"{to_latex(node)} divides by zero")
    claims = []
    net = reader.net
    for size, lhs, rhs in (at for sides in zip(built, built[1:]) for at in _by_size(*sides, net.N)):
        for lhs, rhs in _by_rate(lhs, rhs, net.eta):
            eqn = sp.Eq(lhs, rhs, evaluate=False)
            bound = {lim[0] for s in eqn.atoms(sp.Sum) for lim in s.limits}
            free = sorted({i for i in eqn.free_symbols if isinstance(i, UnitIndex)} - bound,
                          key=str)
            claims.append(Claim("check", 0, eqn, tuple(free), size, alike))
    return Bound(_letters(a), claims)


def _by_size(lhs: sp.Expr, rhs: sp.Expr, N: sp.Symbol) -> list[tuple[int, sp.Expr, sp.Expr]]:
    """A claim about a mini-batch of every size N, as claims at as many sizes as its
    degree in N needs (0 for a claim without N): N^-a (lhs - rhs), a polynomial in N of
    degree b - a, vanishes for every N exactly when it does at b - a + 1 of them. N = 2
    comes first: a mistake of 1/N shows at no batch of one."""
    if not (lhs.has(N) or rhs.has(N)):
        return [(0, lhs, rhs)]
    low, high = _degrees(lhs - rhs, N)
    sizes = [2, 1, *range(3, high - low + 2)][:high - low + 1]
    return [(n, lhs.xreplace({N: n}), rhs.xreplace({N: n})) for n in sizes]


def _degrees(e: sp.Expr, N: sp.Symbol) -> tuple[int, int]:
    """The lowest and highest power of N in e, or beyond them (a power that cancels)."""
    if e == N:
        return 1, 1
    if not e.has(N):
        return 0, 0
    if isinstance(e, sp.Add):
        parts = [_degrees(t, N) for t in e.args]
        return min(p[0] for p in parts), max(p[1] for p in parts)
    if isinstance(e, sp.Mul):
        parts = [_degrees(t, N) for t in e.args]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)
    if isinstance(e, sp.Pow) and e.exp.is_Integer and abs(e.exp) <= MAX_EXPONENT:
        low, high = _degrees(e.base, N)
        k = int(e.exp)
        return (k * low, k * high) if k >= 0 else (k * high, k * low)
    if isinstance(e, sp.Sum) and not any(lim.has(N) for lim in e.limits):
        return _degrees(e.function, N)
    raise NotSupported("the batch size stands inside a function or a power that is not a "
                       "whole number, where the claim is not a polynomial in it; write it as a "
                       "factor, as in \\frac{1}{N} \\sum_n")


def _by_rate(lhs: sp.Expr, rhs: sp.Expr, eta: sp.Symbol) -> list[tuple[sp.Expr, sp.Expr]]:
    """A claim that holds for every learning rate η > 0, as one claim per power of η: two
    polynomials in η agree for every η > 0 exactly when each coefficient does."""
    if not (lhs.has(eta) or rhs.has(eta)):
        return [(lhs, rhs)]
    parts = [sp.collect(sp.expand(side), eta, evaluate=False) for side in (lhs, rhs)]
    powers = {p for part in parts for p in part}
    for p in powers:
        k = sp.Integer(1) if p == 1 else p.as_base_exp()[1] if p.as_base_exp()[0] == eta else None
        if k is None or not (k.is_Integer and k >= 0) or any(
                part.get(p, sp.S.Zero).has(eta) for part in parts):
            raise NotSupported("the learning rate must appear as a factor, as in "
                               r"\Delta w = -\eta \frac{\partial E}{\partial w}")
    key = lambda p: 0 if p == 1 else p.as_base_exp()[1]
    out = [(parts[0].get(p, sp.S.Zero), parts[1].get(p, sp.S.Zero))
           for p in sorted(powers, key=key)]
    return [(l, r) for l, r in out if not (l == 0 and r == 0)] or [(sp.S.Zero, sp.S.Zero)]


def _role(e: sp.Indexed) -> str:
    return role_of(e.base)[0]


def _layer(e: sp.Indexed) -> int:
    return role_of(e.base)[1]


class Builder(Visitor):
    """The AST as canonical SymPy, under one assignment of layers."""

    def __init__(self, reader: Reader, a: dict[str, int]):
        self.r, self.a, self.net = reader, a, reader.net

    def index(self, c: str, layer: int) -> sp.Expr:
        if c.isdigit():
            n = int(c)
            if n not in self.net.units(layer):
                raise UsageError(f"unit {n} of layer {self.r.n.layer_label(layer, self.net.L)}: "
                                 f"that layer has units 1 to {self.net.width(layer)}")
            return sp.Integer(n)
        return UnitIndex("=" + shown(c), layer)

    def generic_visit(self, node: Node) -> sp.Expr:
        raise NotSupported(f"{to_latex(node)} has no meaning in a network yet")

    def visit_Number(self, x):
        if len(x.text) > MAX_DIGITS:
            raise UsageError(f"the number {x.text[:12]}... has {len(x.text)} digits; at most "
                             f"{MAX_DIGITS} are read")
        return sp.Rational(x.text)

    def visit_Paren(self, x):
        return self.visit(x.body)

    def visit_Neg(self, x):
        return -self.visit(x.body)

    def visit_Add(self, x):
        return sp.Add(*[self.visit(t) for t in x.terms])

    def visit_Mul(self, x):
        return sp.Mul(*[self.visit(f) for f in x.factors])

    visit_Hadamard = visit_Mul

    def visit_Frac(self, x):
        if isinstance(x.num, Differential) or isinstance(x.den, Differential):
            raise UsageError(f"{to_latex(x)} has \\partial on one side only: did you mean "
                             "a partial derivative, \\frac{\\partial X}{\\partial Y}?")
        return self.visit(x.num) / self.visit(x.den)

    def visit_Power(self, x):
        base, exponent = self.visit(x.base), self.visit(x.exponent)
        if exponent.is_Rational and (abs(exponent.p) > MAX_EXPONENT or exponent.q > MAX_EXPONENT):
            # checked before SymPy raises 10 to it: the power would not fit in memory
            raise UsageError(f"{to_latex(x)}: the exponent {exponent} is beyond the bound of "
                             f"{MAX_EXPONENT} in magnitude")
        if base.is_Rational and exponent.is_Rational and abs(exponent.p) * max(
                int(base.p).bit_length(), int(base.q).bit_length()) > MAX_BITS:
            raise UsageError(f"{to_latex(x)} has more than {MAX_BITS * 3 // 10} digits")
        return base ** exponent

    def visit_Partial(self, x):
        return (Total if x.total else Partial)(self.visit(x.num), self.visit(x.den))

    def visit_Sum(self, x):
        layer = self.a[x.index]
        k = self.index(x.index, layer)
        width = self.net.width(layer)
        lower = 1 if x.lower is None else self._bound(x, x.lower, (0, 1), "lower")
        if x.upper is not None and isinstance(x.upper, Number):
            self._bound(x, x.upper, (width,), "upper")
        body = self.visit(x.body)
        total = sp.Sum(body, (k, 1, width))
        return total + self._bias_term(x, body, k) if lower == 0 else total

    def _bias_term(self, x: Sum, body: sp.Expr, k: sp.Expr) -> sp.Expr:
        """Bishop's z_0 = 1 and w_j0 = b_j: the term i = 0 of a sum from 0 is the bias."""
        if self.r.n.bias_style != "weight" or not self.net.bias:
            raise UsageError(f"{to_latex(x)} starts at 0, the unit held at 1 that carries "
                             "the biases; this notation or network has no such unit")
        zero = body.xreplace({k: sp.Integer(0)})
        zero = zero.replace(lambda e: isinstance(e, sp.Indexed) and _role(e) == "W"
                            and e.indices[1] == 0,
                            lambda e: self.net.b(_layer(e))[e.indices[0]])
        return zero.replace(lambda e: isinstance(e, sp.Indexed) and _role(e) == "out"
                            and e.indices[0] == 0, lambda e: sp.Integer(1))

    def _bound(self, x, node, accepted, which) -> int:
        if isinstance(node, Number) and node.text.isdigit() and int(node.text) in accepted:
            return int(node.text)
        raise NotSupported(f"{to_latex(x)}: a sum over part of a layer is not supported; "
                           f"its {which} limit must be {' or '.join(map(str, accepted))} "
                           f"(the whole layer), or left out")

    def visit_Call(self, x):
        name = x.func.name.lstrip("\\")
        args = [self.visit(a) for a in x.args]
        plain = {"ln": sp.log, "log": sp.log, "exp": sp.exp, "tanh": sp.tanh}
        if name in plain and not x.func.primes and name not in self.r.activation_names():
            return plain[name](*args)
        keys, _ = self.r.keys_of(replace(x.func, primes=0))
        if not {"hidden_activation", "output_activation"} & set(keys):
            raise UsageError(f"unknown function {x.func.name} in {to_latex(x)}; this "
                             f"notation's activations are {self.r.activations_text()}, and "
                             "ln, log, exp, tanh")
        (arg,) = args
        if x.func.primes > 1:
            raise NotSupported(f"{to_latex(x)}: second derivatives of activations are not "
                               "supported")
        if not (isinstance(arg, sp.Indexed) and _role(arg) == "pre"):
            return self._elsewhere(x, arg)
        l = _layer(arg)
        if x.func.primes == 0 and not self.net.activation(l).elementwise:
            raise UsageError(f"{to_latex(x)}: the activation of layer "
                             f"{self.r.n.layer_label(l, self.net.L)} is softmax, and softmax of "
                             "one weighted input alone is not defined: each output depends on "
                             "every weighted input of its layer")
        value = self.net.phi(l)(arg)
        return sp.Derivative(value, arg) if x.func.primes == 1 else value

    def _elsewhere(self, x, arg: sp.Expr) -> sp.Expr:
        """An activation (or its derivative) at something other than a weighted input, as
        in h'(z_j) for h'(a_j): a number where the layer's activation is a known function,
        so a claim that writes it is decided (it is a common mistake, engine/mistakes.py)."""
        l = _layer(arg) if isinstance(arg, sp.Indexed) and _layer(arg) is not None else None
        act = self.net.activation(l) if l is not None and 0 < l <= self.net.L else None
        if act is None or act.abstract or not act.elementwise:
            raise NotSupported(
                f"{to_latex(x)}: an activation is applied to a weighted input of this notation "
                f"({self.r.n.symbols['weighted_input']}); at anything else it is decided only "
                "where the layer's activation is a known function (give --hidden sigmoid, "
                "tanh, relu, softplus or identity)")
        return act.slope_at(arg) if x.func.primes == 1 else act.scalar(arg)

    def visit_Symbol(self, x):
        r, net = self.r, self.net
        if x.name == "e" and x.sup is not None and not x.sub:
            return sp.exp(self.visit(x.sup))
        keys, sub = r.keys_of(x)
        if not keys:
            raise UsageError(f"unknown symbol {to_latex(replace(x, sup=None))}; the "
                             f"{r.n.name} notation knows {r.known()}")
        roles = {ROLES[k] for k in keys}
        if x.sup is not None and not any(r.n.layer_marks.get(k, "none") != "none" for k in keys):
            return self.visit(Power(replace(x, sup=None), x.sup))
        if roles == {"E"}:
            return net.E
        if roles == {"eta"}:
            return net.eta
        if roles == {"N"}:
            return net.N
        if roles == {"I"}:
            if len(sub) != 2:
                raise UsageError(f"{to_latex(x)}: the Kronecker delta takes two indices, as in "
                                 f"{to_latex(replace(x, sub=('k', 'j')))}")
            units = [self._loose(c) for c in sub]
            if len({getattr(u, "layer", None) for u in units} - {None}) > 1:
                return sp.Integer(0)  # units of two layers are never the same unit
            return sp.KroneckerDelta(*units)
        if "W" in roles or "b" in roles:
            return self._weight(x, roles, sub)
        if len(sub) == 2 and "input" in keys:
            layer = self.a[x_key(x)]
            to, frm = sub if r.n.weight_order == "to,from" else sub[::-1]
            if frm == "0" and r.n.bias_style == "weight":
                return sp.Integer(1)  # the bias's input
            return net.out(layer - 1)[self.index(frm, layer - 1)]
        if roles & set(UNIT_ROLES):
            return self._unit(x, next(iter(roles & set(UNIT_ROLES))), sub)
        raise NotSupported(f"{to_latex(x)} ({', '.join(keys)}) has no value in a network")

    def _unit(self, x: Symbol, role: str, sub) -> sp.Expr:
        (c,) = sub
        layer = self.a[x_key(x)]
        # a letter is one number wherever it stands: its own layer gives its range, even
        # on a unit of another layer (a^{(l+1)}_j with j in layer l)
        idx = self.index(c, self.a.get(c, layer) if not c.isdigit() else layer)
        net = self.net
        return {"pre": net.pre(layer), "delta": net.delta(layer), "t": net.t,
                "out": net.out(layer)}[role][idx]

    def _loose(self, c: str) -> sp.Expr:
        return sp.Integer(int(c)) if c.isdigit() else UnitIndex("=" + c, self.a.get(c, 0))

    def _weight(self, x, roles, sub):
        net, r = self.net, self.r
        layer = self.a[x_key(x)]
        if "b" in roles and "W" not in roles:
            return net.b(layer)[self.index(sub[0], layer)]
        to, frm = sub if r.n.weight_order == "to,from" else sub[::-1]
        if frm == "0" and r.n.bias_style == "weight":
            if not net.bias:
                raise UsageError(f"{to_latex(x)} is a bias, and the network has none "
                                 "(drop --no-bias)")
            return net.b(layer)[self.index(to, layer)]
        return net.W(layer)[self.index(to, layer), self.index(frm, layer - 1)]
