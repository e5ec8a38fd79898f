"""Every depth: the recursion of backpropagation as a theorem a reader can follow.

- Lemma (`hidden-delta-lemma`), one layer step: whatever network lies downstream of
  layer l+1, the error is E = G(a^{l+1}) for an undefined G, and delta^{l+1}_k is dG/da^{l+1}_k.
  Then delta^l_j = h'(a^l_j) sum_k w^{l+1}_kj delta^{l+1}_k, at every width.
- Base case (`output-delta-base`): the output layer L with the real loss and output
  activation; its delta is dE/da^L, derived from the loss.
- Induction (`hidden-delta-all-depths`): on L - l. The base case gives delta^L; if
  delta^{l+1} is dE/da^{l+1}, the lemma (with G the rest of the network) gives delta^l.
  So the recursion holds at every hidden layer of a network of any depth.

The lemma and the base case are proved by the engine (engine/derivation.py) on a stand-in network
whose layers are named l-1, l, l+1 and L and whose widths are symbols. The lemma's proof
never uses which layer l is, nor anything past l+1 (that is G); the base case uses only
the output layer. That is what lets one proof serve every depth.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..model.network import Network, make_network
from .claims import Check, Claim, hidden_claim, output_claims
from .derivation import Derivation
from .proof import Outcome, Verdict

LEMMA, BASE, INDUCTION = "hidden-delta-lemma", "output-delta-base", "hidden-delta-all-depths"
NAMES = ("l-1", "l", "l+1", "L")
LAYER, OUTPUT = 1, 3  # the stand-in's layers l and L


def stand_in(*, hidden: str, output: str, loss: str, bias: bool) -> Network:
    """Layers l-1, l, l+1 and L, every width a symbol."""
    return make_network(layers=("n_{l-1}", "n_l", "n_{l+1}", "n_L"), hidden=hidden,
                        output=output, loss=loss, bias=bias, layer_names=NAMES)


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


@dataclass(frozen=True)
class Theorem:
    """The lemma and the base case proved on the stand-in; the induction follows."""

    derivation: Derivation
    lemma: Claim
    base: Claim


def prove_every_depth(*, hidden: str = "abstract", output: str = "identity", loss: str = "sse",
                      bias: bool = True, budget: float | None = 30.0) -> Theorem:
    """The lemma and every output formula proved on the stand-in; the base case is the
    most specific output formula that holds.

    >>> t = prove_every_depth()
    >>> t.base.id, str(t.derivation.check(t.lemma.id).outcome.verdict)
    ('output-delta-canonical', 'proved')
    """
    net = stand_in(hidden=hidden, output=output, loss=loss, bias=bias)
    derivation = Derivation(net, budget=budget, run=False)
    lemma = hidden_claim(net, LAYER)
    derivation.checks = [Check(c, derivation.prove(c)) for c in [lemma, *output_claims(net)]]
    by_id = {c.claim.id: c for c in derivation.checks}
    base = next((by_id[i] for i in ("output-delta-canonical", "output-delta-diagonal")
                 if by_id[i].outcome.verdict is Verdict.PROVED), by_id["output-delta-general"])
    return Theorem(derivation, lemma, base.claim)
