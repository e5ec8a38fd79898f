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
from ..latex.grammar import parse
from ..model.layers import Residual, TypedNetwork
from ..model.stages import INDEX_LETTERS, SLICES, Node, Slice, letter, slice_of
from ..latex.slice_reader import SliceReadError
from .layer_check import check_layer_text, layer_options, slice_size

CHAIN_RULE = "the chain rule over the stages that take it"
SPARE = "jklpruvw"  # letters for a sum where a quantity's own would clash
LOSS = r"\ell"


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
    shape = StageTruth(slice_of(kind, 3, **{**options, **(
        {"d_k": 3, "d_v": 3} if kind == "attention" else {})}))
    sl = shape.slice
    printed = _printed(kind)
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
    for layer in (x for x in every if x.kind in SLICES):
        size = slice_size(net, layer)
        options = layer_options(layer)
        note = (" (with d_k = 1, a factor 1/sqrt(d_k) left out cannot be seen: give d_k >= 2)"
                if options.get("d_k") == 1 else "")
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
    own = INDEX_LETTERS[sl.kind].get(name, "")
    by_value = dict(zip(rep, own))
    v = _written(sl, name, own)
    users = truth.users(Node(name, rep))
    terms = []
    for uname in dict.fromkeys(u.name for u in users):
        taking = [u for u in users if u.name == uname]
        letters = INDEX_LETTERS[sl.kind].get(uname, "")
        if len(taking) == 1 and all(c in by_value for c in taking[0].index):
            u = _written(sl, uname, "".join(by_value[c] for c in taking[0].index))
            terms.append(f"{_d(LOSS, u)} {_d(u, v)}")
        elif len(taking) == len(sl.nodes(uname)) and letters:
            fresh = [c if c not in own else next(x for x in SPARE if x not in own + letters)
                     for c in letters]
            u = _written(sl, uname, "".join(fresh))
            sums = "".join(f"\\sum_{{{c}}} " for c in fresh)
            terms.append(f"{sums}{_d(LOSS, u)} {_d(u, v)}")
        else:
            return None
    return f"{_d(LOSS, v)} = " + " + ".join(terms) if terms else None


def _printed(kind: str) -> dict[str, list[tuple[str, str]]]:
    """The catalogue's right equations for this kind, by the quantity on their left."""
    sl = slice_of(kind, 2)
    out: dict[str, list[tuple[str, str]]] = {}
    for e in load_catalogue():
        if e.layer != kind or any(x.verdict != "proved" for x in e.expect):
            continue
        den = parse(e.latex).sides[0].den
        key = den.name + (f"^{den.sup.text}" if den.sup is not None else "")
        out.setdefault(sl.words[key], []).append((e.latex, f"{e.title}, {e.number}"))
    return out
