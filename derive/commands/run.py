"""The commands as the command line runs them: each run_<command> takes the parsed
arguments, calls the command and prints one renderable once; `dispatch` runs one under
the whole command's time budget and turns what goes wrong into one line and a status.
cli.py imports this module only once the arguments have parsed, so --help, --version and a
mistyped option answer without SymPy."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

from rich.console import Console
from rich.text import Text

from .catalogue import check_catalogue
from .check import check_any, check_files, check_text, worst_status
from .depth import build_depth_report
from .example import run as run_worked
from .export import export, export_net, export_time, time_theorems
from .graph import build_graph_report
from .layer_check import check_net_text, status as layer_status
from .layer_derivation import net_derivations, step_verdicts
from .network import network_from
from .pool import cores
from .parser import PROG, fail
from .report import build_report
from .translate import translate
from ... import STARTED
from ..engine.proof import Verdict, time_budget
from ..engine.typed_net import typed_report, worst_with
from ..engine.typed_example import typed_example
from ..errors import BpcheckError, BudgetExceeded, TooMuchWork, UsageError
from ..io.graph_file import load_graph
from ..io.net_file import load_net
from ..io.notation_file import load_notation, load_notations
from ..io.publish import check_target, publish
from ..present.catalogue import CatalogueView
from ..present.check import check_table, first_wrong
from ..present.checked_file import checked_document, file_json, junit_xml, results_json
from ..present.console import ProgressBar
from ..present.slice_check import SliceCheckView, slice_json
from ..present.typed_example import TypedExampleView, typed_example_json
from ..present.time_theorem import TimeTheoremsView, time_json, worst as time_worst
from ..present.typed_report import TypedReportView, typed_json
from ..present.notebook import shown

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


def _console() -> Console:
    """Rich decides colour (none when stdout is not a terminal or NO_COLOR is set); a pipe
    gets a fixed width so that tables are not squeezed to 80 columns."""
    if sys.stdout.isatty():
        return Console(highlight=False)
    width = os.environ.get("COLUMNS", "")
    return Console(highlight=False, width=int(width) if width.isdigit() and int(width) > 40 else 120)


def _progress() -> Console | None:
    """Where a progress bar goes: stderr, when it is a terminal (never a pipe or a test's
    capture, whatever FORCE_COLOR says), so that no output and no JSON changes."""
    return Console(stderr=True) if sys.stderr.isatty() else None


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
    if args.net:
        return _run_net_report(args)
    args.notation = args.notation or "all"  # unset in the parser, so that --net can tell
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
        net = _network(args, names=True, notations=notations)
        with ProgressBar(_progress(), "report") as bar:  # seen where it takes over a second
            report = build_report(net, notations, budget=args.budget, progress=bar)
    _show(report, as_json=args.json)
    return 0


def _run_net_report(args: argparse.Namespace) -> int:
    """report --net: a network of typed layers, all of it from the file."""
    given = _given(args) + [k for k in ("width", "graph", "notation")
                            if getattr(args, k) is not None]
    if given:
        raise UsageError(f"--net {args.net!r} gives the whole network (its layers and loss) "
                         "and its papers' letters; "
                         f"leave out {_option(given[0], args)}")
    net = load_net(args.net)
    if args.depth == "any":
        return _run_time_theorem(net, args)
    with ProgressBar(_progress(), "report") as bar:
        report = typed_report(net, progress=bar)
        # where the budget ran out, the derivations would too: the checks finished are shown
        derivations = net_derivations(net) if not report.ran_out else []
    if args.json:
        print(json.dumps(typed_json(report, derivations), indent=2, ensure_ascii=False))
    else:
        _print(TypedReportView(report, derivations))
    worst = worst_with(report, step_verdicts(derivations))
    if report.ran_out and worst is not Verdict.REFUTED:
        return 3
    return 0 if worst is Verdict.PROVED else 1


def _run_time_theorem(net, args: argparse.Namespace) -> int:
    """report --net FILE --depth any: backpropagation through time for every T."""
    with ProgressBar(_progress(), "report") as bar:
        theorems = time_theorems(net, args.net, progress=bar)
    _show(TimeTheoremsView(net.title, theorems), as_json=args.json,
          data=time_json(net.title, theorems) if args.json else None)
    return 0 if time_worst(theorems) is Verdict.PROVED else 1


def _run_net_check(args: argparse.Namespace, given: list[str]) -> int:
    """check --net: one equation read in a typed layer's slice."""
    given = given + [k for k in ("notation", "file", "index")
                            if getattr(args, k) not in (None, [], ())]
    if given:
        raise UsageError(f"--net {args.net!r} gives the network and the layer's letters; "
                         f"leave out {_option(given[0], args)}")
    if len(args.latex) != 1:
        raise UsageError("--net checks one equation: give it as one argument, quoted")
    result = check_net_text(args.latex[0], load_net(args.net), at=args.layer,
                            partial=args.partial)
    _show(SliceCheckView(result), as_json=args.json, data=slice_json(result) if args.json else None)
    return layer_status(result)


def _run_net_example(args: argparse.Namespace) -> int:
    """example --net: every number of one pass, at values drawn from --seed."""
    extra = [o for o, given in (("SPEC.toml", args.spec is not None),
                                ("--latex", args.latex is not None),
                                ("--notation", args.notation != "bishop")) if given]
    if extra:
        raise UsageError(f"--net {args.net!r} gives the network; leave out {extra[0]}")
    if not 1 <= args.digits <= 50:
        raise UsageError(f"--digits {args.digits}: give 1 to 50")
    example = typed_example(load_net(args.net), seed=args.seed, digits=args.digits)
    _show(TypedExampleView(example), as_json=args.json,
          data=typed_example_json(example) if args.json else None)
    return 0 if example.proved else 1


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
    given = _given(args)  # the network options given, then the defaults filled in
    if args.net is not None:
        return _run_net_check(args, given)
    for option in ("layer", "partial"):
        if getattr(args, option) is not None:
            raise UsageError(f"--{option} reads an equation in a layer of a --net network "
                             "file; give --net FILE")
    if args.file is not None:  # every word after the options is a file: --file a.tex b.md
        args.file, args.latex = args.file + args.latex, None
        if not args.file:
            raise UsageError("--file needs a file, e.g. --file notes.tex")
    elif len(args.latex) != 1:
        raise UsageError("give one equation, or --file with equations, not both")
    else:
        args.latex = args.latex[0]
    net, index = _network(args), _index(args.index)
    notation = load_notation(args.notation) if args.notation is not None else None
    outputs = _file_outputs(args)  # each target checked before anything is computed
    if args.latex is not None:
        result = check_text(args.latex, notation=notation, net=net, index=index,
                            budget=args.budget) if notation is not None else check_any(
            args.latex, net=net, index=index, budget=args.budget)
        _show(shown(result), as_json=args.json)
        return result.status
    with ProgressBar(_progress(), "checking") as bar:  # a step an equation
        rows = check_files(args.file, notation=notation, net=net, index=index,
                           budget=args.budget, jobs=_jobs(args), progress=bar)
    name = ", ".join(args.file)
    for path, render in outputs:
        publish(path, render(name, rows), force=args.force)
    if args.json:
        print(json.dumps(file_json(rows), indent=2, ensure_ascii=False))
    else:
        _print(check_table(rows))
        wrong = first_wrong(args.file[0], rows)
        if wrong:
            _print(Text(wrong, style="bold"))
    return worst_status(rows)


# a checked file's other forms: the option, the ending its file name needs, the writer
FILE_OUTPUTS = (("latex_out", "--latex", ".tex", checked_document),
                ("junit_xml", "--junit-xml", ".xml", junit_xml),
                ("results_json", "--results-json", ".json", results_json))


def _file_outputs(args: argparse.Namespace) -> list:
    out = []
    for dest, option, ending, render in FILE_OUTPUTS:
        path = getattr(args, dest)
        if path is None:
            continue
        if args.file is None:
            raise UsageError(f"{option} writes a checked file: give --file FILE with it")
        if not path.endswith(ending):
            raise UsageError(f"{option} {path!r}: the file name must end in {ending}")
        check_target(path, force=args.force)
        out.append((path, render))
    return out


def _jobs(args: argparse.Namespace) -> int:
    """--jobs, or this machine's cores."""
    if args.jobs is None:
        return cores()
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: give a number of processes, 1 or more")
    return args.jobs


def run_catalogue(args: argparse.Namespace) -> int:
    with ProgressBar(_progress(), "catalogue") as bar:  # a step an entry
        rows = check_catalogue(source=args.source, id=args.id, budget=args.budget,
                               jobs=_jobs(args), progress=bar)
    if args.json:
        print(json.dumps({"entries": [r.to_json() for r in rows]}, indent=2, ensure_ascii=False))
    else:
        _print(CatalogueView(rows))
    return 0 if all(r.agrees for r in rows) else 1


def run_translate(args: argparse.Namespace) -> int:
    result = translate(args.latex, source=load_notation(args.source),
                       target=load_notation(args.target), net=_network(args),
                       index=_index(args.index))
    _show(result, as_json=args.json)
    return 0


def run_export(args: argparse.Namespace) -> int:
    given = _given(args)  # the network options given, then the defaults filled in
    if args.net is not None:
        given += ["notation"] if args.notation is not None else []
        if given:
            raise UsageError(f"--net {args.net!r} gives the whole network and its papers' "
                             f"letters; leave out {_option(given[0], args)}")
        options = dict(tex=args.output_file, fragment=args.fragment, pdf=args.pdf,
                       force=args.force, heading=args.heading)
        written = (export_time(load_net(args.net), source=args.net, **options)
                   if args.depth == "any" else export_net(load_net(args.net), **options))
    elif args.depth is not None:
        raise UsageError("export --depth any writes backpropagation through time for every "
                         "number of steps: give --net FILE with an rnn layer")
    else:
        written = export(_network(args), load_notations(args.notation or "all"),
                         tex=args.output_file, fragment=args.fragment, pdf=args.pdf,
                         force=args.force, budget=args.budget, heading=args.heading)
    for path in written:
        print(f"wrote {path}")
    return 0


def run_example(args: argparse.Namespace) -> int:
    if args.net is not None:
        return _run_net_example(args)
    if args.spec is None:
        raise UsageError("give a SPEC.toml (see examples/), or --net FILE")
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


def _left(args: argparse.Namespace, started: float) -> float | None:
    """What remains of the budget for the whole command, less a little for printing:
    --budget is a wall-clock bound, not one per proof, counted from `started`. Spent
    before the command begins (a process started long ago), it is out of time at once."""
    budget = getattr(args, "budget", None)
    if budget is None:
        return None
    left = budget - (time.monotonic() - started) - 0.2
    if left <= 0:
        raise BudgetExceeded(_ran_out(args))
    return max(left, 0.01)


def _ran_out(args: argparse.Namespace) -> str:
    """The note of a command that ran out of its --budget."""
    budget = getattr(args, "budget", None)
    if budget is None or not isinstance(budget, (int, float)):
        return "the time budget ran out"
    return f"the time budget of {budget:g} s ran out (give more with --budget)"


def _out_of_time(args: argparse.Namespace, why: BudgetExceeded) -> None:
    """The whole command ran out of its budget (or of the work a normal form may take):
    undecided, said where the verdict goes."""
    note = why.why if isinstance(why, TooMuchWork) else _ran_out(args)
    if getattr(args, "json", False):
        text = getattr(args, "latex", None)
        print(json.dumps({"verdict": "undecided", "claim_latex": text, "input": text,
                          "conditions": [], "counterexample": None, "note": note,
                          "readings": []}, ensure_ascii=False))
    else:
        print(f"undecided: {note}")


def dispatch(args: argparse.Namespace, *, whole_process: bool = False) -> int:
    """Run the parsed command: its exit status, or one line on stderr. Its budget counts
    from the process's start (imports included) where the command is the process, from now
    where it is called within a longer one (a test, a notebook)."""
    started = STARTED if whole_process else time.monotonic()
    run = {"report": run_report, "check": run_check, "catalogue": run_catalogue,
           "translate": run_translate, "export": run_export, "example": run_example}[args.command]
    try:
        _check_budget(args)
        # a proof the command's time ends says so in the same words as the command
        with time_budget(_left(args, started), why=_ran_out(args)):
            return run(args)
    except BudgetExceeded as e:
        _out_of_time(args, e)
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
