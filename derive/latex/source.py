r"""The text around a parse: wrappers taken off, the limits on size and nesting, and
errors that name the line, the column and what was expected.

>>> prepare(r"$a = b$")
' a = b '
"""
from __future__ import annotations

import re

from lark import Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..errors import BpcheckError

MAX_BYTES = 10_000
MAX_NESTING = 100       # open brackets at once
MAX_DEPTH = 150         # parse-tree levels; keeps every recursive walk of the AST far from the limit


class ParseError(BpcheckError):
    r"""LaTeX outside the grammar: the message names the column, the text there, what was expected.

    >>> raise ParseError(r"unknown command \foo", column=5, found="\\foo", expected=("an expression",))
    Traceback (most recent call last):
    bpcheck.derive.latex.source.ParseError: at column 5 ('\\foo'): unknown command \foo; expected an expression
    """

    def __init__(self, what: str, *, column: int, line: int = 1, found: str = "",
                 expected: tuple[str, ...] = ()):
        self.column, self.line, self.found, self.expected = column, line, found, expected
        where = f"column {column}" if line == 1 else f"line {line}, column {column}"
        shown = repr(found) if found else "end of input"
        tail = f"; expected {_either(expected)}" if expected else ""
        super().__init__(f"at {where} ({shown}): {what}{tail}")


# -- before and after lark -------------------------------------------------------------------

_ENVS = ("equation", "equation*", "align", "align*", "aligned", "eqnarray", "eqnarray*",
         "gather", "gather*", "gathered", "split", "multline", "multline*", "displaymath")
_DELIMS = (("$$", "$$"), ("$", "$"), (r"\[", r"\]"), (r"\(", r"\)"))


def prepare(text: str) -> str:
    """text with its wrappers blanked (so columns stay), after the size, emptiness and
    bracket-nesting checks."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        cut = len(text.encode("utf-8", "surrogatepass")[:MAX_BYTES].decode("utf-8", "ignore"))
        raise error_at(text, cut, f"input is {size} bytes; at most {MAX_BYTES} are read")
    src = unwrap(text)
    if not src.strip():
        raise ParseError("empty input", column=1, expected=("an equation",))
    depth = 0
    for m in re.finditer(r"\\.|[{(\[]|[})\]]", src, re.S):
        if m.group() in "{([":
            depth += 1
            if depth > MAX_NESTING:
                raise error_at(src, m.start(), f"brackets nested deeper than {MAX_NESTING}")
        elif m.group() in "})]":
            depth -= 1
    return src


def unwrap(text: str) -> str:
    """$..$, $$..$$, \\[..\\], \\begin{equation}..\\end{equation} and the like replaced by spaces."""
    chars, lo, hi = list(text), 0, len(text)

    def blank(a: int, b: int) -> None:
        chars[a:b] = " " * (b - a)

    while True:
        while lo < hi and text[lo].isspace():
            lo += 1
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        core = text[lo:hi]
        if core[-1:] in (".", ",") and re.search(r"(\$|\\\]|\\\)|\\end\{[a-z]+\*?\})\s*$", core[:-1]):
            blank(hi - 1, hi)
            hi -= 1
            continue
        env = re.match(r"\\begin\s*\{([a-z]+\*?)\}", core)
        pair = next(((o, c) for o, c in _DELIMS if core.startswith(o)), None)
        if env and env[1] in _ENVS:
            pair = (env[0], rf"\end{{{env[1]}}}")
            closing = re.search(r"\\end\s*\{%s\}$" % re.escape(env[1]), core)
            close_len = len(closing[0]) if closing else 0
        elif pair:
            fits = core.endswith(pair[1]) and len(core) >= len(pair[0]) + len(pair[1])
            close_len = len(pair[1]) if fits else 0
        else:
            break
        if not close_len:
            raise error_at(text, lo, f"{pair[0]} is not closed by {pair[1]} at the end")
        blank(lo, lo + len(pair[0]))
        blank(hi - close_len, hi)
        lo, hi = lo + len(pair[0]), hi - close_len
    return "".join(chars)


def check_depth(tree: Tree, src: str) -> None:
    stack = [(tree, 1)]
    while stack:
        t, d = stack.pop()
        if d > MAX_DEPTH:
            pos = t.meta.start_pos if not t.meta.empty else 0
            raise error_at(src, pos, f"expression nested deeper than {MAX_DEPTH} levels")
        stack.extend((k, d + 1) for k in t.children if isinstance(k, Tree))


def error_at(src: str, pos: int, what: str, expected: tuple[str, ...] = (),
              found: str | None = None) -> ParseError:
    line = src.count("\n", 0, pos) + 1
    column = pos - (src.rfind("\n", 0, pos) + 1) + 1
    if found is None:
        m = re.compile(r"\\[A-Za-z]+|\\.|.", re.S).match(src, pos)
        found = m.group() if m else ""
    return ParseError(what, column=column, line=line, found=found, expected=expected)


_SAY = {
    "LETTER": "a letter", "DIGIT": "a digit", "GREEK": "a Greek letter", "NUMBER": "a number",
    "NAME": r"\mathrm{...}", "BOLD": r"\mathbf{...}", "CAL": r"\mathcal{...}", "TOP": r"\top",
    "ACCENT": r"\hat{...}",
    "FCALL": "a function call", "OPNAME": r"\ln", "_FRAC": r"\frac", "_SQRT": r"\sqrt", "_SUM": r"\sum",
    "_PARTIAL": r"\partial", "_NABLA": r"\nabla", "NORM": r"\|", "_NORM_OPEN": r"\|",
    "_NORM_CLOSE": r"a closing \|", "_LPAR": "'('", "_RPAR": "')'", "_LBRACK": "'['",
    "_RBRACK": "']'", "_LBRACE": "'{'", "_RBRACE": "'}'", "_SUB": "'_'", "_SUP": "'^'",
    "PRIMES": "a prime", "_MULOP": r"\cdot", "_SLASH": "'/'", "PLUS": "'+'", "MINUS": "'-'",
    "_ODOT": r"\odot", "EQ": "'='", "REL": r"\equiv", "_IN": r"\in", "_COMMA": "','",
    "_DOT": "'.'", "TAG": r"\tag{...}", "PROSE": r"\text{...}", "PAREN_PROSE": r"(\text{...})",
    "EQNUM": r"\quad (n)", "$END": "end of input",
}
_GROUPS = (  # (name, members, how many must be present to say the name instead)
    ("an expression", {"LETTER", "GREEK", "NUMBER", "NAME", "BOLD", "CAL", "ACCENT", "TOP", "FCALL",
                       "OPNAME", "_FRAC", "_SQRT", "_SUM", "_PARTIAL", "_NABLA", "_LPAR", "_LBRACK",
                       "_LBRACE", "_NORM_OPEN", "NORM", "MINUS", "PLUS"}, 6),
    ("an operator", {"PLUS", "MINUS", "_ODOT", "_MULOP", "_SLASH", "EQ", "REL"}, 4),
    ("the end", {"PROSE", "PAREN_PROSE", "TAG", "EQNUM", "_DOT", "_COMMA", "$END"}, 4),
)
_USAGE = {"mathbf": r"one letter, as in \mathbf{a}", "boldsymbol": r"one letter, as in \boldsymbol{\delta}",
          "bm": "one letter", "textbf": "one letter", "vec": r"one letter, as in \vec{a}",
          "mathcal": r"one letter, as in \mathcal{L}", "mathrm": r"letters, as in \mathrm{net}",
          "text": r"letters, as in \text{net}", "operatorname": r"letters, as in \operatorname{softmax}",
          "tag": r"braces, as in \tag{36}", "begin": "an environment around the whole equation",
          "end": "an environment around the whole equation", "label": r"braces, as in \label{eq}"}


def _describe(names) -> tuple[str, ...]:
    names, out = set(names), []
    for label, members, enough in _GROUPS:
        if len(names & members) >= enough:
            names -= members
            out.append(label)
    return tuple(out + sorted({_SAY.get(n, n) for n in names}))


def _either(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def from_lark(e: UnexpectedInput, src: str) -> ParseError:
    if isinstance(e, UnexpectedCharacters):
        err = error_at(src, e.pos_in_stream, "")
        cmd = re.fullmatch(r"\\([A-Za-z]+)", err.found)
        if cmd and cmd[1] in _USAGE:
            what = f"cannot read {err.found} here; it takes {_USAGE[cmd[1]]}"
        elif cmd:
            what = f"unknown command {err.found}"
        else:
            what = f"unexpected character {err.found!r}"
        return error_at(src, e.pos_in_stream, what, _describe(e.allowed or ()), err.found)
    if not isinstance(e, UnexpectedToken):
        return error_at(src, e.pos_in_stream or 0, "cannot read this")
    expected = _describe(e.accepts or e.expected or ())
    if e.token.type == "$END":
        return error_at(src, len(src.rstrip()), "unexpected end of input", expected, "")
    found = str(e.token)
    return error_at(src, e.token.start_pos, f"unexpected {found}", expected, found)
