"""One exception base for everything the user can get wrong, and the ends of a budget."""
from __future__ import annotations

import re


class BudgetExceeded(BaseException):
    """A budget ran out. Not an Exception, so that no `except Exception` inside SymPy can
    swallow it. `why` says which, for the verdict's note."""

    def __init__(self, why: str = "the time budget ran out"):
        super().__init__(why)
        self.why = why


class TooMuchWork(BudgetExceeded):
    """A normal form would be larger than the engine expands: counted, so the same claim
    ends here on any machine under any load, and at once."""

    def __init__(self, terms: int, limit: int):
        super().__init__(f"the difference in normal form could have more than {limit:,} "
                         "terms, the most the engine expands (counted work: the same on any "
                         "machine, under any load)")
        self.terms, self.limit = terms, limit


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
    # compared without case, spaces, '_' or '-': BatchNorm and layer_norm are near misses
    norm = lambda v: re.sub(r"[\s_-]", "", str(v).lower())
    names = {norm(a): str(a) for a in accepted}
    close = difflib.get_close_matches(norm(value), list(names), n=1, cutoff=0.6)
    return f" (did you mean {names[close[0]]!r}?)" if close else ""


def as_expr(x: object):
    """A SymPy object as it is, an int as an Integer; never text (no parsing, ever)."""
    import sympy as sp
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, int) and not isinstance(x, bool):
        return sp.Integer(x)
    raise TypeError(f"expected a SymPy expression, got {type(x).__name__}")
