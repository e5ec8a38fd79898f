"""The command line's arguments: every subcommand's options, help and examples, and
the network defaults the commands share. cli.py parses with it and runs the command."""
from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

from ..errors import did_you_mean, unknown
from ..model.names import BUILTIN, HIDDEN_ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS
from .pool import cores

PROG = "bpcheck"

REPORT_EXAMPLES = """\
examples:
  bpcheck report
      the default 2-3-2 network (abstract hidden activation, identity output,
      sum-of-squares loss, biases) in every shipped notation: Bishop's, Nielsen's,
      Eglen's, Goodfellow's and Ng's
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


def fail(message: str) -> NoReturn:
    """The one place errors reach the user: one line on stderr, exit status 2."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse's name
        # argparse's "invalid choice: 'x' (choose from 'a', 'b')": suggest the close one
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            message += did_you_mean(choice[1], re.findall(r"'([^']*)'", choice[2]))
        fail(f"{message} (see '{self.prog} --help')")


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("bpcheck")
    except Exception:  # running from a checkout that is not installed
        return "unknown"


def _known(kind: str, accepted: tuple[str, ...], *, also: tuple[str, ...] = ()):
    """An option's type that refuses a name no table has as the engine would, but while
    the arguments parse: before SymPy is imported. `also`: names the engine refuses with a
    reason of its own (softmax in a hidden layer)."""
    def name(value: str) -> str:
        if value not in accepted + also:
            raise argparse.ArgumentTypeError(str(unknown(kind, value, accepted)))
        return value
    return name


def _network_options(p: argparse.ArgumentParser, *, unset: bool = False) -> None:
    p.add_argument("--layers", default=argparse.SUPPRESS if unset else "2,3,2", metavar="W,W,...",
                   help="layer widths, input first, any depth (default: 2,3,2), "
                        "e.g. --layers 3,4,2")
    p.add_argument("--hidden", default=argparse.SUPPRESS if unset else "abstract", metavar="NAME",
                   type=_known("hidden activation", HIDDEN_ACTIVATIONS, also=OUTPUT_ACTIVATIONS),
                   help=f"hidden activation: {', '.join(HIDDEN_ACTIVATIONS)} "
                        "(default: abstract, an undefined function that stands for every "
                        "elementwise activation)")
    p.add_argument("--output", default=argparse.SUPPRESS if unset else "identity", metavar="NAME",
                   type=_known("output activation", OUTPUT_ACTIVATIONS),
                   help=f"output activation: {', '.join(OUTPUT_ACTIVATIONS)} (default: identity)")
    p.add_argument("--loss", default=argparse.SUPPRESS if unset else "sse", metavar="NAME",
                   type=_known("loss", LOSSES),
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


def _budget_option(p: argparse.ArgumentParser, *, default: float = 30.0, why: str = "") -> None:
    p.add_argument("--budget", type=float, default=default, metavar="SECONDS",
                   help="wall-clock seconds the whole command may take, reading and every "
                        f"proof included; what runs out is undecided (exit 3) "
                        f"(default: {default:g}{why})")


def _jobs_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help=f"processes to check {what} in, the results in their order "
                        f"(default: this machine's cores, {cores()}; 1: in this process)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Check the equations of backpropagation, symbolically, in the notation "
                    "of your textbook: Bishop (PRML 5.3), Nielsen (NNDL ch. 2), Eglen, "
                    "Goodfellow (Deep Learning ch. 6), Ng, or one you describe in a file.",
        epilog="Run 'bpcheck report --help' for the report's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _report_command(sub)
    _export_command(sub)
    _example_command(sub)
    _check_command(sub)
    _catalogue_command(sub)
    _translate_command(sub)
    return parser


def _report_command(sub) -> None:
    report = sub.add_parser(
        "report", help="derive and prove the deltas of a network in each notation",
        description="Derive the error signals (deltas) of a layered network in each notation, "
                    "prove every textbook equation about them exactly, and report which "
                    "Jacobian entries vanish.",
        epilog=REPORT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _network_options(report, unset=True)
    report.add_argument("--notation", default=None, metavar="NAME",
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
                             "every width too. With --net FILE: backpropagation through time "
                             "for every number of steps, for each rnn layer of the file "
                             "(Goodfellow et al. 10.18 to 10.28, by induction on T - t)")
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
    report.add_argument("--net", metavar="FILE",
                        help="a network of typed layers from a TOML file (dense, activation, "
                             "softmax, layernorm, batchnorm, residual, attention, conv1d, "
                             "maxpool, avgpool, flatten, rnn; see "
                             "examples/layernorm.toml and the README): proves each layer's "
                             "backward equations as published, refutes the well-known wrong "
                             "versions at a point, and says which Jacobian entries vanish. The "
                             "network options and --notation do not apply")


def _export_command(sub) -> None:
    export = sub.add_parser(
        "export", help="write the report as LaTeX for lecture notes",
        description="Write the report as a standalone LaTeX article (amsmath), in the chosen "
                    "notation: the network, the forward equations, the derivation step by "
                    "step, each Jacobian as a matrix with its zeros, and every check with its "
                    "verdict, conditions or counterexample.",
        epilog="examples:\n  bpcheck export --notation nielsen -o notes.tex\n"
               "  bpcheck export --output softmax --loss ce --notation bishop -o softmax.tex --pdf\n"
               "  bpcheck export --notation eglen --fragment -o eglen-body.tex   (for \\input)\n"
               "  bpcheck export --notation bishop --fragment --heading subsection -o bp.tex",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _network_options(export, unset=True)  # so that --net can tell one given
    export.add_argument("--net", metavar="FILE",
                        help="a network of typed layers (see report --net): its forward "
                             "equations, each layer's backward pass derived step by step in "
                             "its papers' letters, the checks and the Jacobians; the network "
                             "options and --notation do not apply")
    export.add_argument("--depth", choices=["any"],
                        help="with --net: 'any' writes backpropagation through time for every "
                             "number of steps instead, for each rnn layer of the file (see "
                             "report --net FILE --depth any)")
    export.add_argument("--notation", default=None, metavar="NAME",
                        help=f"{', '.join(BUILTIN)}, all, a notation file, or several separated "
                             "by commas (default: all)")
    _budget_option(export)
    export.add_argument("-o", "--output-file", required=True, metavar="FILE.tex",
                        help="where to write the LaTeX")
    export.add_argument("--fragment", action="store_true",
                        help="write only the body, for \\input into existing notes: no "
                             "preamble and no heading of its own (give --heading for one)")
    export.add_argument("--heading", metavar="LEVEL",
                        help="the sectioning level of each notation's heading: chapter, "
                             "section, subsection or subsubsection (default: section); the "
                             "forward equations, derivation, Jacobians and checks go one "
                             "level below")
    export.add_argument("--pdf", action="store_true",
                        help="also compile it to FILE.pdf with pdflatex (in a private folder, "
                             "never with shell escape, TeX's file access paranoid)")
    export.add_argument("--force", action="store_true",
                        help="replace FILE.tex (and FILE.pdf) if they exist; a symbolic link "
                             "is never written through")


def _example_command(sub) -> None:
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
    example.add_argument("spec", metavar="SPEC.toml", nargs="?",
                         help="the network and its numbers (or --net)")
    example.add_argument("--net", metavar="FILE",
                         help="instead: a network of typed layers (see report --net), with an "
                              "input, targets and parameters drawn from --seed: every number "
                              "of the forward and the backward pass")
    example.add_argument("--seed", type=int, default=0, metavar="N",
                         help="with --net: the seed the values are drawn from (default: 0)")
    example.add_argument("--notation", default="bishop", metavar="NAME",
                         help=f"{', '.join(BUILTIN)} or a notation file (default: bishop)")
    example.add_argument("--digits", type=int, default=10, metavar="N",
                         help="significant digits where a value is not rational (default: 10)")
    example.add_argument("--latex", metavar="OUT.tex",
                         help="also write the example as a LaTeX article")
    example.add_argument("--force", action="store_true", help="replace OUT.tex if it exists")
    _budget_option(example)
    example.add_argument("--json", action="store_true", help="print one JSON object")


def _check_command(sub) -> None:
    check = sub.add_parser(
        "check", help="check an equation written in LaTeX, in a notation",
        description="Read an equation as a book or a forum answer writes it, in one "
                    "notation, on a network, and prove it for all values of its indices or "
                    "refute it at a concrete point. Exit status: 0 proved, 1 refuted, "
                    "3 undecided, 4 ambiguous (its readings disagree; each is listed with the "
                    "--index that pins it), 2 bad input.",
        epilog=CHECK_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("latex", nargs="*", metavar="LATEX",
                       help="the equation, e.g. '\\delta_j = h'(a_j) \\sum_k w_{kj}\\delta_k'; "
                            "with --file, more files (as a pre-commit hook gives them)")
    check.add_argument("--file", metavar="FILE", nargs="*",
                       help="check every equation of one or more files instead: one per line, "
                            "or the display math of a .tex or Markdown file or a notebook")
    check.add_argument("--latex", metavar="OUT.tex", dest="latex_out",
                       help="with --file: also write the checked file as a LaTeX article, each "
                            "equation with its verdict and a wrong one's diagnosis")
    check.add_argument("--junit-xml", metavar="OUT.xml",
                       help="with --file: also write JUnit XML, a test case per equation")
    check.add_argument("--results-json", metavar="OUT.json",
                       help="with --file: also write a Gradescope-style results.json")
    check.add_argument("--force", action="store_true", help="replace an output file if it exists")
    check.add_argument("--notation", metavar="NAME",
                       help=f"the notation the equation is written in: {', '.join(BUILTIN)} "
                            "or a path to a notation .toml file (with --file, a "
                            "'%% bpcheck: notation=NAME' line of the file may give it; "
                            "without either, each shipped notation is tried and the one "
                            "that read the equation is named)")
    check.add_argument("--net", metavar="FILE",
                       help="read the equation in a typed layer of this network file (batch "
                            "norm, layer norm, softmax, attention, residual) with the letters "
                            "its papers print: x_i, \\mu_B, \\sigma^2_B, \\hat{x}_i, y_i, "
                            "\\gamma, \\beta, m for batch norm (see the README); the network "
                            "options and --notation do not apply")
    check.add_argument("--partial", choices=("local", "total"),
                       help="with --net: read a derivative d(u)/d(v) between a layer's stages "
                            "as u's formula differentiated by v with its other arguments held "
                            "(local, as a chain-rule step means it) or along every path from v "
                            "(total); by default both where they differ, ambiguous if the "
                            "verdicts do")
    check.add_argument("--layer", metavar="AT",
                       help="with --net: the layer, by position (2, or 2.1 inside a residual "
                            "block); default the first with equations to check")
    _index_option(check)
    _network_options(check, unset=True)  # so that --net can tell one given
    _budget_option(check)
    _jobs_option(check, "a file's equations")
    check.add_argument("--json", action="store_true", help="print one JSON object")


def _catalogue_command(sub) -> None:
    cat = sub.add_parser(
        "catalogue", help="the textbook equations bpcheck knows, with verdicts computed now",
        description="List the catalogue of textbook equations (Bishop, Nielsen, Eglen, Goodfellow, "
                    "Ng, the claims of readers' questions, and the backward passes of batch norm, "
                    "layer norm, attention, residual blocks, convolution, pooling and "
                    "recurrence through time as their sources give them), each checked now on the networks it names "
                    "against the verdict it should have. Exit status 1 if any verdict differs.",
        epilog="examples:\n  bpcheck catalogue --source nielsen\n  bpcheck catalogue --id bishop-5.55 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    cat.add_argument("--source", metavar="NAME", help="only this source (bishop, nielsen, eglen, goodfellow, ng, seeds, "
                          "ioffe-szegedy, ba-kiros-hinton, vaswani, he, pooling)")
    cat.add_argument("--id", metavar="ID", help="only this entry")
    _budget_option(cat, default=300.0, why="; the whole catalogue takes about 20 s of CPU, "
                   "so that a busy machine leaves it room")
    _jobs_option(cat, "the entries")
    cat.add_argument("--json", action="store_true", help="print one JSON object")


def _translate_command(sub) -> None:
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
