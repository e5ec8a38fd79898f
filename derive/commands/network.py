"""The network a command is asked about, from its options as a user gives them: widths
as "2,3,2" (or names for every width at once), the activations, the loss, the biases."""
from __future__ import annotations

import re
from typing import Sequence

from ..errors import UsageError
from ..model.network import Network, make_network, parse_widths
from ..model.notation import Notation


def network_from(*, layers: str | Sequence[int], hidden: str, output: str, loss: str,
                 bias: bool, width: str | None = None, names: bool = False,
                 notations: Sequence[Notation] = ()) -> Network:
    """A layered network; `names` lets widths be symbols (--layers d,n,K), `width` makes
    every width one (--width n), and no width may be named by a letter a notation uses."""
    widths = parse_widths(layers, names=names) if isinstance(layers, str) else tuple(layers)
    if width is not None:
        if not re.fullmatch(r"[A-Za-z]", width):
            raise UsageError(f"--width {width!r}: give one letter, e.g. --width n; the "
                             "widths are then n_0 (input) to n_L (output)")
        if any(isinstance(w, str) for w in widths):
            raise UsageError("--width names every width; --layers names them one by one: "
                             "give one of the two")
        widths = tuple(f"{width}_{l}" for l in range(len(widths)))
    for name in (w for w in widths if isinstance(w, str)):
        for n in notations:
            if name.split("_")[0] in n.taken_letters():
                raise UsageError(f"width {name!r}: {name.split('_')[0]!r} is a letter of "
                                 f"{n.name}'s notation, which would read ambiguously; use "
                                 "another, e.g. n, N, D, M or K")
    return make_network(layers=widths, hidden=hidden, output=output, loss=loss, bias=bias)
