"""Printers: the canonical model written in a notation, as LaTeX or as terminal text.

One printer per output form, each a SymPy Printer with `_print_<Class>` methods that
recurse through `self._print`; what a symbol is called, where its layer shows and in
which order a weight's indices go all come from the Notation.

>>> from bpcheck.derive.model.network import make_network
>>> from bpcheck.derive.io.notation_file import load_notation
>>> net = make_network(layers=(2, 3, 2))
>>> j, i = net.index("this", 1), net.index("prev", 0)
>>> latex(net.W(1)[j, i], load_notation("eglen"), net)
'w_{pq}'
"""
from __future__ import annotations

import re

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.printer import Printer

from ..engine.expr import Partial
from ..model.network import Network, UnitIndex, role_of
from ..model.notation import Notation
from ..model.symbols import GREEK_CHARS

_GREEK = {name: char for char, name in GREEK_CHARS.items() if char not in "ϵϑϕ"} | {
    r"\epsilon": "ε", r"\phi": "φ", r"\vartheta": "ϑ", r"\partial": "∂", r"\nabla": "∇",
    r"\ell": "ℓ", r"\mathcal{L}": "ℒ"}
_ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304"}  # combining marks: ŷ


def text_symbol(latex_name: str) -> str:
    """The terminal form of a symbol given in LaTeX: \\delta -> δ, E_{n} -> E_n."""
    out = latex_name
    for k in sorted(_GREEK, key=len, reverse=True):
        out = out.replace(k, _GREEK[k])
    out = re.sub(r"\\(mathrm|mathit|mathbf|boldsymbol|text)\{([^{}]*)\}", r"\2", out)
    out = re.sub(r"\\(hat|tilde|bar)\{([^{}])\}", lambda m: m[2] + _ACCENTS[m[1]], out)
    return out.replace("{", "").replace("}", "").replace("\\", "")


def layer_label(n: Notation, net: Network, l: int) -> str:
    """Layer l as written: its generic name (l, l+1, L) where the network stands for every
    depth, else the notation's number for it."""
    return net.layer_name(l) or n.layer_label(l, net.L)


def summary(net: Network, *, parameters: bool = False) -> str:
    """The network in one line: "2-3-2: hidden abstract, output softmax, loss ce, biases"."""
    widths = ("-" if not net.symbolic else ", ").join(map(str, net.widths))
    out = (f"{widths}: hidden {net.hidden.name}, output {net.output.name}, "
           f"loss {net.loss.name}, {'biases' if net.bias else 'no biases'}")
    return out + (f", {net.n_weights} parameters" if parameters else "")


class _NotationPrinter(Printer):
    """What both printers share: which symbol a quantity is, with which marks."""

    _default_settings: dict = {}

    def __init__(self, notation: Notation, net: Network):
        super().__init__()
        self.notation, self.net = notation, net

    # form-specific pieces -------------------------------------------------------------
    def name(self, key: str) -> str:
        raise NotImplementedError

    def scripted(self, name: str, sub: str, sup: str) -> str:
        raise NotImplementedError

    # quantities -----------------------------------------------------------------------
    def _index(self, i: sp.Expr) -> str:
        if isinstance(i, UnitIndex):
            return self.notation.letter(i, self.net.L)
        return self._print(i)

    def _join(self, parts: list[str]) -> str:
        return "".join(parts) if all(len(p) == 1 for p in parts) else ",".join(parts)

    def _mark(self, key: str, l: int, concrete: bool = False) -> str:
        """The layer as the notation marks it. A concrete unit (numbers for indices) of a
        notation that marks no layer gets [l], or w_11 of two layers would print alike."""
        style = self.notation.layer_marks[key]
        label = layer_label(self.notation, self.net, l)
        if style == "none" and concrete and key not in ("input", "output"):
            return f"[{label}]"
        return {"none": "", "superscript": label, "parenthesised": f"({label})"}[style]

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        role, l = role_of(expr.base)
        idx = [self._index(i) for i in expr.indices]
        n = self.notation
        concrete = all(isinstance(i, sp.Integer) for i in expr.indices)
        if role == "t":
            return self.scripted(self.name("target"), self._join(idx), "")
        if role == "W":
            if n.weight_order == "from,to":
                idx.reverse()
            return self.scripted(self.name("weight"), self._join(idx),
                                 self._mark("weight", n.mark_of_weight(l), concrete))
        if role == "b":
            if n.bias_style == "weight":
                pair = [idx[0], "0"] if n.weight_order == "to,from" else ["0", idx[0]]
                return self.scripted(self.name("weight"), self._join(pair),
                                     self._mark("weight", n.mark_of_weight(l), concrete))
            return self.scripted(self.name("bias"), idx[0],
                                 self._mark("bias", n.mark_of_weight(l), concrete))
        key = {"pre": "weighted_input", "delta": "delta"}.get(role)
        if role == "out":
            key = "input" if l == 0 else "output" if l == self.net.L else "unit_output"
        if key is None:
            return self.scripted(str(expr.base.label), self._join(idx), "")
        return self.scripted(self.name(key), self._join(idx), self._mark(key, l, concrete))

    def _print_ExitSlope(self, expr) -> str:
        """The error's slope through the edges that leave a frame: dE/dz_u."""
        return self._print(Partial(self.net.E, self.net.graph.unit(expr.unit).z))

    def _print_IndexedBase(self, expr) -> str:
        return str(expr.label)

    def _print_UnitIndex(self, expr: UnitIndex) -> str:
        return self.notation.letter(expr, self.net.L)

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        if expr == self.net.E:
            return self.name("error")
        if expr == self.net.eta:
            return self.name("learning_rate")
        return expr.name

    def _activation_name(self, f: AppliedUndef) -> str | None:
        m = re.fullmatch(r"(d?)phi(\d+)(?:_\d+)?", f.func.__name__)  # per unit: phi1_2
        if not m:
            return None
        l = int(m.group(2))
        name = self.name("output_activation" if l == self.net.L else "hidden_activation")
        return name + ("'" if m.group(1) else "")

    def _print_Integer(self, expr) -> str:
        return str(expr)

    @staticmethod
    def _terms(expr: sp.Add) -> list[sp.Expr]:
        """Positive terms first, as books write y_k - t_k rather than -t_k + y_k."""
        args = list(expr.args)
        return [t for t in args if not t.could_extract_minus_sign()] + \
               [t for t in args if t.could_extract_minus_sign()]

    @staticmethod
    def _split(expr: sp.Mul) -> tuple[str, list[sp.Expr], list[sp.Expr]]:
        """Sign, numerator factors and denominator factors of a product; sums go last,
        so that h'(a_j) sum_k ... and y_m (I_mk - y_k) read as in the books."""
        num, den = [], []
        fractions = any(f.is_Pow and f.exp.is_Number and f.exp < 0 for f in expr.args)
        for f in expr.args:
            if f.is_Pow and f.exp.is_Number and f.exp < 0:
                den.append(f.base ** -f.exp)
            elif f.is_Rational and f.q != 1 and fractions:
                num.append(sp.Integer(f.p))
                den.append(sp.Integer(f.q))
            else:
                num.append(f)  # a lone coefficient stays in front: 1/2 sum_k ...
        sign = ""
        if num and num[0] == -1:
            sign, num = "-", num[1:]
        elif num and num[0].is_Number and num[0] < 0:
            sign, num = "-", [-num[0]] + num[1:]
        num = [f for f in num if f != 1]
        last = (sp.Add, sp.Sum)
        num = [f for f in num if not isinstance(f, last)] + [f for f in num if isinstance(f, last)]
        return sign, num, den

    def _product(self, factors: list[sp.Expr], sep: str) -> str:
        out = []
        for n, f in enumerate(factors):
            last = n == len(factors) - 1
            out.append(self._factor(f, always=isinstance(f, sp.Add)) if not last or
                       isinstance(f, sp.Add) and len(factors) > 1 else self._print(f))
        return sep.join(out) or "1"


class LatexPrinter(_NotationPrinter):
    printmethod = "_bpcheck_latex"

    def name(self, key: str) -> str:
        return self.notation.symbols[key]

    def scripted(self, name: str, sub: str, sup: str) -> str:
        out = name
        if sup:
            out += f"^{{{sup}}}"
        if sub:
            out += f"_{{{sub}}}"
        return out

    def _print_Partial(self, expr: Partial) -> str:
        return rf"\frac{{\partial {self._print(expr.num)}}}{{\partial {self._print(expr.den)}}}"

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        f = expr.expr
        if isinstance(f, AppliedUndef) and self._activation_name(f) and len(expr.variables) == 1:
            return f"{self._activation_name(f)}'({self._print(f.args[0])})"
        return self._print(Partial(f, expr.variables[0]))

    def _print_AppliedUndef(self, expr) -> str:
        name = self._activation_name(expr) or expr.func.__name__
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Sum(self, expr: sp.Sum) -> str:
        (i, lo, hi), = expr.limits
        if isinstance(hi, sp.Integer):  # a concrete layer: its units go without saying
            return rf"\sum_{{{self._print(i)}}} {self._factor(expr.function)}"
        return rf"\sum_{{{self._print(i)}={self._print(lo)}}}^{{{self._print(hi)}}} {self._factor(expr.function)}"

    def _print_KroneckerDelta(self, expr) -> str:
        return self.scripted(self.name("kronecker"), self._join([self._index(i) for i in expr.args]), "")

    def _print_Rational(self, expr) -> str:
        return rf"\frac{{{expr.p}}}{{{expr.q}}}" if expr.q != 1 else str(expr.p)

    def _print_exp(self, expr) -> str:
        return f"e^{{{self._print(expr.args[0])}}}"

    def _print_log(self, expr) -> str:
        return rf"\ln {self._factor(expr.args[0], always=True)}"

    def _print_tanh(self, expr) -> str:
        return rf"\tanh {self._factor(expr.args[0], always=True)}"

    def _factor(self, e: sp.Expr, always: bool = False) -> str:
        s = self._print(e)
        return rf"\left({s}\right)" if always or isinstance(e, (sp.Add, sp.Sum)) else s

    def _print_Add(self, expr) -> str:
        out = ""
        for n, t in enumerate(self._terms(expr)):
            s = self._print(t)
            if n and not s.startswith("-"):
                out += " + " + s
            elif n:
                out += " - " + s[1:].lstrip()
            else:
                out += s
        return out

    def _print_Mul(self, expr) -> str:
        sign, num, den = self._split(expr)
        top = self._product(num, r" \, ")
        if den:
            bottom = self._product(den, r" \, ")
            return sign + rf"\frac{{{top}}}{{{bottom}}}"
        return sign + top

    def _print_Pow(self, expr) -> str:
        if expr.exp == -1:
            return rf"\frac{{1}}{{{self._print(expr.base)}}}"
        base = self._factor(expr.base, always=not expr.base.is_Atom
                            and not isinstance(expr.base, sp.Indexed))
        if "^" in base and not base.endswith(r"\right)"):
            base = "{" + base + "}"  # a^{L}_{k} squared: {a^{L}_{k}}^{2}, not a double superscript
        return f"{base}^{{{self._print(expr.exp)}}}"

    def _print_Equality(self, expr) -> str:
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def _print_Unequality(self, expr) -> str:
        return rf"{self._print(expr.lhs)} \neq {self._print(expr.rhs)}"

    def _print_Float(self, expr) -> str:
        return sp.latex(expr)

    def emptyPrinter(self, expr) -> str:
        return sp.latex(expr)


class TextPrinter(LatexPrinter):
    """Terminal text: the LaTeX printer's structure with Unicode in place of commands."""

    printmethod = "_bpcheck_text"

    def name(self, key: str) -> str:
        return text_symbol(self.notation.symbols[key])

    def scripted(self, name: str, sub: str, sup: str) -> str:
        out = name
        if sup:
            out += f"^{sup}" if len(sup) == 1 or sup.startswith(("(", "[")) else f"^({sup})"
        if sub:
            out += f"_({sub})" if "," in sub else f"_{sub}"
        return out

    def _print_Partial(self, expr: Partial) -> str:
        return f"∂{self._print(expr.num)}/∂{self._print(expr.den)}"

    def _print_Sum(self, expr: sp.Sum) -> str:
        (i, lo, hi), = expr.limits
        if isinstance(hi, sp.Integer):
            return f"Σ_{self._print(i)} {self._factor(expr.function)}"
        return f"Σ_({self._print(i)}={self._print(lo)}..{self._print(hi)}) {self._factor(expr.function)}"

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        name = super()._print_Symbol(expr)  # a width n_{l+1} reads n_(l+1)
        name = re.sub(r"_\{([^{}]{2,})\}", r"_(\1)", name)
        return text_symbol(name)

    def _print_Rational(self, expr) -> str:
        return f"{expr.p}/{expr.q}" if expr.q != 1 else str(expr.p)

    def _print_exp(self, expr) -> str:
        return f"exp({self._print(expr.args[0])})"

    def _print_log(self, expr) -> str:
        return f"ln({self._print(expr.args[0])})"

    def _print_tanh(self, expr) -> str:
        return f"tanh({self._print(expr.args[0])})"

    def _factor(self, e: sp.Expr, always: bool = False) -> str:
        s = self._print(e)
        return f"({s})" if always or isinstance(e, (sp.Add, sp.Sum)) else s

    def _print_Mul(self, expr) -> str:
        sign, num, den = self._split(expr)
        top = self._product(num, " ")
        if den:
            bottom = self._product(den, " ")
            top = f"({top})" if " " in top and not top.startswith("(") else top
            bottom = f"({bottom})" if " " in bottom and not bottom.startswith("(") else bottom
            return f"{sign}{top}/{bottom}"
        return sign + top

    def _print_Pow(self, expr) -> str:
        if expr.exp == -1:
            return f"1/{self._factor(expr.base, always=not expr.base.is_Atom)}"
        base = self._factor(expr.base, always=not expr.base.is_Atom
                            and not isinstance(expr.base, sp.Indexed))
        if "^" in base and not base.startswith("("):
            base = f"({base})"
        return f"{base}^{self._print(expr.exp)}"

    def _print_Unequality(self, expr) -> str:
        return f"{self._print(expr.lhs)} ≠ {self._print(expr.rhs)}"

    def _print_Float(self, expr) -> str:
        return str(expr)

    def emptyPrinter(self, expr) -> str:
        return str(expr)


def _signs_out(expr: sp.Basic) -> sp.Basic:
    """A sum of negated terms as the negated sum (Eglen's sum_k -delta_k w_qk is
    -sum_k delta_k w_qk), so no product prints a minus in its middle."""
    return expr.replace(lambda e: isinstance(e, sp.Sum) and e.function.could_extract_minus_sign(),
                        lambda e: -sp.Sum(-e.function, *e.limits))


def latex(expr: sp.Basic, notation: Notation, net: Network) -> str:
    """The expression in LaTeX, in the notation's symbols."""
    return LatexPrinter(notation, net).doprint(_signs_out(expr))


def text(expr: sp.Basic, notation: Notation, net: Network) -> str:
    """The expression as terminal text, in the notation's symbols."""
    return TextPrinter(notation, net).doprint(_signs_out(expr))
