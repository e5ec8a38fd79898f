"""bpcheck's engine: networks, activations, losses, notations, derivation and proof.

Names are imported on first use, so that loading the pytest plugin (which imports this
package in every pytest run where bpcheck is installed) does not load SymPy.

>>> from bpcheck.derive import make_network, Derivation
>>> d = Derivation(make_network(layers=(2, 3, 2), output="softmax", loss="ce"))
>>> [str(c.outcome.verdict) for c in d.checks if c.claim.id.startswith("output")]
['proved', 'refuted', 'proved']
"""
from __future__ import annotations

from importlib import import_module

_WHERE = {
    "ACTIVATIONS": "model.activation", "Activation": "model.activation",
    "CHECK_IDS": "engine.claims", "Check": "engine.claims", "Claim": "engine.claims",
    "Derivation": "engine.derivation",
    "BpcheckError": "errors", "NotSupported": "errors", "UsageError": "errors",
    "LOSSES": "model.loss", "Loss": "model.loss",
    "Network": "model.network", "make_network": "model.network",
    "Notation": "model.notation", "load_notation": "io.notation_file",
    "load_notations": "io.notation_file",
    "Outcome": "engine.proof", "Verdict": "engine.proof",
    "check_text": "commands.check", "build_report": "commands.report", "shown": "present.notebook",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'derive' has no attribute {name!r}")
    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
