"""bpcheck's engine: networks, activations, losses, notations, derivation and proof.

>>> from derive import make_network, Derivation
>>> d = Derivation(make_network(layers=(2, 3, 2), output="softmax", loss="ce"))
>>> [str(c.outcome.verdict) for c in d.checks if c.claim.id.startswith("output")]
['proved', 'refuted', 'proved']
"""
from __future__ import annotations

from .activation import ACTIVATIONS, Activation
from .checks import CHECK_IDS, Check, Claim, Derivation
from .errors import BpcheckError, NotSupported, UsageError
from .loss import LOSSES, Loss
from .network import Network, make_network
from .notation import Notation, load_notation, load_notations
from .proof import Outcome, Verdict

__all__ = [
    "ACTIVATIONS", "Activation", "BpcheckError", "CHECK_IDS", "Check", "Claim", "Derivation",
    "LOSSES", "Loss", "Network", "NotSupported", "Notation", "Outcome", "UsageError",
    "Verdict", "load_notation", "load_notations", "make_network",
]
