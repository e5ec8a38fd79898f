r"""Gradient-descent updates read as claims about derivatives: a step is Δx = -η ∂E/∂x.

`\Delta w_{ji} = -\eta \delta_j z_i` says -η ∂E/∂w_ji = -η δ_j z_i, and `w_{ji} \leftarrow
w_{ji} - \eta \delta_j z_i` (also `\gets`, `:=`) says the step it takes, the right side less
w_ji, is that same -η ∂E/∂w_ji. The learning rate stays a symbol: the claim must hold for
every η > 0 (latex/binding.py compares the sides power by power of η).

>>> from bpcheck.derive.latex.grammar import parse
>>> from bpcheck.derive.latex.tex import to_latex
>>> eq = parse(r"w_{ji} \leftarrow w_{ji} - \eta \delta_j z_i")
>>> [to_latex(s) for s in as_steps(eq, error=Symbol("E"), rate=Symbol("\\eta"))]
['-\\eta \\frac{\\partial E}{\\partial w_{ji}}', '(w_{ji} - \\eta \\delta_{j} z_{i}) - w_{ji}']
"""
from __future__ import annotations

from dataclasses import replace

from ..errors import NotSupported, UsageError
from .ast import Add, Equation, Mul, Neg, Node, Partial, Sum, Symbol, children

ASSIGN = r"\leftarrow"  # the grammar writes \gets, ← and := as this
STEP = r"\Delta"


def _step(x: Node, *, error: Node, rate: Node) -> Node:
    """-η ∂E/∂x: the step gradient descent takes in x."""
    return Neg(Mul((rate, Partial(error, x))))


def _online(node: Node, *, error: Node, pattern: str) -> bool:
    """Whether a value writes one pattern's error outside a sum over the patterns."""
    if node == error:
        return True
    if isinstance(node, Sum) and node.index == pattern:
        return False
    return any(_online(c, error=error, pattern=pattern) for c in children(node))


def as_steps(eq: Equation, *, error: Node, rate: Node, pattern: str = "") -> tuple[Node, ...]:
    """The sides of an update rule as a claim about the step; other equations' sides as
    they are. `error` is the notation's error symbol: Δ_p, with the notation's pattern
    index, is the step for one pattern, Δ the step for the error written without it (the
    batch's, where the claim is about a batch: latex/batch.py); an assignment takes the
    step of the error its value writes (Bishop's on-line step w <- w - η ∇E_n is one
    pattern's)."""
    total = replace(error, sub=()) if pattern and isinstance(error, Symbol) and \
        error.sub == (pattern,) else error
    if ASSIGN in eq.relations:
        if len(eq.sides) != 2:
            raise UsageError(r"an update is one assignment, as in w \leftarrow w - \eta "
                             r"\frac{\partial E}{\partial w}")
        target, value = eq.sides
        own = error if pattern and _online(value, error=error, pattern=pattern) else total
        return (_step(target, error=own, rate=rate), Add((value, Neg(target))))
    if any(r not in ("=", r"\equiv") for r in eq.relations):
        raise NotSupported(f"{' '.join(sorted(set(eq.relations) - {'='}))}: bpcheck decides "
                           "equations (=, \\equiv) and updates (\\leftarrow)")
    first = eq.sides[0]
    steps = {Symbol(STEP): total} | ({Symbol(STEP, sub=(pattern,)): error} if pattern else {})
    if isinstance(first, Mul) and first.factors[0] in steps and len(first.factors) == 2:
        return (_step(first.factors[1], error=steps[first.factors[0]], rate=rate),) + eq.sides[1:]
    return eq.sides
