"""Work spread over processes, the results in the input's order: `check --file` and
`catalogue` with `--jobs N`. A worker is a fork of this process, so it starts with the
engine imported; what crosses back is a result (a CheckResult pickles: its notation as
data, its network by its options). Each item's errors are the item's: `fn` returns a
BpcheckError rather than raising it. The pool ends with the block, its workers ended
with it, even where the command's own budget runs out or the user interrupts.

>>> ordered(abs, [-2, 1, -3], jobs=2)
[2, 1, 3]
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# told (items done, items in all, the next item's label) before each item, and at the end
Progress = Callable[[int, int, str], None]


def cores() -> int:
    """The processors this process may run on: the default of --jobs."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _worker() -> None:
    """A worker ends quietly when the pool ends it (SIGTERM), and leaves Ctrl-C to the
    command, which ends the pool: a fork keeps the command's own handlers otherwise."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def ordered(fn: Callable[[T], R], items: Iterable[T], *, jobs: int = 1,
            progress: Progress | None = None,
            label: Callable[[T], str] = lambda item: "") -> list[R]:
    """fn of each item, in the items' order, over `jobs` processes (here where jobs is 1
    or there is one item); `fn` must pickle (a module's function, or a partial of one)."""
    items = list(items)
    total, out = len(items), []
    tell = progress or (lambda done, total, what: None)
    if jobs <= 1 or total <= 1:
        for done, item in enumerate(items):
            tell(done, total, label(item))
            out.append(fn(item))
    else:
        with multiprocessing.get_context("fork").Pool(min(jobs, total),
                                                      initializer=_worker) as pool:
            results = pool.imap(fn, items)
            for done, item in enumerate(items):
                tell(done, total, label(item))
                out.append(next(results))
    tell(total, total, "")
    return out
