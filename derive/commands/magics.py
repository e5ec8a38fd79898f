"""The IPython magics, loaded with `%load_ext bpcheck`:

    %bpcheck --notation bishop \\delta_k = y_k - t_k
    %%bpcheck --notation nielsen --output softmax --loss ce
    \\delta^L_j = a^L_j - y_j
    \\delta^L_j = \\frac{\\partial C}{\\partial a^L_j} \\sigma'(z^L_j)

The options are `check`'s (--notation, --layers, --hidden, --output, --loss, --no-bias,
--index, --budget); the rest of the line, or each non-empty line of the cell, is an
equation. Each result shows as maths in a notebook (the verdict, its conditions, the
diagnosis) and as one line in a terminal; the magic returns the results.
"""
from __future__ import annotations

from typing import Any

from ..errors import BpcheckError, UsageError
from ..io.notation_file import load_notation
from ..present.notebook import shown
from .check import check_any, check_text
from .network import network_from

OPTIONS = ("--notation", "--layers", "--hidden", "--output", "--loss", "--index", "--budget")
DEFAULTS = {"--layers": "2,3,2", "--hidden": "abstract", "--output": "identity",
            "--loss": "sse", "--budget": "30"}


def options(line: str) -> tuple[dict[str, Any], str]:
    """The options of a magic's line and the text after them.

    >>> options(r"--notation bishop --hidden tanh \\delta_k = y_k - t_k")
    ({'--notation': 'bishop', '--hidden': 'tanh'}, '\\\\delta_k = y_k - t_k')
    """
    words, out, index = line.split(), {}, []
    while words and words[0].startswith("--"):
        key = words.pop(0)
        if key == "--no-bias":
            out[key] = True
            continue
        if key not in OPTIONS:
            raise UsageError(f"{key}: not an option of %bpcheck; accepted: "
                             f"{', '.join(OPTIONS)}, --no-bias")
        if not words:
            raise UsageError(f"{key} needs a value")
        value = words.pop(0)
        if key == "--index":
            index.append(value)
        else:
            out[key] = value
    if index:
        out["--index"] = index
    return out, " ".join(words)


def run(line: str, cell: str | None = None) -> list:
    """The equations of a magic checked: the line's after its options, or the cell's."""
    given, rest = options(line)
    o = {**DEFAULTS, **given}
    net = network_from(layers=o["--layers"], hidden=o["--hidden"], output=o["--output"],
                       loss=o["--loss"], bias="--no-bias" not in o)
    index = dict(p.split("=", 1) for p in o.get("--index", []) if "=" in p)
    try:
        budget = float(o["--budget"])
    except ValueError:
        raise UsageError(f"--budget {o['--budget']!r}: give seconds, e.g. --budget 30") from None
    texts = [rest] if cell is None else [t.strip() for t in cell.splitlines() if t.strip()]
    if not any(texts):
        raise UsageError("no equation: write it after the options, or in the cell")
    if "--notation" not in given:  # as check does: each shipped notation that reads it
        return [shown(check_any(t, net=net, index=index, budget=budget)) for t in texts if t]
    notation = load_notation(o["--notation"])
    return [shown(check_text(t, notation=notation, net=net, index=index, budget=budget))
            for t in texts if t]


def load(ipython) -> None:
    """Register %bpcheck and %%bpcheck; a bad input shows as one line, not a traceback."""
    from IPython.display import display

    def magic(line: str, cell: str | None = None):
        try:
            results = run(line, cell)
        except BpcheckError as e:
            print(f"bpcheck: {e}")
            return None
        if cell is None:
            return results[0]
        for r in results:
            display(r)
        return None

    ipython.register_magic_function(magic, "line_cell", "bpcheck")
