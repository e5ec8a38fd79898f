"""A worked example's spec: a network and all its numbers, read and validated.

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
"""
from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import sympy as sp

from ..model.activation import ACTIVATIONS
from ..model.loss import LOSSES
from ..model.names import HIDDEN_ACTIVATIONS
from ..model.network import MAX_LAYERS, MAX_WEIGHTS, MAX_WIDTH
from ..model.spec import Spec
from .fields import Fields
from .files import parse_toml, read_text

MAX_MAGNITUDE = 10 ** 9

KEYS = ("title", "layers", "hidden", "output", "loss", "bias", "learning_rate", "input",
        "target", "weights", "biases")
CONCRETE_HIDDEN = tuple(n for n in HIDDEN_ACTIVATIONS if not ACTIVATIONS[n].abstract)
CONCRETE_OUTPUT = tuple(n for n in ACTIVATIONS if not ACTIVATIONS[n].abstract)

_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,40}(?:\.[0-9]{1,40})?(?:[eE][+-]?[0-9]{1,3})?"
                     r"|[0-9]{1,40}/[0-9]{1,40})")


def load_spec(path: str) -> Spec:
    """Read and validate a spec file: a regular file of at most 64 kB of UTF-8 TOML."""
    return parse_spec(read_text(path, what="spec"), source=path)


def parse_spec(text: str, *, source: str) -> Spec:
    """Validate a spec's text; every problem is a UsageError that names the key."""
    data = parse_toml(text, source=source, what="spec")
    return _Reader(data, source).spec()


class _Reader(Fields):
    """A spec file's table, read by type (io/fields.py), then checked as a network."""

    def __init__(self, data: dict, source: str):
        super().__init__(data, source=source)

    def required(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(f"missing key {key!r}; a spec needs {', '.join(_REQUIRED)}")
        return self.data[key]

    def spec(self) -> Spec:
        self.only(KEYS)
        layers = self.layers()
        L = len(layers) - 1
        hidden = self.activation("hidden", CONCRETE_HIDDEN, needed=L > 1)
        output = self.activation("output", CONCRETE_OUTPUT, needed=True)
        loss = self.loss(output, layers[-1])
        bias = self.choice("bias", (True, False), default=True)
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
        if not isinstance(value, str) or value not in LOSSES:
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


