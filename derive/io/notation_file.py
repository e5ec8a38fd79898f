"""A notation file: read, validated by type and shape, made a Notation.

What reaches LaTeX (symbols, index letters, the output layer's name) must have the shape
the schema allows: a symbol is one letter, Greek letter or \\mathrm{name}, perhaps with a
subscript, and it must read as one symbol in bpcheck's grammar; a letter is a letter with
at most three primes. So no notation file can put a TeX command into an exported document.

>>> n = load_notation("nielsen")
>>> n.layer_label(2, 2), n.symbols["weighted_input"]
('L', 'z')
"""
from __future__ import annotations

import re
from importlib import resources
from types import MappingProxyType

from ..errors import BpcheckError, UsageError, unknown
from ..latex.grammar import Symbol, parse_expression
from ..model.symbols import GREEK_NAMES
from ..model.names import BUILTIN
from ..model.notation import (BATCH_MATRICES, BIAS_STYLES, LAYOUTS, MARKED, MARKS, ORDERS, ROLES,
                              SYMBOLS, TOTALS, WEIGHT_MARKS, Batch, Notation)
from .fields import Fields, quoted
from .files import parse_toml, read_text

LETTER = re.compile(r"[A-Za-z]'{0,3}")
LAYER_NAME = re.compile(r"[A-Za-z0-9]{0,8}")
_GREEK = "|".join(GREEK_NAMES)
SYMBOL = re.compile(
    r"(?:[A-Za-z]|\\(?:%s)|\\(?:mathrm|mathit|mathsf|mathbf|boldsymbol|mathcal|mathscr|text|"
    r"operatorname)\{(?:[A-Za-z]{1,12}|\\(?:%s))\}|\\(?:hat|tilde|bar)\{(?:[A-Za-z]|\\(?:%s))\})"
    r"(?:_(?:[A-Za-z0-9]|\{[A-Za-z0-9]{1,4}\}))?" % (_GREEK, _GREEK, _GREEK))
LETTER_WORDS = "an index letter; give one letter, perhaps with primes, e.g. \"j\" or \"k'\""
# roles that share a symbol: a unit's output, the input and the network's output; the two
# activations. Every other role needs a symbol of its own.
_SHARED = {"input": "out", "output": "out", "unit_output": "out",
           "hidden_activation": "act", "output_activation": "act"}


def load_notation(name: str) -> Notation:
    """A shipped notation by name, or a user's notation file by path."""
    if name in BUILTIN:
        shipped = resources.files("bpcheck.derive.model").joinpath("notations", f"{name}.toml")
        return parse_notation(shipped.read_text("utf-8"), source=f"{name}.toml")
    if name.endswith(".toml"):
        return parse_notation(read_text(name, what="notation"), source=name)
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


def parse_notation(text: str, *, source: str) -> Notation:
    """Validate a notation file's text; every problem names the key."""
    top = Fields(parse_toml(text, source=source, what="notation"), source=source)
    symbols = _symbols(top.table("symbols"))
    marks = top.table("layer_marks")
    letters = _letters(top.table("indices"))
    return Notation(
        name=top.string("name"),
        title=top.string("title", longest=200) if "title" in top else top.string("name"),
        delta_sign=top.choice("delta_sign", (1, -1)),
        first_layer=top.integer("first_layer", 0, 9, default=0),
        output_layer=_output_layer(top),
        symbols=MappingProxyType(symbols),
        layer_marks=MappingProxyType({k: marks.choice(k, MARKS) for k in MARKED}),
        weight_order=top.table("weights").choice("order", ORDERS),
        weight_mark=top.table("weights").choice("mark", WEIGHT_MARKS, default="enters"),
        bias_style=top.table("bias").choice("style", BIAS_STYLES),
        pattern=_pattern(top, symbols["error"]),
        batch=_batch(top, symbols),
        source=source, **letters)


def _pattern(top: Fields, error: str) -> str:
    """The pattern index's letter: [pattern] letter, else the error symbol's subscript
    where it is one letter (Bishop's E_n)."""
    table = top.table("pattern", required=False)
    if "letter" in table:
        return table.string("letter", longest=1, shape=re.compile("[A-Za-z]"), what="a letter")
    m = re.fullmatch(r"[^_]+_\{?([A-Za-z])\}?", error)
    return m.group(1) if m else ""


def _batch(top: Fields, symbols: dict[str, str]) -> Batch:
    """[pattern] size, total, layout and [pattern.matrices]: how a mini-batch is written."""
    table = top.table("pattern", required=False)
    table.only(("letter", "size", "total", "layout", "matrices"))
    size = table.string("size", shape=SYMBOL, what="a symbol, e.g. \"N\"") \
        if "size" in table else "N"
    matrices = table.table("matrices", required=False)
    matrices.only(BATCH_MATRICES)
    out = Batch(size=size, total=table.choice("total", TOTALS, default="sum"),
                layout=table.choice("layout", LAYOUTS, default="columns"),
                matrices=MappingProxyType({k: matrices.string(k, shape=SYMBOL, what="a symbol")
                                           for k in BATCH_MATRICES if k in matrices}))
    taken = {v: k for k, v in symbols.items()}
    for name in (out.size, *out.matrices.values()):
        if name in taken:
            raise table.fail(f"{name!r} is already {taken[name]}; a mini-batch's symbols "
                             "need their own")
    return out


def _output_layer(top: Fields) -> str:
    """How the output layer's number is written: up to 8 letters or digits, or "" for its
    number itself."""
    value = top.get("output_layer", "")
    if not isinstance(value, str) or not LAYER_NAME.fullmatch(value):
        raise top.fail(f"output_layer = {quoted(value)} must be up to 8 letters or digits, "
                       "e.g. \"L\", or \"\" for the layer's number")
    return value


def _symbols(table: Fields) -> dict[str, str]:
    """Every role's symbol: one LaTeX symbol each, shared only where roles may share."""
    out = {k: table.string(k) for k in SYMBOLS}
    shared: dict[str, tuple[str, str]] = {}
    for key, value in out.items():
        group = _SHARED.get(key, key)
        other = shared.setdefault(value, (key, group))
        if other[1] != group:
            raise table.fail(f"{key} and {other[0]} are both {value!r}; each role needs its "
                             "own symbol")
        if not _one_symbol(value):
            raise table.fail(f"{key} = {quoted(value)} is not one symbol in LaTeX: a letter, a "
                             "Greek letter or \\mathrm{name}, perhaps with a subscript (e.g. "
                             "\\delta, E_n, \\mathrm{net})")
    return out


def _one_symbol(value: str) -> bool:
    try:
        return SYMBOL.fullmatch(value) is not None and isinstance(parse_expression(value), Symbol)
    except BpcheckError:
        return False


def _letters(indices: Fields) -> dict:
    """The index letters by role: in general, about an output unit, in the forward
    equations, and the letters that name a kind of layer."""
    base = {r: indices.string(r, longest=4, shape=LETTER, what=LETTER_WORDS) for r in ROLES}

    def overlay(key: str, under: dict) -> dict:
        table = indices.table(key, required=False)
        return {r: table.string(r, longest=4, shape=LETTER, what=LETTER_WORDS)
                if r in table else under[r] for r in ROLES}

    tables = {"letters": base, "output_letters": overlay("output", base),
              "forward_letters": overlay("forward", base)}
    tables["forward_output_letters"] = overlay("forward_output", tables["output_letters"])
    for (name, table), roles in zip(tables.items(), (("prev", "next", "sum"), ("prev", "sum"),
                                                      ("prev", "sum"), ("prev", "sum"))):
        key = {"letters": "indices", "output_letters": "indices.output",
               "forward_letters": "indices.forward",
               "forward_output_letters": "indices.forward_output"}[name]
        for other in roles:  # roles that stand in one equation with "this"
            if table[other] == table["this"]:
                raise indices.fail(f"[{key}] {other} = {table[other]!r} is the letter of this; "
                                   "the two stand in one equation and need different letters")
    fixed = indices.get("layers", {})
    if not isinstance(fixed, dict) or set(fixed) - {"input", "hidden", "output"} or not all(
            isinstance(v, list) and all(isinstance(c, str) and LETTER.fullmatch(c) for c in v)
            for v in fixed.values()):
        raise indices.fail("[indices.layers] maps input, hidden and output to lists of "
                           "letters, e.g. hidden = [\"j\", \"q\"]")
    return {**{k: MappingProxyType(v) for k, v in tables.items()},
            "layer_letters": MappingProxyType({k: tuple(v) for k, v in fixed.items()})}
