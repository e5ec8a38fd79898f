"""Activations: each knows its value; its Jacobian comes from differentiating that value.

Elementwise activations map a_k to y_k = f(a_k) alone, so their Jacobian is diagonal;
softmax couples every output to every input, so it is not. The abstract activation is an
undefined function: a statement proved for it holds for every elementwise activation.

>>> import sympy as sp
>>> a = sp.symbols("a1 a2")
>>> ACTIVATIONS["softmax"].values(a, sp.Function("f"))[0]
exp(a1)/(exp(a1) + exp(a2))
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Sequence

import sympy as sp

from ..errors import NotSupported, unknown
from .names import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS


class KinkSide(sp.Symbol):
    """1 where the ReLU's argument is positive, 0 where it is negative; undefined at 0.

    ReLU is written side * a: on either side of the kink `side` is a constant, so a
    proof that holds for every value of `side` holds on both sides at once.
    """

    def __new__(cls, of: sp.Expr) -> "KinkSide":
        obj = super().__new__(cls, f"side[{of}]")
        obj.of = of
        return obj

    def __getnewargs_ex__(self):  # keeps pickling and copying working
        return ((self.of,), {})

    def _eval_subs(self, old, new):
        # the side of a_i becomes the side of a_j when a sum's index is substituted
        of = self.of.subs(old, new)
        return KinkSide(of) if of != self.of else None

    def _xreplace(self, rule):
        # xreplace too (a claim's instances): a symbol has no args for it to reach into,
        # and a side left at a_j with j free has no sign at a point
        if self in rule:
            return rule[self], True
        of, changed = self.of._xreplace(rule)
        return (KinkSide(of), True) if changed else (self, False)


@dataclass(frozen=True)
class Activation:
    """An activation function of a layer.

    `scalar` is f for elementwise activations; `vector` maps the whole layer at once.
    """

    name: str
    description: str
    scalar: Callable[[sp.Expr], sp.Expr] | None = None
    vector: Callable[[Sequence[sp.Expr]], list[sp.Expr]] | None = None
    abstract: bool = False
    kink: bool = False
    unit_interval: bool = False  # every output lies in (0, 1)
    min_width: int = 1
    # a vector activation's value at unit x, given a sum over the units (Sum, index, n)
    generic: Callable | None = None
    # f'(a) written through the output z = f(a), as books do (sigmoid: z(1 - z)); a common
    # mistake writes this form with a in place of z (engine/mistakes.py)
    slope_by_output: Callable[[sp.Expr], sp.Expr] | None = None

    @property
    def elementwise(self) -> bool:
        return self.vector is None

    def values(self, pre: Sequence[sp.Expr], phi: sp.FunctionClass) -> list[sp.Expr]:
        """The layer's outputs as expressions in its weighted inputs `pre`.

        `phi` is the undefined function that stands for this layer's activation when
        it is abstract.
        """
        if self.vector is not None:
            return self.vector(pre)
        if self.abstract:
            return [phi(x) for x in pre]
        return [self.scalar(x) for x in pre]

    def value_at(self, pre: sp.IndexedBase, x: sp.Expr, width: sp.Expr,
                 phi: sp.FunctionClass) -> sp.Expr:
        """Unit x's output written generically, a sum over the layer where the
        activation couples units: the form a proof at symbolic width needs."""
        if self.vector is None:
            return self.values([pre[x]], phi)[0]
        i = sp.Dummy("i", integer=True, positive=True)
        return self.generic(pre, x, sp.Sum, i, width)

    def slope_at(self, x: sp.Expr) -> sp.Expr:
        """f'(x) of a known elementwise activation. By subs, not xreplace: a ReLU's kink
        side is named by its argument (KinkSide._eval_subs)."""
        s, slope = self._slope
        return slope.subs(s, x)

    @cached_property
    def _slope(self) -> tuple[sp.Dummy, sp.Expr]:
        """f' in a symbol of its own, differentiated once (every unit's slope is it)."""
        s = sp.Dummy("s", real=True)
        return s, sp.diff(self.scalar(s), s)

    def jacobian_entry(self, n: int, i: int, j: int) -> tuple[tuple[sp.Dummy, ...], sp.Expr]:
        """dz_i/da_j of a vector activation of n units, in n symbols of its own (given
        first), differentiated once for every layer and graph that uses it."""
        key = (n, i, j)
        if key not in self._jacobian:
            s = tuple(sp.Dummy(f"a{m}", real=True) for m in range(n))
            self._jacobian[key] = s, sp.diff(self.vector(list(s))[i], s[j])
        return self._jacobian[key]

    @cached_property
    def _jacobian(self) -> dict:
        return {}

    def derivative(self, x: sp.Expr, phi: sp.FunctionClass) -> sp.Expr:
        """f'(x) for an elementwise activation, by differentiating f."""
        if self.vector is not None:
            raise TypeError("a vector activation has a Jacobian, not a derivative")
        return sp.diff(self.values([x], phi)[0], x)


def _softmax(pre: Sequence[sp.Expr]) -> list[sp.Expr]:
    exps = [sp.exp(x) for x in pre]
    total = sp.Add(*exps)
    return [e / total for e in exps]


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("identity", "f(a) = a", scalar=lambda x: x,
                   slope_by_output=lambda z: sp.Integer(1)),
        Activation("sigmoid", "logistic sigmoid 1/(1 + e^-a)",
                   scalar=lambda x: 1 / (1 + sp.exp(-x)), unit_interval=True,
                   slope_by_output=lambda z: z * (1 - z)),
        Activation("tanh", "hyperbolic tangent", scalar=sp.tanh,
                   slope_by_output=lambda z: 1 - z**2),
        Activation("relu", "max(0, a), not differentiable at a = 0",
                   scalar=lambda x: KinkSide(x) * x, kink=True),
        Activation("softplus", "ln(1 + e^a)", scalar=lambda x: sp.log(1 + sp.exp(x)),
                   slope_by_output=lambda z: 1 - sp.exp(-z)),
        Activation("abstract", "any elementwise activation (an undefined function)",
                   abstract=True),
        Activation("softmax", "e^(a_k) / sum_m e^(a_m), couples all units of the layer",
                   vector=_softmax, unit_interval=True, min_width=2,
                   generic=lambda a, x, Sum, i, n: sp.exp(a[x]) / Sum(sp.exp(a[i]), (i, 1, n))),
    )
}


def activation(name: str, *, hidden: bool = False) -> Activation:
    """Look an activation up by name; softmax is an output activation only."""
    accepted = HIDDEN_ACTIVATIONS if hidden else OUTPUT_ACTIVATIONS
    if name not in accepted:
        if hidden and name in ACTIVATIONS:
            raise NotSupported(
                f"hidden activation {name!r} is not supported: it couples all units of a "
                f"layer and is an output activation only; accepted hidden activations: "
                f"{', '.join(accepted)}")
        raise unknown("hidden activation" if hidden else "output activation", name, accepted)
    return ACTIVATIONS[name]
