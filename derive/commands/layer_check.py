r"""check --net: a backward equation of one typed layer, as a paper prints it, read in that
layer's slice and decided (engine/slice_check.py); the catalogue's layer entries alike.

>>> r = check_layer_text(r"\frac{\partial \ell}{\partial \gamma} = \sum_{i=1}^{m} "
...                      r"\frac{\partial \ell}{\partial y_i} \cdot \hat{x}_i",
...                      kind="batchnorm", size=3)
>>> str(r.verdict), r.conditions
('proved', ('epsilon > 0',))
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import sympy as sp

from ..engine.checking import STATUS
from ..engine.proof import Verdict
from ..engine.stage_generic import GENERIC, GenericTruth, NotForEverySize
from ..errors import TooMuchWork
from ..engine.slice_check import SliceResult, both_readings, decide_slice, does_not_exist
from ..engine.stage_truth import StageTruth
from ..errors import UsageError
from ..latex.slice_reader import PARTIALS, NoSuchQuantity, read_slice
from ..model.layers import Attention, Layer, LayerNorm, Residual, TypedNetwork
from ..model.stages import SLICES, slice_of


def check_layer_text(text: str, *, kind: str, size: int, options: dict | None = None,
                     partial: str | None = None, seed: int = 0) -> SliceResult:
    """Read `text` in a slice of a `kind` layer of `size` (with the layer's `options`, as
    model/stages.py's slice_of takes them) and decide it; a d(u)/d(v) that reads two ways
    is read as `partial` says ("local" or "total"), or both ways, the verdict ambiguous
    where they disagree."""
    if partial not in (None, *PARTIALS):
        raise UsageError(f"--partial {partial!r}: accepted: {', '.join(PARTIALS)}")
    options = dict(options or {})
    truth = StageTruth(slice_of(kind, size, **options))
    out = {}
    for reading in ([partial] if partial else list(PARTIALS)):
        try:
            eq = read_slice(text, truth, partial=reading)
        except NoSuchQuantity as e:  # a wrong equation that parses is a verdict
            return does_not_exist(text, truth, str(e))
        out[reading] = _for_every_size(decide_slice(
            text, truth, free=eq.free, sides=eq.sides, targets=eq.targets, seed=seed), reading,
            options)
        if not eq.two_ways:
            return out[reading]
    return out[partial] if partial else both_readings(out)


def _for_every_size(result: SliceResult, reading: str, options: dict) -> SliceResult:
    """A proof at the file's size tried again for every size, where the slice has one
    range (engine/stage_generic.py); what that cannot decide stays proved at the size."""
    if result.verdict is not Verdict.PROVED or result.kind not in GENERIC:
        return result
    truth = _generic(result.kind, tuple(sorted(options.items())))
    try:
        eq = read_slice(result.text, truth, partial=reading)
        zero = all(truth.is_zero(case) for at, lhs, rhs in eq.sides
                   for case in _cases(lhs - rhs, at))
    except (NotForEverySize, TooMuchWork, NoSuchQuantity):
        return result
    return replace(result, every=str(truth.size)) if zero else result


def _cases(expr, free: tuple) -> list:
    """Two free indices, i and j, are either one (j replaced by i) or two (their Kronecker
    delta 0, their entries distinct atoms): an identity in each case is one for all."""
    if len(free) < 2:
        return [expr]
    if len(free) > 2:
        raise NotForEverySize("more than two free indices")
    a, b = free
    apart = expr.replace(lambda e: isinstance(e, sp.KroneckerDelta) and set(e.args) == {a, b},
                         lambda e: sp.Integer(0))
    return [expr.xreplace({b: a}), apart]


@lru_cache(maxsize=None)
def _generic(kind: str, options: tuple) -> GenericTruth:
    return GenericTruth(kind, **dict(options))


def status(result: SliceResult) -> int:
    return STATUS[result.verdict]


def layer_of(net: TypedNetwork, at: str | None) -> Layer:
    """The layer named by its position ("2", or "2.1" inside a residual block), or the
    first whose kind has a slice."""
    every = [x for layer in net.layers
             for x in ([layer, *layer.inner] if isinstance(layer, Residual) else [layer])]
    usable = [x for x in every if x.kind in SLICES]
    if at is None:
        if not usable:
            raise UsageError(f"no layer of {net.title!r} has equations to check; kinds that "
                             f"do: {', '.join(SLICES)}")
        return usable[0]
    chosen = next((x for x in every if x.at == at), None)
    if chosen is None or chosen.kind not in SLICES:
        raise UsageError(f"--layer {at!r}: no such layer with equations to check; accepted: "
                         f"{', '.join(x.at + ' (' + x.kind + ')' for x in usable) or 'none'}")
    return chosen


def slice_size(net: TypedNetwork, layer: Layer) -> int:
    """A batch norm's and an attention's slice runs over the rows (patterns, tokens), the
    others over the layer's features."""
    return net.rows if layer.kind in ("batchnorm", "attention") else layer.width


def check_net_text(text: str, net: TypedNetwork, *, at: str | None = None,
                   partial: str | None = None) -> SliceResult:
    layer = layer_of(net, at)
    return check_layer_text(text, kind=layer.kind, size=slice_size(net, layer), partial=partial,
                            options=layer_options(layer))


def layer_options(layer: Layer) -> dict:
    """What of the layer's configuration its slice takes: a normalisation's affine, an
    attention's d_k and d_v."""
    if isinstance(layer, Attention):
        return {"d_k": layer.d_k, "d_v": layer.out}
    return {"affine": layer.affine} if isinstance(layer, LayerNorm) else {}
