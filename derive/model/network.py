"""The one canonical network model that every notation renders and binds.

Layers are numbered 0 (input) to L (output). For l = 1..L:

    pre[l][j] = sum_i W[l][j, i] out[l-1][i] + b[l][j]
    out[l][j] = phi_l(pre[l])_j

and the loss E(out[L], t). Every quantity is a SymPy IndexedBase per layer, so the same
network serves a concrete size (indices 1..n) and a generic index (a UnitIndex symbol).

>>> net = make_network(layers=(2, 3, 2))
>>> net.L, net.width(1), net.W(2)[1, 3]
(2, 3, W2[1, 3])
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import sympy as sp

from .activation import ACTIVATIONS, Activation, activation
from .graph import Edge, Graph, Unit, own_function
from ..errors import UsageError
from .loss import Loss, loss as loss_named

MAX_WIDTH = 32
MAX_LAYERS = 12
MAX_WEIGHTS = 13_000  # 12 layers of 32 units, with biases: 12 672

ROLES = ("pre", "out", "W", "b", "delta")
_BASE = re.compile(r"^(pre|out|W|b|delta)(\d+)$")


class UnitIndex(sp.Symbol):
    """A generic unit index of a layer, named for its role in an equation.

    Roles: "this" (the unit the equation is about), "prev" (a unit it receives from),
    "next" (a unit it sends to), "sum" (another unit of the same layer). `forward` marks
    the indices of the forward equations, which some notations letter differently
    (Eglen: a_j = sum_i w_ij y_i there, but dE/dw_pq for one specific connection).
    """

    def __new__(cls, role: str, layer: int, forward: bool = False) -> "UnitIndex":
        name = f"{'f' if forward else ''}{role}@{layer}"
        obj = super().__new__(cls, name, integer=True, positive=True)
        obj.role, obj.layer, obj.forward = role, layer, forward
        return obj

    def __getnewargs_ex__(self):
        return ((self.role, self.layer, self.forward), {})


def role_of(base: sp.IndexedBase) -> tuple[str, int | None]:
    """('pre', 2) for the IndexedBase pre2; ('t', None) for the targets."""
    name = str(base.label)
    m = _BASE.match(name)
    if m:
        return m.group(1), int(m.group(2))
    return name, None


@lru_cache(maxsize=None)
def _base(name: str) -> sp.IndexedBase:
    """One IndexedBase a name: the model's quantities are built from them many times."""
    return sp.IndexedBase(name, real=True)


@lru_cache(maxsize=64)
def _graph_of(net: "Network") -> Graph:
    return net._graph()


BATCH_SIZE = sp.Symbol("N_batch", integer=True, positive=True)  # never a width's N


def width_symbol(name: str) -> sp.Symbol:
    """A width that stands for every positive integer: n, K, n_{l+1}."""
    return sp.Symbol(name, integer=True, positive=True)


@dataclass(frozen=True)
class Network:
    """Widths are integers, or symbols for a proof at every width at once.

    `layer_names` writes layers generically (l, l+1, L) where a proof holds for every
    depth; empty, each notation numbers them its own way."""

    widths: tuple[int | sp.Symbol, ...]
    hidden: Activation
    output: Activation
    loss: Loss
    bias: bool = True
    layer_names: tuple[str, ...] = ()

    def __reduce__(self):
        # rebuilt from its options in another process (check --jobs): an activation
        # holds functions that pickle cannot carry
        return (_rebuilt, (self.options, self.layer_names))

    # -- structure ---------------------------------------------------------------
    @property
    def L(self) -> int:
        return len(self.widths) - 1

    def width(self, l: int) -> int | sp.Symbol:
        return self.widths[l]

    @property
    def symbolic(self) -> bool:
        """Whether some width is a symbol: claims are then proved for every width."""
        return any(isinstance(w, sp.Symbol) for w in self.widths)

    def units(self, l: int) -> range:
        w = self.widths[l]
        if isinstance(w, sp.Symbol):
            raise TypeError(f"layer {l} has the symbolic width {w}: it has no list of units")
        return range(1, w + 1)

    @property
    def options(self) -> dict:
        """The options make_network builds this network from: the same network, or with
        some changed, is make_network(**{**net.options, ...})."""
        return dict(layers=self.widths, hidden=self.hidden.name, output=self.output.name,
                    loss=self.loss.name, bias=self.bias)

    @property
    def n_weights(self) -> int | sp.Expr:
        return sum(self.widths[l] * (self.widths[l - 1] + int(self.bias)) for l in range(1, self.L + 1))

    def layer_name(self, l: int) -> str | None:
        """The generic name of layer l (l, l+1, L) where the network stands for every depth."""
        return self.layer_names[l] if self.layer_names else None

    def activation(self, l: int) -> Activation:
        return self.output if l == self.L else self.hidden

    @property
    def graph(self) -> Graph:
        """The network as the graph of its units (a concrete size only): unit j of layer l
        is named "l:j", and its quantities are this network's symbols. Equal networks have
        one graph, so what the engine keeps for a graph serves each of them."""
        return _graph_of(self)

    def _graph(self) -> Graph:
        units, edges, names = [], [], {}
        for l in range(self.L + 1):
            act = self.activation(l) if l else None
            kind = "input" if l == 0 else "output" if l == self.L else "hidden"
            layer = [f"{l}:{j}" for j in self.units(l)]
            group = tuple(layer) if act is not None and not act.elementwise else ()
            for j, name in zip(self.units(l), layer):
                units.append(self._unit(l, j, name, kind, act, group))
                W = self.W(l)
                for i in (self.units(l - 1) if l else ()):
                    edges.append(Edge(f"{l - 1}:{i}", name, f"W{l}[{j}, {i}]", W[j, i]))
        for u in units:
            for q, role in ((u.bias, "bias"), (u.target, "target")):
                if q is not None:
                    names[q] = (str(q), role)
            if u.kind == "input":
                names[u.z] = (str(u.z), "input")
        names.update({e.w: (e.weight, "weight") for e in edges})
        return Graph("layers " + "-".join(map(str, self.widths)), "", self.loss, tuple(units),
                     tuple(edges), names, layered=True)

    def _unit(self, l: int, j: int, name: str, kind: str, act, group) -> Unit:
        if l == 0:
            return Unit(name, kind, 0, self.out(0)[j])
        return Unit(name, kind, l, self.out(l)[j], act, self.pre(l)[j], self.delta(l)[j],
                    self.b(l)[j] if self.bias else None, self.t[j] if l == self.L else None,
                    self.phi(l), own_function(f"phi{l}_{j}"), group)

    # -- symbols -----------------------------------------------------------------
    def pre(self, l: int) -> sp.IndexedBase:
        return _base(f"pre{l}")

    def out(self, l: int) -> sp.IndexedBase:
        return _base(f"out{l}")

    def W(self, l: int) -> sp.IndexedBase:
        return _base(f"W{l}")

    def b(self, l: int) -> sp.IndexedBase:
        return _base(f"b{l}")

    def delta(self, l: int) -> sp.IndexedBase:
        return _base(f"delta{l}")

    @property
    def t(self) -> sp.IndexedBase:
        return _base("t")

    @property
    def E(self) -> sp.Symbol:
        return sp.Symbol("E", real=True)

    @property
    def eta(self) -> sp.Symbol:
        """The learning rate of an update rule: any positive number."""
        return sp.Symbol("eta", positive=True)

    @property
    def N(self) -> sp.Symbol:
        """The number of patterns in a mini-batch: any positive integer."""
        return BATCH_SIZE

    def phi(self, l: int) -> sp.FunctionClass:
        """The undefined function that writes layer l's activation in claims."""
        return sp.Function(f"phi{l}", real=True)

    def index(self, role: str, l: int, *, forward: bool = False) -> UnitIndex:
        return UnitIndex(role, l, forward)

    # -- the forward pass ----------------------------------------------------------
    def weighted_input(self, l: int, j: sp.Expr, prev_out: Sequence[sp.Expr] | None = None) -> sp.Expr:
        """pre[l][j] as the sum over the units of layer l-1 (explicit at concrete size)."""
        W, outs = self.W(l), prev_out
        if outs is None:
            outs = [self.out(l - 1)[i] for i in self.units(l - 1)]
        total = sp.Add(*[W[j, i] * o for i, o in zip(self.units(l - 1), outs)])
        return total + self.b(l)[j] if self.bias else total

    def weighted_sum(self, l: int, j: sp.Expr, *, bias: bool = True) -> sp.Expr:
        """pre[l][j] as one sum over layer l-1, at any unit j (a UnitIndex or a number);
        `bias=False` leaves the bias out, for a notation that has none."""
        i = self.index("prev", l - 1, forward=True)
        s = sp.Sum(sp.Mul(self.W(l)[j, i], self.out(l - 1)[i], evaluate=False),
                   (i, 1, self.width(l - 1)))
        return sp.Add(s, self.b(l)[j], evaluate=False) if self.bias and bias else s

    def layer_outputs(self, l: int, pre: Sequence[sp.Expr] | None = None) -> list[sp.Expr]:
        """out[l] as expressions in pre[l] (or in the given weighted inputs)."""
        if pre is None:
            pre = [self.pre(l)[j] for j in self.units(l)]
        return self.activation(l).values(pre, self.phi(l))

    def loss_value(self, y: Sequence[sp.Expr] | None = None) -> sp.Expr:
        if y is None:
            y = [self.out(self.L)[k] for k in self.units(self.L)]
        return self.loss.value(list(y), [self.t[k] for k in self.units(self.L)])

    def forward_equations(self, *, bias: bool = True) -> list[tuple[int, sp.Eq]]:
        """The generic forward equations, one (layer, equation) per line, for display.

        `bias=False` leaves the biases out, for a notation that has none."""
        eqs: list[tuple[int, sp.Eq]] = []
        for l in range(1, self.L + 1):
            j = self.index("this", l, forward=True)
            eqs.append((l, sp.Eq(self.pre(l)[j], self.weighted_sum(l, j, bias=bias),
                                 evaluate=False)))
            if self.activation(l).elementwise:
                value = self.phi(l)(self.pre(l)[j])
            else:
                m = self.index("sum", l, forward=True)
                value = sp.Mul(sp.exp(self.pre(l)[j]), sp.Pow(
                    sp.Sum(sp.exp(self.pre(l)[m]), (m, 1, self.width(l))), -1), evaluate=False)
            eqs.append((l, sp.Eq(self.out(l)[j], value, evaluate=False)))
        k = self.index("this", self.L, forward=True)
        term = self.loss.value([self.out(self.L)[k]], [self.t[k]])
        eqs.append((self.L, sp.Eq(self.E, sp.factor_terms(sp.Sum(term, (k, 1, self.width(self.L)))),
                                  evaluate=False)))
        return eqs


_WIDTH_NAME = re.compile(r"^[A-Za-z](_\{?[A-Za-z0-9+-]{1,6}\}?)?$")


def make_network(*, layers: Sequence[int | str] | str = (2, 3, 2), hidden: str = "abstract",
                 output: str = "identity", loss: str = "sse", bias: bool = True,
                 layer_names: Sequence[str] = ()) -> Network:
    """Build and validate a layered network; every bad value is a UsageError.

    A width given as a name (n, K, n_1) is a symbol: the network stands for every width.
    The widths may be written as the command line writes them, "2,3,2".

    >>> make_network(layers="2,3,2").widths == make_network(layers=(2, 3, 2)).widths
    True
    """
    if isinstance(layers, str):  # not its characters: "2,3,2" is three widths
        layers = [int(w) if w.strip().isdigit() else w.strip() for w in layers.split(",")]
    widths = tuple(_width(w) for w in layers)
    if len(widths) < 2:
        raise UsageError(f"layers {','.join(map(str, widths))!r}: give at least two widths "
                         "(input and output), e.g. 2,3,2")
    if len(widths) > MAX_LAYERS + 1:
        raise UsageError(f"{len(widths) - 1} layers of weights is beyond the bound of {MAX_LAYERS}")
    for w in widths:
        if isinstance(w, sp.Symbol):
            continue
        if not isinstance(w, int) or isinstance(w, bool) or w < 1:
            raise UsageError(f"width {w!r} is not a positive integer; widths are positive "
                             "integers, input first, e.g. 2,3,2")
        if w > MAX_WIDTH:
            raise UsageError(f"width {w} is beyond the bound of {MAX_WIDTH} units a layer")
    h, o, e = activation(hidden, hidden=True), activation(output), loss_named(loss)
    net = Network(widths, h, o, e, bias, tuple(layer_names))
    if not net.symbolic and net.n_weights > MAX_WEIGHTS:
        raise UsageError(f"{net.n_weights} weights is beyond the bound of {MAX_WEIGHTS}")
    if isinstance(widths[-1], int) and o.min_width > widths[-1]:
        raise UsageError(f"output activation {output!r} needs at least {o.min_width} output "
                         f"units; the network has {widths[-1]}")
    if e.needs_unit_interval and not o.unit_interval:
        fits = ", ".join(n for n, a in _unit_interval_outputs())
        raise UsageError(f"loss {loss!r} takes logarithms of the outputs, which output "
                         f"activation {output!r} does not keep in (0, 1); use --output {fits}")
    return net


def _rebuilt(options: dict, layer_names: tuple[str, ...]) -> Network:
    return make_network(**options, layer_names=layer_names)


def _width(w: int | str | sp.Symbol) -> int | sp.Symbol:
    if isinstance(w, str):
        if not _WIDTH_NAME.match(w):
            raise UsageError(f"width {w!r} is neither a positive integer nor a name; a "
                             "symbolic width is a letter, perhaps with a subscript: n, K, n_1")
        return width_symbol(w)
    return w


def _unit_interval_outputs():
    return [(n, a) for n, a in ACTIVATIONS.items() if a.unit_interval]


def parse_widths(text: str, *, names: bool = False) -> tuple[int | str, ...]:
    """Widths as a user writes them, "2,3,2", input first; with `names`, a letter (n, K,
    n_1) is a symbolic width. Nothing is evaluated.

    >>> parse_widths("2, 3,2"), parse_widths("4,n,K", names=True)
    ((2, 3, 2), (4, 'n', 'K'))
    """
    widths: list[int | str] = []
    for p in (p.strip() for p in text.split(",")):
        if names and re.fullmatch(r"[A-Za-z](_[A-Za-z0-9]{1,3})?", p):
            widths.append(p)
        elif not (p.isascii() and p.isdigit() and len(p) <= 6):
            also = " or names for every width at once (e.g. d,n,K)" if names else ""
            raise UsageError(f"layers {text!r}: {p!r} is not a positive integer; give widths "
                             f"as positive integers{also}, input first, e.g. 2,3,2")
        else:
            widths.append(int(p))
    return tuple(widths)
