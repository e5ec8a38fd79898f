r"""The backward pass through a typed layer, step by step in its papers' letters: for each
quantity of the layer's slice, last stage first, the chain rule over the stages that take
it as an argument (read off the slice's own formulas, not written in), then the line its
paper prints for the same gradient, where the catalogue has one; every line proved in the
slice, a d(u)/d(v) read as u's formula differentiated by v (a chain-rule step's meaning).

>>> d = derivation("batchnorm", 3)
>>> d[0].latex
'\\frac{\\partial \\ell}{\\partial \\hat{x}_{i}} = \\frac{\\partial \\ell}{\\partial y_{i}} \\frac{\\partial y_{i}}{\\partial \\hat{x}_{i}}'
>>> {str(s.result.verdict) for s in d}
{'proved'}
"""
from __future__ import annotations

from dataclasses import dataclass

from ...equations import load_catalogue
from ..engine.proof import Verdict
from ..engine.slice_check import SliceResult
from ..engine.stage_truth import StageTruth
from ..model.layers import Residual, TypedNetwork
from ..model.stages import FORM, POOLS, Node, Slice, index_letters, letter, slice_of
from ..latex.slice_reader import SliceReadError, left_quantity
from .layer_check import check_layer_text, has_slice, layer_options, slice_size

CHAIN_RULE = "the chain rule over the stages that take it"
SPARE = "jklpruvw"  # letters for a sum where a quantity's own would clash
LOSS = r"\ell"
DERIVED_STEPS = 4  # a recurrence's derivation in its slice, unrolled: T steps at most this


@dataclass(frozen=True)
class Step:
    latex: str
    why: str                  # CHAIN_RULE, or the paper's source and number
    result: SliceResult


@dataclass(frozen=True)
class LayerDerivation:
    at: str
    kind: str
    size: int
    steps: tuple[Step, ...]
    note: str = ""  # what the sizes cannot show


def derivation(kind: str, size: int, *, options: dict | None = None) -> list[Step]:
    """Each quantity's chain-rule step, then its paper's line, each proved."""
    # which stages take which entries is read where every range has 3 entries, so that an
    # entry's positions are distinct numbers; the steps are proved at the size asked for
    options = dict(options or {})
    shape = StageTruth(slice_of(kind, _distinct(kind, options), **{**options, **(
        {"d_k": 3, "d_v": 3} if kind == "attention" else {}), **(
        {"columns": None} if kind == "conv2d" else {})}))
    sl = shape.slice
    printed = _printed(kind, options)
    names = [n for n, _ in reversed(sl.stages) if n != sl.output] + list(sl.inputs)
    steps = []
    for name in names:
        chain = _chain(shape, name)
        lines = ([(chain, CHAIN_RULE)] if chain else []) + printed.get(name, [])
        for t, why in lines:
            try:
                steps.append(Step(t, why, check_layer_text(t, kind=kind, size=size,
                                                           options=options, partial="local")))
            except SliceReadError:  # a paper's line of a parameter this layer has not
                continue
    return steps


def net_derivations(net: TypedNetwork) -> list[LayerDerivation]:
    """A derivation for each layer (a residual block's inner ones too) of a kind with one."""
    every = [x for layer in net.layers
             for x in ([layer, *layer.inner] if isinstance(layer, Residual) else [layer])]
    out = []
    for layer in (x for x in every if has_slice(x)):
        size = slice_size(net, layer)
        options = layer_options(net, layer)
        note = (" (with d_k = 1, a factor 1/sqrt(d_k) left out cannot be seen: give d_k >= 2)"
                if options.get("d_k") == 1 else "")
        if layer.kind == "rnn" and size > DERIVED_STEPS:
            note = (f" (proved at {DERIVED_STEPS} of the file's {size} time steps: a line's "
                    "proof is of the whole slice unrolled, whose work doubles with each step; "
                    "the report's backward checks are at every step, and report --net FILE "
                    "--depth any proves every T)")
            size = DERIVED_STEPS
        out.append(LayerDerivation(layer.at, layer.kind, size, tuple(
            derivation(layer.kind, size, options=options)), note))
    return out


def step_verdicts(derivations: list[LayerDerivation]) -> list[Verdict]:
    return [s.result.verdict for d in derivations for s in d.steps]


def _written(sl: Slice, name: str, letters: str) -> str:
    base = letter(sl, name)
    return f"{base}_{{{letters}}}" if letters else base


def _d(top: str, by: str) -> str:
    return f"\\frac{{\\partial {top}}}{{\\partial {by}}}"


def _chain(truth: StageTruth, name: str) -> str | None:
    """dl/d(name) as the sum over the stages that take it, or None where a stage takes
    only some of its entries in a way one index cannot say."""
    sl = truth.slice
    shape = sl.shapes[name]
    rep = tuple(min(k + 1, n) for k, n in enumerate(shape))  # distinct where the sizes allow
    own = index_letters(sl).get(name, "")
    by_value = dict(zip(rep, own))
    v = _written(sl, name, own)
    users = truth.users(Node(name, rep))
    terms = []
    for uname in dict.fromkeys(u.name for u in users):
        taking = [u for u in users if u.name == uname]
        letters = index_letters(sl).get(uname, "")
        if _one_user(truth, name, uname, rep):
            u = _written(sl, uname, "".join(by_value[c] for c in taking[0].index))
            terms.append(f"{_d(LOSS, u)} {_d(u, v)}")
        elif letters:  # every entry of u: the derivative is 0 where it does not take v
            fresh: list[str] = []
            for c in letters:  # each clashing letter its own spare one
                fresh.append(c if c not in own else next(
                    x for x in SPARE if x not in own + letters + "".join(fresh)))
            u = _written(sl, uname, "".join(fresh))
            sums = "".join(f"\\sum_{{{c}}} " for c in fresh)
            terms.append(f"{sums}{_d(LOSS, u)} {_d(u, v)}")
        else:
            return None
    return f"{_d(LOSS, v)} = " + " + ".join(terms) if terms else None


def _one_user(truth: StageTruth, name: str, uname: str, rep: tuple) -> bool:
    """Whether each entry of `name` is taken by one entry of `uname`, at the positions it
    is at the representative entry (x-hat_i by y_i; k_tc by e_t), for every entry; not
    where that holds by chance (a window's x_1 by y_1 only)."""
    at = [u.index for u in truth.users(Node(name, rep)) if u.name == uname]
    if len(at) != 1 or not all(c in rep for c in at[0]):
        return False
    where = [rep.index(c) for c in at[0]]
    return all([u.index for u in truth.users(n) if u.name == uname] ==
               [tuple(n.index[p] for p in where)] for n in truth.slice.nodes(name))


def _distinct(kind: str, options: dict) -> int:
    """A size at which each range of the slice has at least 3 entries (an output's too)."""
    step = options.get("stride", 1)
    reach = options.get("kernel", options.get("window", 1))
    return max(3, 2 * step + reach) if kind in FORM and kind != "rnn" else 3


def _printed(kind: str, options: dict) -> dict[str, list[tuple[str, str]]]:
    """The catalogue's right equations for this kind and these options (where they agree
    on what changes how the equations are written, model/stages.py's FORM), by the
    quantity on their left."""
    form = FORM.get(kind, {})
    here = {k: options.get(k, v) for k, v in form.items()}
    out: dict[str, list[tuple[str, str]]] = {}
    for e in load_catalogue():
        if e.layer != kind or any(x.verdict != "proved" for x in e.expect):
            continue
        if not any({k: x.network.get(k, v) for k, v in form.items()} == here and
                   (kind not in POOLS or  # a pooling's row, or its image
                    ("columns" in x.network) == ("columns" in options))
                   for x in e.expect):
            continue
        name = left_quantity(e.latex, kind)
        if name is not None:
            out.setdefault(name, []).append((e.latex, f"{e.title}, {e.number}"))
    return out
