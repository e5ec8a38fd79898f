"""How values are shown: exact where short, else their first digits; and a counterexample
written in a notation's symbols. One place for every report, check and example.

>>> import sympy as sp
>>> shown(sp.Rational(1, 3), str), shown(sp.log(2), str)
('1/3', 'log(2) ≈ 0.693147180560')
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp

from ..engine.proof import Counterexample
from ..model.activation import KinkSide
from ..model.network import Network
from ..model.notation import Notation
from .printers import latex, text

DIGITS = 12


@dataclass(frozen=True)
class Rendered:
    text: str
    latex: str


def render(expr: sp.Basic, n: Notation, net: Network) -> Rendered:
    return Rendered(text(expr, n, net), latex(expr, n, net))


def shown(v: sp.Expr, write: Callable[[sp.Expr], str], approx: str = "≈") -> str:
    """A value exact where short (a rational, ln 2), else its first 12 digits; `write`
    prints the exact form (as text or as LaTeX)."""
    s = write(v)
    if v.is_Rational:
        return s
    return f"{s} {approx} {sp.N(v, DIGITS)}" if len(s) <= 16 else f"{approx} {sp.N(v, DIGITS)}"


def counterexample_json(ce: Counterexample, n: Notation, net: Network,
                        write: Callable[[sp.Expr], str] | None = None,
                        approx: str = "≈") -> dict[str, Any]:
    """The point where a claim fails, in the notation's symbols (text, or with `write`
    LaTeX): the index values, the point (a ReLU's side follows from its argument's sign,
    so it is left out), both sides, and the values of the quantities the sides are written
    with."""
    write = write or (lambda e: text(e, n, net))
    value = lambda v: shown(v, write, approx)
    return {"index": {write(i): v for i, v in ce.index},
            "point": {write(q): value(v) for q, v in ce.point if not isinstance(q, KinkSide)},
            "lhs": value(ce.lhs), "rhs": value(ce.rhs), "exact": ce.exact,
            "values": {write(q): value(v) for q, v in ce.values}}


def _decimal(r: sp.Rational) -> str | None:
    """The exact decimal of a rational whose expansion terminates (within 30 places)."""
    q, a, b = int(r.q), 0, 0
    while q % 2 == 0:
        q, a = q // 2, a + 1
    while q % 5 == 0:
        q, b = q // 5, b + 1
    n = max(a, b)
    if q != 1 or n > 30:
        return None
    digits = str(abs(int(r.p)) * 10 ** n // int(r.q)).rjust(n + 1, "0")
    sign = "-" if r < 0 else ""
    return sign + digits[:len(digits) - n] + "." + digits[len(digits) - n:]


@dataclass(frozen=True)
class Number:
    """A value as shown: exact (an integer, a terminating decimal or a fraction) or
    rounded to the example's digits."""

    value: sp.Expr
    digits: int

    @property
    def exact(self) -> bool:
        return bool(self.value.is_Rational)

    def plain(self) -> str:
        v = self.value
        if v.is_Rational:
            if v.q == 1:
                return str(v.p)
            return _decimal(v) or f"{v.p}/{v.q}"
        return str(sp.N(v, self.digits))

    def text(self) -> str:
        return self.plain() if self.exact else "≈ " + self.plain()

    def latex(self) -> str:
        v, s = self.value, self.plain()
        if self.exact:
            if v.q != 1 and "/" in s:
                return ("-" if v < 0 else "") + rf"\frac{{{abs(v.p)}}}{{{v.q}}}"
            return s
        mantissa, _, exponent = s.partition("e")
        if exponent:
            s = rf"{mantissa} \times 10^{{{int(exponent)}}}"
        return r"\approx " + s
