"""Worked examples: one network at one point, every number of one step of backpropagation.

A spec gives a network and all its numbers; `compute` runs the forward pass through the
engine's own expressions, then takes every delta and every gradient from the formulas the
engine derived and proved (the output-delta-general claim for the output layer, the
hidden-delta claim layer by layer backwards, the weight- and bias-gradient claims), never
from a separate hand-written backprop. A claim that is not proved is not used.

The spec is a TOML file (at most 64 kB):

```toml
title = "the classic 2-2-2 example"   # optional: a heading for the output
layers = [2, 2, 2]                  # widths, input first (as --layers)
hidden = "sigmoid"                  # identity, sigmoid, tanh, relu, softplus
output = "sigmoid"                  # the hidden ones and softmax
loss = "sse"                        # sse, bce, ce (the cross-entropies need output
                                    #   sigmoid or softmax; ce needs targets summing to 1)
bias = true                         # optional, default true
learning_rate = 0.5                 # positive
input = [0.05, 0.10]                # one number per input unit
target = [0.01, 0.99]               # one number per output unit

[weights]                           # one key per layer of weights, "1" to the output layer
"1" = [[0.15, 0.20],                # row j = the weights INTO unit j of layer 1,
       [0.25, 0.30]]                #   entry i = the weight FROM unit i of layer 0:
"2" = [[0.40, 0.45],                #   weights.l[j][i] is W[l][j, i], Bishop's w^(l)_ji
       [0.50, 0.55]]                #   (rows and entries counted from 1 in messages)

[biases]                            # required when bias = true, not allowed otherwise
"1" = [0.35, 0.35]                  # one number per unit of the layer
"2" = [0.60, 0.60]
```

Hidden layers need `hidden` (optional when there are none); the abstract activation has
no numbers and is refused. A number is a TOML integer or float, read exactly as the
decimal it is written as (0.15 is 3/20), or a string holding an integer, a decimal or a
fraction ("3/4", "-0.125", "1e-3"); nothing else, and nothing is evaluated. Numbers are at
most 10^9 in magnitude. Every problem is an error that names the key.

A `title` is shown as the heading (escaped in LaTeX, as is the file name).

Values stay exact (fractions, or decimals where they terminate) while they are rational,
which they are for identity and ReLU networks on a rational spec; where an activation
makes a value irrational it is evaluated with 15 guard digits and shown to `digits`
significant digits, marked ≈.

>>> ex = compute(parse_spec('''layers = [1, 1]
... output = "identity"
... loss = "sse"
... bias = false
... learning_rate = "1/2"
... input = [2]
... target = [1]
... weights = { "1" = [[1]] }''', source="tiny.toml"))
>>> ex.loss, ex.gradient(ex.net.W(1)[1, 1]), ex.after(ex.net.W(1)[1, 1])
(1/2, 2, 0)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator

import sympy as sp

from .activation import ACTIVATIONS, HIDDEN_ACTIVATIONS, KinkSide
from .checks import Claim, Derivation, instances
from .files import parse_toml, read_text
from .errors import NotSupported, UsageError
from .expr import Partial
from .loss import LOSSES
from .network import MAX_LAYERS, MAX_WEIGHTS, MAX_WIDTH, Network, make_network, role_of
from .notation import Notation, load_notation
from .proof import Verdict
from .render import latex, text, text_symbol

MAX_MAGNITUDE = 10 ** 9
MAX_DIGITS = 50
GUARD_DIGITS = 15

KEYS = ("title", "layers", "hidden", "output", "loss", "bias", "learning_rate", "input",
        "target", "weights", "biases")
CONCRETE_HIDDEN = tuple(n for n in HIDDEN_ACTIVATIONS if not ACTIVATIONS[n].abstract)
CONCRETE_OUTPUT = tuple(n for n in ACTIVATIONS if not ACTIVATIONS[n].abstract)

_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,40}(?:\.[0-9]{1,40})?(?:[eE][+-]?[0-9]{1,3})?"
                     r"|[0-9]{1,40}/[0-9]{1,40})")


# -- the spec -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """A validated spec: the network and all its numbers, exact (SymPy Rationals).

    `weights[l - 1][j - 1][i - 1]` is W[l][j, i]; `biases` is None without biases.
    """

    source: str
    title: str
    layers: tuple[int, ...]
    hidden: str
    output: str
    loss: str
    bias: bool
    learning_rate: sp.Rational
    input: tuple[sp.Rational, ...]
    target: tuple[sp.Rational, ...]
    weights: tuple[tuple[tuple[sp.Rational, ...], ...], ...]
    biases: tuple[tuple[sp.Rational, ...], ...] | None

    def network(self) -> Network:
        return make_network(layers=self.layers, hidden=self.hidden, output=self.output,
                            loss=self.loss, bias=self.bias)


def load_spec(path: str) -> Spec:
    """Read and validate a spec file: a regular file of at most 64 kB of UTF-8 TOML."""
    return parse_spec(read_text(path, what="spec"), source=path)


def parse_spec(text: str, *, source: str) -> Spec:
    """Validate a spec's text; every problem is a UsageError that names the key."""
    data = parse_toml(text, source=source, what="spec")
    return _Reader(data, source).spec()


class _Reader:
    def __init__(self, data: dict, source: str):
        self.data, self.source = data, source

    def fail(self, message: str) -> UsageError:
        return UsageError(f"{self.source}: {message}")

    def required(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(f"missing key {key!r}; a spec needs {', '.join(_REQUIRED)}")
        return self.data[key]

    def spec(self) -> Spec:
        unknown = [k for k in self.data if k not in KEYS]
        if unknown:
            raise self.fail(f"unknown key {unknown[0]!r}; accepted keys: {', '.join(KEYS)}")
        layers = self.layers()
        L = len(layers) - 1
        hidden = self.activation("hidden", CONCRETE_HIDDEN, needed=L > 1)
        output = self.activation("output", CONCRETE_OUTPUT, needed=True)
        loss = self.loss(output, layers[-1])
        bias = self.data.get("bias", True)
        if not isinstance(bias, bool):
            raise self.fail(f"bias = {bias!r} is not one of true, false")
        title = self.data.get("title", "")
        if not isinstance(title, str) or len(title) > 200 or "\n" in title:
            raise self.fail(f"title must be one line of at most 200 characters, got {title!r}")
        eta = self.number(self.required("learning_rate"), "learning_rate")
        if eta <= 0:
            raise self.fail(f"learning_rate = {eta}: give a positive number")
        x = self.vector(self.required("input"), "input", layers[0],
                        "the input layer has {units}")
        t = self.vector(self.required("target"), "target", layers[-1],
                        "the output layer has {units}")
        self.targets(loss, t)
        weights = self.weights(layers)
        biases = self.biases(layers, bias)
        return Spec(self.source, title, layers, hidden, output, loss, bias, eta, x, t,
                    weights, biases)

    # pieces ---------------------------------------------------------------------------
    def layers(self) -> tuple[int, ...]:
        value = self.required("layers")
        if not isinstance(value, list) or not all(
                isinstance(w, int) and not isinstance(w, bool) for w in value):
            raise self.fail(f"layers = {value!r}: give a list of positive integers, input "
                            "first, e.g. layers = [2, 2, 2]")
        if len(value) < 2:
            raise self.fail(f"layers = {value!r}: give at least two widths (input and output)")
        if len(value) > MAX_LAYERS + 1:
            raise self.fail(f"layers: {len(value) - 1} layers of weights is beyond the bound "
                            f"of {MAX_LAYERS}")
        for w in value:
            if not 1 <= w <= MAX_WIDTH:
                raise self.fail(f"layers: width {w} is not an integer from 1 to {MAX_WIDTH}")
        n = sum(value[l] * (value[l - 1] + 1) for l in range(1, len(value)))
        if n > MAX_WEIGHTS:
            raise self.fail(f"layers = {value!r} has more than {MAX_WEIGHTS} weights and biases")
        return tuple(value)

    def activation(self, key: str, accepted: tuple[str, ...], *, needed: bool) -> str:
        if key not in self.data and not needed:
            return "identity"  # a network without hidden layers: never used
        value = self.required(key)
        if value == "abstract":
            raise self.fail(f"{key} = 'abstract' stands for every activation and has no "
                            f"numbers; a worked example needs a concrete one: "
                            f"{', '.join(accepted)}")
        if value not in accepted:
            why = " (softmax couples the units of a layer: output only)" \
                if key == "hidden" and value == "softmax" else ""
            raise self.fail(f"{key} = {value!r} is not one of {', '.join(accepted)}{why}")
        return value

    def loss(self, output: str, n_out: int) -> str:
        value = self.required("loss")
        if value not in LOSSES:
            raise self.fail(f"loss = {value!r} is not one of {', '.join(LOSSES)}")
        o = ACTIVATIONS[output]
        if LOSSES[value].needs_unit_interval and not o.unit_interval:
            fits = " or ".join(n for n in CONCRETE_OUTPUT if ACTIVATIONS[n].unit_interval)
            raise self.fail(f"loss = {value!r} takes logarithms of the outputs, which output = "
                            f"{output!r} does not keep in (0, 1); use output = {fits}")
        if o.min_width > n_out:
            raise self.fail(f"output = {output!r} needs at least {o.min_width} output units; "
                            f"layers gives {n_out}")
        return value

    def number(self, value: Any, where: str) -> sp.Rational:
        """An exact number: a TOML integer or float, or a string in the strict syntax."""
        hint = ("write an integer, a decimal (0.15) or a fraction in a string (\"3/4\")")
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise self.fail(f"{where}: {_show(value)} is not a number; {hint}")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(f"{where}: {value!r} is not a finite number")
            r = _exact(repr(value))  # the shortest decimal that reads back as the float
        elif isinstance(value, int):
            r = sp.Integer(value) if abs(value) <= MAX_MAGNITUDE else None
        else:
            if not _NUMBER.fullmatch(value):
                raise self.fail(f"{where}: {value!r} is not a number; {hint}")
            if value.partition("/")[2].strip("0") == "" and "/" in value:
                raise self.fail(f"{where}: {value!r} divides by zero")
            r = _exact(value)
        if r is None or abs(r) > MAX_MAGNITUDE:
            raise self.fail(f"{where}: {_show(value)} is beyond the bound of 10^9 in magnitude")
        return r

    def vector(self, value: Any, where: str, n: int, what: str) -> tuple[sp.Rational, ...]:
        if not isinstance(value, list):
            raise self.fail(f"{where} must be a list of {n} numbers, got {_show(value)}")
        if len(value) != n:
            raise self.fail(f"{where} has {_count(len(value), 'number')}; "
                            f"{what.format(units=_count(n, 'unit'))}")
        return tuple(self.number(v, f"{where} entry {i}") for i, v in enumerate(value, 1))

    def targets(self, loss: str, t: tuple[sp.Rational, ...]) -> None:
        if LOSSES[loss].needs_unit_interval:
            for k, v in enumerate(t, 1):
                if not 0 <= v <= 1:
                    raise self.fail(f"target entry {k} = {v}: loss = {loss!r} needs targets "
                                    "from 0 to 1")
        if LOSSES[loss].targets_sum_to_one and sum(t) != 1:
            raise self.fail(f"target sums to {sum(t)}; loss = {loss!r} needs targets that sum "
                            "to 1 (a distribution, e.g. one-hot)")

    def layer_table(self, key: str, L: int) -> dict:
        table = self.data[key]
        if not isinstance(table, dict):
            raise self.fail(f"{key} must be a table with keys \"1\" to \"{L}\", one a layer")
        for k in table:
            if k not in {str(l) for l in range(1, L + 1)}:
                raise self.fail(f"{key}.{k}: the network's layers of weights are \"1\" to "
                                f"\"{L}\"")
        return table

    def weights(self, layers: tuple[int, ...]):
        L = len(layers) - 1
        self.required("weights")
        table = self.layer_table("weights", L)
        out = []
        for l in range(1, L + 1):
            n, m = layers[l], layers[l - 1]
            key = f"weights.{l}"
            if str(l) not in table:
                raise self.fail(f"{key} is missing: give layer {l}'s weights as {n} rows (one "
                                f"per unit of layer {l}) of {m} numbers (one per unit of "
                                f"layer {l - 1})")
            rows = table[str(l)]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise self.fail(f"{key} must be a list of {n} rows, each a list of {m} numbers")
            if len(rows) != n:
                raise self.fail(f"{key} has {_count(len(rows), 'row')}; layer {l} has "
                                f"{_count(n, 'unit')} (one row each)")
            matrix = []
            for j, row in enumerate(rows, 1):
                if len(row) != m:
                    raise self.fail(f"{key} row {j} has {_count(len(row), 'number')}; layer {l} "
                                    f"takes {_count(m, 'input')}")
                matrix.append(tuple(self.number(v, f"{key} row {j} entry {i}")
                                    for i, v in enumerate(row, 1)))
            out.append(tuple(matrix))
        return tuple(out)

    def biases(self, layers: tuple[int, ...], bias: bool):
        L = len(layers) - 1
        if not bias:
            if "biases" in self.data:
                raise self.fail("biases is given but bias = false; remove [biases] or set "
                                "bias = true")
            return None
        if "biases" not in self.data:
            raise self.fail("biases is missing: bias = true (the default) needs a [biases] "
                            "table, one list a layer; or set bias = false")
        table = self.layer_table("biases", L)
        out = []
        for l in range(1, L + 1):
            key = f"biases.{l}"
            if str(l) not in table:
                raise self.fail(f"{key} is missing: give layer {l}'s {layers[l]} biases")
            out.append(self.vector(table[str(l)], key, layers[l],
                                   f"layer {l} has {{units}}"))
        return tuple(out)


_REQUIRED = ("layers", "hidden", "output", "loss", "learning_rate", "input", "target",
             "weights")


def _exact(literal: str) -> sp.Rational:
    """The exact value of a decimal or fraction literal (already matched by _NUMBER)."""
    f = Fraction(literal)
    return sp.Rational(f.numerator, f.denominator)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _show(value: Any) -> str:
    s = repr(value)
    return s if len(s) <= 40 else s[:37] + "..."


# -- computing ------------------------------------------------------------------------------

class _Point:
    """The numbers of the network at the spec's point, and the evaluation of an engine
    expression there: exact while rational, else a Float at the working precision."""

    def __init__(self, source: str, precision: int):
        self.source, self.precision = source, precision
        self.values: dict[sp.Basic, sp.Expr] = {}

    def __setitem__(self, q: sp.Basic, v: sp.Expr) -> None:
        self.values[q] = v

    def __getitem__(self, q: sp.Basic) -> sp.Expr:
        return self.values[q]

    def side(self, k: KinkSide) -> sp.Integer:
        """The ReLU's side at this point: 1 where its argument is positive, 0 where not."""
        v = self(k.of)
        if v == 0:
            role, l = role_of(k.of.base)
            raise UsageError(f"{self.source}: ReLU is not differentiable at 0: unit "
                             f"{k.of.indices[0]} of layer {l} has weighted input exactly 0 "
                             "here; change one of its weights, its bias or the input")
        return sp.Integer(1 if v > 0 else 0)

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        kinks = {k: self.side(k) for k in expr.atoms(KinkSide)}
        v = expr.xreplace(kinks).xreplace(self.values)
        if v.free_symbols:
            raise AssertionError(f"no value for {sorted(map(str, v.free_symbols))} in {expr}")
        if v.is_Rational:
            return v
        v = sp.N(v, self.precision)
        if not v.is_Number or not v.is_finite:
            raise NotSupported(f"{self.source}: a value is not a real number here ({v}); "
                               "is an output at 0 or 1 under a cross-entropy?")
        return v


def _proved(d: Derivation, id: str, layer: int) -> Claim:
    """The engine's claim, which must be proved before a number is computed from it."""
    check = d.check(id, layer)
    if check.outcome.verdict is not Verdict.PROVED:
        o = check.outcome
        why = f"{o.verdict}: {o.note}" if o.note else str(o.verdict)
        raise NotSupported(f"the engine did not prove {id} at layer {layer} ({why}); a worked "
                           "example computes from proved formulas only")
    return check.claim


def compute(spec: Spec, *, digits: int = 10, notation: Notation | None = None,
            budget: float | None = 30.0) -> "WorkedExample":
    """One step of backpropagation on the spec's network, every delta and gradient from the
    engine's proved formulas. `budget`: seconds each proof may take (see Derivation)."""
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= MAX_DIGITS:
        raise UsageError(f"--digits {digits!r}: give an integer from 1 to {MAX_DIGITS}")
    net = spec.network()
    L, E = net.L, net.E
    at = _Point(spec.source, digits + GUARD_DIGITS)
    for l in range(1, L + 1):
        for j in net.units(l):
            for i in net.units(l - 1):
                at[net.W(l)[j, i]] = spec.weights[l - 1][j - 1][i - 1]
            if net.bias:
                at[net.b(l)[j]] = spec.biases[l - 1][j - 1]
    for i in net.units(0):
        at[net.out(0)[i]] = spec.input[i - 1]
    for k in net.units(L):
        at[net.t[k]] = spec.target[k - 1]

    # forward: the engine's own expressions of the network
    for l in range(1, L + 1):
        for j in net.units(l):
            at[net.pre(l)[j]] = at(net.weighted_input(l, j))
        for j, y in zip(net.units(l), net.layer_outputs(l)):
            at[net.out(l)[j]] = at(y)
    loss = at(net.loss_value())

    # backward: the proved claims, the output layer first, then layer by layer
    d = Derivation(net, budget=budget)
    truth = d.delta_truth(L)  # each written dE/dy, dy/da of the claim, as derivatives
    for inst in instances(_proved(d, "output-delta-general", L), net,
                          lambda e: e.xreplace(truth)):
        (_, k), = inst.index
        at[net.delta(L)[k]] = at(inst.rhs)
    for l in range(L - 1, 0, -1):
        slope = {k: v for k, v in d.hidden_truth(l).items() if isinstance(k, sp.Derivative)}
        for inst in instances(_proved(d, "hidden-delta", l), net, lambda e: e.xreplace(slope)):
            (_, j), = inst.index
            at[net.delta(l)[j]] = at(inst.rhs)  # h'(a_j) sum_k w_kj delta_k, deltas known
    gradients: list[tuple[sp.Indexed, sp.Expr]] = []
    for l in range(1, L + 1):
        ids = ("weight-gradient", "bias-gradient") if net.bias else ("weight-gradient",)
        for id in ids:
            for inst in instances(_proved(d, id, l), net, lambda e: e):
                assert isinstance(inst.lhs, Partial) and inst.lhs.num == E
                gradients.append((inst.lhs.den, at(inst.rhs)))
    eta = spec.learning_rate
    updated = tuple((p, at(at[p] - eta * g)) for p, g in gradients)
    return WorkedExample(spec, net, digits, notation or load_notation("bishop"),
                         tuple(at.values.items()), loss, tuple(gradients), updated)


def run(spec_path: str, *, notation: Notation, digits: int = 10,
        budget: float | None = 30.0) -> "WorkedExample":
    """What `bpcheck example SPEC.toml` computes: the spec read, validated and worked."""
    return compute(load_spec(spec_path), digits=digits, notation=notation, budget=budget)


# -- showing --------------------------------------------------------------------------------

def _decimal(r: sp.Rational) -> str | None:
    """The exact decimal of a rational whose expansion terminates (within 30 places)."""
    q, a, b = int(r.q), 0, 0
    while q % 2 == 0:
        q, a = q // 2, a + 1
    while q % 5 == 0:
        q, b = q // 5, b + 1
    n = max(a, b)
    if q != 1 or n > 30:
        return None
    digits = str(abs(int(r.p)) * 10 ** n // int(r.q)).rjust(n + 1, "0")
    sign = "-" if r < 0 else ""
    return sign + digits[:len(digits) - n] + "." + digits[len(digits) - n:]


@dataclass(frozen=True)
class Number:
    """A value as shown: exact (an integer, a terminating decimal or a fraction) or
    rounded to the example's digits."""

    value: sp.Expr
    digits: int

    @property
    def exact(self) -> bool:
        return bool(self.value.is_Rational)

    def plain(self) -> str:
        v = self.value
        if v.is_Rational:
            if v.q == 1:
                return str(v.p)
            return _decimal(v) or f"{v.p}/{v.q}"
        return str(sp.N(v, self.digits))

    def text(self) -> str:
        return self.plain() if self.exact else "≈ " + self.plain()

    def latex(self) -> str:
        v, s = self.value, self.plain()
        if self.exact:
            if v.q != 1 and "/" in s:
                return ("-" if v < 0 else "") + rf"\frac{{{abs(v.p)}}}{{{v.q}}}"
            return s
        mantissa, _, exponent = s.partition("e")
        if exponent:
            s = rf"{mantissa} \times 10^{{{int(exponent)}}}"
        return r"\approx " + s


@dataclass(frozen=True)
class Row:
    quantity: str      # the canonical quantity, e.g. "W2[1,1]", "dE/db1[2]", "W2[1,1] updated"
    label: str         # in the notation, terminal text
    label_latex: str
    number: Number     # in the notation (Eglen's delta has the opposite sign)


@dataclass(frozen=True)
class Section:
    title: str
    title_latex: str
    rows: tuple[Row, ...]


def _key(q: sp.Basic) -> str:
    if isinstance(q, Partial):
        return f"d{_key(q.num)}/d{_key(q.den)}"
    if isinstance(q, sp.Indexed):
        return f"{q.base.label}[{','.join(str(i) for i in q.indices)}]"
    return str(q)


def _tex_escape(s: str) -> str:
    """User-supplied text (a file name, a title) as LaTeX text that cannot run anything."""
    special = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"$\$$", "&": r"\&",
               "#": r"\#", "^": r"\^{}", "_": r"\_", "%": r"\%",
               "~": r"\~{}", "<": "$<$", ">": "$>$", "|": "$|$", '"': "''",
               "-": "-{}"}
    return "".join(special.get(c, c if " " <= c <= "~" else "?") for c in s)


_LOSS_WORDS = {"sse": "sum of squares", "bce": "binary cross-entropy",
               "ce": "multiclass cross-entropy"}


@dataclass(frozen=True, eq=False)
class WorkedExample:
    """Every number of one step of backpropagation, by canonical quantity.

    `values`: W, b (before the step), out0 (the input), t, and for each layer pre, out and
    delta (canonical: delta = +dE/d pre); `gradients`: each weight and bias with dE/d it;
    `updated`: each weight and bias after w - eta dE/dw. Rendered in `notation`.
    """

    spec: Spec
    net: Network
    digits: int
    notation: Notation
    values: tuple[tuple[sp.Basic, sp.Expr], ...]
    loss: sp.Expr
    gradients: tuple[tuple[sp.Indexed, sp.Expr], ...]
    updated: tuple[tuple[sp.Indexed, sp.Expr], ...]

    # -- lookups ----------------------------------------------------------------------------
    def value(self, q: sp.Basic) -> sp.Expr:
        """The value of a canonical quantity at the point (before the step)."""
        return dict(self.values)[q]

    def gradient(self, p: sp.Indexed) -> sp.Expr:
        return dict(self.gradients)[p]

    def after(self, p: sp.Indexed) -> sp.Expr:
        return dict(self.updated)[p]

    @property
    def exact(self) -> bool:
        """Every number is rational, and shown exactly."""
        nums = [v for _, v in self.values + self.gradients + self.updated] + [self.loss]
        return all(v.is_Rational for v in nums)

    # -- in a notation ----------------------------------------------------------------------
    def _layer_words(self, n: Notation, l: int) -> str:
        kind = "input" if l == 0 else "output" if l == self.net.L else "hidden"
        return f"layer {n.layer_label(l, self.net.L)} ({kind})"

    def sections(self, notation: Notation | None = None) -> list[Section]:
        n, net, L = notation or self.notation, self.net, self.net.L
        num = lambda v: Number(v, self.digits)
        row = lambda key, q, v: Row(key, text(q, n, net), latex(q, n, net), num(v))
        values, grads, after = dict(self.values), dict(self.gradients), dict(self.updated)
        eta_t, eta_l = text_symbol(n.symbols["learning_rate"]), n.symbols["learning_rate"]
        shown = [p for p, _ in self.gradients
                 if role_of(p.base)[0] == "W" or n.bias_style != "none"]
        out = []
        for l in range(L + 1):
            qs = [net.out(0)[i] for i in net.units(0)] if l == 0 else \
                [net.pre(l)[j] for j in net.units(l)] + [net.out(l)[j] for j in net.units(l)]
            words = self._layer_words(n, l)
            out.append(Section(f"forward, {words}", f"Forward pass, {words}",
                               tuple(row(_key(q), q, values[q]) for q in qs)))
        out.append(Section("targets", "Targets", tuple(
            row(_key(net.t[k]), net.t[k], values[net.t[k]]) for k in net.units(L))))
        kind = _LOSS_WORDS.get(net.loss.name, net.loss.name)
        out.append(Section(f"loss ({kind})", f"Loss ({kind})",
                           (row("E", net.E, self.loss),)))
        for l in range(L, 0, -1):
            words = self._layer_words(n, l)
            out.append(Section(f"deltas, {words}", f"Deltas, {words}", tuple(
                row(_key(net.delta(l)[j]), net.delta(l)[j], n.delta_sign * values[net.delta(l)[j]])
                for j in net.units(l))))
        for l in range(1, L + 1):
            mine = [p for p in shown if role_of(p.base)[1] == l]
            words = f"layer {n.layer_label(l, L)}"
            out.append(Section(f"gradients, {words}", f"Gradients, {words}", tuple(
                row(_key(Partial(net.E, p)), Partial(net.E, p), grads[p]) for p in mine)))
            out.append(Section(
                f"after one step ({eta_t} = {num(self.spec.learning_rate).plain()}), {words}",
                rf"After one step (${eta_l} = {num(self.spec.learning_rate).latex()}$), {words}",
                tuple(row(_key(p) + " updated", p, after[p]) for p in mine)))
        return out

    def rows(self, notation: Notation | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
        """Each section's title and its (label, value) rows, as terminal text."""
        return [(s.title, [(r.label, r.number.text()) for r in s.rows])
                for s in self.sections(notation)]

    def notes(self, notation: Notation | None = None) -> list[tuple[str, str]]:
        """What a reader needs to know, as (text, LaTeX) pairs."""
        n, net = notation or self.notation, self.net
        sym = n.symbols
        t = {k: text_symbol(v) for k, v in sym.items()}
        out = []
        pair = []
        for names, dollar in ((t, ""), (sym, "$")):
            h = f"{dollar}{names['hidden_activation']}{dollar}"
            f = f"{dollar}{names['output_activation']}{dollar}"
            if net.L == 1:
                words = f"{f} is {net.output.name}."
            elif h != f:
                words = (f"{h} is {net.hidden.name} (hidden layers), {f} is {net.output.name} "
                         "(output layer).")
            else:
                words = (f"{h} is {net.hidden.name} in the hidden layers and {net.output.name} "
                         "in the output layer.")
            pair.append(words)
        out.append(tuple(pair))
        rule_t = f"w ← w − {t['learning_rate']} ∂{t['error']}/∂w"
        rule_l = (rf"$w \leftarrow w - {sym['learning_rate']} \, \partial {sym['error']} "
                  r"/ \partial w$")
        out.append((f"Deltas from the engine's proved formulas (output layer, then each hidden "
                    f"layer from the one after it); gradients from the proved gradient "
                    f"formulas; one step of gradient descent, {rule_t}.",
                    f"Deltas from the engine's proved formulas (output layer, then each hidden "
                    f"layer from the one after it); gradients from the proved gradient "
                    f"formulas; one step of gradient descent, {rule_l}."))
        if n.delta_sign == -1:
            out.append((f"{t['delta']} has the opposite sign here: {t['delta']} = "
                        f"−∂{t['error']}/∂{t['weighted_input']}.",
                        f"${sym['delta']}$ has the opposite sign here: ${sym['delta']} = "
                        rf"-\partial {sym['error']} / \partial {sym['weighted_input']}$."))
        if net.bias and n.bias_style == "none":
            out.append(("This notation has no biases: the network's biases are in the forward "
                        "pass, but their gradients and updates are not shown.",
                        "This notation has no biases: the network's biases are in the forward "
                        "pass, but their gradients and updates are not shown."))
        if net.bias and n.bias_style == "weight":
            out.append(("Biases are written as weights from a unit fixed at 1 (index 0).",
                        "Biases are written as weights from a unit fixed at 1 (index 0)."))
        if not self.exact:
            out.append((f"Exact values are integers, decimals and fractions; ≈ marks a value "
                        f"rounded to {self.digits} significant digits.",
                        f"Exact values are integers, decimals and fractions; $\\approx$ marks "
                        f"a value rounded to {self.digits} significant digits."))
        return out

    def heading(self) -> str:
        return self.spec.title or self.spec.source

    def network_words(self) -> str:
        net = self.net
        return (f"{'-'.join(map(str, net.widths))}: hidden {net.hidden.name}, output "
                f"{net.output.name}, loss {net.loss.name}, "
                f"{'biases' if net.bias else 'no biases'}, {net.n_weights} parameters")

    # -- outputs ----------------------------------------------------------------------------
    def to_json(self, notation: Notation | None = None) -> dict[str, Any]:
        n, net = notation or self.notation, self.net
        return {
            "source": self.spec.source, "title": self.spec.title,
            "network": {"layers": list(net.widths), "hidden": net.hidden.name,
                        "output": net.output.name, "loss": net.loss.name, "bias": net.bias},
            "learning_rate": Number(self.spec.learning_rate, self.digits).plain(),
            "digits": self.digits, "notation": n.name,
            "loss": {"value": Number(self.loss, self.digits).plain(),
                     "exact": bool(self.loss.is_Rational)},
            "notes": [t for t, _ in self.notes(n)],
            "sections": [{"title": s.title, "rows": [
                {"quantity": r.quantity, "label": r.label, "label_latex": r.label_latex,
                 "value": r.number.plain(), "exact": r.number.exact} for r in s.rows]}
                for s in self.sections(n)],
        }

    def to_latex(self, notation: Notation | None = None) -> str:
        """A complete LaTeX document (pdflatex, no shell escape) with every number."""
        n = notation or self.notation
        lines = [r"\documentclass{article}", r"\usepackage{amsmath}",
                 r"\usepackage[margin=2.5cm]{geometry}",
                 r"\allowdisplaybreaks", r"\begin{document}",
                 rf"\section*{{Worked example: {_tex_escape(self.heading())}}}",
                 rf"Network {_tex_escape(self.network_words())}, one step of backpropagation "
                 rf"in the notation of {_tex_escape(n.title)}.", ""]
        for _, note in self.notes(n):
            lines += [note, ""]
        for s in self.sections(n):
            if not s.rows:
                continue
            lines.append(rf"\subsection*{{{s.title_latex}}}")
            lines.append(r"\begin{align*}")
            body = []
            for r in s.rows:
                rel = "" if r.number.latex().startswith(r"\approx") else "= "
                body.append(f"  {r.label_latex} &{rel}{r.number.latex()}")
            lines.append(" \\\\\n".join(body))
            lines.append(r"\end{align*}")
        lines.append(r"\end{document}")
        return "\n".join(lines) + "\n"

    def __rich_console__(self, console, options) -> Iterator:
        from rich.padding import Padding
        from rich.table import Table
        from rich.text import Text

        from .console import _box
        n = self.notation
        yield Text.assemble(("Worked example ", "bold"), self.heading(),
                            (f"   ({n.title})", "dim"))
        yield Text.assemble(("Network ", "bold"), self.network_words())
        for note, _ in self.notes(n):
            yield Padding(Text(note, style="italic"), (0, 2), expand=False)
        for s in self.sections(n):
            if not s.rows:
                continue
            yield Text(s.title, style="bold")
            t = Table(box=None, show_header=False, padding=(0, 2), pad_edge=False)
            t.add_column("quantity", no_wrap=True)
            t.add_column("value", overflow="fold")
            for r in s.rows:
                t.add_row(r.label, Text(r.number.text(), style="" if r.number.exact else "cyan"))
            yield Padding(t, (0, 2), expand=False)
