r"""The LaTeX of a backprop derivation, read into bpcheck's own small AST.

`parse` reads the LaTeX people write for backpropagation (Bishop's, Nielsen's and Eglen's
equations, and the questions students ask about them) into frozen dataclasses, not SymPy:
what a symbol means (a layer mark, a power, Nielsen's a versus Bishop's a) is decided later,
per notation. Nothing here evaluates text. The parser is lark's LALR(1), so time is linear
in the input; anything outside the grammar is a ParseError naming the column.

>>> eq = parse(r"\delta_j = h'(a_j) \sum_k w_{kj}\delta_k")
>>> eq.sides[1].factors[1].index
'k'


The rules a reader of the AST relies on, each a choice:

- A sum's body is the product that follows it (juxtaposition, \cdot, \times, *), and stops
  at +, -, \odot, a relation, a closing bracket or the end: `\sum_k w_{kj}\delta_k + b` is
  Add(Sum(w_kj delta_k), b). `\frac{\partial}{\partial y} ...` extends the same way.
- A superscript on a symbol stays raw in Symbol.sup: `a^2` may be Nielsen's layer 2, a
  square or (on e) an exponent, and only the notation can tell. `w^{(2)}` keeps its
  parentheses as Paren, the only place Paren appears. `^T`, `^{T}`, `^\top` are always
  Transpose. A superscript on anything else, a bracket, a call, a norm or a number, is Power:
  `(y - t)^2`. `e^{z}` is Symbol("e", sup=z); a later stage reads it as exp.
- `\frac{\partial X}{\partial Y}` and `\partial X/\partial Y` are Partial(X, Y). With \partial
  on one side only, as in `\frac{\partial E}{a_j}`, it is a plain Frac with a Differential
  inside, kept so the checker can point at it.
- A call is a function name directly followed by a round bracket: f, g, h, \sigma, \phi,
  \varphi, \ln, \log, \exp, \tanh, \operatorname{..} or \mathrm{..} of two or more letters,
  each with any primes (`h'(a_j)`, `\sigma'(z)`). Anything else before a bracket is a
  product: `y_k (I_{kj} - y_j)`; also `y_{nk}(x_n)`. \ln, \log, \exp, \tanh also take one
  following factor: `\ln y_k`.
- `/` binds two adjacent factors, tighter than juxtaposition: `1/2 \sum_k` is (1/2) Sum.
  \odot (also `.*`) binds looser than a product, tighter than + and -.
- Brackets only group; they are not kept (except in a superscript, above). Sizing commands,
  spacing, `&`, `\\`, `\nonumber`, `\label` are ignored; `\tag{36}` or a trailing
  `\quad (1)` is the tag; `\text{...}` prose before or after the equation goes to notes.
"""
from __future__ import annotations

import os
import re
import stat
import sys
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib import resources

import lark
from lark import Lark, Token, v_args
from lark.exceptions import UnexpectedInput, VisitError
from lark.visitors import Transformer_NonRecursive

from ..errors import UsageError
from ..model.symbols import GREEK_CHARS, GREEK_NAMES
from .source import ParseError, check_depth, error_at, from_lark, prepare
from .ast import (Add, Call, Differential, Equation, Frac, Grad, Hadamard, Mul, Neg, Node, Norm,
                  Number, Paren, Partial, Power, Shift, Sum, Symbol, Transpose)

# -- the grammar -----------------------------------------------------------------------------

_G = r"\\(?:%s)(?![A-Za-z])" % "|".join(GREEK_NAMES)
OPS = ("ln", "log", "exp", "tanh")     # named operators that also take one factor unbracketed

GRAMMAR = (resources.files(__package__).joinpath("grammar.lark").read_text("utf-8")
           .replace("@GC@", "".join(GREEK_CHARS)).replace("@G@", _G)
           .replace("@GAP@", r"(?:\s|\\[,;:! ])*"))


class _NormBars:
    r"""\| opens a norm unless the innermost open norm is a \| itself; LALR cannot tell."""
    always_accept = ("NORM",)

    def process(self, stream):
        open_bars: list[str] = []
        for tok in stream:
            if tok.type != "NORM":
                yield tok
                continue
            bar = tok.value not in (r"\lVert", r"\rVert")
            if tok.value == r"\lVert" or (bar and not (open_bars and open_bars[-1] == "|")):
                open_bars.append("|" if bar else "V")
                yield Token.new_borrow_pos("_NORM_OPEN", tok.value, tok)
            else:
                if open_bars:
                    open_bars.pop()
                yield Token.new_borrow_pos("_NORM_CLOSE", tok.value, tok)


def _cache_file() -> str | bool:
    """Where lark keeps the analysed grammar: building the LALR tables is a third of a single
    `check`, loading them a twentieth of that. Lark unpickles the file before it checks
    anything, so it is used only in a folder no one else could have written to: never lark's
    default in the shared temp directory, never a relative path (a cloned repository's
    `.cache`), only the user's own cache folder, owned by the user, closed to others and
    not a link; else no cache at all (BPCHECK_NO_CACHE=1 also turns it off). A stale,
    unreadable or half-written file is rebuilt."""
    if os.environ.get("BPCHECK_NO_CACHE"):
        return False
    root = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(root):  # unset, empty or relative: the XDG rule is to ignore it
        root = os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(root):  # no home (HOME unset and no passwd entry, or HOME empty)
        return False
    folder = os.path.join(root, "bpcheck")
    path = os.path.join(folder, cache_name())
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not (_private(folder, directory=True) and os.access(folder, os.W_OK)):
            return False
        if os.path.lexists(path) and not _private(path):
            return False
    except OSError:
        return False
    return path


def cache_name() -> str:
    """The cache file's name: lark's version and Python's, whose pickles differ."""
    return "latex-grammar-%s-py%d%d.lark" % (lark.__version__, *sys.version_info[:2])


def _private(path: str, *, directory: bool = False) -> bool:
    """Owned by this user, not a link, and (a folder) closed to group and others."""
    st = os.lstat(path)
    kind = stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)
    mine = not hasattr(os, "getuid") or st.st_uid == os.getuid()
    return kind and mine and not (directory and st.st_mode & 0o077)


@cache
def _parser(debug: bool = False) -> Lark:
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", start=["start", "expression"],
                propagate_positions=True, postlex=_NormBars(), debug=debug,
                cache=False if debug else _cache_file())


# -- public entry points ---------------------------------------------------------------------

def parse(text: str, *, shifts: bool = False) -> Equation:
    r"""The equation (or bare expression) in text, wrappers like $$..$$ removed; an index
    with arithmetic (x_{i+m-1}) only where `shifts` (a layer's slice reads it), else a
    ParseError that says so.

    >>> parse(r"\delta_j \equiv \frac{\partial E_n}{\partial a_j}").relations
    ('\\equiv',)
    """
    return _run(text, "start", shifts)


def parse_expression(text: str) -> Node:
    r"""One expression with no relation.

    >>> parse_expression(r"\frac{\partial C}{\partial b^l_j}")
    Partial(num=Symbol(name='C', sub=(), sup=None, primes=0, bold=False), den=Symbol(name='b', sub=('j',), sup=Symbol(name='l', sub=(), sup=None, primes=0, bold=False), primes=0, bold=False), total=False)
    """
    return _run(text, "expression")


def _run(text: str, start: str, shifts: bool = False):
    if not isinstance(text, str):
        raise UsageError(f"LaTeX must be a str, not {type(text).__name__}")
    return _parsed(text, start, shifts)


# A check reads its equation again in each notation, convention and repair it tries: the
# catalogue parses 155 texts 6,231 times. The AST is immutable (frozen dataclasses), so a
# text's tree is built once; a text that fails to parse raises each time (not cached).
@lru_cache(maxsize=1024)
def _parsed(text: str, start: str, shifts: bool):
    src = prepare(text)
    try:
        tree = _parser().parse(src, start=start)
    except UnexpectedInput as e:
        raise from_lark(e, src) from None
    check_depth(tree, src)
    try:
        return _Build(src, shifts=shifts).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, ParseError):
            raise e.orig_exc from None
        raise


# -- from parse tree to AST ------------------------------------------------------------------

@dataclass(frozen=True)
class _Post:                 # one script of a symbol, before the symbol is assembled
    kind: str
    value: object
    pos: int


@dataclass(frozen=True)
class _Lower:
    index: str
    lower: Node | None = None
    index_set: Node | None = None


@dataclass(frozen=True)
class _SumHead:
    lower: _Lower
    upper: Node | None

    def apply(self, body: Node) -> Sum:
        return Sum(index=self.lower.index, lower=self.lower.lower, upper=self.upper,
                   index_set=self.lower.index_set, body=body)


@dataclass(frozen=True)
class _PartialOp:
    den: Node

    def apply(self, body: Node) -> Partial:
        return Partial(body, self.den)


def _bare(node):
    return node.body if isinstance(node, Paren) else node


def _is_t(node) -> bool:
    return node in (Symbol("T"), Symbol(r"\top"))


def _marked_t(node):
    """The layer mark of a superscript that ends in a transpose, w^{(k)T} or w^{(k)\top},
    or None."""
    if isinstance(node, Mul) and len(node.factors) == 2 and _is_t(node.factors[1]):
        mark = node.factors[0]
        return mark if isinstance(mark, Paren) else Paren(mark)
    return None


def _ratio(num, den):
    num, den = _bare(num), _bare(den)
    if isinstance(num, Differential) and isinstance(den, Differential):
        return Partial(num.body, den.body)
    if _after_d(num) is not None and _after_d(den) is not None:  # dE_n/da_j, a total derivative
        return Partial(_after_d(num), _after_d(den), total=True)
    return Frac(num, den)


def _after_d(node):
    """X of a product d X (a plain d, or \\mathrm{d}, then one factor), else None."""
    if isinstance(node, Mul) and len(node.factors) == 2:
        d, x = node.factors
        if isinstance(d, Symbol) and d.name in ("d", r"\mathrm{d}") and not d.sub \
                and d.sup is None and not d.primes:
            return x
    return None


def _index_text(node) -> str:
    return node.text if isinstance(node, Number) else node.name


def _signed_groups(items: list):
    """(sign, the juxtaposed parts) of each term of an index with arithmetic."""
    sign, group = 1, []
    for t in items:
        if isinstance(t, Token) and t.type in ("PLUS", "MINUS"):
            yield sign, group
            sign, group = (1 if t.type == "PLUS" else -1), []
        else:
            group.append(t)
    yield sign, group


def join_index(parts) -> str:
    out = ""
    for p in parts:   # a space keeps \alpha j from reading as \alphaj
        out += (" " if re.search(r"\\[A-Za-z]+$", out) and p[:1].isalpha() else "") + p
    return out


class _Build(Transformer_NonRecursive):
    """Parse tree to AST; one instance per parse, so errors can quote the source."""

    def __init__(self, src: str, *, shifts: bool = False):
        super().__init__()
        self.src, self.shifts = src, shifts

    def _fail(self, pos: int, what: str) -> ParseError:
        return error_at(self.src, pos, what)

    # tokens
    def LETTER(self, t): return Symbol(str(t))
    def DIGIT(self, t): return Number(str(t))
    def GREEK(self, t): return Symbol(GREEK_CHARS.get(str(t), str(t)))
    def NAME(self, t): return Symbol(re.search(r"\{\s*([A-Za-z]+)", t)[1])
    def CAL(self, t): return Symbol(r"\mathcal{%s}" % re.search(r"([A-Za-z])\s*\}?$", t)[1])
    def TOP(self, t): return Symbol(r"\top")

    def ACCENT(self, t):
        accent, inner = re.match(r"\\([A-Za-z]+)\s*\{?\s*(\\?[A-Za-z]+)", str(t)).groups()
        accent = "hat" if accent == "widehat" else accent
        return Symbol(rf"\{accent}{{{GREEK_CHARS.get(inner, inner)}}}")
    def PRIMES(self, t): return len(t)

    def BOLD(self, t):
        inner = re.match(r"\\[A-Za-z]+\s*\{?\s*(\\?[A-Za-z]+|.)", str(t))[1]
        return Symbol(GREEK_CHARS.get(inner, inner), bold=True)

    # atoms
    def number(self, c): return Number(str(c[0]))
    def group(self, c): return Paren(_bare(c[0]))
    def norm(self, c): return Norm(_bare(c[0]))
    def frac(self, c): return _ratio(*c)
    # a square root is the power one half: the engine has one kind of power
    def sqrt(self, c): return Power(_bare(c[0]), Frac(Number("1"), Number("2")))
    def div(self, c): return _ratio(*c)
    def differential(self, c): return Differential(_bare(c[0]))
    def grad(self, c): return Grad(_bare(c[0]) if len(c) == 2 else None, _bare(c[-1]))
    def opapp(self, c): return Call(Symbol(str(c[0])[1:]), (_bare(c[1]),))

    def call(self, c):
        m = re.match(r"(\\?[A-Za-z]+|[σφ])\s*(?:\{\s*([A-Za-z]+)\s*\})?\s*(['′]*)", str(c[0]))
        head, name, primes = m[1], m[2], len(re.findall("['′]", str(c[0])))
        if name is None:
            name = GREEK_CHARS.get(head, head[1:] if head[1:] in OPS else head)
        # f_j(a_j): the activation of unit j, written per unit
        unit = re.search(r"_[^A-Za-z{]*\{?[^A-Za-z]*([A-Za-z])", str(c[0]))
        return Call(Symbol(name, sub=(unit[1],) if unit else (), primes=primes),
                    tuple(_bare(a) for a in c[1:]))

    def power(self, c):
        base, exp = _bare(c[0]), _bare(c[1])
        return Transpose(base) if _is_t(exp) else Power(base, exp)

    # symbols
    @v_args(meta=True)
    def sub(self, meta, c):
        if not isinstance(c[0], tuple):
            return _Post("sub", (_index_text(c[0]),), meta.start_pos)
        value = c[0] if len(c) == 1 else tuple(
            item[0] if isinstance(item[0], Shift) else self._multiple(item) for item in c)
        return _Post("sub", value, meta.start_pos)

    def _multiple(self, item: tuple) -> str:
        """One index of several: a number times a letter (x_{2i,2j}) is a Shift in a slice;
        anything else its text."""
        if self.shifts and len(item) > 1 and item[-1].isalpha() and len(item[-1]) == 1 \
                and all(t.isdigit() for t in item[:-1]):
            return Shift(((int("".join(item[:-1])), item[-1]),))
        return join_index(item)

    @v_args(meta=True)
    def sup(self, meta, c): return _Post("sup", c[0], meta.start_pos)   # not bare: w^{(2)}
    @v_args(meta=True)
    def idxitem(self, meta, c):
        if not any(isinstance(t, Token) and t.type in ("PLUS", "MINUS") for t in c):
            return tuple(c)
        if not self.shifts:
            raise self._fail(meta.start_pos, "an index with arithmetic (x_{i+1}, h_{t-1}) is "
                             "read only in a layer's slice (check --net, for conv1d, maxpool, "
                             "avgpool and rnn layers); here name each entry by an index of its own")
        return (Shift(tuple(self._term(group, sign, meta.start_pos)
                            for sign, group in _signed_groups(c))),)

    def _term(self, group: list[str], sign: int, pos: int) -> tuple[int, str | None]:
        """One term of an index with arithmetic: a number, a letter, or a number times a
        letter (2i); nothing else (two letters multiplied, a prime, a Greek letter)."""
        digits = "".join(t for t in group if t.isdigit())
        letters = [t for t in group if not t.isdigit()]
        if len(letters) > 1 or (letters and not (len(letters[0]) == 1 and letters[0].isalpha())) \
                or (letters and group[-1] != letters[0]) or not (digits or letters):
            raise self._fail(pos, f"an index term '{''.join(group)}' is not read: a term of "
                             "an index with arithmetic is a number, a letter or a number times a "
                             "letter (x_{i+m-1}, y_{2i})")
        if not letters:
            return sign * int(digits), None
        return sign * int(digits or 1), letters[0]
    def idx(self, c): return _index_text(c[0]) + "'" * (c[1] if len(c) > 1 else 0)

    def symbol(self, c):
        base, scripts = c[0], {}
        if len(c) == 1:
            return base
        primes = sum(p for p in c[1:] if isinstance(p, int))
        for p in (p for p in c[1:] if isinstance(p, _Post)):
            if p.kind in scripts:
                raise self._fail(p.pos, f"a second {'subscript' if p.kind == 'sub' else 'superscript'}; "
                                        "brace it, as in x_{jk} or x^{(l)}")
            scripts[p.kind] = p.value
        sup = scripts.get("sup")
        mark = _marked_t(sup)
        if mark is not None:  # W^{(k)T}: the layer mark, then the transpose
            return Transpose(replace(base, sub=scripts.get("sub", ()), primes=primes, sup=mark))
        sym = replace(base, sub=scripts.get("sub", ()), primes=primes,
                      sup=None if _is_t(sup) else sup)
        return Transpose(sym) if _is_t(sup) else sym

    # sums and products
    def index(self, c): return c[0].name + "'" * (c[1] if len(c) > 1 else 0)
    def lower_index(self, c): return _Lower(c[0].name if isinstance(c[0], Symbol) else c[0])
    def lower_from(self, c): return _Lower(c[0], lower=_bare(c[2]))
    def lower_in(self, c): return _Lower(c[0], index_set=_bare(c[1]))

    def sum_head(self, c):
        lower = next(x for x in c if isinstance(x, _Lower))
        upper = next((_bare(x) for x in c if not isinstance(x, _Lower)), None)
        return _SumHead(lower, upper)

    @v_args(meta=True)
    def partial_op(self, meta, c):
        den = _bare(c[0])
        if not isinstance(den, Differential):
            raise self._fail(meta.start_pos, r"\frac{\partial}{...} needs \partial in the denominator")
        return _PartialOp(den.body)

    def product(self, c):
        c = list(c)
        if len(c) > 1 and isinstance(c[-2], (_SumHead, _PartialOp)):
            body = _bare(c.pop())
            c[-1] = c[-1].apply(body)
        factors = tuple(_bare(f) for f in c)
        return factors[0] if len(factors) == 1 else Mul(factors)

    def hadamard(self, c): return Hadamard(tuple(_bare(f) for f in c))
    def neg(self, c): return Neg(_bare(c[1]))
    def pos(self, c): return _bare(c[1])

    def expr(self, c):
        terms = [_bare(c[0])]
        for op, term in zip(c[1::2], c[2::2]):
            terms.append(_bare(term) if op.type == "PLUS" else Neg(_bare(term)))
        return Add(tuple(terms))

    # equations
    def chain(self, c):
        canonical = {"≡": r"\equiv", "≠": r"\neq", r"\ne": r"\neq", "←": r"\leftarrow",
                     r"\gets": r"\leftarrow", ":=": r"\leftarrow",
                     # Nielsen's w -> w' = w - eta dC/dw: "is replaced by"
                     r"\to": r"\leftarrow", r"\rightarrow": r"\leftarrow", "→": r"\leftarrow"}
        rels = tuple(canonical.get(str(r), str(r)) for r in c[1::2])
        return (tuple(_bare(s) for s in c[0::2]), rels)

    def expression(self, c): return _bare(c[0])

    def start(self, c):
        (sides, rels), = (x for x in c if isinstance(x, tuple))
        notes = tuple(re.search(r"\{([^{}]*)\}", t)[1] for t in c
                      if isinstance(t, Token) and t.type in ("PROSE", "PAREN_PROSE"))
        tags = [t for t in c if isinstance(t, Token) and t.type in ("TAG", "EQNUM")]
        if len(tags) > 1:
            raise self._fail(tags[1].start_pos, "a second tag; an equation has one")
        tag = re.search(r"\{([^{}]*)\}|\(([^()]*)\)", str(tags[0])) if tags else None
        tag = (tag[1] if tag[1] is not None else tag[2]).strip() if tag else None
        return Equation(sides, rels, tag, notes)


