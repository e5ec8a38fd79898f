"""The names the command line offers, kept apart from SymPy so that `bpcheck --help`,
`--version` and a mistyped option answer before the engine is imported. The tables these
name (model/activation.py, model/loss.py, the shipped notation files) are tested to have
exactly these keys, in this order (tests/test_structure.py).

>>> OUTPUT_ACTIVATIONS[-1], LOSSES
('softmax', ('sse', 'bce', 'ce'))
"""
from __future__ import annotations

# elementwise activations, each possible in a hidden layer
HIDDEN_ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "softplus", "abstract")
# and those an output layer may also have
OUTPUT_ACTIVATIONS = HIDDEN_ACTIVATIONS + ("softmax",)
LOSSES = ("sse", "bce", "ce")
BUILTIN = ("bishop", "nielsen", "eglen", "goodfellow", "ng")  # notations shipped
