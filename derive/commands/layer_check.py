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
from ..engine.conv_lengths import EVERY_LENGTH, length_cases
from ..engine.stage_generic import GENERIC, GenericTruth, NotForEverySize
from ..errors import TooMuchWork
from ..engine.slice_check import (SliceDiagnosis, SliceResult, both_readings, decide_slice,
                                  does_not_exist)
from ..engine.stage_truth import StageTruth
from ..errors import UsageError
from ..latex.slice_reader import PARTIALS, NoSuchQuantity, left_quantity, read_slice
from ..model.layers import (Attention, Conv1d, Conv2d, Dense, Layer, LayerNorm, Pool1d, Recurrent, Residual,
                            TypedNetwork)
from ..model.stages import SLICES, slice_of


@lru_cache(maxsize=64)
def _truth(kind: str, size: int, options: tuple) -> StageTruth:
    """One truth a slice, kept for the process: its edges' derivatives and tangents serve
    every equation read in it (the catalogue and a derivation read many in a few slices)."""
    return StageTruth(slice_of(kind, size, **dict(options)))


def _hashable(key: tuple) -> bool:
    try:
        hash(key)
    except TypeError:  # an option given as a list: read afresh
        return False
    return True


def check_layer_text(text: str, *, kind: str, size: int, options: dict | None = None,
                     partial: str | None = None, seed: int = 0) -> SliceResult:
    """Read `text` in a slice of a `kind` layer of `size` (with the layer's `options`, as
    model/stages.py's slice_of takes them) and decide it; a d(u)/d(v) that reads two ways
    is read as `partial` says ("local" or "total"), or both ways, the verdict ambiguous
    where they disagree."""
    if partial not in (None, *PARTIALS):
        raise UsageError(f"--partial {partial!r}: accepted: {', '.join(PARTIALS)}")
    options = dict(options or {})
    try:
        key = tuple(sorted(options.items()))
        truth = _truth(kind, size, key) if _hashable(key) else StageTruth(
            slice_of(kind, size, **options))
    except ValueError as e:  # a kernel or a window that does not fit
        raise UsageError(f"a {kind} layer of {size}: {e}") from None
    result, letters = _decided(text, truth, partial, options, seed, free_sizes=False)
    if not letters or result.verdict is Verdict.REFUTED and not result.values:
        return result
    # a size's letter as an index on the left (dl/dK_{k,l}, k the kernel's size): the last
    # entry (x_m of m), or an index over every entry; both decided
    other, _ = _decided(text, truth, partial, options, seed, free_sizes=True)
    return _size_readings(result, other, letters)


def _decided(text: str, truth: StageTruth, partial: str | None, options: dict, seed: int, *,
             free_sizes: bool) -> tuple[SliceResult, tuple[str, ...]]:
    """The result, each d(u)/d(v) read as `partial` says or both ways, and the size
    letters the left side uses as indices."""
    out = {}
    for reading in ([partial] if partial else list(PARTIALS)):
        try:
            eq = read_slice(text, truth, partial=reading, free_sizes=free_sizes)
        except NoSuchQuantity as e:  # a wrong equation that parses is a verdict
            return does_not_exist(text, truth, str(e)), ()
        out[reading] = _said_zeros(_for_every_size(decide_slice(
            text, truth, free=eq.free, sides=eq.sides, targets=eq.targets, seed=seed), reading,
            options), eq.zeros)
        if not eq.two_ways:
            return out[reading], eq.sizes_on_left
    return (out[partial] if partial else both_readings(out)), eq.sizes_on_left


def _size_readings(last: SliceResult, every: SliceResult, letters: tuple[str, ...]) -> SliceResult:
    """One result of the two readings of a size's letter on the left: their verdict where
    they agree, else ambiguous with the refuted reading's point."""
    named = ", ".join(letters)
    readings = ((f"{named} the last entry", last.verdict), (f"{named} an index", every.verdict))
    said = (f"{named} on the left read as the size (the last entry): {last.verdict}; as an "
            f"index over every entry: {every.verdict}")
    if last.verdict is every.verdict:
        return replace(every, readings=every.readings + readings,
                       note="; ".join(filter(None, [every.note, said])))
    wrong = last if last.verdict is Verdict.REFUTED else every
    return replace(wrong, verdict=Verdict.AMBIGUOUS, readings=readings, diagnosis=SliceDiagnosis(),
                   note=said + " (write another letter for the index)")


def _said_zeros(result: SliceResult, zeros: tuple) -> SliceResult:
    """The result, its note saying what the right side names beyond a range and reads as
    0: a gradient there (nothing depends on what does not exist), a padding's or an
    initial state's value."""
    said = []
    for kind, words in (("gradient", "the gradient on "), ("value", "")):
        nodes = [str(n) for k, n in zeros if k == kind]
        if nodes:
            said.append(words + ", ".join(nodes[:4]) + (f" and {len(nodes) - 4} more"
                                                         if len(nodes) > 4 else ""))
    if not said:
        return result
    note = "read as 0 beyond the ranges: " + "; ".join(said)
    return replace(result, note="; ".join(filter(None, [result.note, note])))


def _for_every_size(result: SliceResult, reading: str, options: dict) -> SliceResult:
    """A proof at the file's size tried again for every size, where the slice has one
    range (engine/stage_generic.py) or is a convolution of stride 1 (engine/conv_lengths.py,
    case by case); what that cannot decide stays proved at the size."""
    if result.verdict is not Verdict.PROVED:
        return result
    if result.kind in EVERY_LENGTH:
        return _for_every_length(result, reading, options)
    if result.kind not in GENERIC:
        return result
    truth = _generic(result.kind, tuple(sorted(options.items())))
    try:
        eq = read_slice(result.text, truth, partial=reading)
        zero = all(truth.is_zero(case) for at, lhs, rhs in eq.sides
                   for case in _cases(lhs - rhs, at))
    except (NotForEverySize, TooMuchWork, NoSuchQuantity):
        return result
    return replace(result, every=str(truth.size)) if zero else result


def _for_every_length(result: SliceResult, reading: str, options: dict) -> SliceResult:
    """A convolution's proof at the file's length tried in each case of every length: the
    lengths below the cases' start one by one, the rest by the free position's class."""
    kind = result.kind
    try:
        cases = length_cases(kind, left=left_quantity(result.text, kind),
                             **{k: v for k, v in options.items() if k != "columns"})
        for case in cases:
            eq = read_slice(result.text, case, partial=reading)
            if not all(case.is_zero(lhs - rhs) for _, lhs, rhs in eq.sides):
                return result
    except (NotForEverySize, TooMuchWork, NoSuchQuantity):
        return result
    return replace(result, every="n" if kind == "conv1d" else "n by m")


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
    usable = [x for x in every if has_slice(x)]
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


def has_slice(layer: Layer) -> bool:
    """Whether the layer's equations are read in a slice."""
    return layer.kind in SLICES


def slice_size(net: TypedNetwork, layer: Layer) -> int:
    """A batch norm's, an attention's and a recurrence's slice runs over the rows (patterns,
    tokens, time steps), a convolution's and a pooling's over one channel's positions, the
    others over the layer's features."""
    if layer.kind in ("batchnorm", "attention", "rnn"):
        return net.rows
    if isinstance(layer, Conv2d) or isinstance(layer, Pool1d) and layer.height > 1:
        return layer.height  # an image's rows
    return layer.length if isinstance(layer, (Conv1d, Pool1d)) else layer.width


def check_net_text(text: str, net: TypedNetwork, *, at: str | None = None,
                   partial: str | None = None) -> SliceResult:
    layer = layer_of(net, at)
    return check_layer_text(text, kind=layer.kind, size=slice_size(net, layer), partial=partial,
                            options=layer_options(net, layer))


def layer_options(net: TypedNetwork, layer: Layer) -> dict:
    """What of the layer's configuration its slice takes: a normalisation's affine, an
    attention's d_k and d_v, a convolution's kernel, stride and padding (and an image's
    columns), a pooling's window and stride, a recurrence's activation, units, inputs and
    outputs (o_t = V h_t + c: the dense layer after it, else one per unit)."""
    if isinstance(layer, Attention):
        return {"d_k": layer.d_k, "d_v": layer.out}
    if isinstance(layer, (Conv1d, Conv2d)):
        return {"kernel": layer.kernel, "stride": layer.stride, "padding": layer.padding,
                **({"columns": layer.columns} if isinstance(layer, Conv2d) else {})}
    if isinstance(layer, Pool1d):
        return {"window": layer.window, "stride": layer.stride,
                **({"columns": layer.columns} if layer.height > 1 else {})}
    if isinstance(layer, Recurrent):
        after = net.layers[net.layers.index(layer) + 1:] if layer in net.layers else ()
        out = after[0].out if after and isinstance(after[0], Dense) else layer.units
        return {"function": layer.function, "units": layer.units, "inputs": layer.width,
                "outputs": out}
    return {"affine": layer.affine} if isinstance(layer, LayerNorm) else {}
