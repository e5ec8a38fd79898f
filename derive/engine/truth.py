"""The one truth: what every quantity of a network is, as an expression.

A claim is read in a *frame*, the part of the network it speaks of (DESIGN.md, "Locality"):

- its *roots*, the units it mentions that no other unit it mentions feeds, have free
  weighted inputs (or, where the claim mentions a weight into one, are computed from free
  outputs of the units before them): a_j of a hidden-layer claim is a variable, not the
  whole forward pass;
- the units between the roots and the other units it mentions are computed from them by
  the forward pass; a unit outside that feeds one inside keeps its output as a variable;
- the error is an undefined function F of what leaves the frame, so the claim is proved
  for whatever network lies downstream; F's partial derivatives are the deltas of the
  units the frame ends with (the induction hypothesis), or, where a unit also feeds the
  frame again, the slope of the error through its leaving edges alone (`ExitSlope`).
  A claim about the loss itself (a target, the error's value) takes the real loss, with
  every unit downstream in the frame.

Every choice generalizes the network, so a proof in a frame is a proof for the network;
a refutation is always a point of the real network (engine/point.py). A written partial
derivative dX/dY is X as a function of Y with everything that Y does not influence held
fixed; where an edge runs from Y's unit to X's, along that edge alone (Bishop's (5.55):
everything else held fixed), else along every path. delta_u is dE/da_u.

>>> from bpcheck.derive.model.network import make_network
>>> net = make_network(layers=(2, 3, 2), hidden="sigmoid")
>>> t = Truth(net.graph)
>>> sorted(t.frame_of([net.delta(1)[2]]).free_a)  # a layered network's frame: whole layers
['1:1', '1:2', '1:3']
"""
from __future__ import annotations

from functools import cached_property

import sympy as sp
from sympy.core.function import AppliedUndef

from ..errors import NotSupported
from ..model.activation import KinkSide
from ..model.graph import E, Graph, slope_function
from .expr import ExitSlope, Partial, Total, partials_read, rebuilt
from .frames import Frame, frame_for, frame_key


# -- what the quantities are in a frame --------------------------------------------------------

class InFrame:
    """The quantities of a network in one frame, as expressions in its variables.

    A sub-frame (`overrides`, `recompute`) holds some quantities as fresh symbols and
    computes the units in `recompute` from them, everything else as in its `base`: that
    is how a partial derivative holds fixed what it should."""

    def __init__(self, graph: Graph, frame: Frame, *, base: "InFrame | None" = None,
                 overrides: dict | None = None, recompute: frozenset = frozenset()):
        self.graph, self.frame, self.base = graph, frame, base
        self.overrides, self.recompute = overrides or {}, recompute
        self._memo: dict[tuple[str, str], sp.Expr] = {}
        self.F = base.F if base is not None else sp.Function("F", real=True)

    # -- the frame's edges ----------------------------------------------------------------
    @cached_property
    def exits(self) -> tuple[tuple[str, str], ...]:
        """(unit, level) of what leaves the frame, in order: level "a" where the error
        depends on the unit through its weighted input alone (its atom is its delta), "z"
        where through its output: a unit that also feeds the frame, or one the claim
        differentiates by its output (its atom an ExitSlope)."""
        if self.base is not None:
            return self.base.exits
        g, inside = self.graph, self.frame.inside
        by_z = {u for u in inside if any(k in inside for k in g.succ(u))} | self.frame.by_output
        by_z |= {m for u in by_z for m in g.group(u)}  # a vector activation's units alike
        out = []
        for u in g.sort(inside):
            leaves = [k for k in g.succ(u) if k not in inside] or g.unit(u).kind == "output"
            if leaves:
                out.append((u, "z" if u in by_z else "a"))
        return tuple(out)

    def atom(self, position: int) -> sp.Expr:
        u, level = self.exits[position]
        return self.graph.unit(u).delta if level == "a" else ExitSlope(u)

    # -- values ---------------------------------------------------------------------------
    def value(self, u: str, kind: str) -> sp.Expr:
        """a_u (kind "a") or z_u (kind "z") in this frame."""
        key = (u, kind)
        if key not in self._memo:
            self._memo[key] = self._value(u, kind)
        return self._memo[key]

    def _value(self, u: str, kind: str) -> sp.Expr:
        if (u, kind) in self.overrides:
            return self.overrides[(u, kind)]
        if self.base is not None and u not in self.recompute:
            return self.base.value(u, kind)
        unit = self.graph.unit(u)
        if unit.kind == "input" or u not in self.frame.inside:
            return unit.z if kind == "z" else unit.a
        if kind == "a":
            if u in self.frame.free_a:
                return unit.a
            total = sp.Add(*[e.w * self.value(e.source, "z") for e in self.graph.edges_into(u)])
            return total + unit.bias if unit.bias is not None else total
        return self._activation(u)

    def _activation(self, u: str) -> sp.Expr:
        unit = self.graph.unit(u)
        act = unit.activation
        if unit.vector:
            group = self.graph.group(u)
            return act.vector([self.value(m, "a") for m in group])[group.index(u)]
        a = self.value(u, "a")
        if act.abstract or (self.frame.abstract and unit.kind == "hidden"):
            return unit.own(a)
        return act.scalar(a)

    def slope(self, u: str) -> sp.Expr:
        """f_u'(a_u), the derivative of an elementwise activation at the unit."""
        unit = self.graph.unit(u)
        a = self.value(u, "a")
        if unit.activation.abstract or (self.frame.abstract and unit.kind == "hidden"):
            return slope_function(unit.own)(a)
        return unit.activation.slope_at(a)

    def loss(self) -> sp.Expr:
        """The error: the real loss, or F of what leaves the frame."""
        g = self.graph
        if self.frame.real_loss:
            return g.loss.value([self.value(k, "z") for k in g.outputs],
                                [g.unit(k).target for k in g.outputs])
        return self.F(*[self.value(u, level) for u, level in self.exits])

    # -- derivatives ----------------------------------------------------------------------
    def tangent(self, x: sp.Expr, seed, *, held=frozenset(),
                through: frozenset | None = None) -> sp.Expr | None:
        """dx by `seed` (a quantity (unit, "a" | "z"), or a weight or bias), with the
        quantities `held` beside it fixed and only the units `through` (None: every unit)
        computed again from it, x the error or a unit's a or z; None for any other x or
        seed. By the chain rule on the graph: each unit's derivative from its predecessors'
        in topological order, F's partials read as their atoms, every value this frame's.
        It is what a sub-frame holding fresh symbols, differentiated whole, gives (the
        oracle of the tests) without differentiating the whole substituted expression; so
        only in a frame that is not itself a sub-frame, whose every value is computed from
        its units. A target is in the loss alone: None, differentiated whole."""
        g = self.graph
        variable = not isinstance(seed, tuple)
        if self.base is not None or (variable and seed not in g.weights
                                     and g.symbols.get(seed, ("", ""))[1] != "bias"):
            return None
        go = _Tangent(self, seed, frozenset(held), through)
        if x == E:
            return go.loss()
        if x in g.symbols and g.symbols[x][1] in ("a", "z"):
            return go(*g.symbols[x])
        return None

    @cached_property
    def loss_slopes(self) -> tuple[tuple[str, sp.Expr], ...]:
        """(output, dE/dy there) of the real loss, its outputs at this frame's values."""
        g, outs = self.graph, self.graph.outputs
        y = [sp.Dummy(f"y_{k}", real=True) for k in outs]
        loss = g.loss.value(y, [g.unit(k).target for k in outs])
        values = {s: self.value(k, "z") for s, k in zip(y, outs)}
        return tuple((k, sp.diff(loss, s).xreplace(values)) for s, k in zip(y, outs))

    def jacobian_at(self, u: str, m: str) -> sp.Expr:
        """dz_u/da_m of a vector activation at this frame's values."""
        group = self.graph.group(u)
        s, d = self.graph.unit(u).activation.jacobian_entry(len(group), group.index(u),
                                                            group.index(m))
        return d.xreplace({x: self.value(n, "a") for x, n in zip(s, group)})

    def differentiate(self, expr: sp.Expr, wrt: sp.Symbol) -> sp.Expr:
        """d expr / d wrt, each partial of F read as its atom, each slope of a unit's own
        function written as that unit's slope function."""
        d = sp.diff(expr, wrt)
        return self._atoms(d)

    def _atoms(self, d: sp.Expr) -> sp.Expr:
        if not d.has(sp.Derivative, sp.Subs):
            return d
        owners = self.graph.owners

        def own(e):
            return isinstance(e, sp.Derivative) and getattr(e.expr, "func", None) in owners

        def slope_at(f: AppliedUndef, at) -> sp.Expr:
            return slope_function(f.func)(*at)

        d = partials_read(d, self.F, self.atom)
        d = d.replace(lambda e: isinstance(e, sp.Subs) and own(e.expr),
                      lambda e: slope_at(e.expr.expr, [e.point[e.variables.index(v)]
                                                       if v in e.variables else v
                                                       for v in e.expr.expr.args]))
        return d.replace(own, lambda e: slope_at(e.expr, e.expr.args))


class _Tangent:
    """The derivatives of one frame's quantities by one seed (InFrame.tangent), each found
    once from its predecessors'."""

    def __init__(self, at: InFrame, seed: tuple[str, str] | sp.Expr, held: frozenset,
                 through: frozenset | None):
        self.at, self.seed, self.held, self.through = at, seed, held, through
        self.memo: dict[tuple[str, str], sp.Expr] = {}

    def __call__(self, u: str, kind: str) -> sp.Expr:
        if (u, kind) not in self.memo:
            self.memo[(u, kind)] = self._of(u, kind)
        return self.memo[(u, kind)]

    def _of(self, u: str, kind: str) -> sp.Expr:
        """d(u's a or z): 1 at the seed, 0 where held or not computed again, else the
        chain rule through the unit's edges in or its activation."""
        at, g = self.at, self.at.graph
        unit = g.unit(u)
        if (u, kind) == self.seed:
            return sp.Integer(1)
        if (u, kind) in self.held or (self.through is not None and u not in self.through):
            return sp.Integer(0)  # held fixed
        if unit.kind == "input" or u not in at.frame.inside:
            return sp.Integer(0)  # a variable of the frame
        if kind == "a":
            if u in at.frame.free_a:
                return sp.Integer(0)
            terms = [e.w * self(e.source, "z") for e in g.edges_into(u)]
            terms += [at.value(e.source, "z") for e in g.edges_into(u) if e.w == self.seed]
            return sp.Add(*terms, *([1] if unit.bias == self.seed else []))
        if unit.vector:
            return sp.Add(*[at.jacobian_at(u, m) * t for m in g.group(u)
                            if (t := self(m, "a")) != 0])
        t = self(u, "a")
        return at.slope(u) * t if t != 0 else t

    def loss(self) -> sp.Expr:
        """dE: through F's atoms at what leaves the frame, or the real loss's slopes."""
        at = self.at
        if not at.frame.real_loss:
            return sp.Add(*[at.atom(i) * t for i, (u, level) in enumerate(at.exits)
                            if (t := self(u, level)) != 0])
        return sp.Add(*[slope * t for k, slope in at.loss_slopes if (t := self(k, "z")) != 0])


# -- written quantities, given their meaning ----------------------------------------------------

class Meaning:
    """What a written expression means in one frame: every quantity, delta, written
    activation and partial derivative replaced by its expression."""

    def __init__(self, inframe: InFrame):
        self.at, self.graph = inframe, inframe.graph
        self._partials: dict[tuple, sp.Expr] = {}
        self._meant: dict[sp.Expr, sp.Expr] = {}  # a claim read again, or in another check
        self.written = {u.written: u.name for u in self.graph.units if u.written is not None}

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        if expr not in self._meant:
            mapping: dict[sp.Basic, sp.Expr] = {}
            self._collect(expr, mapping)
            self._meant[expr] = expr.xreplace(mapping)
        return self._meant[expr]

    def _collect(self, expr: sp.Basic, mapping: dict) -> None:
        """The meaning of each written node, outermost first: a partial derivative's own
        arguments are read by the derivative, not on their own."""
        if expr in mapping:
            return
        if isinstance(expr, Partial):
            mapping[expr] = self.partial(expr.num, expr.den, total=isinstance(expr, Total))
        elif isinstance(expr, sp.Derivative) and getattr(expr.expr, "func", None) in self.written:
            mapping[expr] = self._written_slope(expr)
        elif isinstance(expr, AppliedUndef) and expr.func in self.written:
            mapping[expr] = self._written_value(expr)
        elif expr == E:  # a claim about its value has the real loss (frame_for)
            mapping[expr] = self.at.loss()
        elif expr in self.graph.symbols:
            mapping[expr] = self._quantity(expr)
        else:
            for arg in expr.args:
                self._collect(arg, mapping)

    def _quantity(self, q: sp.Basic) -> sp.Expr:
        name, kind = self.graph.symbols[q]
        if kind in ("a", "z"):
            return self.at.value(name, kind)
        if kind == "delta":
            return self.partial(E, self.graph.unit(name).a)
        return q  # a bias or a target: a variable of every frame

    def _unit_of(self, arg: sp.Basic, what: str) -> str:
        if arg in self.graph.symbols and self.graph.symbols[arg][1] == "a":
            return self.graph.symbols[arg][0]
        raise NotSupported(f"{what} is applied to a weighted input, not to {arg}")

    def _written_value(self, f: AppliedUndef) -> sp.Expr:
        u = self._unit_of(f.args[0], "an activation")
        if self.graph.unit(u).vector:
            raise NotSupported("a vector activation of one weighted input alone is not defined")
        return self.at.value(u, "z")

    def _written_slope(self, d: sp.Derivative) -> sp.Expr:
        u = self._unit_of(d.variables[0], "an activation's derivative")
        unit = self.graph.unit(u)
        if unit.vector:  # f'(a_k) of softmax, as BP1 writes it: the diagonal dz_k/da_k
            return self.partial(unit.z, unit.a)
        return self.at.slope(u)

    # -- partial derivatives --------------------------------------------------------------
    def partial(self, x: sp.Expr, y: sp.Expr, *, total: bool = False) -> sp.Expr:
        """dX/dY in this frame (see the module docstring for what is held fixed)."""
        key = (x, y, total)
        if key not in self._partials:
            self._partials[key] = self._partial(x, y, total)
        return self._partials[key]

    def _partial(self, x: sp.Expr, y: sp.Expr, total: bool) -> sp.Expr:
        g = self.graph
        if y in g.weights or (y in g.symbols and g.symbols[y][1] in ("bias", "target")) \
                or (y in g.symbols and g.unit(g.symbols[y][0]).kind == "input"):
            seed = (g.symbols[y][0], "z") if g.symbols.get(y, ("", ""))[1] == "z" else y
            d = self.at.tangent(x, seed)  # a variable of every frame
            return d if d is not None else self.at.differentiate(self(x), y)
        if y not in g.symbols or g.symbols[y][1] not in ("a", "z"):
            raise NotSupported(f"a derivative with respect to {y} is not a quantity of the network")
        name, kind = g.symbols[y]
        along = self._along_edge(x, name) if not total else None
        reached = along if along else g.descendants(name) & self.at.frame.inside
        recompute = self._grouped(reached | {name})
        held = g.group(name) if kind == "a" else (name,)
        if kind == "a" and along is None and set(held) <= self.at.frame.free_a:
            d = self.at.tangent(x, (name, kind))  # already a variable here
            return d if d is not None else self.at.differentiate(self(x), y)
        d = self.at.tangent(x, (name, kind), held=frozenset((m, kind) for m in held),
                            through=recompute)
        if d is not None:
            return d
        fresh = {(m, kind): sp.Dummy(f"{kind}_{m}", real=True) for m in held}
        sub = InFrame(g, self.at.frame, base=self.at, overrides=fresh, recompute=recompute)
        d = sub.differentiate(Meaning(sub)(x), fresh[(name, kind)])
        return _replace(d, {s: self.at.value(m, k) for (m, k), s in fresh.items()})

    def _along_edge(self, x: sp.Expr, name: str) -> set | None:
        """Bishop's (5.55): where an edge runs from Y's unit to X's, the derivative is taken
        along it alone, so only X's unit is computed again."""
        g = self.graph
        if x in g.symbols and g.symbols[x][1] in ("a", "z"):
            k = g.symbols[x][0]
            if k in g.succ(name):
                return {k}
        return None

    def _grouped(self, names) -> frozenset:
        return frozenset(m for u in names for m in self.graph.group(u)
                         if m in self.at.frame.inside)


def _replace(expr: sp.Expr, mapping: dict) -> sp.Expr:
    """xreplace, with each ReLU's side renamed by its argument (a side is named by it)."""
    def leaf(e: sp.Basic, again) -> sp.Expr | None:
        if e in mapping:
            return mapping[e]
        if not isinstance(e, KinkSide):
            return None
        of = again(e.of)
        return e if of == e.of else KinkSide(of)
    return rebuilt(expr, leaf)


KEPT_GRAPHS = 64
_KEPT: dict[int, tuple[Graph, "Truth"]] = {}


class Truth:
    """The network's quantities in the frame of a claim.

    >>> from bpcheck.derive.model.network import make_network
    >>> net = make_network(layers=(2, 2), output="identity")
    >>> t = Truth(net.graph)
    >>> frame = t.frame_of([net.delta(1)[1], net.t[1]])
    >>> t.meanings([net.delta(1)[1]], frame)
    [pre1[1] - t[1]]
    """

    def __init__(self, graph: Graph):
        self.graph = graph  # Truth.of(graph) is the one this process keeps for the graph
        self._in: dict[Frame, Meaning] = {}
        self._frames: dict[tuple, Frame] = {}  # by what decides a frame
        self._read: dict[tuple, Frame] = {}  # by the expressions read
        self.points: dict = {}  # the points of the network decide.py has drawn, by draw

    @classmethod
    def of(cls, graph: Graph) -> "Truth":
        """The graph's truth, kept for the checks that follow on the same network (the
        catalogue's entries, a diagnosis's re-checks); the last few graphs' are kept."""
        if id(graph) not in _KEPT:
            while len(_KEPT) >= KEPT_GRAPHS:
                del _KEPT[next(iter(_KEPT))]
            _KEPT[id(graph)] = graph, cls(graph)  # the graph held, so its id stays its own
        return _KEPT[id(graph)][1]

    def frame_of(self, exprs, *, real_loss: bool = False, abstract: bool = False) -> Frame:
        """The frame of a claim (engine/frames.py); the instances of one claim in a layered
        network share theirs, found once, and a claim read again finds it at once."""
        exprs = tuple(exprs)
        if (exprs, real_loss, abstract) not in self._read:
            key = frame_key(self.graph, exprs, real_loss=real_loss, abstract=abstract)
            if key not in self._frames:
                self._frames[key] = frame_for(self.graph, *key)
            self._read[exprs, real_loss, abstract] = self._frames[key]
        return self._read[exprs, real_loss, abstract]

    def meanings(self, exprs, frame: Frame) -> list[sp.Expr]:
        """Each expression's meaning in the frame; a frame's values and derivatives are
        computed once and kept for every claim read in it."""
        if frame not in self._in:
            self._in[frame] = Meaning(InFrame(self.graph, frame))
        return [self._in[frame](e) for e in exprs]

    def folded(self, expr: sp.Expr, frame: Frame) -> sp.Expr:
        """An expression of the frame with each weighted input the frame computes written
        as that unit's a_u again: h'(a_1), not h'(x_1 w_11 + x_2 w_12 + b_1)."""
        if frame not in self._in:
            return expr
        at = self._in[frame].at
        back = {}
        for u in frame.inside - frame.free_a:
            unit = self.graph.unit(u)
            value = at.value(u, "a")
            if value != unit.a and not value.is_Atom:
                back[value] = unit.a
        return expr.xreplace(back) if back else expr
