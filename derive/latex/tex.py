"""An AST back to LaTeX, canonical: parse(to_latex(parse(x))) == parse(x)."""
from __future__ import annotations

import re

from ..errors import UsageError
from .ast import (Add, Call, Differential, Equation, Frac, Grad, Hadamard, Mul, Neg, Node, Norm,
                  Number, Paren, Partial, Power, Sum, Symbol, Transpose)
from .grammar import OPS, join_index

_SIGNED, _PRODUCT, _LAST, _FACTOR, _UNIT = range(5)   # where a node is printed, loosest first
_CALL_TAIL = re.compile(r"(?:(?:[fgh]|[σφ]|\\[A-Za-z]+)(?:_\{[A-Za-z]\})?|\\[A-Za-z]+\{[A-Za-z]+\})'*$")
_SIMPLE_INDEX = re.compile(r"(?:[A-Za-z0-9]|\\[A-Za-z]+)'*")


def to_latex(node: Node | Equation) -> str:
    r"""Canonical LaTeX for an AST: parse(to_latex(parse(x))) == parse(x).

    >>> from bpcheck.derive.latex.grammar import parse
    >>> print(to_latex(parse(r"\delta^l = ((w^{l+1})^T \delta^{l+1}) \odot \sigma'(z^l)")))
    \delta^{l} = (w^{l + 1})^{T} \delta^{l + 1} \odot \sigma'(z^{l})
    """
    if not isinstance(node, Equation):
        return _tex(node)
    out = _tex(node.sides[0])
    for rel, side in zip(node.relations, node.sides[1:]):
        out += f" {rel} {_tex(side)}"
    for note in node.notes:   # a note always has a non-letter, so it cannot read as a name
        out += rf" \quad \text{{{note}}}"
    return out + (rf" \tag{{{node.tag}}}" if node.tag is not None else "")


def _loose(node, ctx: int) -> bool:
    """Whether node needs brackets where ctx says it is printed."""
    if isinstance(node, Add):
        return True
    if isinstance(node, (Neg, Hadamard)):
        return ctx >= _PRODUCT
    if isinstance(node, Mul):
        return ctx >= _LAST
    return isinstance(node, Sum) and ctx >= _FACTOR


def _in(node, ctx: int) -> str:
    s = _tex(node)
    return f"({s})" if _loose(node, ctx) else s


def _base(node) -> str:
    """node as the base of a Power: bare only where a superscript reads as a power."""
    s = _tex(node)
    return s if isinstance(node, (Call, Norm, Number)) else f"({s})"


def _name(s: Symbol) -> str:
    if s.bold:
        return (r"\boldsymbol{%s}" if s.name.startswith("\\") else r"\mathbf{%s}") % s.name
    if len(s.name) > 1 and not s.name.startswith("\\"):
        return r"\mathrm{%s}" % s.name
    return s.name


def _symbol(s: Symbol) -> str:
    out = _name(s) + "'" * s.primes
    if s.sub:
        simple = all(_SIMPLE_INDEX.fullmatch(t) for t in s.sub)
        out += "_{%s}" % (join_index(s.sub) if simple else ",".join(s.sub))
    return out + ("^{%s}" % _tex(s.sup) if s.sup is not None else "")


def _tex(n) -> str:
    match n:
        case Number(text):
            return text
        case Symbol():
            return _symbol(n)
        case Paren(body):
            return f"({_tex(body)})"
        case Neg(body):
            return "-" + _in(body, _SIGNED)
        case Add(terms):
            out = _in(terms[0], _SIGNED)
            for t in terms[1:]:
                out += f" - {_in(t.body, _SIGNED)}" if isinstance(t, Neg) else f" + {_in(t, _SIGNED)}"
            return out
        case Mul(factors):
            out = ""
            for i, f in enumerate(factors):
                s = _in(f, _LAST if i == len(factors) - 1 else _FACTOR)
                # keep h (x+y) from reading as a call, and 2 3 as 23
                merge = (_CALL_TAIL.search(out) and s.startswith("(")) or \
                    (out[-1:].isdigit() and s[:1].isdigit())
                out += (r" \cdot " if merge else " ") + s if out else s
            return out
        case Hadamard(factors):
            return r" \odot ".join(_in(f, _PRODUCT) for f in factors)
        case Frac(num, den):
            return r"\frac{%s}{%s}" % (_tex(num), _tex(den))
        case Partial(num, den, total):
            d = "d" if total else r"\partial "
            return r"\frac{%s%s}{%s%s}" % (d, _in(num, _UNIT), d, _in(den, _UNIT))
        case Differential(body):
            return r"\partial " + _in(body, _UNIT)
        case Sum(index=i, lower=lo, upper=up, index_set=within, body=body):
            limits = i + (f" = {_tex(lo)}" if lo is not None else "") + \
                (rf" \in {_tex(within)}" if within is not None else "")
            upper = "^{%s}" % _tex(up) if up is not None else ""
            return r"\sum_{%s}%s %s" % (limits, upper, _in(body, _PRODUCT))
        case Call(func, args):
            word = len(func.name) > 1 and func.name[0] != "\\"
            head = "\\" + func.name if func.name in OPS else (
                r"\operatorname{%s}" % func.name if word else func.name)
            unit = "_{%s}" % func.sub[0] if func.sub else ""
            return "%s%s%s(%s)" % (head, unit, "'" * func.primes, ", ".join(_tex(a) for a in args))
        case Power(base, exponent):
            return "%s^{%s}" % (_base(base), _tex(exponent))
        case Transpose(body):
            plain = isinstance(body, Symbol) and body.sup is None
            return (_symbol(body) if plain else _base(body)) + "^{T}"
        case Grad(wrt, body):
            sub = "_{%s}" % _tex(wrt) if wrt is not None else ""
            return r"\nabla%s %s" % (sub, _in(body, _UNIT))
        case Norm(body):
            return r"\lVert %s \rVert" % _tex(body)
    raise UsageError(f"not a grammar node: {n!r}")
