"""A notation is data: symbol names, layer marks, weight index order, delta's sign,
bias style and index letters, read from a TOML file. Bishop, Nielsen and Eglen ship as
such files (derive/notations/*.toml); a user adds one with one more file, no code.

>>> n = load_notation("eglen")
>>> n.delta_sign, n.weight_order
(-1, 'from,to')
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import sympy as sp

from .errors import BpcheckError, UsageError, unknown
from .grammar import _GREEK_NAMES, Symbol as _Symbol, parse_expression
from .network import UnitIndex, role_of

BUILTIN = ("bishop", "nielsen", "eglen")
MAX_BYTES = 64 * 1024

SYMBOLS = ("error", "weighted_input", "unit_output", "input", "output", "weight", "bias",
           "target", "delta", "hidden_activation", "output_activation", "kronecker",
           "learning_rate")
MARKED = ("weighted_input", "unit_output", "input", "output", "weight", "bias", "delta")
MARKS = ("none", "superscript", "parenthesised")
ORDERS = ("to,from", "from,to")
BIAS_STYLES = ("separate", "weight", "none")
ROLES = ("this", "prev", "next", "sum")


@dataclass(frozen=True)
class Notation:
    name: str
    title: str
    delta_sign: int
    first_layer: int
    output_layer: str
    symbols: Mapping[str, str]
    layer_marks: Mapping[str, str]
    weight_order: str
    bias_style: str
    letters: Mapping[str, str]
    output_letters: Mapping[str, str]
    layer_letters: Mapping[str, tuple[str, ...]]
    forward_letters: Mapping[str, str]
    forward_output_letters: Mapping[str, str]
    source: str

    # -- how things are written ------------------------------------------------------
    def layer_label(self, l: int, L: int) -> str:
        """The layer's number as this notation writes it ("L" for Nielsen's output)."""
        if l == L and self.output_layer:
            return self.output_layer
        return str(l + self.first_layer)

    def taken_letters(self) -> set[str]:
        """Letters this notation already uses: index letters, symbols, the output layer's
        label. A width named by one of them would read ambiguously."""
        tables = (self.letters, self.output_letters, self.forward_letters,
                  self.forward_output_letters)
        out = {v for t in tables for v in t.values()}
        out |= {v for vs in self.layer_letters.values() for v in vs}
        out |= {s.split("_")[0] for s in self.symbols.values() if not s.startswith("\\")}
        if self.output_layer:
            out.add(self.output_layer)
        return out

    def letter(self, idx: UnitIndex, L: int) -> str:
        """The index letter of a unit, by its role and whether the equation is about an
        output unit (Bishop writes delta_k for an output unit, delta_j for a hidden one)."""
        if idx.role.startswith("="):  # a letter as the user wrote it
            return idx.role[1:]
        about = {"prev": idx.layer + 1, "next": idx.layer - 1}.get(idx.role, idx.layer)
        if idx.forward:
            table = self.forward_output_letters if about == L else self.forward_letters
        else:
            table = self.output_letters if about == L else self.letters
        return table[idx.role]

    # -- the binding to the canonical model ----------------------------------------------
    def express(self, eq: sp.Eq) -> sp.Eq:
        """The canonical equation in this notation's quantities.

        The canonical delta is +dE/da; this notation's is delta_sign * dE/da. A claim is
        linear in the deltas on each side, so writing it with this notation's delta
        multiplies one side by delta_sign when the deltas stand on one side only.
        """
        if self.delta_sign == 1 or _has_delta(eq.lhs) == _has_delta(eq.rhs):
            return eq
        return sp.Eq(eq.lhs, negate(eq.rhs), evaluate=False)

    def bind(self, expr: sp.Expr) -> sp.Expr:
        """Read an expression written in this notation as canonical quantities."""
        if self.delta_sign == 1:
            return expr
        deltas = [d for d in expr.atoms(sp.Indexed) if role_of(d.base)[0] == "delta"]
        return expr.xreplace({d: self.delta_sign * d for d in deltas})


def _has_delta(expr: sp.Expr) -> bool:
    return any(role_of(d.base)[0] == "delta" for d in expr.atoms(sp.Indexed))


def negate(expr: sp.Expr) -> sp.Expr:
    """-expr, written the way a book would: -(y - t) as t - y, -(c x) as (-c) x."""
    if isinstance(expr, sp.Add):
        terms = [negate(t) for t in expr.args]
        positive = [t for t in terms if not t.could_extract_minus_sign()]
        return sp.Add(*positive, *[t for t in terms if t.could_extract_minus_sign()],
                      evaluate=False)
    if isinstance(expr, sp.Mul):
        coeff, rest = expr.as_coeff_mul()
        if coeff == -1:
            return sp.Mul(*rest, evaluate=False) if len(rest) > 1 else rest[0]
        sums = [i for i, f in enumerate(expr.args) if isinstance(f, sp.Add)]
        if sums:
            args = list(expr.args)
            args[sums[0]] = negate(args[sums[0]])
            return sp.Mul(*args, evaluate=False)
        if coeff != 1:
            return sp.Mul(-coeff, *rest, evaluate=False)
    if expr.is_Number:
        return -expr
    return sp.Mul(sp.Integer(-1), expr, evaluate=False)


def _table(data: dict, key: str, where: str) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise UsageError(f"{where}: missing table [{key}]")
    return value


def _choice(table: dict, key: str, accepted: tuple[str, ...], where: str) -> str:
    value = table.get(key)
    if value not in accepted:
        raise UsageError(f"{where}: {key} = {value!r} is not one of {', '.join(accepted)}")
    return value


# What a notation may put into LaTeX, and so into an exported document: nothing but these
# shapes reaches TeX, so a notation file cannot smuggle a command into notes.tex.
LETTER = re.compile(r"[A-Za-z]'{0,3}")
LAYER_NAME = re.compile(r"[A-Za-z0-9]{0,8}")


def _symbol_shape() -> re.Pattern:
    greek = "|".join(_GREEK_NAMES)
    base = (r"(?:[A-Za-z]|\\(?:%s)|\\(?:mathrm|mathit|mathsf|mathbf|boldsymbol|mathcal|"
            r"mathscr|text|operatorname)\{(?:[A-Za-z]{1,12}|\\(?:%s))\})" % (greek, greek))
    return re.compile(base + r"(?:_(?:[A-Za-z0-9]|\{[A-Za-z0-9]{1,4}\}))?")


SYMBOL = _symbol_shape()


def _letter(table: dict, key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not LETTER.fullmatch(value):
        raise UsageError(f"{where}: {key} = {_quoted(value)} is not an index letter; give one "
                         "letter, perhaps with primes, e.g. \"j\" or \"k'\"")
    return value


def _quoted(value: object) -> str:
    s = repr(value)
    return s if len(s) <= 60 else s[:57] + "..."


def _text(table: dict, key: str, where: str, *, longest: int = 40) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise UsageError(f"{where}: {key} must be a non-empty string of at most {longest} "
                         f"characters, got {value!r}")
    return value


def parse_notation(text: str, *, source: str) -> Notation:
    """Validate a notation file's text; every problem names the key."""
    if len(text.encode()) > MAX_BYTES:
        raise UsageError(f"{source}: a notation file is at most {MAX_BYTES} bytes")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{source}: not valid TOML: {e}") from None
    symbols = _table(data, "symbols", source)
    marks = _table(data, "layer_marks", source)
    indices = _table(data, "indices", source)
    sign = data.get("delta_sign")
    if sign not in (1, -1) or isinstance(sign, bool):
        raise UsageError(f"{source}: delta_sign = {sign!r} is not one of 1, -1")
    first = data.get("first_layer", 0)
    if not isinstance(first, int) or isinstance(first, bool) or not 0 <= first <= 9:
        raise UsageError(f"{source}: first_layer = {first!r} is not an integer from 0 to 9")
    output_layer = data.get("output_layer", "")
    if not isinstance(output_layer, str) or not LAYER_NAME.fullmatch(output_layer):
        raise UsageError(f"{source}: output_layer = {_quoted(output_layer)} must be up to 8 "
                         "letters or digits, e.g. \"L\", or \"\" for the layer's number")
    letters = {r: _letter(indices, r, f"{source} [indices]") for r in ROLES}

    def overlay(key: str, under: dict) -> dict:
        table = indices.get(key, {})
        if not isinstance(table, dict):
            raise UsageError(f"{source}: [indices.{key}] must be a table")
        return {r: (_letter(table, r, f"{source} [indices.{key}]") if r in table else under[r])
                for r in ROLES}

    fixed = indices.get("layers", {})
    if not isinstance(fixed, dict) or set(fixed) - {"input", "hidden", "output"} or not all(
            isinstance(v, list) and all(isinstance(c, str) and LETTER.fullmatch(c) for c in v)
            for v in fixed.values()):
        raise UsageError(f"{source}: [indices.layers] maps input, hidden and output to lists "
                         "of letters, e.g. hidden = [\"j\", \"q\"]")
    layer_letters = {k: tuple(v) for k, v in fixed.items()}
    output_letters = overlay("output", letters)
    forward_letters = overlay("forward", letters)
    forward_output_letters = overlay("forward_output", output_letters)
    for key, table, roles in (("indices", letters, ("prev", "next", "sum")),
                              ("indices.output", output_letters, ("prev", "sum")),
                              ("indices.forward", forward_letters, ("prev", "sum")),
                              ("indices.forward_output", forward_output_letters, ("prev", "sum"))):
        for other in roles:  # roles that stand in one equation with "this"
            if table[other] == table["this"]:
                raise UsageError(f"{source} [{key}]: {other} = {table[other]!r} is the letter of "
                                 "this; the two stand in one equation and need different letters")
    shared = {}
    for key in SYMBOLS:  # one symbol, one role, except a unit's output, the input and the
        group = {"input": "out", "output": "out", "unit_output": "out",  # network's output,
                 "hidden_activation": "act", "output_activation": "act"}.get(key, key)
        other = shared.setdefault(symbols.get(key), (key, group))  # and the two activations
        if other[1] != group:
            raise UsageError(f"{source} [symbols]: {key} and {other[0]} are both "
                             f"{symbols.get(key)!r}; each role needs its own symbol")
    for key in SYMBOLS:
        value = symbols.get(key, "")
        try:
            ok = (isinstance(value, str) and SYMBOL.fullmatch(value) is not None
                  and isinstance(parse_expression(value), _Symbol))
        except BpcheckError:
            ok = False
        if not ok and key in symbols:
            raise UsageError(f"{source} [symbols]: {key} = {_quoted(symbols[key])} is not one "
                             "symbol in LaTeX: a letter, a Greek letter or \\mathrm{name}, "
                             "perhaps with a subscript (e.g. \\delta, E_n, \\mathrm{net})")
    return Notation(
        name=_text(data, "name", source),
        title=_text(data, "title", source, longest=200) if "title" in data else data["name"],
        delta_sign=sign,
        first_layer=first,
        output_layer=output_layer,
        symbols=MappingProxyType({k: _text(symbols, k, f"{source} [symbols]") for k in SYMBOLS}),
        layer_marks=MappingProxyType({k: _choice(marks, k, MARKS, f"{source} [layer_marks]")
                                      for k in MARKED}),
        weight_order=_choice(_table(data, "weights", source), "order", ORDERS,
                             f"{source} [weights]"),
        bias_style=_choice(_table(data, "bias", source), "style", BIAS_STYLES,
                           f"{source} [bias]"),
        letters=MappingProxyType(letters),
        output_letters=MappingProxyType(output_letters),
        layer_letters=MappingProxyType(layer_letters),
        forward_letters=MappingProxyType(forward_letters),
        forward_output_letters=MappingProxyType(forward_output_letters),
        source=source,
    )


def load_notation(name: str) -> Notation:
    """A shipped notation by name, or a user's notation file by path."""
    if name in BUILTIN:
        text = resources.files(__package__).joinpath("notations").joinpath(f"{name}.toml").read_text("utf-8")
        return parse_notation(text, source=f"{name}.toml")
    path = Path(name)
    if path.suffix == ".toml":
        try:
            if not path.is_file():
                raise UsageError(f"cannot read notation file {name!r}: not a regular file")
            with path.open("rb") as f:
                data = f.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise UsageError(f"{name}: a notation file is at most {MAX_BYTES} bytes")
            return parse_notation(data.decode("utf-8"), source=name)
        except OSError as e:
            raise UsageError(f"cannot read notation file {name!r}: {e.strerror}") from None
        except UnicodeDecodeError:
            raise UsageError(f"notation file {name!r} is not UTF-8 text") from None
    raise unknown("notation", name, BUILTIN + ("all", "a path to a .toml notation file"))


def load_notations(spec: str) -> list[Notation]:
    """'all', one name, a path, or a comma-separated list of them."""
    names = BUILTIN if spec == "all" else tuple(s.strip() for s in spec.split(",") if s.strip())
    if not names:
        raise unknown("notation", spec, BUILTIN + ("all",))
    notations = [load_notation(n) for n in names]
    seen = [n.name for n in notations]
    twice = sorted({x for x in seen if seen.count(x) > 1})
    if twice:
        raise UsageError(f"notation {twice[0]!r} is given twice; each notation needs its own name")
    return notations
