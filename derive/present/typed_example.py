"""A worked example on a network of typed layers (`example --net FILE`): the values drawn,
every layer's input, parameters and output, the loss, then the backward pass layer by
layer, last first. `__rich_console__` for the terminal, `typed_example_json` for machines.
"""
from __future__ import annotations

from typing import Any, Iterator

import sympy as sp
from rich.console import Console, ConsoleOptions
from rich.text import Text

from ..engine.typed_example import DENOMINATORS, VALUES, TypedExample


def number(v: sp.Expr, digits: int) -> str:
    return str(v) if v.is_Rational else str(sp.N(v, digits))


def grid(rows, digits: int) -> str:
    """Rows separated by semicolons: [a, b; c, d]."""
    return "[" + "; ".join(", ".join(number(v, digits) for v in row) for row in rows) + "]"


def _param(entries: dict, digits: int) -> str:
    return ", ".join(f"[{','.join(map(str, ix))}] {number(v, digits)}" for ix, v in entries.items())


class TypedExampleView:
    def __init__(self, example: TypedExample):
        self.example = example

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator:
        ex, d = self.example, self.example.digits
        yield Text(ex.net.title, style="bold")
        again = (f" (its draw {ex.draw + 1}: each before put a value at a kink, where there "
                 "is no slope)") if ex.draw else ""
        yield Text(f"values drawn with --seed {ex.seed}{again}: each input and parameter one of "
                   f"{', '.join(map(str, VALUES))} over one of {', '.join(map(str, DENOMINATORS))}"
                   f"; epsilon = {ex.epsilon}; rows are {ex.net.row_word}s", style="dim")
        yield Text(f"input X = {grid(ex.layers[0].X, d)}")
        yield Text("\nforward", style="bold")
        for n in ex.layers:
            yield Text(f"  layer {n.at} ({n.kind}): Y = {grid(n.Y, d)}")
            for name, entries in n.params.items():
                yield Text(f"      {name}: {_param(entries, d)}")
        yield Text(f"  targets T = {grid(ex.targets, d)}")
        yield Text(f"  loss {ex.net.loss}: E = {number(ex.loss, d)}")
        yield Text("\nbackward (each layer's backward equations, as report --net proves them, "
                   "proved again before they are used)", style="bold")
        for n in reversed(ex.layers):
            mark = "proved" if n.proved else "NOT PROVED"
            yield Text(f"  layer {n.at} ({n.kind}), {mark}: dE/dY = {grid(n.G, d)}")
            yield Text(f"      dE/dX = {grid(n.dX, d)}")
            for name, entries in n.dparams.items():
                yield Text(f"      dE/d{name}: {_param(entries, d)}")


def typed_example_json(ex: TypedExample) -> dict[str, Any]:
    d = ex.digits
    g = lambda rows: [[number(v, d) for v in row] for row in rows]
    p = lambda params: {name: {",".join(map(str, ix)): number(v, d) for ix, v in e.items()}
                        for name, e in params.items()}
    return {"title": ex.net.title, "seed": ex.seed, "draw": ex.draw + 1, "digits": d, "epsilon": str(ex.epsilon),
            "input": g(ex.layers[0].X), "targets": g(ex.targets), "loss": number(ex.loss, d),
            "proved": ex.proved,
            "layers": [{"at": n.at, "kind": n.kind, "output": g(n.Y), "parameters": p(n.params),
                        "dE_dY": g(n.G), "dE_dX": g(n.dX), "gradients": p(n.dparams),
                        "proved": n.proved} for n in ex.layers]}
