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

from ..engine.checking import STATUS
from ..engine.proof import Verdict
from ..engine.stage_generic import GENERIC, GenericTruth, NotForEverySize
from ..errors import TooMuchWork
from ..engine.slice_check import SliceResult, both_readings, decide_slice, does_not_exist
from ..engine.stage_truth import StageTruth
from ..errors import UsageError
from ..latex.slice_reader import PARTIALS, NoSuchQuantity, read_slice
from ..model.layers import Attention, Layer, Residual, TypedNetwork
from ..model.stages import SLICES, slice_of


def check_layer_text(text: str, *, kind: str, size: int, d_k: int | None = None,
                     partial: str | None = None, seed: int = 0) -> SliceResult:
    """Read `text` in a slice of a `kind` layer of `size` and decide it; a d(u)/d(v) that
    reads two ways is read as `partial` says ("local" or "total"), or both ways, the
    verdict ambiguous where they disagree."""
    if partial not in (None, *PARTIALS):
        raise UsageError(f"--partial {partial!r}: accepted: {', '.join(PARTIALS)}")
    truth = StageTruth(slice_of(kind, size, d_k=d_k))
    out = {}
    for reading in ([partial] if partial else list(PARTIALS)):
        try:
            eq = read_slice(text, truth, partial=reading)
        except NoSuchQuantity as e:  # a wrong equation that parses is a verdict
            return does_not_exist(text, truth, str(e))
        out[reading] = _for_every_size(decide_slice(
            text, truth, free=eq.free, sides=eq.sides, targets=eq.targets, seed=seed), reading)
        if not eq.two_ways:
            return out[reading]
    return out[partial] if partial else both_readings(out)


def _for_every_size(result: SliceResult, reading: str) -> SliceResult:
    """A proof at the file's size tried again for every size, where the slice has one
    range (engine/stage_generic.py); what that cannot decide stays proved at the size."""
    if result.verdict is not Verdict.PROVED or result.kind not in GENERIC:
        return result
    truth = _generic(result.kind)
    try:
        eq = read_slice(result.text, truth, partial=reading)
        zero = all(truth.is_zero(lhs - rhs) for _, lhs, rhs in eq.sides)
    except (NotForEverySize, TooMuchWork, NoSuchQuantity):
        return result
    return replace(result, every=str(truth.size)) if zero else result


@lru_cache(maxsize=None)
def _generic(kind: str) -> GenericTruth:
    return GenericTruth(kind)


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
                            d_k=layer.d_k if isinstance(layer, Attention) else None)
