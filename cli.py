"""The command line: parses arguments, builds one renderable, prints it once.

No mathematics here; everything is done by the engine in derive/.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import NoReturn, Sequence

from derive.activation import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from derive.errors import BpcheckError, UsageError
from derive.loss import LOSSES
from derive.notation import BUILTIN

PROG = "bpcheck"

REPORT_EXAMPLES = """\
examples:
  bpcheck report
      the default 2-3-2 network (abstract hidden activation, identity output,
      sum-of-squares loss, biases) in Bishop's, Nielsen's and Eglen's notation
  bpcheck report --output softmax --loss ce --notation nielsen
      is Nielsen's (38) right for a softmax output? (no: see output-delta-diagonal)
  bpcheck report --layers 4,8,8,8,4 --hidden tanh
      a deeper network; every hidden layer's recursion is proved
  bpcheck report --json | python -m json.tool
      the same as one JSON object, for scripts

verdicts: proved (an exact decision procedure found the difference identically
zero, under the conditions stated), refuted (a concrete point where the two
sides differ, with both values), undecided (the time budget ran out).
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse's name
        fail(f"{message} (see '{self.prog} --help')")


def fail(message: str) -> NoReturn:
    """The one place errors reach the user: one line on stderr, exit status 2."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _widths(text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.split(",")]
    widths = []
    for p in parts:
        if not p.isdigit() or len(p) > 6:
            raise UsageError(f"--layers {text!r}: {p!r} is not a positive integer; give widths "
                             "as positive integers, input first, e.g. --layers 2,3,2")
        widths.append(int(p))
    return tuple(widths)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Check the equations of backpropagation, symbolically, in the notation "
                    "of your textbook: Bishop (PRML 5.3), Nielsen (NNDL ch. 2) or Eglen.",
        epilog="Run 'bpcheck report --help' for the report's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    report = sub.add_parser(
        "report", help="derive and prove the deltas of a network in each notation",
        description="Derive the error signals (deltas) of a layered network in each notation, "
                    "prove every textbook equation about them exactly, and report which "
                    "Jacobian entries vanish.",
        epilog=REPORT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("--layers", default="2,3,2", metavar="W,W,...",
                        help="layer widths, input first, any depth (default: 2,3,2), "
                             "e.g. --layers 3,4,2")
    report.add_argument("--hidden", default="abstract", metavar="NAME",
                        help=f"hidden activation: {', '.join(HIDDEN_ACTIVATIONS)} "
                             "(default: abstract, an undefined function that stands for every "
                             "elementwise activation)")
    report.add_argument("--output", default="identity", metavar="NAME",
                        help=f"output activation: {', '.join(OUTPUT_ACTIVATIONS)} "
                             "(default: identity)")
    report.add_argument("--loss", default="sse", metavar="NAME",
                        help=f"loss: {', '.join(LOSSES)} (sum of squares, binary and multiclass "
                             "cross-entropy; default: sse)")
    report.add_argument("--bias", action=argparse.BooleanOptionalAction, default=True,
                        help="give every unit a bias (default: --bias)")
    report.add_argument("--notation", default="all", metavar="NAME",
                        help=f"{', '.join(BUILTIN)}, all, or a path to a notation .toml file; "
                             "several separated by commas (default: all)")
    report.add_argument("--budget", type=float, default=30.0, metavar="SECONDS",
                        help="time budget of each proof; when it runs out the verdict is "
                             "undecided (default: 30)")
    report.add_argument("--json", action="store_true",
                        help="print one JSON object instead of the report")
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("bpcheck")
    except Exception:  # running from a checkout that is not installed
        return "unknown"


def _console():
    """Rich decides colour (none when stdout is not a terminal or NO_COLOR is set); a pipe
    gets a fixed width so that tables are not squeezed to 80 columns."""
    from rich.console import Console
    if sys.stdout.isatty():
        return Console(highlight=False)
    width = os.environ.get("COLUMNS", "")
    return Console(highlight=False, width=int(width) if width.isdigit() and int(width) > 40 else 120)


def run_report(args: argparse.Namespace) -> int:
    from derive import load_notations, make_network
    from derive.report import build_report

    if not (args.budget > 0):
        raise UsageError(f"--budget {args.budget!r}: give a positive number of seconds")
    net = make_network(layers=_widths(args.layers), hidden=args.hidden, output=args.output,
                       loss=args.loss, bias=args.bias)
    report = build_report(net, load_notations(args.notation), budget=args.budget)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        console = _console()
        if console.is_terminal:
            console.print(report)
        else:  # a file or a pipe: the same text without the padding rich adds at line ends
            with console.capture() as captured:
                console.print(report)
            sys.stdout.write("\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return {"report": run_report}[args.command](args)
    except BpcheckError as e:
        fail(str(e))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
