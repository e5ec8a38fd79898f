"""Every depth: the recursion of backpropagation as a theorem a reader can follow.

- Lemma (`hidden-delta-lemma`), one layer step: whatever network lies downstream of
  layer l+1, the error is E = G(a^{l+1}) for an undefined G, and delta^{l+1}_k is dG/da^{l+1}_k.
  Then delta^l_j = h'(a^l_j) sum_k w^{l+1}_kj delta^{l+1}_k, at every width.
- Base case (`output-delta-base`): the output layer L with the real loss and output
  activation; its delta is dE/da^L, derived from the loss.
- Induction (`hidden-delta-all-depths`): on L - l. The base case gives delta^L; if
  delta^{l+1} is dE/da^{l+1}, the lemma (with G the rest of the network) gives delta^l.
  So the recursion holds at every hidden layer of a network of any depth.

The lemma and the base case are proved by the engine (checks.py) on a stand-in network
whose layers are named l-1, l, l+1 and L and whose widths are symbols. The lemma's proof
never uses which layer l is, nor anything past l+1 (that is G); the base case uses only
the output layer. That is what lets one proof serve every depth.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .checks import Check, Derivation
from .jacobian import output_activation
from .network import Network, make_network
from .notation import Notation
from .proof import Outcome, Verdict
from .report import CheckView, Rendered, StepView, _Prover, _verify_step, _view, render
from .steps import hidden_steps, output_steps

LEMMA, BASE, INDUCTION = "hidden-delta-lemma", "output-delta-base", "hidden-delta-all-depths"
_NAMES = ("l-1", "l", "l+1", "L")
_LAYER, _OUTPUT = 1, 3  # the stand-in's layers l and L


@dataclass(frozen=True)
class Part:
    """One part of the theorem: what it says in words, the claim, how it is derived."""

    title: str
    words: str
    check: CheckView
    steps: tuple[StepView, ...] = ()

    def to_json(self) -> dict[str, Any]:
        c = self.check
        return {"id": c.id, "title": self.title, "statement": self.words,
                "layer_label": c.layer_label, "claim_latex": c.claim.latex,
                "claim_text": c.claim.text, "verdict": str(c.verdict),
                "conditions": [x.latex for x in c.conditions], "note": c.note,
                "counterexample": c.counterexample,
                "steps": [{"why": s.why, "latex": s.equation.latex,
                           "verdict": str(s.verdict) if s.verdict else None} for s in self.steps]}


@dataclass(frozen=True)
class Theorem:
    notation: Notation
    parts: tuple[Part, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.notation.name, "title": self.notation.title,
                "checks": [p.to_json() for p in self.parts]}


@dataclass(frozen=True)
class DepthReport:
    net: Network  # the stand-in: layers l-1, l, l+1, L; widths symbols
    theorems: tuple[Theorem, ...]

    def to_json(self) -> dict[str, Any]:
        net = self.net
        return {"network": {"depth": "any", "layers": list(_NAMES),
                            "widths": [str(w) for w in net.widths], "hidden": net.hidden.name,
                            "output": net.output.name, "loss": net.loss.name, "bias": net.bias},
                "notations": [t.to_json() for t in self.theorems]}

    def __rich_console__(self, console, options):
        from .console import render_depth
        yield from render_depth(self, console, options)


def stand_in(*, hidden: str, output: str, loss: str, bias: bool) -> Network:
    """Layers l-1, l, l+1 and L, every width a symbol."""
    return make_network(layers=("n_{l-1}", "n_l", "n_{l+1}", "n_L"), hidden=hidden,
                        output=output, loss=loss, bias=bias, layer_names=_NAMES)


def induction(lemma: Outcome, base: Outcome) -> Outcome:
    """The induction on L - l: it holds exactly as far as its two premises do. Its
    statement is the recursion, which needs the lemma's conditions (a ReLU's kink) and not
    those of the base case's formula (targets summing to 1 serve y - t, not the recursion:
    the base the induction starts from is delta^L = dE/da^L itself)."""
    if lemma.verdict is Verdict.PROVED and base.verdict is Verdict.PROVED:
        return Outcome(Verdict.PROVED, conditions=lemma.conditions,
                       note="by induction on L - l, from the base case and the lemma")
    missing = [name for name, o in (("lemma", lemma), ("base case", base))
               if o.verdict is not Verdict.PROVED]
    return Outcome(Verdict.UNDECIDED,
                   note=f"the induction needs the {' and the '.join(missing)}, which "
                        f"{'is' if len(missing) == 1 else 'are'} not proved")


def build_depth_report(*, hidden: str = "abstract", output: str = "identity", loss: str = "sse",
                       bias: bool = True, notations: list[Notation],
                       budget: float | None = 30.0) -> DepthReport:
    """The theorem for every depth, in each notation.

    >>> from bpcheck.derive.notation import load_notations
    >>> r = build_depth_report(notations=load_notations("nielsen"))
    >>> [(p.check.id, str(p.check.verdict)) for p in r.theorems[0].parts]
    [('hidden-delta-lemma', 'proved'), ('output-delta-base', 'proved'), ('hidden-delta-all-depths', 'proved')]
    """
    net = stand_in(hidden=hidden, output=output, loss=loss, bias=bias)
    derivation = Derivation(net, budget=budget, run=False)
    lemma = derivation.hidden_claim(_LAYER)
    outputs = {c.id: c for c in derivation.output_claims()}
    derivation.checks = [Check(c, derivation.prove(c)) for c in [lemma, *outputs.values()]]
    # the base case: the most specific output formula that holds
    by_id = {c.claim.id: c for c in derivation.checks}
    base = next((by_id[i] for i in ("output-delta-canonical", "output-delta-diagonal")
                 if by_id[i].outcome.verdict is Verdict.PROVED), by_id["output-delta-general"])
    lemma_steps = hidden_steps(net, _LAYER)
    base_steps = output_steps(net, output_activation(net))
    verified = {id(s): _verify_step(s, derivation, layer)
                for steps, layer in ((lemma_steps, _LAYER), (base_steps, _OUTPUT)) for s in steps}
    prover = _Prover(derivation)
    theorems = []
    for n in notations:
        lemma_outcome = prover.outcome(lemma, n)
        base_outcome = prover.outcome(base.claim, n)
        steps = lambda ss: tuple(StepView(s.why, render(n.express(s.equation), n, net), verified[id(s)],
                                          tuple(render(c, n, net) for c in s.conditions)) for s in ss)
        lemma_view = _renamed(_view(lemma, lemma_outcome, n, net), LEMMA)
        base_view = _renamed(_view(base.claim, base_outcome, n, net), BASE)
        all_view = _renamed(_view(lemma, induction(lemma_outcome, base_outcome), n, net),
                            INDUCTION, label="every l < L")
        what = "any elementwise activation" if net.hidden.abstract else net.hidden.name
        theorems.append(Theorem(n, (
            Part("Lemma: one layer step",
                 f"Whatever network lies downstream of layer l+1, write the error as an "
                 f"undefined function of that layer's weighted inputs, with its partial "
                 f"derivatives as layer l+1's deltas. Then for every unit of layer l, at "
                 f"every width, with {what} as the hidden activation:",
                 lemma_view, steps(lemma_steps)),
            Part("Base case: the output layer",
                 f"The output layer L with the real loss ({net.loss.name}) and output "
                 f"activation ({net.output.name}), at every width:",
                 base_view, steps(base_steps)),
            Part("Induction: every depth",
                 "On L - l. The base case gives the output layer's deltas. If layer l+1's "
                 "deltas are the derivatives of the error, the lemma, with the rest of the "
                 "network as the undefined function, gives layer l's. So for every depth L "
                 "and every hidden layer l < L:",
                 all_view),
        )))
    return DepthReport(net, tuple(theorems))


def _renamed(view: CheckView, id: str, *, label: str | None = None) -> CheckView:
    from dataclasses import replace
    return replace(view, id=id, layer_label=label or view.layer_label)
