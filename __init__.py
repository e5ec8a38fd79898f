"""bpcheck: a symbolic derivation checker for backpropagation.

The installed distribution has this one import name. The command line is `bpcheck.cli`,
the engine `bpcheck.derive`, the catalogue of textbook equations `bpcheck.equations`, and
the pytest plugin `bpcheck.derive.pytest_plugin`.
"""
import time as _time

# when the process began, near enough: --budget bounds the whole command, imports included
STARTED = _time.monotonic()


def load_ipython_extension(ipython) -> None:
    """`%load_ext bpcheck`: the %bpcheck and %%bpcheck magics (derive/commands/magics.py)."""
    from .derive.commands.magics import load
    load(ipython)
