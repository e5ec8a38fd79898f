"""Reading an equation in a notation: what people write, bound to the network.

Each symbol is bound to its role by the notation's data (a weighted input, an output, a
weight, delta, the target, the error, an activation); each index letter gets a layer,
from the layer marks the notation writes and from the roles it appears in (in Bishop's
w_kj, k is one layer after j). Every assignment of layers that fits is a reading, and the
claim is checked in each, for all values of its free indices. Vector forms (Nielsen's
BP1a and BP2) are read componentwise first.

>>> from bpcheck.derive import make_network, load_notation
>>> r = check_text(r"\\delta_j = h'(a_j) \\sum_k w_{kj} \\delta_k",
...                notation=load_notation("bishop"), net=make_network())
>>> str(r.verdict), r.readings[0].letters
('proved', {'j': 1, 'k': 2})
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import product
from typing import Callable, Mapping

import sympy as sp

from . import grammar as g
from .activation import KinkSide
from .checks import Claim, instances, loss_domain
from .errors import NotSupported, UsageError
from .expr import Partial
from .network import Network, UnitIndex
from .notation import Notation
from .proof import Outcome, Verdict, prove
from .semantics import Semantics

# notation key -> canonical role
ROLES = {"weighted_input": "pre", "unit_output": "out", "input": "out", "output": "out",
         "weight": "W", "bias": "b", "delta": "delta", "target": "t", "error": "E",
         "kronecker": "I", "hidden_activation": "act", "output_activation": "act",
         "learning_rate": "eta"}
UNIT_ROLES = ("pre", "out", "delta", "t")
LAYER_WORDS = ("input", "hidden", "output")


@dataclass(frozen=True)
class Bound:
    """What one written symbol is: a role, the layers it may be in, its layer mark."""

    role: str
    layers: frozenset[int]
    mark: tuple[str | None, int] | None  # (layer variable or None, offset); None: unmarked


@dataclass(frozen=True)
class Reading:
    letters: Mapping[str, int]
    claims: tuple[Claim, ...]
    outcome: Outcome


@dataclass(frozen=True)
class CheckResult:
    text: str
    understood: str
    notation: Notation
    net: Network
    readings: tuple[Reading, ...]

    @property
    def verdict(self) -> Verdict:
        verdicts = [r.outcome.verdict for r in self.readings]
        if Verdict.REFUTED in verdicts:
            return Verdict.REFUTED
        if Verdict.UNDECIDED in verdicts:
            return Verdict.UNDECIDED
        return Verdict.PROVED

    @property
    def deciding(self) -> Reading:
        """The reading that decides the verdict: the first refuted or undecided one."""
        return next((r for r in self.readings if r.outcome.verdict is self.verdict), self.readings[0])

    @property
    def status(self) -> int:
        """The command's exit status: 0 proved, 1 refuted, 3 undecided."""
        return {Verdict.PROVED: 0, Verdict.REFUTED: 1, Verdict.UNDECIDED: 3}[self.verdict]

    def layer_words(self, letters: Mapping[str, int]) -> str:
        n, L = self.notation, self.net.L
        def word(l):
            kind = "input" if l == 0 else "output" if l == L else "hidden"
            return f"{kind} layer {n.layer_label(l, L)}"
        return ", ".join(f"{_shown(c)}: {word(l)}" for c, l in sorted(letters.items())
                         if not c.startswith("%")) or "no indices"

    def written(self, expr: sp.Basic) -> sp.Basic:
        """A canonical expression as this notation writes it: its delta has its sign."""
        from .network import role_of
        deltas = {d: self.notation.delta_sign * d for d in expr.atoms(sp.Indexed)
                  if role_of(d.base)[0] == "delta"}
        return expr.xreplace(deltas)

    def worked(self, reading: Reading, *, limit: int = 400):
        """Both sides of each claim at one value of its indices, the sums written out: at
        the counterexample's indices if there is one, else at the first values."""
        ce = reading.outcome.counterexample
        out = []
        for claim in reading.claims:
            values = dict(ce.index) if ce else {}
            at = {i: sp.Integer(values.get(i, 1)) for i in claim.free}
            lhs, rhs = (self.written(side.xreplace(at).doit())
                        for side in (claim.equation.lhs, claim.equation.rhs))
            if self.notation.layer_marks["weighted_input"] == "none":
                # unit 1 of one layer and unit 1 of another print alike: keep the letter
                lhs, rhs = (_name_units(x, at, self.net.L) for x in (lhs, rhs))
            if len(str(lhs)) + len(str(rhs)) > limit:
                continue
            where = ", ".join(f"{_shown(i.role[1:])} = {v}" for i, v in at.items()) or "the point"
            out.append((where, lhs, rhs))
        return out

    def to_json(self) -> dict:
        from .report import counterexample_json
        from .render import latex
        d = self.deciding
        ce = d.outcome.counterexample
        return {"verdict": str(self.verdict), "claim_latex": self.understood, "input": self.text,
                "notation": self.notation.name,
                "conditions": [latex(c, self.notation, self.net) for c in d.outcome.conditions],
                "note": d.outcome.note,
                "counterexample": counterexample_json(ce, self.notation, self.net) if ce else None,
                "readings": [{"layers": {_shown(c): l for c, l in r.letters.items()},
                              "verdict": str(r.outcome.verdict)} for r in self.readings]}

    def __rich_console__(self, console, options):
        from .console import render_check
        yield from render_check(self, console, options)

    def _repr_latex_(self) -> str:
        """For Jupyter: the claim as understood and its verdict."""
        from .render import latex
        d = self.deciding.outcome
        cond = (r" \text{ if } " + ", ".join(latex(c, self.notation, self.net)
                                              for c in d.conditions)) if d.conditions else ""
        return rf"$${self.understood} \quad \text{{{self.verdict}}}{cond}$$"


def _name_units(expr: sp.Expr, at: dict, L: int) -> sp.Expr:
    """Each concrete index that stood for a free letter, written as (letter=value): the
    layer of the index position tells which letter it was."""
    from .network import role_of
    by_layer = {(i.layer, v): UnitIndex(f"=({_shown(i.role[1:])}={v})", i.layer)
                for i, v in at.items()}

    def rename(x: sp.Indexed) -> sp.Indexed:
        role, l = role_of(x.base)
        layers = (l, l - 1) if role == "W" else (L,) if role == "t" else (l,)
        new = [by_layer.get((lay, i), i) for lay, i in zip(layers, x.indices)]
        return x.base[tuple(new)] if len(new) > 1 else x.base[new[0]]

    return expr.replace(lambda e: isinstance(e, sp.Indexed), rename)


def _shown(letter: str) -> str:
    """A letter as the user wrote it (a layer variable without its %, k~2 as k')."""
    letter = letter.lstrip("%")
    if "~" in letter:
        base, n = letter.split("~")
        return base + "'" * (int(n) - 1)
    return letter


class _Reader:
    def __init__(self, notation: Notation, net: Network, hints: Mapping[str, str]):
        self.n, self.net = notation, net
        self.names: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for key, latex in notation.symbols.items():
            node = g.parse_expression(latex)
            if isinstance(node, g.Symbol):
                self.names.setdefault((node.name, node.sub), []).append(key)
        self.pattern = set(g.parse_expression(notation.symbols["error"]).sub) \
            if isinstance(g.parse_expression(notation.symbols["error"]), g.Symbol) else set()
        self.hints = {k: self._hint(k, v) for k, v in hints.items()}
        self.constraints: list[Callable[[dict], bool]] = []
        self.variables: set[str] = set()
        self._fresh = 0

    # -- symbols ---------------------------------------------------------------------------
    def _hint(self, letter: str, value: str) -> int:
        L = self.net.L
        if value == "input":
            return 0
        if value == "output":
            return L
        if value == "hidden":
            if L != 2:
                raise UsageError(f"--index {letter}=hidden: the network has {L - 1} hidden "
                                 "layers; give the layer's number")
            return 1
        if value.isdigit() and int(value) - self.n.first_layer in range(L + 1):
            return int(value) - self.n.first_layer
        raise UsageError(f"--index {letter}={value!r}: give input, hidden, output or a layer "
                         f"number as the notation writes it")

    def roles_text(self) -> str:
        """What each symbol is, in a sentence: the hint when no reading fits."""
        sy, n = self.n.symbols, self.n
        parts = [f"{sy['weighted_input']} is a weighted input",
                 f"{sy['unit_output']} a unit's output" + (
                     "" if sy["unit_output"] == sy["output"] else
                     f" (the network's output is {sy['output']})"),
                 f"{sy['weight']} a weight ({n.weight_order.replace(',', ', ')})",
                 f"{sy['target']} the target",
                 f"the activations are {self.activations_text()}"]
        marked = [k for k, v in n.layer_marks.items() if v != "none"]
        if marked:
            parts.append("layers are marked on " + ", ".join(sy[k] for k in marked))
        return "; ".join(parts) + " (--index LETTER=LAYER pins a letter)"

    def activation_names(self) -> set[str]:
        return {self.n.symbols[k].lstrip("\\") for k in ("hidden_activation", "output_activation")}

    def activations_text(self) -> str:
        h, f = (self.n.symbols[k] for k in ("hidden_activation", "output_activation"))
        return h if h == f else f"{h} (hidden) and {f} (output)"

    def known(self) -> str:
        return ", ".join(sorted({self.n.symbols[k] for k in self.n.symbols}))

    def keys_of(self, s: g.Symbol) -> tuple[list[str], tuple[str, ...]]:
        """The notation keys a symbol may be, and its subscript without a pattern index."""
        if (s.name, s.sub) in self.names:
            return self.names[(s.name, s.sub)], ()
        if len(s.sub) == 2 and "delta" in self.names.get((s.name, ()), []) and s.sup is None:
            return ["kronecker"], s.sub  # delta_{kj} with two indices is Kronecker's
        keys = self.names.get((s.name, ()), [])
        sub = s.sub
        if self.pattern and len(sub) > 1 and sub[0] in self.pattern:
            sub = sub[1:]  # Bishop's y_{nk}: n is the pattern, one at a time
        return keys, sub

    def mark(self, sup: g.Node, key: str) -> tuple[str | None, int] | None:
        """A layer mark as (variable, offset); constants have variable None."""
        if self.n.layer_marks.get(key, "none") == "none":
            return None
        node = sup.body if isinstance(sup, g.Paren) else sup
        L = self.net.L
        if isinstance(node, g.Number) and node.text.isdigit():
            return None, int(node.text) - self.n.first_layer
        if isinstance(node, g.Symbol) and not node.sub and node.sup is None:
            if self.n.output_layer and node.name == self.n.output_layer:
                return None, L
            self.variables.add("%" + node.name)
            return "%" + node.name, 0
        if isinstance(node, g.Add) and len(node.terms) == 2:
            var, num = node.terms
            sign = 1
            if isinstance(num, g.Neg):
                sign, num = -1, num.body
            if isinstance(var, g.Symbol) and isinstance(num, g.Number) and num.text.isdigit():
                base = self.mark(var, key)
                if base is not None:
                    return base[0], base[1] + sign * int(num.text)
        raise UsageError(f"layer mark {g.to_latex(sup)} is not a layer: write a number, "
                         f"{self.n.output_layer or 'a letter'}, l, l+1 or l-1")

    # -- constraints --------------------------------------------------------------------
    def letter_var(self, c: str) -> str:
        self.variables.add(c)
        return c

    def fresh(self) -> str:
        self._fresh += 1
        v = f"#{self._fresh}"
        self.variables.add(v)
        return v

    def require(self, f: Callable[[dict], bool]) -> None:
        self.constraints.append(f)

    @staticmethod
    def layer_of(mark: tuple[str | None, int], a: dict) -> int | None:
        var, off = mark
        if var is None:
            return off
        return None if var not in a else a[var] + off

    def conventions(self) -> list[Callable[[dict], bool | None]]:
        """The notation's letters as layer relations: in Bishop's i, j, k the previous,
        this and next layer. A table whose letters coincide (Nielsen's k for both the
        previous and the next layer) says nothing and is skipped."""
        n, rules = self.n, set()
        for table, output in ((n.letters, False), (n.output_letters, True),
                              (n.forward_letters, False), (n.forward_output_letters, True)):
            this, prev, nxt = table["this"], table["prev"], table["next"]
            if prev != this and prev != nxt:
                rules.add((prev, this, -1))
            if nxt != this and nxt != prev and not output:  # nothing follows the output
                rules.add((nxt, this, 1))
        relative = [lambda a, x=x, y=y, d=d: a[x] == a[y] + d if x in a and y in a else None
                    for x, y, d in sorted(rules) if x in self.variables and y in self.variables]
        L = self.net.L
        kinds = {"input": lambda l: l == 0, "hidden": lambda l: 0 < l < L, "output": lambda l: l == L}
        fixed = [lambda a, c=c, ok=kinds[kind]: ok(a[c]) if c in a else None
                 for kind, cs in n.layer_letters.items() for c in cs if c in self.variables]
        return relative + fixed

    def solve(self) -> list[dict[str, int]]:
        """Every assignment of layers that fits, by the notation's letter conventions
        where some assignment fits them, else every one that fits the symbols alone."""
        base = self.constraints
        self.constraints = base + self.conventions()
        found = self._solve()
        self.constraints = base
        return found or self._solve()

    def _solve(self) -> list[dict[str, int]]:
        order = sorted(self.variables, key=lambda v: (v.startswith("#"), v))
        domain = range(self.net.L + 1)
        out: list[dict[str, int]] = []

        def ok(a: dict) -> bool:
            return all(c(a) is not False for c in self.constraints)

        def walk(i: int, a: dict) -> None:
            if len(out) > 64:
                return
            if i == len(order):
                out.append(dict(a))
                return
            v = order[i]
            choices = [self.hints[v]] if v in self.hints else domain
            for value in choices:
                a[v] = value
                if ok(a):
                    walk(i + 1, a)
                del a[v]

        walk(0, {})
        return out


def _uses_vectors(node: g.Node, reader: _Reader) -> bool:
    found = False

    def visit(x):
        nonlocal found
        if isinstance(x, g.Symbol):
            keys, sub = reader.keys_of(x)
            roles = {ROLES[k] for k in keys}
            if not sub and roles & set(UNIT_ROLES) and x.name != "e":
                found = True
        elif isinstance(x, (g.Grad, g.Hadamard, g.Transpose)):
            found = True
        for child in _children(x):
            visit(child)

    visit(node)
    return found


def _children(x: g.Node) -> tuple:
    if isinstance(x, (g.Add,)):
        return x.terms
    if isinstance(x, (g.Mul, g.Hadamard)):
        return x.factors
    if isinstance(x, (g.Neg, g.Paren, g.Transpose, g.Differential, g.Norm)):
        return (x.body,)
    if isinstance(x, (g.Frac, g.Partial)):
        return (x.num, x.den)
    if isinstance(x, g.Sum):
        return (x.body,)
    if isinstance(x, g.Call):
        return x.args
    if isinstance(x, g.Power):
        return (x.base, x.exponent)
    if isinstance(x, g.Grad):
        return (x.body,) + ((x.wrt,) if x.wrt is not None else ())
    return ()


def _componentize(x: g.Node, c: str, reader: _Reader) -> g.Node:
    """A vector expression's component c: delta^L -> delta^L_c, W^T v -> sum_m W_mc v_m."""
    rec = lambda y: _componentize(y, c, reader)
    if isinstance(x, g.Symbol):
        keys, sub = reader.keys_of(x)
        roles = {ROLES[k] for k in keys}
        if not sub and x.name != "e" and (roles & set(UNIT_ROLES) or roles == {"b"}):
            return replace(x, sub=(c,))  # a vector of units, or of biases: its component c
        return x
    if isinstance(x, g.Add):
        return g.Add(tuple(rec(t) for t in x.terms))
    if isinstance(x, g.Neg):
        return g.Neg(rec(x.body))
    if isinstance(x, g.Hadamard):
        return g.Mul(tuple(rec(f) for f in x.factors))
    if isinstance(x, g.Call):
        return g.Call(x.func, tuple(rec(a) for a in x.args))
    if isinstance(x, g.Grad):
        wrt = x.wrt
        if not isinstance(wrt, g.Symbol):
            raise NotSupported("a gradient needs the quantity it is taken with respect to, "
                               "as in \\nabla_a C")
        if wrt.sup is None and reader.n.output_layer:
            wrt = replace(wrt, sup=g.Symbol(reader.n.output_layer))
        return g.Partial(x.body, replace(wrt, sub=(c,)))
    if isinstance(x, g.Mul):
        factors = list(x.factors)
        for i, f in enumerate(factors[:-1]):
            matrix, transposed = (f.body, True) if isinstance(f, g.Transpose) else (f, False)
            if isinstance(matrix, g.Symbol) and not matrix.sub and \
                    "W" in {ROLES[k] for k in reader.keys_of(matrix)[0]}:
                m = next(l for l in ("m", "p", "q", "r", "s", "u", "v") if l != c)
                order = (m, c) if transposed else (c, m)
                if reader.n.weight_order == "from,to":
                    order = order[::-1]
                rest = g.Mul(tuple(factors[i + 1:])) if len(factors) > i + 2 else factors[i + 1]
                body = g.Mul((replace(matrix, sub=order), _componentize(rest, m, reader)))
                head = [rec(y) for y in factors[:i]]
                total = g.Sum(index=m, body=body)
                return g.Mul(tuple(head + [total])) if head else total
        return g.Mul(tuple(rec(f) for f in factors))
    if isinstance(x, g.Transpose):
        raise NotSupported("a transpose must stand before the vector it multiplies, as in "
                           "(w^{l+1})^T \\delta^{l+1}")
    if isinstance(x, g.Power):
        return g.Power(rec(x.base), x.exponent)
    if isinstance(x, g.Frac):
        return g.Frac(rec(x.num), rec(x.den))
    if isinstance(x, g.Sum):
        return replace(x, body=rec(x.body))
    return x


class _Builder:
    """The AST as canonical SymPy, under one assignment of layers."""

    def __init__(self, reader: _Reader, a: dict[str, int]):
        self.r, self.a, self.net = reader, a, reader.net

    def index(self, c: str, layer: int) -> sp.Expr:
        if c.isdigit():
            n = int(c)
            if n not in self.net.units(layer):
                raise UsageError(f"unit {n} of layer {self.r.n.layer_label(layer, self.net.L)}: "
                                 f"that layer has units 1 to {self.net.width(layer)}")
            return sp.Integer(n)
        return UnitIndex("=" + c.split("~")[0], layer) if "~" not in c else \
            UnitIndex("=" + c.split("~")[0] + "'" * (int(c.split("~")[1]) - 1), layer)

    def build(self, x: g.Node) -> sp.Expr:
        method = getattr(self, "_" + type(x).__name__, None)
        if method is None:
            raise NotSupported(f"{g.to_latex(x)} has no meaning in a network yet")
        return method(x)

    def _Number(self, x):
        return sp.Rational(x.text)

    def _Paren(self, x):
        return self.build(x.body)

    def _Neg(self, x):
        return -self.build(x.body)

    def _Add(self, x):
        return sp.Add(*[self.build(t) for t in x.terms])

    def _Mul(self, x):
        return sp.Mul(*[self.build(f) for f in x.factors])

    def _Hadamard(self, x):
        return sp.Mul(*[self.build(f) for f in x.factors])

    def _Frac(self, x):
        if isinstance(x.num, g.Differential) or isinstance(x.den, g.Differential):
            raise UsageError(f"{g.to_latex(x)} has \\partial on one side only: did you mean "
                             "a partial derivative, \\frac{\\partial X}{\\partial Y}?")
        return self.build(x.num) / self.build(x.den)

    def _Power(self, x):
        return self.build(x.base) ** self.build(x.exponent)

    def _Partial(self, x):
        return Partial(self.build(x.num), self.build(x.den))

    def _Sum(self, x):
        layer = self.a[x.index]
        k = self.index(x.index, layer)
        width = self.net.width(layer)
        lower = 1 if x.lower is None else self._bound(x, x.lower, (0, 1), "lower")
        if x.upper is not None and isinstance(x.upper, g.Number):
            self._bound(x, x.upper, (width,), "upper")
        body = self.build(x.body)
        total = sp.Sum(body, (k, 1, width))
        if lower == 0:
            if self.r.n.bias_style != "weight" or not self.net.bias:
                raise UsageError(f"{g.to_latex(x)} starts at 0, the unit held at 1 that carries "
                                 "the biases; this notation or network has no such unit")
            # Bishop's z_0 = 1 and w_j0 = b_j: the term i = 0 is the bias
            zero = body.xreplace({k: sp.Integer(0)})
            zero = zero.replace(lambda e: isinstance(e, sp.Indexed) and _role(e) == "W"
                                and e.indices[1] == 0,
                                lambda e: self.net.b(_layer(e))[e.indices[0]])
            zero = zero.replace(lambda e: isinstance(e, sp.Indexed) and _role(e) == "out"
                                and e.indices[0] == 0, lambda e: sp.Integer(1))
            total = total + zero
        return total

    def _bound(self, x, node, accepted, which) -> int:
        if isinstance(node, g.Number) and node.text.isdigit() and int(node.text) in accepted:
            return int(node.text)
        raise NotSupported(f"{g.to_latex(x)}: a sum over part of a layer is not supported; "
                           f"its {which} limit must be {' or '.join(map(str, accepted))} "
                           f"(the whole layer), or left out")

    def _Call(self, x):
        name = x.func.name.lstrip("\\")
        args = [self.build(a) for a in x.args]
        plain = {"ln": sp.log, "log": sp.log, "exp": sp.exp, "tanh": sp.tanh}
        if name in plain and not x.func.primes and name not in self.r.activation_names():
            return plain[name](*args)
        keys, _ = self.r.keys_of(replace(x.func, primes=0))
        if not {"hidden_activation", "output_activation"} & set(keys):
            raise UsageError(f"unknown function {x.func.name} in {g.to_latex(x)}; this "
                             f"notation's activations are {self.r.activations_text()}, and "
                             "ln, log, exp, tanh")
        (arg,) = args
        if not (isinstance(arg, sp.Indexed) and _role(arg) == "pre"):
            raise NotSupported(f"{g.to_latex(x)}: an activation is applied to a weighted input "
                               f"of this notation ({self.r.n.symbols['weighted_input']}), not to "
                               "anything else")
        if x.func.primes > 1:
            raise NotSupported(f"{g.to_latex(x)}: second derivatives of activations are not "
                               "supported")
        l = _layer(arg)
        if x.func.primes == 0 and not self.net.activation(l).elementwise:
            raise UsageError(f"{g.to_latex(x)}: the activation of layer "
                             f"{self.r.n.layer_label(l, self.net.L)} is softmax, and softmax of "
                             "one weighted input alone is not defined: each output depends on "
                             "every weighted input of its layer")
        value = self.net.phi(l)(arg)
        return sp.Derivative(value, arg) if x.func.primes == 1 else value

    def _Symbol(self, x):
        r, net = self.r, self.net
        if x.name == "e" and x.sup is not None and not x.sub:
            return sp.exp(self.build(x.sup))
        keys, sub = r.keys_of(x)
        if not keys:
            raise UsageError(f"unknown symbol {g.to_latex(replace(x, sup=None))}; the "
                             f"{r.n.name} notation knows {r.known()}")
        roles = {ROLES[k] for k in keys}
        if x.sup is not None and not any(r.n.layer_marks.get(k, "none") != "none" for k in keys):
            return self.build(g.Power(replace(x, sup=None), x.sup))
        if roles == {"E"}:
            return net.E
        if roles == {"I"}:
            return sp.KroneckerDelta(*[self._loose(c) for c in sub])
        if "W" in roles or "b" in roles:
            return self._weight(x, keys, sub)
        if roles & set(UNIT_ROLES):
            role = next(iter(roles & set(UNIT_ROLES)))
            (c,) = sub
            layer = self.a[x_key(x)]
            idx = self.index(c, layer)
            if role == "pre":
                return net.pre(layer)[idx]
            if role == "delta":
                return r.n.delta_sign * net.delta(layer)[idx]
            if role == "t":
                return net.t[idx]
            return net.out(layer)[idx]
        raise NotSupported(f"{g.to_latex(x)} ({', '.join(keys)}) has no value in a network")

    def _loose(self, c: str) -> sp.Expr:
        return sp.Integer(int(c)) if c.isdigit() else UnitIndex("=" + c, self.a.get(c, 0))

    def _weight(self, x, keys, sub):
        net, r = self.net, self.r
        layer = self.a[x_key(x)]
        if "b" in {ROLES[k] for k in keys} and "W" not in {ROLES[k] for k in keys}:
            return net.b(layer)[self.index(sub[0], layer)]
        to, frm = sub if r.n.weight_order == "to,from" else sub[::-1]
        if frm == "0" and r.n.bias_style == "weight":
            if not net.bias:
                raise UsageError(f"{g.to_latex(x)} is a bias, and the network has none "
                                 "(drop --no-bias)")
            return net.b(layer)[self.index(to, layer)]
        return net.W(layer)[self.index(to, layer), self.index(frm, layer - 1)]


def _role(e: sp.Indexed) -> str:
    from .network import role_of
    return role_of(e.base)[0]


def _layer(e: sp.Indexed) -> int:
    from .network import role_of
    return role_of(e.base)[1]


def x_key(x: g.Symbol) -> str:
    """The layer variable of one symbol occurrence (shared by equal occurrences)."""
    return "@" + g.to_latex(x)


def _collect(node: g.Node, reader: _Reader) -> None:
    """Walk the AST and state what each symbol's role says about layers."""
    L = reader.net.L
    if isinstance(node, g.Symbol):
        if node.name == "e" and node.sup is not None and not node.sub:
            _collect(node.sup, reader)
            return
        keys, sub = reader.keys_of(node)
        if not keys:
            raise UsageError(f"unknown symbol {g.to_latex(replace(node, sup=None))}; the "
                             f"{reader.n.name} notation knows {reader.known()}")
        roles = {ROLES[k] for k in keys}
        marked = [k for k in keys if reader.n.layer_marks.get(k, "none") != "none"]
        if node.sup is not None and not marked:
            _collect(node.sup, reader)  # a power, read as such by the builder
            node = replace(node, sup=None)
        if roles <= {"E", "I", "act", "eta"}:
            if "eta" in roles:
                raise NotSupported("the learning rate belongs to an update rule; bpcheck checks "
                                   "equations about derivatives")
            if "I" in roles:
                for c in sub:
                    if not c.isdigit():
                        reader.letter_var(c)
            return
        key = x_key(node)
        reader.variables.add(key)
        mark = reader.mark(node.sup, marked[0]) if node.sup is not None and marked else None
        if "W" in roles or "b" in roles:
            _weight_constraints(node, keys, sub, key, mark, reader)
            return
        if len(sub) != 1:
            raise UsageError(f"{g.to_latex(node)} needs one unit index")
        syms = reader.n.symbols
        # a unit's output symbol covers the output layer only where the notation has no
        # symbol of its own for the network's outputs (Bishop's z is not his y)
        unit_layers = set(range(L + 1)) if syms["unit_output"] == syms["output"] \
            else set(range(L))
        allowed = set()
        for k in keys:
            allowed |= {"weighted_input": set(range(1, L + 1)), "delta": set(range(1, L + 1)),
                        "unit_output": unit_layers, "input": {0}, "output": {L},
                        "target": {L}}.get(k, set())
        c = sub[0]
        reader.require(lambda a, key=key, allowed=allowed: a[key] in allowed if key in a else None)
        if mark is not None:
            reader.require(lambda a, key=key, mark=mark: a[key] == _Reader.layer_of(mark, a)
                           if key in a and _Reader.layer_of(mark, a) is not None else None)
        if not c.isdigit():
            v = reader.letter_var(c)
            reader.require(lambda a, key=key, v=v: a[key] == a[v] if key in a and v in a else None)
        return
    if isinstance(node, g.Call) and len(node.args) == 1 and isinstance(node.args[0], g.Symbol):
        keys, _ = reader.keys_of(replace(node.func, primes=0))
        hidden, output = "hidden_activation" in keys, "output_activation" in keys
        if hidden != output:  # Bishop's h is the hidden activation, his f the output's
            arg = node.args[0]
            akeys, _ = reader.keys_of(arg)
            if "weighted_input" in akeys:
                key = x_key(arg)
                reader.variables.add(key)
                ok = (lambda l: 1 <= l < L) if hidden else (lambda l: l == L)
                reader.require(lambda a, key=key, ok=ok: ok(a[key]) if key in a else None)
    if isinstance(node, g.Sum):
        v = reader.letter_var(node.index)
        if node.index_set is not None:
            s = node.index_set
            if not (isinstance(s, g.Symbol) and len(s.sub) == 1 and not s.sub[0].isdigit()):
                raise NotSupported(f"index set {g.to_latex(s)}: write U_j, the units that j "
                                   "sends connections to")
            j = reader.letter_var(s.sub[0])
            reader.require(lambda a, v=v, j=j: a[v] == a[j] + 1 if v in a and j in a else None)
        for bound in (node.lower, node.upper):
            if bound is not None and not isinstance(bound, (g.Number, g.Symbol)):
                raise NotSupported(f"sum limit {g.to_latex(bound)}")
    for child in _children(node):
        _collect(child, reader)


def _weight_constraints(node, keys, sub, key, mark, reader) -> None:
    L = reader.net.L
    roles = {ROLES[k] for k in keys}
    reader.require(lambda a, key=key: 1 <= a[key] <= L if key in a else None)
    if mark is not None:
        reader.require(lambda a, key=key, mark=mark: a[key] == _Reader.layer_of(mark, a)
                       if key in a and _Reader.layer_of(mark, a) is not None else None)
    if "b" in roles and "W" not in roles:
        if len(sub) != 1:
            raise UsageError(f"{g.to_latex(node)} needs one unit index")
        if not sub[0].isdigit():
            v = reader.letter_var(sub[0])
            reader.require(lambda a, key=key, v=v: a[key] == a[v] if key in a and v in a else None)
        return
    if len(sub) != 2:
        raise UsageError(f"{g.to_latex(node)} needs two indices, "
                         f"{'to, from' if reader.n.weight_order == 'to,from' else 'from, to'}")
    to, frm = sub if reader.n.weight_order == "to,from" else sub[::-1]
    if not to.isdigit():
        v = reader.letter_var(to)
        reader.require(lambda a, key=key, v=v: a[key] == a[v] if key in a and v in a else None)
    if not frm.isdigit():
        v = reader.letter_var(frm)
        reader.require(lambda a, key=key, v=v: a[key] == a[v] + 1 if key in a and v in a else None)


MAX_READINGS = 24


def read(text: str, *, notation: Notation, net: Network,
         index: Mapping[str, str] | None = None) -> tuple[g.Equation, list[tuple[dict, list[Claim]]]]:
    """Parse and bind: every reading of the equation as claims in canonical symbols."""
    eq = g.parse(text)
    if len(eq.sides) < 2:
        raise UsageError("an equation needs a left and a right side, e.g. "
                         "\\delta_k = y_k - t_k")
    reader = _Reader(notation, net, dict(index or {}))
    sides = list(eq.sides)
    if any(_uses_vectors(s, reader) for s in sides):
        used = {c for s in sides for c in _letters(s)}
        c = next(l for l in ("j", "k", "i", "m", "p", "q") if l not in used)
        sides = [_componentize(s, c, reader) for s in sides]
    sides = _scoped(sides)
    free = {c for s in sides for c in _free_letters(s)}
    for s in sides:
        for c in _summed_letters(s) & free:
            raise UsageError(f"the index {_shown(c)} is summed over and also free in the same "
                             "equation; give the summed index a letter of its own")
    for s in sides:
        _collect(s, reader)
    for letter in reader.hints:
        if letter not in reader.variables:
            raise UsageError(f"--index {letter}=...: the equation has no index {letter!r}")
    assignments = reader.solve()
    if not assignments:
        raise UsageError("no reading fits this network: the layers the symbols ask for "
                         f"contradict each other; in {notation.name}'s notation "
                         + reader.roles_text())
    readings = []
    for a in assignments[:MAX_READINGS]:
        b = _Builder(reader, a)
        built = [b.build(s) for s in sides]
        claims = []
        for side, node in zip(built, sides):
            if side.has(sp.zoo, sp.nan, sp.oo):
                raise UsageError(f"{g.to_latex(node)} divides by zero")
        for lhs, rhs in zip(built, built[1:]):
            eqn = sp.Eq(lhs, rhs, evaluate=False)
            free = sorted({i for i in eqn.free_symbols if isinstance(i, UnitIndex)} - _bound(eqn),
                          key=str)
            claims.append(Claim("check", 0, eqn, tuple(free)))
        letters = {k: v for k, v in a.items() if not k.startswith(("@", "#"))}
        readings.append((letters, claims))
    return eq, readings


def _rename(x: g.Node, old: str, new: str) -> g.Node:
    if isinstance(x, g.Symbol):
        return replace(x, sub=tuple(new if c == old else c for c in x.sub),
                       sup=_rename(x.sup, old, new) if x.sup is not None else None)
    if isinstance(x, g.Sum):
        if x.index == old:
            return x  # shadowed
        return replace(x, body=_rename(x.body, old, new),
                       index_set=_rename(x.index_set, old, new) if x.index_set else None)
    if isinstance(x, g.Add):
        return g.Add(tuple(_rename(t, old, new) for t in x.terms))
    if isinstance(x, (g.Mul, g.Hadamard)):
        return type(x)(tuple(_rename(f, old, new) for f in x.factors))
    if isinstance(x, (g.Neg, g.Paren, g.Transpose, g.Differential, g.Norm)):
        return type(x)(_rename(x.body, old, new))
    if isinstance(x, (g.Frac, g.Partial)):
        return type(x)(_rename(x.num, old, new), _rename(x.den, old, new))
    if isinstance(x, g.Call):
        return g.Call(x.func, tuple(_rename(a, old, new) for a in x.args))
    if isinstance(x, g.Power):
        return g.Power(_rename(x.base, old, new), _rename(x.exponent, old, new))
    if isinstance(x, g.Grad):
        return g.Grad(x.wrt, _rename(x.body, old, new))
    return x


def _scoped(sides: list[g.Node]) -> list[g.Node]:
    """Give each sum its own index: in sum_k ... + sum_k ... the two k may be units of
    different layers. A renamed index keeps its letter for display (k~2 prints as k)."""
    seen: dict[str, int] = {}

    def walk(x: g.Node) -> g.Node:
        if isinstance(x, g.Sum):
            index = x.index
            if index in _summed_letters(x.body):
                raise UsageError(f"the index {x.index} is summed twice, one sum inside the "
                                 "other; give the inner sum a letter of its own")
            if index in seen:
                seen[index] += 1
                index = f"{x.index}~{seen[x.index]}"
                x = replace(x, index=index, body=_rename(x.body, x.index, index))
            else:
                seen[index] = 1
            return replace(x, body=walk(x.body))
        if isinstance(x, g.Add):
            return g.Add(tuple(walk(t) for t in x.terms))
        if isinstance(x, (g.Mul, g.Hadamard)):
            return type(x)(tuple(walk(f) for f in x.factors))
        if isinstance(x, g.Neg):
            return g.Neg(walk(x.body))
        if isinstance(x, g.Frac):
            return g.Frac(walk(x.num), walk(x.den))
        return x

    return [walk(s) for s in sides]


def _free_letters(node: g.Node, bound: frozenset = frozenset()) -> set[str]:
    if isinstance(node, g.Symbol):
        return {c for c in node.sub if not c.isdigit() and c not in bound}
    if isinstance(node, g.Sum):
        return _free_letters(node.body, bound | {node.index})
    out: set[str] = set()
    for ch in _children(node):
        out |= _free_letters(ch, bound)
    return out


def _summed_letters(node: g.Node) -> set[str]:
    out = {node.index} if isinstance(node, g.Sum) else set()
    for ch in _children(node):
        out |= _summed_letters(ch)
    return out


def _bound(expr: sp.Basic) -> set:
    return {lim[0] for s in expr.atoms(sp.Sum) for lim in s.limits}


def _letters(node: g.Node) -> set[str]:
    out: set[str] = set()

    def visit(x):
        if isinstance(x, g.Symbol):
            out.update(x.sub)
        if isinstance(x, g.Sum):
            out.add(x.index)
        for ch in _children(x):
            visit(ch)

    visit(node)
    return out


def check_text(text: str, *, notation: Notation, net: Network,
               index: Mapping[str, str] | None = None, budget: float | None = 30.0) -> CheckResult:
    """Read an equation in a notation and decide it on the network, in every reading."""
    eq, readings = read(text, notation=notation, net=net, index=index)
    semantics = Semantics(net)
    domain, conditions = loss_domain(net)
    done = []
    for letters, claims in readings:
        outcomes = []
        for claim in claims:
            inst = instances(claim, net, semantics.meaning)
            outcome = prove(inst, conditions=conditions, domain=domain, budget=budget)
            if outcome.verdict is Verdict.PROVED and any(
                    i.lhs.has(KinkSide) or i.rhs.has(KinkSide) for i in inst):
                outcome = replace(outcome, note=(outcome.note + "; " if outcome.note else "")
                                  + "ReLU is not differentiable at 0: proved where no ReLU "
                                  "argument is 0")
            outcomes.append(outcome)
        worst = next((o for o in outcomes if o.verdict is Verdict.REFUTED),
                     next((o for o in outcomes if o.verdict is Verdict.UNDECIDED), None))
        if worst is None:
            worst = Outcome(Verdict.PROVED, tuple(c for o in outcomes for c in o.conditions),
                            note="; ".join(sorted({o.note for o in outcomes if o.note})))
        done.append(Reading(letters, tuple(claims), worst))
    return CheckResult(text, g.to_latex(eq), notation, net, tuple(done))
