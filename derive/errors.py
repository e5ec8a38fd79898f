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
    """The error for a name that is not in a table: quotes it, suggests the closest
    accepted name where one is close, lists the accepted names.

    >>> str(unknown("loss", "sde", ("sse", "bce", "ce")))
    "unknown loss 'sde' (did you mean 'sse'?); accepted: sse, bce, ce"
    """
    return UsageError(f"unknown {kind} {value!r}{did_you_mean(value, accepted)}; "
                      f"accepted: {', '.join(accepted)}")


def did_you_mean(value: object, accepted) -> str:
    """' (did you mean 'x'?)' where one accepted name is close to the value, else ''."""
    import difflib
    if not isinstance(value, str) or len(value) > 100:
        return ""
    close = difflib.get_close_matches(value, [str(a) for a in accepted], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def as_expr(x: object):
    """A SymPy object as it is, an int as an Integer; never text (no parsing, ever)."""
    import sympy as sp
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return sp.Integer(x)
    raise TypeError(f"expected a SymPy expression, got {type(x).__name__}")
