"""Binding an equation to a network: the AST read in a notation, as claims in the model's
symbols, one set of claims for each reading (each way its letters may take layers).

Vector forms (Nielsen's BP1a and BP2) are read componentwise first, each sum gets an index
of its own (latex/passes.py), `Collect` states what each symbol says about layers, the
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
from ..engine.expr import Partial
from ..errors import NotSupported, UsageError
from ..model.network import Network, UnitIndex, role_of
from ..model.notation import Notation
from .ast import Call, Differential, Equation, Node, Number, Power, Sum, Symbol, Visitor
from .grammar import parse
from .passes import Componentize, UsesVectors, free_letters, letters, scoped, shown, summed_letters
from .reader import ROLES, UNIT_ROLES, Reader
from .tex import to_latex

MAX_READINGS = 24


def x_key(x: Symbol) -> str:
    """The layer variable of one symbol occurrence (shared by equal occurrences)."""
    return "@" + to_latex(x)


def _same(key: str, v: str):
    return lambda a: a[key] == a[v] if key in a and v in a else None


def _marked(key: str, mark):
    def holds(a):
        at = Reader.layer_of(mark, a)
        return a[key] == at if key in a and at is not None else None
    return holds


class Collect(Visitor):
    """What each symbol's role says about the layers of its letters, as constraints."""

    def __init__(self, reader: Reader):
        self.r, self.L = reader, reader.net.L

    def visit_Symbol(self, node: Symbol) -> None:
        r = self.r
        if node.name == "e" and node.sup is not None and not node.sub:
            return self.visit(node.sup)
        keys, sub = r.keys_of(node)
        if not keys:
            raise UsageError(f"unknown symbol {to_latex(replace(node, sup=None))}; the "
                             f"{r.n.name} notation knows {r.known()}")
        roles = {ROLES[k] for k in keys}
        marked = [k for k in keys if r.n.layer_marks.get(k, "none") != "none"]
        if node.sup is not None and not marked:
            self.visit(node.sup)  # a power, read as such by the builder
            node = replace(node, sup=None)
        if roles <= {"E", "I", "act", "eta"}:
            return self._plain(roles, sub)
        key = x_key(node)
        r.variables.add(key)
        mark = r.mark(node.sup, marked[0]) if node.sup is not None and marked else None
        if "W" in roles or "b" in roles:
            if mark is not None and r.n.weight_mark == "leaves":
                mark = (mark[0], mark[1] + 1)  # Θ^{(l)} feeds layer l + 1
            return self._weight(node, roles, sub, key, mark)
        if mark is not None:
            r.require(_marked(key, mark))
        if len(sub) != 1:
            raise UsageError(f"{to_latex(node)} needs one unit index")
        allowed = self._layers(keys)
        r.require(lambda a, key=key: a[key] in allowed if key in a else None,
                  why=lambda a: self._missing(node, keys, a[key]))
        if not sub[0].isdigit():
            r.require(_same(key, r.letter_var(sub[0])))

    def _plain(self, roles: set, sub) -> None:
        if "eta" in roles:
            raise NotSupported("the learning rate belongs to an update rule; bpcheck checks "
                               "equations about derivatives")
        if "I" in roles:
            for c in sub:
                if not c.isdigit():
                    self.r.letter_var(c)

    def _layers(self, keys) -> set[int]:
        """The layers a unit's symbol may be in. A unit's output symbol covers the output
        layer only where the notation has no symbol of its own for the network's outputs
        (Bishop's z is not his y)."""
        L, syms = self.L, self.r.n.symbols
        unit_layers = set(range(L + 1)) if syms["unit_output"] == syms["output"] else set(range(L))
        allowed: set[int] = set()
        for k in keys:
            allowed |= {"weighted_input": set(range(1, L + 1)), "delta": set(range(1, L + 1)),
                        "unit_output": unit_layers, "input": {0}, "output": {L},
                        "target": {L}}.get(k, set())
        return allowed

    def _missing(self, node: Symbol, keys, layer: int) -> str:
        """Why a unit's symbol names no quantity of the network in a layer."""
        words = {"weighted_input": "a weighted input", "delta": "a delta",
                 "output": "a network output", "target": "a target", "input": "an input",
                 "unit_output": "a hidden unit's output"}
        what = " or ".join(words[k] for k in keys if k in words)
        return f"{to_latex(node)} would be {what} in {self._layer_words(layer)}, which has none"

    def _layer_words(self, l: int) -> str:
        kind = "the input layer" if l == 0 else "the output layer" if l == self.L else "hidden layer"
        return f"{kind} {self.r.n.layer_label(l, self.L)}" if kind == "hidden layer" \
            else f"{kind} ({self.r.n.layer_label(l, self.L)})"

    def _weight(self, node: Symbol, roles: set, sub, key: str, mark) -> None:
        r, L = self.r, self.L
        r.require(lambda a: 1 <= a[key] <= L if key in a else None)
        if "b" in roles and "W" not in roles:
            if mark is not None:
                r.require(_marked(key, mark))
            if len(sub) != 1:
                raise UsageError(f"{to_latex(node)} needs one unit index")
            if not sub[0].isdigit():
                r.require(_same(key, r.letter_var(sub[0])))
            return
        if len(sub) != 2:
            raise UsageError(f"{to_latex(node)} needs two indices, "
                             f"{'to, from' if r.n.weight_order == 'to,from' else 'from, to'}")
        to, frm = sub if r.n.weight_order == "to,from" else sub[::-1]
        to_v = r.letter_var(to) if not to.isdigit() else None
        from_v = r.letter_var(frm) if not frm.isdigit() else None
        why = lambda a: self._no_weight(node, a, key, to_v, from_v, mark)
        if mark is not None:
            r.require(_marked(key, mark), why=why)
        if to_v is not None:
            r.require(_same(key, to_v), why=why)
        if from_v is not None:
            r.require(lambda a: a[key] == a[from_v] + 1 if key in a and from_v in a else None,
                      why=why)

    def _no_weight(self, node: Symbol, a: dict, key: str, to_v, from_v, mark) -> str:
        """Why a weight's symbol names no weight of the network."""
        tex, label = to_latex(node), lambda l: self.r.n.layer_label(l, self.L)
        to_l = a.get(to_v, a[key]) if to_v else a[key]
        from_l = a.get(from_v, to_l - 1) if from_v else to_l - 1
        if to_l != from_l + 1:
            out = (f"{tex} would be a weight from layer {label(from_l)} into layer "
                   f"{label(to_l)}; weights run from each layer into the next")
            if to_l + 1 == from_l and to_v and from_v:
                swapped = replace(node, sub=tuple(reversed(node.sub)))
                out += f": the weight between these units is {to_latex(swapped)}"
            return out
        at = Reader.layer_of(mark, a) if mark is not None else to_l
        return (f"{tex}: its indices ask for a weight into layer {label(to_l)}, its layer mark "
                f"for one into layer {label(at)}")

    def visit_Call(self, node: Call) -> None:
        """Bishop's h is the hidden activation, his f the output's: the argument's layer."""
        if len(node.args) == 1 and isinstance(node.args[0], Symbol):
            keys, _ = self.r.keys_of(replace(node.func, primes=0))
            hidden, output = "hidden_activation" in keys, "output_activation" in keys
            arg = node.args[0]
            if hidden != output and "weighted_input" in self.r.keys_of(arg)[0]:
                key, L = x_key(arg), self.L
                self.r.variables.add(key)
                ok = (lambda l: 1 <= l < L) if hidden else (lambda l: l == L)
                self.r.require(lambda a: ok(a[key]) if key in a else None)
        for arg in node.args:  # the function's name is no quantity
            self.visit(arg)

    def visit_Sum(self, node: Sum) -> None:
        v = self.r.letter_var(node.index)
        if node.index_set is not None:
            s = node.index_set
            if not (isinstance(s, Symbol) and len(s.sub) == 1 and not s.sub[0].isdigit()):
                raise NotSupported(f"index set {to_latex(s)}: write U_j, the units that j "
                                   "sends connections to")
            j = self.r.letter_var(s.sub[0])
            self.r.require(lambda a: a[v] == a[j] + 1 if v in a and j in a else None)
        for bound in (node.lower, node.upper):
            if bound is not None and not isinstance(bound, (Number, Symbol)):
                raise NotSupported(f"sum limit {to_latex(bound)}")
        self.visit(node.body)  # its limits and index set are no quantities


class Bound(NamedTuple):
    """One reading: each letter's layer, and the claims in the model's symbols; or, where
    no reading lets every written quantity exist, the words for those that do not."""

    letters: dict
    claims: list[Claim]
    missing: tuple[str, ...] = ()


def read(text: str, *, notation: Notation, net: Network,
         index: Mapping[str, str] | None = None) -> tuple[Equation, list[Bound]]:
    """Parse and bind: every reading of the equation as claims in canonical symbols."""
    eq = parse(text)
    if len(eq.sides) < 2:
        raise UsageError("an equation needs a left and a right side, e.g. "
                         "\\delta_k = y_k - t_k")
    reader = Reader(notation, net, dict(index or {}))
    sides = scoped(_components(list(eq.sides), reader))
    free = {c for s in sides for c in free_letters(s)}
    for s in sides:
        for c in summed_letters(s) & free:
            raise UsageError(f"the index {shown(c)} is summed over and also free in the same "
                             "equation; give the summed index a letter of its own")
    for s in sides:
        Collect(reader).visit(s)
    for letter in reader.hints:
        if letter not in reader.variables:
            raise UsageError(f"--index {letter}=...: the equation has no index {letter!r}")
    assignments = reader.solve()
    if not assignments:
        raise UsageError("no reading fits this network: the layers the symbols ask for "
                         f"contradict each other; in {notation.name}'s notation "
                         + reader.roles_text())
    return eq, [_claims(reader, a, sides) if not missing else Bound(_letters(a), [], tuple(missing))
                for a, missing in assignments[:MAX_READINGS]]


def _components(sides: list[Node], reader: Reader) -> list[Node]:
    """A vector form as its component at a letter the equation does not use."""
    def unit_vector(s: Symbol) -> bool:
        keys, sub = reader.keys_of(s)
        return not sub and s.name != "e" and bool({ROLES[k] for k in keys} & set(UNIT_ROLES))

    uses = UsesVectors(unit_vector)
    for s in sides:
        uses.visit(s)
    if not uses.found:
        return sides
    used = {c for s in sides for c in letters(s)}
    c = next(l for l in ("j", "k", "i", "m", "p", "q") if l not in used)
    roles = lambda s: {ROLES[k] for k in reader.keys_of(s)[0]}
    pass_ = Componentize(c, vector=lambda s: s.name != "e" and (
        bool(roles(s) & set(UNIT_ROLES)) or roles(s) == {"b"}),
        matrix=lambda s: "W" in roles(s), from_to=reader.n.weight_order == "from,to",
        output_layer=reader.n.output_layer)
    return [pass_.visit(s) for s in sides]


def _letters(a: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in a.items() if not k.startswith(("@", "#"))}


def _claims(reader: Reader, a: dict[str, int], sides: list[Node]) -> Bound:
    """One reading: the letters' layers and the claims, each side bound to the model
    (this notation's delta is delta_sign times the model's)."""
    builder = Builder(reader, a)
    built = [reader.n.bind(builder.visit(s)) for s in sides]
    for side, node in zip(built, sides):
        if side.has(sp.zoo, sp.nan, sp.oo):
            raise UsageError(f"{to_latex(node)} divides by zero")
    claims = []
    for lhs, rhs in zip(built, built[1:]):
        eqn = sp.Eq(lhs, rhs, evaluate=False)
        bound = {lim[0] for s in eqn.atoms(sp.Sum) for lim in s.limits}
        free = sorted({i for i in eqn.free_symbols if isinstance(i, UnitIndex)} - bound, key=str)
        claims.append(Claim("check", 0, eqn, tuple(free)))
    return Bound(_letters(a), claims)


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
        return self.visit(x.base) ** self.visit(x.exponent)

    def visit_Partial(self, x):
        return Partial(self.visit(x.num), self.visit(x.den))

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
        if not (isinstance(arg, sp.Indexed) and _role(arg) == "pre"):
            raise NotSupported(f"{to_latex(x)}: an activation is applied to a weighted input "
                               f"of this notation ({self.r.n.symbols['weighted_input']}), not to "
                               "anything else")
        if x.func.primes > 1:
            raise NotSupported(f"{to_latex(x)}: second derivatives of activations are not "
                               "supported")
        l = _layer(arg)
        if x.func.primes == 0 and not self.net.activation(l).elementwise:
            raise UsageError(f"{to_latex(x)}: the activation of layer "
                             f"{self.r.n.layer_label(l, self.net.L)} is softmax, and softmax of "
                             "one weighted input alone is not defined: each output depends on "
                             "every weighted input of its layer")
        value = self.net.phi(l)(arg)
        return sp.Derivative(value, arg) if x.func.primes == 1 else value

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
        if roles == {"I"}:
            units = [self._loose(c) for c in sub]
            if len({getattr(u, "layer", None) for u in units} - {None}) > 1:
                return sp.Integer(0)  # units of two layers are never the same unit
            return sp.KroneckerDelta(*units)
        if "W" in roles or "b" in roles:
            return self._weight(x, roles, sub)
        if roles & set(UNIT_ROLES):
            return self._unit(x, next(iter(roles & set(UNIT_ROLES))), sub)
        raise NotSupported(f"{to_latex(x)} ({', '.join(keys)}) has no value in a network")

    def _unit(self, x: Symbol, role: str, sub) -> sp.Expr:
        (c,) = sub
        layer = self.a[x_key(x)]
        idx = self.index(c, layer)
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
