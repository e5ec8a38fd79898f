"""The notation's side of reading an equation: which role each written symbol may have,
what its layer mark says, and which layers its index letters may take.

Each symbol is bound to its role by the notation's data (a weighted input, an output, a
weight, delta, the target, the error, an activation); each index letter gets a layer,
from the layer marks the notation writes, from the roles it appears in (in Bishop's w_kj,
k is one layer after j) and from the notation's letter conventions (Bishop's i, j, k;
Eglen's p, q, r). Every assignment of layers that fits is a reading.

>>> from bpcheck.derive.io.notation_file import load_notation
>>> from bpcheck.derive.model.network import make_network
>>> r = Reader(load_notation("bishop"), make_network(), {})
>>> r.keys_of(Symbol("y", ("n", "k")))
(['output'], ('k',))
"""
from __future__ import annotations

from typing import Callable, Mapping

from ..errors import UsageError
from ..model.network import Network
from ..model.notation import Notation
from .ast import Add, Neg, Node, Number, Paren, Symbol
from .grammar import parse_expression
from .tex import to_latex

# notation key -> canonical role
ROLES = {"weighted_input": "pre", "unit_output": "out", "input": "out", "output": "out",
         "weight": "W", "bias": "b", "delta": "delta", "target": "t", "error": "E",
         "kronecker": "I", "hidden_activation": "act", "output_activation": "act",
         "learning_rate": "eta", "batch_size": "N"}
UNIT_ROLES = ("pre", "out", "delta", "t")


def _cost(broken: list) -> tuple[int, int, int, int]:
    """How badly a reading breaks what was written: what was the only thing written of a
    symbol first, then how many quantities it finds do not exist, then how many letters it
    reads across layers, then marks."""
    return (sum(w == 2 for w, _, _ in broken), sum(not cross for _, _, cross in broken),
            len(broken), sum(w == 1 for w, _, _ in broken))


class Reader:
    """What a notation's symbols are, and the layers the letters of one equation may take:
    each symbol's keys and subscript, each layer mark, and the constraints on the layer
    variables, solved into every reading that fits."""
    def __init__(self, notation: Notation, net: Network, hints: Mapping[str, str]):
        self.n, self.net = notation, net
        self.names: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for key, latex in notation.symbols.items():
            node = parse_expression(latex)
            if isinstance(node, Symbol):
                self.names.setdefault((node.name, node.sub), []).append(key)
                if key == "error" and node.sub == (notation.pattern,):
                    self.names.setdefault((node.name, ()), []).append(key)  # E as well as E_n
        if notation.pattern:
            size = parse_expression(notation.batch.size)
            self.names.setdefault((size.name, size.sub), []).append("batch_size")
        self.hints = {k: self._hint(k, v) for k, v in hints.items()}
        self.constraints: list[Callable[[dict], bool]] = []
        # what must hold for a written quantity to exist (a weight runs from one layer into
        # the next); each with the words for where it does not
        self.soft: list[tuple[Callable[[dict], bool], Callable[[dict], str], bool]] = []
        self.variables: set[str] = set()
        self._fresh = 0

    # -- symbols ---------------------------------------------------------------------------
    def _hint(self, letter: str, value: str) -> tuple[int, ...]:
        """The layers --index letter=value allows: one, or every hidden layer."""
        L = self.net.L
        kinds = {"input": (0,), "output": (L,), "hidden": tuple(range(1, L))}
        if value in kinds:
            return kinds[value]
        if value.isdigit() and int(value) - self.n.first_layer in range(L + 1):
            return (int(value) - self.n.first_layer,)
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

    def keys_of(self, s: Symbol) -> tuple[list[str], tuple[str, ...]]:
        """The notation keys a symbol may be, and its subscript without a pattern index."""
        if (s.name, s.sub) in self.names:
            return self.names[(s.name, s.sub)], ()
        sub = s.sub
        if self.n.pattern and len(sub) > 1 and sub[0] == self.n.pattern:
            sub = sub[1:]  # Bishop's y_{nk}, delta_{nk}: n is the pattern, one at a time
        elif len(sub) == 2 and "delta" in self.names.get((s.name, ()), []) and s.sup is None:
            return ["kronecker"], sub  # delta_{kj} with two indices is Kronecker's
        return self.names.get((s.name, ()), []), sub

    def mark(self, sup: Node, key: str) -> tuple[str | None, int] | None:
        """A layer mark as (variable, offset); constants have variable None."""
        if self.n.layer_marks.get(key, "none") == "none":
            return None
        node = sup.body if isinstance(sup, Paren) else sup
        L = self.net.L
        if isinstance(node, Number) and node.text.isdigit():
            return None, int(node.text) - self.n.first_layer
        if isinstance(node, Neg) and isinstance(node.body, Number) and node.body.text.isdigit():
            return None, -int(node.body.text) - self.n.first_layer  # a layer there is none of
        if isinstance(node, Symbol) and not node.sub and node.sup is None:
            if self.n.output_layer and node.name == self.n.output_layer:
                return None, L
            self.variables.add("%" + node.name)
            return "%" + node.name, 0
        if isinstance(node, Add) and len(node.terms) == 2:
            var, num = node.terms
            sign = 1
            if isinstance(num, Neg):
                sign, num = -1, num.body
            if isinstance(var, Symbol) and isinstance(num, Number) and num.text.isdigit():
                base = self.mark(var, key)
                if base is not None:
                    return base[0], base[1] + sign * int(num.text)
        raise UsageError(f"layer mark {to_latex(sup)} is not a layer: write a number, "
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

    def require(self, f: Callable[[dict], bool | None],
                why: Callable[[dict], str] | None = None, *, written: int = 0,
                cross: bool = False) -> None:
        """A constraint on the layers; with `why`, one that says a quantity exists, which a
        reading may break only when no reading keeps every one (the claim is then refuted,
        in `why`'s words). What the user wrote is broken last: `written` 2 for the only
        thing written of a symbol (the mark of W in a vector form, whose indices are the
        reader's), kept before all else; 1 for a mark beside written indices, kept where
        two readings break as many. A `cross` one keeps a letter in one layer: broken, the
        letter is the same number on a unit of another layer (a^{(l+1)}_j, j in layer l), a
        reading like any other, kept only where no reading keeps it."""
        if why is None and not cross:
            self.constraints.append(f)
        else:
            self.soft.append((f, why or (lambda a: ""), written, cross))

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
        # a primed letter is a unit of its letter's layer, k' another unit beside k
        rules |= {(v, v.rstrip("'"), 0) for v in self.variables if v.endswith("'")}
        relative = [lambda a, x=x, y=y, d=d: a[x] == a[y] + d if x in a and y in a else None
                    for x, y, d in sorted(rules) if x in self.variables and y in self.variables]
        L = self.net.L
        kinds = {"input": lambda l: l == 0, "hidden": lambda l: 0 < l < L, "output": lambda l: l == L}
        fixed = [lambda a, c=c, ok=kinds[kind]: ok(a[c]) if c in a else None
                 for kind, cs in n.layer_letters.items() for c in cs if c in self.variables]
        if n.output_layer:  # Nielsen writes the output layer L: a layer letter l is hidden
            fixed += [lambda a, v=v: 0 < a[v] < L if v in a else None
                      for v in self.variables if v.startswith("%")]
        return relative + fixed

    def solve(self) -> list[tuple[dict[str, int], list[str]]]:
        """Every assignment of layers that fits, each with the quantities it finds do not
        exist (none, where one fits): by the notation's letter conventions where some
        assignment fits them, else by the symbols alone; where no assignment lets every
        written quantity exist, the ones that break the fewest, in the conventions' layers
        where they allow one. A claim about a quantity that does not exist is refuted."""
        strict = [c for c, _, _, _ in self.soft]
        for conventions, soft in ((True, strict), (False, strict), (True, None), (False, None)):
            found = self._solve(self.conventions() if conventions else [], soft)
            if found:
                return found
        return []

    def _solve(self, extra: list, soft: list | None) -> list[tuple[dict[str, int], list[str]]]:
        """With `soft` None, the quantities' existence may break: the assignments that
        break it the least (by `_cost`), with the words for each break. The search is
        branch and bound: a branch that already breaks more than the best is dropped."""
        constraints = self.constraints + extra + (soft or [])
        order = sorted(self.variables, key=lambda v: (v.startswith("#"), v))
        domain = range(self.net.L + 1)
        out: list[tuple[dict[str, int], list]] = []
        best: list = [None]

        def walk(i: int, a: dict, broken: list, open_: list) -> None:
            if soft is None:
                broken, open_ = self._broken(a, broken, open_)
                cost = _cost(broken)
                if best[0] is not None and cost > best[0]:
                    return
            if i == len(order):
                if soft is None and (best[0] is None or cost < best[0]):
                    best[0] = cost
                    out.clear()
                if len(out) <= 64:
                    out.append((dict(a), broken))
                return
            v = order[i]
            for value in self.hints.get(v, domain):
                a[v] = value
                if all(c(a) is not False for c in constraints):
                    walk(i + 1, a, broken, open_)
                del a[v]

        walk(0, {}, [], list(range(len(self.soft))))
        found = [(a, [self.soft[k][1](a) for _, k, cross in b if not cross]) for a, b in out]
        # where every reading breaks something, one says why: more would repeat it
        return found[:1] if best[0] and best[0][1] else found

    def _broken(self, a: dict, broken: list, open_: list) -> tuple[list, list]:
        """The soft constraints now decided and broken, added to `broken` (with their
        words), and those still open."""
        still, broken = [], list(broken)
        for k in open_:
            ok, _, written, cross = self.soft[k]
            holds = ok(a)
            if holds is None:
                still.append(k)
            elif holds is False:  # its words are written at the end, with every letter placed
                broken.append((written, k, cross))
        return broken, still
