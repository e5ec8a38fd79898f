"""The command line: parses arguments, then runs the command (derive/commands/run.py).

No mathematics here, and no SymPy until a command runs: `bpcheck --help`, `--version` and a
mistyped option or value answer at once.
"""
from __future__ import annotations

import signal
import sys
import threading
from typing import NoReturn, Sequence

from .derive.commands.parser import build_parser, fail


def _terminated(signum, frame) -> NoReturn:
    """SIGTERM ends the run as Ctrl-C does, so that temporary files are removed."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    args = build_parser().parse_args(argv)
    if args.command is None:
        fail("give a command: report, check, translate, catalogue, export or example "
             "(see 'bpcheck --help')")
    from .derive.commands.run import dispatch  # the engine, only now that it has work
    return dispatch(args, whole_process=argv is None)  # no argv: the process's own command


if __name__ == "__main__":
    sys.exit(main())
