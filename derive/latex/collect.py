"""What each written symbol says about the layers of its letters, as constraints for the
reader (latex/reader.py) to solve: a weight runs from one layer into the next, a mark names
a layer, a delta lives where the network has one. Where a quantity may not exist, the
constraint carries the words that say so, for a refutation.

>>> from bpcheck.derive.io.notation_file import load_notation
>>> from bpcheck.derive.model.network import make_network
>>> from bpcheck.derive.latex.grammar import parse_expression
>>> reader = Reader(load_notation("bishop"), make_network(), {})
>>> Collect(reader).visit(parse_expression(r"w_{kj} \\delta_k"))
>>> sorted((a["j"], a["k"]) for a, missing in reader.solve())  # k is the layer after j's
[(0, 1), (1, 2)]
"""
from __future__ import annotations

from dataclasses import replace

from ..errors import NotSupported, UsageError
from .ast import Call, Number, Sum, Symbol, Visitor
from .reader import ROLES, Reader
from .tex import to_latex


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

    def __init__(self, reader: Reader, *, placed: set[Symbol] = frozenset()):
        # placed: symbols whose indices the vector-form reader gave (the user wrote none)
        self.r, self.L, self.placed = reader, reader.net.L, placed

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
        if roles <= {"E", "I", "act", "eta", "N"}:
            return self._plain(roles, sub)
        key = x_key(node)
        r.variables.add(key)
        mark = r.mark(node.sup, marked[0]) if node.sup is not None and marked else None
        if "W" in roles or "b" in roles:
            if mark is not None and r.n.weight_mark == "leaves":
                mark = (mark[0], mark[1] + 1)  # Θ^{(l)} feeds layer l + 1
            return self._weight(node, roles, sub, key, mark)
        if mark is not None:
            # in a vector form the mark is all that was written of the symbol: kept first
            r.require(_marked(key, mark), why=lambda a: self._no_layer(node, mark, a),
                      written=2 if node in self.placed else 1)
        if len(sub) == 2 and "input" in keys:
            return self._connection(node, sub, key)
        if len(sub) != 1:
            raise UsageError(f"{to_latex(node)} needs one unit index")
        allowed = self._layers(keys)
        r.require(lambda a, key=key: a[key] in allowed if key in a else None,
                  why=lambda a: self._missing(node, keys, a[key]))
        if not sub[0].isdigit() and node in self.placed:
            # an index the vector-form reader gave: where it cannot be, shapes do not fit
            r.require(_same(key, r.letter_var(sub[0])),
                      why=lambda a: f"{to_latex(node)}: the shapes do not fit")
        elif not sub[0].isdigit():
            v = r.letter_var(sub[0])
            r.require(_same(key, v), cross=True)

    def _no_layer(self, node: Symbol, mark, a: dict) -> str:
        """Why a unit's layer mark names no layer of the network."""
        at, L, n = Reader.layer_of(mark, a), self.L, self.r.n
        if at is not None and 0 <= at <= L and node in self.placed:
            return f"{to_latex(node)}: the shapes do not fit"
        if at is not None and 0 <= at <= L:
            return f"{to_latex(node)}: its layer mark and what it stands in ask for different layers"
        return (f"{to_latex(node)}: the network has no layer {at + n.first_layer}; its layers "
                f"are {n.layer_label(0, L)} to {n.layer_label(L, L)}")

    def _connection(self, node: Symbol, sub, key: str) -> None:
        """x_{ji}, an input written per connection: what unit i sends unit j, in the
        layer before j's; the key is j's layer."""
        r = self.r
        to, frm = sub if r.n.weight_order == "to,from" else sub[::-1]
        r.require(lambda a: 1 <= a[key] <= self.L if key in a else None)
        why = lambda a: self._no_connection(node, to, frm, a)
        for c, off in ((to, 0), (frm, -1)):
            if not c.isdigit():
                v = r.letter_var(c)
                r.require(lambda a, v=v, off=off: a[v] == a[key] + off
                          if v in a and key in a else None, why=why)

    def _no_connection(self, node: Symbol, to: str, frm: str, a: dict) -> str:
        where = lambda c: f" ({self._layer_words(a[c])})" if c in a else ""
        out = (f"{to_latex(node)} would be the input to unit {to}{where(to)} from unit "
               f"{frm}{where(frm)}; a unit's inputs come from the layer before it")
        if to in a and frm in a and a[to] + 1 == a[frm]:
            out += f": the input between these units is {to_latex(replace(node, sub=node.sub[::-1]))}"
        return out

    def _plain(self, roles: set, sub) -> None:
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
            r.require(_marked(key, mark), why=why, written=2 if node in self.placed else 1)
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
        if node.func.sub and len(node.args) == 1 and isinstance(node.args[0], Symbol):
            # f_j(a_j), written per unit: the activation of j's layer, so j's is the argument's
            key = x_key(node.args[0])
            self.r.variables.add(key)
            self.r.require(_same(key, self.r.letter_var(node.func.sub[0])))
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
            self.r.require(lambda a: a[v] == a[j] + 1 if v in a and j in a else None,
                           why=lambda a: f"{to_latex(s)} is the set of units {s.sub[0]} sends "
                                         f"connections to, and {node.index} is not one of them")
        for bound in (node.lower, node.upper):
            if bound is not None and not isinstance(bound, (Number, Symbol)):
                raise NotSupported(f"sum limit {to_latex(bound)}")
        self.visit(node.body)  # its limits and index set are no quantities
