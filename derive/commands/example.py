"""bpcheck example SPEC.toml: a worked numeric example, every number from the formulas
the engine proved, in a notation.

>>> from bpcheck.derive.io.notation_file import load_notation
>>> ex = run("examples/sigmoid-2-2-2.toml", notation=load_notation("bishop"))  # doctest: +SKIP
"""
from __future__ import annotations

from ..engine.worked import compute as compute_numbers
from ..io.notation_file import load_notation
from ..io.spec_file import load_spec, parse_spec  # noqa: F401  the spec's readers, for callers
from ..model.notation import Notation
from ..model.spec import Spec
from ..present.worked import WorkedExample


def compute(spec: Spec, *, digits: int = 10, notation: Notation | None = None,
            budget: float | None = 30.0) -> WorkedExample:
    """One step of backpropagation on the spec's network, in a notation (Bishop's by
    default). `budget`: seconds each proof may take."""
    return WorkedExample(compute_numbers(spec, digits=digits, budget=budget),
                         notation or load_notation("bishop"))


def run(spec_path: str, *, notation: Notation, digits: int = 10,
        budget: float | None = 30.0) -> WorkedExample:
    """What `bpcheck example SPEC.toml` computes: the spec read, validated and worked."""
    return compute(load_spec(spec_path), digits=digits, notation=notation, budget=budget)
