"""The command line: parses arguments, calls a command, prints one renderable once.

No mathematics here: the commands (derive/commands/) do the work.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
from typing import NoReturn, Sequence

from rich.console import Console
from rich.text import Text

from .derive.commands.catalogue import check_catalogue
from .derive.commands.check import check_file, check_text, worst_status
from .derive.commands.depth import build_depth_report
from .derive.commands.example import run as run_worked
from .derive.commands.export import export
from .derive.commands.graph import build_graph_report
from .derive.commands.network import network_from
from .derive.commands.report import build_report
from .derive.commands.translate import translate
from . import STARTED
from .derive.engine.proof import BudgetExceeded, time_budget
from .derive.errors import BpcheckError, UsageError
from .derive.io.graph_file import load_graph
from .derive.io.notation_file import load_notation, load_notations
from .derive.io.publish import check_target, publish
from .derive.model.activation import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from .derive.model.loss import LOSSES
from .derive.model.notation import BUILTIN
from .derive.present.catalogue import catalogue_table
from .derive.present.check import checked_document, check_json, check_table, first_wrong
from .derive.present.notebook import shown

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


CHECK_EXAMPLES = r"""examples:
  bpcheck check '\delta_j = h'"'"'(a_j) \sum_k w_{kj}\delta_k' --notation bishop
      Bishop (5.56): proved
  bpcheck check '\delta^L_j = \frac{\partial C}{\partial a^L_j} \sigma'"'"'(z^L_j)' \
      --notation nielsen --output softmax --loss ce
      Nielsen's BP1 for a softmax output: refuted, with the point where it fails
  bpcheck check --file notes.tex --notation nielsen
      every display equation of a file, in a table; the exit status is the worst one
"""

TRANSLATE_EXAMPLES = r"""examples:
  bpcheck translate '\delta_j = h'"'"'(a_j) \sum_k w_{kj}\delta_k' --from bishop --to eglen
  bpcheck translate '\delta_k = y_k - t_k' --from bishop --to nielsen
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse's name
        fail(f"{message} (see '{self.prog} --help')")


def fail(message: str) -> NoReturn:
    """The one place errors reach the user: one line on stderr, exit status 2."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


NETWORK_DEFAULTS = {"layers": "2,3,2", "hidden": "abstract", "output": "identity",
                    "loss": "sse", "bias": True}


def _given(args: argparse.Namespace) -> list[str]:
    """The network options given on the command line (the report leaves the others unset,
    so that a default given explicitly still counts as given), then fills in defaults."""
    given = [k for k in NETWORK_DEFAULTS if hasattr(args, k)]
    for k, v in NETWORK_DEFAULTS.items():
        setattr(args, k, getattr(args, k, v))
    return given


def _option(dest: str, args: argparse.Namespace) -> str:
    return ("--bias" if args.bias else "--no-bias") if dest == "bias" else f"--{dest}"


def _network_options(p: argparse.ArgumentParser, *, unset: bool = False) -> None:
    p.add_argument("--layers", default=argparse.SUPPRESS if unset else "2,3,2", metavar="W,W,...",
                   help="layer widths, input first, any depth (default: 2,3,2), "
                        "e.g. --layers 3,4,2")
    p.add_argument("--hidden", default=argparse.SUPPRESS if unset else "abstract", metavar="NAME",
                   help=f"hidden activation: {', '.join(HIDDEN_ACTIVATIONS)} "
                        "(default: abstract, an undefined function that stands for every "
                        "elementwise activation)")
    p.add_argument("--output", default=argparse.SUPPRESS if unset else "identity", metavar="NAME",
                   help=f"output activation: {', '.join(OUTPUT_ACTIVATIONS)} (default: identity)")
    p.add_argument("--loss", default=argparse.SUPPRESS if unset else "sse", metavar="NAME",
                   help=f"loss: {', '.join(LOSSES)} (sum of squares, binary and multiclass "
                        "cross-entropy; default: sse)")
    p.add_argument("--bias", action=argparse.BooleanOptionalAction,
                   default=argparse.SUPPRESS if unset else True,
                   help="give every unit a bias (default: --bias)")


def _index_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", action="append", default=[], metavar="LETTER=LAYER",
                   help="pin the layer of an index letter: input, hidden (every hidden "
                        "layer), output or a layer number as the notation writes it (e.g. "
                        "--index j=output)")


def _budget_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--budget", type=float, default=30.0, metavar="SECONDS",
                   help="wall-clock seconds the whole command may take, reading and every "
                        "proof included; what runs out is undecided (exit 3) (default: 30)")


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
    _network_options(report, unset=True)
    report.add_argument("--notation", default="all", metavar="NAME",
                        help=f"{', '.join(BUILTIN)}, all, or a path to a notation .toml file; "
                             "several separated by commas (default: all)")
    report.add_argument("--width", metavar="NAME",
                        help="prove every claim for every width at once: the widths become "
                             "symbols NAME_0 (input) to NAME_L (output), as many layers as "
                             "--layers gives; --layers d,n,K names them one by one instead")
    report.add_argument("--depth", choices=["any"],
                        help="'any': prove the recursion for every depth, as a theorem: a "
                             "lemma (one layer step, whatever lies downstream), the base case "
                             "(the output layer with the real loss) and the induction; at "
                             "every width too")
    _budget_option(report)
    report.add_argument("--json", action="store_true",
                        help="print one JSON object instead of the report")
    report.add_argument("--graph", metavar="FILE",
                        help="a feed-forward graph from a TOML file (named units, edges with "
                             "weight names, each unit's activation, inputs, outputs, loss; see "
                             "examples/graph-skip.toml): proves Bishop (5.55)/(5.56) with the sum "
                             "over exactly the units j sends connections to, and refutes the "
                             "layered formula with a skip edge ignored and the sum over every "
                             "later layer. It replaces --layers, --hidden, --output, --loss and "
                             "--bias, which come from the file; giving one of them with it is "
                             "an error")

    export = sub.add_parser(
        "export", help="write the report as LaTeX for lecture notes",
        description="Write the report as a standalone LaTeX article (amsmath), in the chosen "
                    "notation: the network, the forward equations, the derivation step by "
                    "step, each Jacobian as a matrix with its zeros, and every check with its "
                    "verdict, conditions or counterexample.",
        epilog="examples:\n  bpcheck export --notation nielsen -o notes.tex\n"
               "  bpcheck export --output softmax --loss ce --notation bishop -o softmax.tex --pdf\n"
               "  bpcheck export --notation eglen --fragment -o eglen-body.tex   (for \\input)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _network_options(export)
    export.add_argument("--notation", default="all", metavar="NAME",
                        help=f"{', '.join(BUILTIN)}, all, a notation file, or several separated "
                             "by commas (default: all)")
    _budget_option(export)
    export.add_argument("-o", "--output-file", required=True, metavar="FILE.tex",
                        help="where to write the LaTeX")
    export.add_argument("--fragment", action="store_true",
                        help="write only the body, for \\input into existing notes")
    export.add_argument("--pdf", action="store_true",
                        help="also compile it to FILE.pdf with pdflatex (in a private folder, "
                             "never with shell escape, TeX's file access paranoid)")
    export.add_argument("--force", action="store_true",
                        help="replace FILE.tex (and FILE.pdf) if they exist; a symbolic link "
                             "is never written through")

    example = sub.add_parser(
        "example", help="a worked numeric example: forward pass, deltas, gradients, one step",
        description="Work one example through a network given in a TOML file (widths, "
                    "activations, loss, every weight and bias, the input, the target, the "
                    "learning rate): every weighted input and output, the loss, every delta, "
                    "every gradient and the weights after one gradient step, in the chosen "
                    "notation. Every number comes from the formulas the engine proved. Exact "
                    "fractions where everything is rational, else --digits significant digits.",
        epilog="examples:\n  bpcheck example examples/sigmoid-2-2-2.toml\n"
               "  bpcheck example examples/softmax-ce.toml --notation nielsen --latex worked.tex",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    example.add_argument("spec", metavar="SPEC.toml", help="the network and its numbers")
    example.add_argument("--notation", default="bishop", metavar="NAME",
                         help=f"{', '.join(BUILTIN)} or a notation file (default: bishop)")
    example.add_argument("--digits", type=int, default=10, metavar="N",
                         help="significant digits where a value is not rational (default: 10)")
    example.add_argument("--latex", metavar="OUT.tex",
                         help="also write the example as a LaTeX article")
    example.add_argument("--force", action="store_true", help="replace OUT.tex if it exists")
    _budget_option(example)
    example.add_argument("--json", action="store_true", help="print one JSON object")

    check = sub.add_parser(
        "check", help="check an equation written in LaTeX, in a notation",
        description="Read an equation as a book or a forum answer writes it, in one "
                    "notation, on a network, and prove it for all values of its indices or "
                    "refute it at a concrete point. Exit status: 0 proved, 1 refuted, "
                    "3 undecided, 4 ambiguous (its readings disagree; each is listed with the "
                    "--index that pins it), 2 bad input.",
        epilog=CHECK_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("latex", nargs="?", metavar="LATEX",
                       help="the equation, e.g. '\\delta_j = h'(a_j) \\sum_k w_{kj}\\delta_k'")
    check.add_argument("--file", metavar="FILE",
                       help="check every equation of a file instead: one per line, or the "
                            "display math of a .tex file")
    check.add_argument("--latex", metavar="OUT.tex", dest="latex_out",
                       help="with --file: also write the checked file as a LaTeX article, each "
                            "equation with its verdict and a wrong one's diagnosis")
    check.add_argument("--force", action="store_true", help="replace OUT.tex if it exists")
    check.add_argument("--notation", metavar="NAME",
                       help=f"the notation the equation is written in: {', '.join(BUILTIN)} "
                            "or a path to a notation .toml file (with --file, a "
                            "'%% bpcheck: notation=NAME' line of the file may give it)")
    _index_option(check)
    _network_options(check)
    _budget_option(check)
    check.add_argument("--json", action="store_true", help="print one JSON object")

    cat = sub.add_parser(
        "catalogue", help="the textbook equations bpcheck knows, with verdicts computed now",
        description="List the catalogue of textbook equations (Bishop, Nielsen, Eglen and the "
                    "claims of readers' questions), each checked now on the networks it names "
                    "against the verdict it should have. Exit status 1 if any verdict differs.",
        epilog="examples:\n  bpcheck catalogue --source nielsen\n  bpcheck catalogue --id bishop-5.55 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    cat.add_argument("--source", metavar="NAME", help="only this source (bishop, nielsen, eglen, seeds)")
    cat.add_argument("--id", metavar="ID", help="only this entry")
    _budget_option(cat)
    cat.add_argument("--json", action="store_true", help="print one JSON object")

    tr = sub.add_parser(
        "translate", help="write an equation of one notation in another",
        description="Read an equation in one notation and write the same equation in "
                    "another: renamed symbols, Nielsen's a and z swapped, Eglen's weight "
                    "indices reversed and delta's sign flipped, layer letters as superscripts.",
        epilog=TRANSLATE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    tr.add_argument("latex", metavar="LATEX", help="the equation")
    tr.add_argument("--from", dest="source", required=True, metavar="NOTATION",
                    help="the notation it is written in")
    tr.add_argument("--to", dest="target", required=True, metavar="NOTATION",
                    help="the notation to write it in")
    _index_option(tr)
    _network_options(tr)
    _budget_option(tr)
    tr.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("bpcheck")
    except Exception:  # running from a checkout that is not installed
        return "unknown"


def _console() -> Console:
    """Rich decides colour (none when stdout is not a terminal or NO_COLOR is set); a pipe
    gets a fixed width so that tables are not squeezed to 80 columns."""
    if sys.stdout.isatty():
        return Console(highlight=False)
    width = os.environ.get("COLUMNS", "")
    return Console(highlight=False, width=int(width) if width.isdigit() and int(width) > 40 else 120)


def _print(renderable) -> None:
    console = _console()
    if console.is_terminal:
        console.print(renderable)
        return
    with console.capture() as captured:  # a pipe: no padding at line ends
        console.print(renderable)
    sys.stdout.write("\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n")


def _show(result, *, as_json: bool, data=None) -> None:
    """A result as one JSON object, or rendered once."""
    if as_json:
        print(json.dumps(data if data is not None else result.to_json(), indent=2,
                         ensure_ascii=False))
    else:
        _print(result)


def _check_budget(args: argparse.Namespace) -> None:
    budget = getattr(args, "budget", None)
    if budget is not None and not (math.isfinite(budget) and 0 < budget <= 3600):
        raise UsageError(f"--budget {budget!r}: give a number of seconds above 0 and at most 3600")


def _network(args: argparse.Namespace, *, names: bool = False, notations=()):
    return network_from(layers=args.layers, hidden=args.hidden, output=args.output,
                        loss=args.loss, bias=args.bias, width=getattr(args, "width", None),
                        names=names, notations=notations)


def _index(pairs: list[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        letter, sep, layer = p.partition("=")
        if not sep or not letter.strip() or not layer.strip():
            raise UsageError(f"--index {p!r}: write LETTER=LAYER, e.g. --index j=output")
        out[letter.strip()] = layer.strip()
    return out


def run_report(args: argparse.Namespace) -> int:
    if args.graph:
        return _run_graph_report(args)
    given = _given(args)
    notations = load_notations(args.notation)
    if args.depth == "any":
        if args.width is not None or "layers" in given:
            raise UsageError("--depth any proves every depth and every width: leave out "
                             "--layers and --width")
        report = build_depth_report(hidden=args.hidden, output=args.output, loss=args.loss,
                                    bias=args.bias, notations=notations, budget=args.budget)
    else:
        report = build_report(_network(args, names=True, notations=notations), notations,
                              budget=args.budget)
    _show(report, as_json=args.json)
    return 0


def _run_graph_report(args: argparse.Namespace) -> int:
    """report --graph: the network comes from the file, so no network option may be given."""
    given = _given(args) + [k for k in ("width", "depth") if getattr(args, k) is not None]
    if given:
        raise UsageError(f"--graph {args.graph!r} gives the whole network (units, activations, "
                         f"loss, biases); leave out {_option(given[0], args)}")
    report = build_graph_report(load_graph(args.graph), load_notations(args.notation),
                                budget=args.budget)
    _show(report, as_json=args.json)
    return 0


def run_check(args: argparse.Namespace) -> int:
    if (args.latex is None) == (args.file is None):
        raise UsageError("give one equation, or --file with equations, not both")
    if args.latex_out is not None and args.file is None:
        raise UsageError("--latex writes a checked file: give --file FILE with it")
    if args.notation is None and args.file is None:
        raise UsageError(f"give --notation: {', '.join(BUILTIN)} or a notation file")
    net, index = _network(args), _index(args.index)
    notation = load_notation(args.notation) if args.notation is not None else None
    if args.latex is not None:
        result = check_text(args.latex, notation=notation, net=net, index=index, budget=args.budget)
        _show(shown(result), as_json=args.json)
        return result.status
    if args.latex_out is not None:  # the target is checked before anything is computed
        if not args.latex_out.endswith(".tex"):
            raise UsageError(f"--latex {args.latex_out!r}: the file name must end in .tex")
        check_target(args.latex_out, force=args.force)
    rows = check_file(args.file, notation=notation, net=net, index=index, budget=args.budget)
    if args.latex_out is not None:
        publish(args.latex_out, checked_document(args.file, rows), force=args.force)
    if args.json:
        place = lambda eq, r: {"line": eq.line, "label": eq.label or None, "step": eq.step or None,
                               "expected": dict(eq.expect) or None, "as_expected": eq.holds(r)}
        print(json.dumps({"results": [
            {"input": eq.text, "verdict": "skipped", **place(eq, r)} if r is None else
            {"input": eq.text, "error": str(r), **place(eq, r)} if isinstance(r, BpcheckError)
            else {**check_json(r), **place(eq, r)} for eq, r in rows]}, indent=2, ensure_ascii=False))
    else:
        _print(check_table(rows))
        if first_wrong(args.file, rows):
            _print(Text(first_wrong(args.file, rows), style="bold"))
    return worst_status(rows)


def run_catalogue(args: argparse.Namespace) -> int:
    rows = check_catalogue(source=args.source, id=args.id, budget=args.budget)
    if args.json:
        print(json.dumps({"entries": [r.to_json() for r in rows]}, indent=2, ensure_ascii=False))
    else:
        _print(catalogue_table(rows))
    return 0 if all(r.agrees for r in rows) else 1


def run_translate(args: argparse.Namespace) -> int:
    result = translate(args.latex, source=load_notation(args.source),
                       target=load_notation(args.target), net=_network(args),
                       index=_index(args.index))
    _show(result, as_json=args.json)
    return 0


def run_export(args: argparse.Namespace) -> int:
    for path in export(_network(args), load_notations(args.notation), tex=args.output_file,
                       fragment=args.fragment, pdf=args.pdf, force=args.force,
                       budget=args.budget):
        print(f"wrote {path}")
    return 0


def run_example(args: argparse.Namespace) -> int:
    if args.latex is not None:
        if not args.latex.endswith(".tex"):
            raise UsageError(f"--latex {args.latex!r}: the file name must end in .tex")
        check_target(args.latex, force=args.force)
    notation = load_notation(args.notation)
    worked = run_worked(args.spec, notation=notation, digits=args.digits, budget=args.budget)
    if args.latex is not None:
        publish(args.latex, worked.to_latex(notation), force=args.force)
    _show(worked, as_json=args.json, data=worked.to_json(notation) if args.json else None)
    return 0


_RUNS = []  # main() calls in this process: the first counts from the process's start


def _left(args: argparse.Namespace) -> float | None:
    """What remains of the budget for the whole command, less a little for printing:
    --budget is a wall-clock bound, not one per proof. The first command of a process
    counts from the process's start (imports included); another, run in the same process
    (tests, notebooks), from its own."""
    started = STARTED if not _RUNS else time.monotonic()
    _RUNS.append(started)
    budget = getattr(args, "budget", None)
    if budget is None:
        return None
    return max(budget - (time.monotonic() - started) - 0.2, 0.01)


def _out_of_time(args: argparse.Namespace) -> None:
    """The whole command ran out of its budget: undecided, said where the verdict goes."""
    note = f"the time budget of {args.budget:g} s ran out (give more with --budget)"
    if getattr(args, "json", False):
        text = getattr(args, "latex", None)
        print(json.dumps({"verdict": "undecided", "claim_latex": text, "input": text,
                          "conditions": [], "counterexample": None, "note": note,
                          "readings": []}, ensure_ascii=False))
    else:
        print(f"undecided: {note}")


def _terminated(signum, frame) -> NoReturn:
    """SIGTERM ends the run as Ctrl-C does, so that temporary files are removed."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminated)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        fail("give a command: report, check, translate, catalogue, export or example "
             "(see 'bpcheck --help')")
    run = {"report": run_report, "check": run_check, "catalogue": run_catalogue,
           "translate": run_translate, "export": run_export, "example": run_example}[args.command]
    try:
        _check_budget(args)
        with time_budget(_left(args)):
            return run(args)
    except BudgetExceeded:
        _out_of_time(args)
        return 3
    except BpcheckError as e:
        fail(str(e))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        fail("the input is nested too deeply to check")
    except Exception as e:  # a bug of bpcheck's: one line, and a status that is not 2
        print(f"{PROG}: internal error, please report it: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
