"""One exception base for everything the user can get wrong."""
from __future__ import annotations


class BpcheckError(Exception):
    """Base of the errors bpcheck reports to the user as one line."""


class UsageError(BpcheckError):
    """A value the user gave is not one bpcheck accepts.

    The message quotes the bad value and lists what is accepted.
    """


class NotSupported(BpcheckError):
    """A well-formed request for something bpcheck does not do."""


def unknown(kind: str, value: object, accepted: "list[str] | tuple[str, ...]") -> UsageError:
    """The error for a name that is not in a table: quotes it, lists the accepted names."""
    return UsageError(f"unknown {kind} {value!r}; accepted: {', '.join(accepted)}")


def as_expr(x: object):
    """A SymPy object as it is, an int as an Integer; never text (no parsing, ever)."""
    import sympy as sp
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return sp.Integer(x)
    raise TypeError(f"expected a SymPy expression, got {type(x).__name__}")
