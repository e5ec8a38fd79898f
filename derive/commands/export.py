"""bpcheck export: the report as LaTeX for lecture notes, a standalone article or a
fragment, and its PDF on request; every file published whole (io/publish.py).

An exported equation the catalogue has is tagged with the book's number (\\tag{Bishop
5.56}): where the claim it states on this network is one the book's equation states, each
read by the notation as `check` reads it (latex/binding.py), never by its look alone."""
from __future__ import annotations

import re
from pathlib import Path

from ...equations import Entry, load_catalogue

from ..errors import BpcheckError, UsageError, unknown
from ..io.notation_file import load_notation
from ..io.publish import check_target, compile_pdf, publish
from ..latex.binding import read
from ..engine.typed_net import typed_report
from ..engine.bptt import TimeTheorem, prove_every_step
from ..model.layers import Recurrent, TypedNetwork, flat
from ..model.network import Network
from ..present.time_tex import time_body, time_document
from ..present.typed_tex import typed_body, typed_document
from .layer_derivation import net_derivations
from ..model.notation import Notation
from ..present.article import HEADINGS, Layout, body, document
from ..present.report import NotationReport, Report
from .report import build_report

# an equation's number as the book prints it, "(5.56)" or "(BP1)"; the catalogue's other
# places ("step 2a", "Algorithm 6.4, first line") are not numbers an equation is tagged with
NUMBER = re.compile(r"\(([A-Za-z0-9.]+)\)")


def export(net: Network, notations: list[Notation], *, tex: str, fragment: bool = False,
           pdf: bool = False, force: bool = False, budget: float | None = 30.0,
           heading: str | None = None) -> list[Path]:
    """Write the report to `tex` (and its PDF beside it); the files written, in order.
    A fragment has no preamble and, unless `heading` is given, no heading of its own."""
    pdf_path = _targets(tex, fragment=fragment, pdf=pdf, force=force, heading=heading)
    report = build_report(net, notations, budget=budget)
    layout = Layout(heading or "section", titled=not fragment or heading is not None,
                    numbers=book_numbers(report))
    source = body(report, layout) if fragment else document(report, layout)
    return _written(tex, source, pdf_path, force=force)


def export_net(net: TypedNetwork, *, tex: str, fragment: bool = False, pdf: bool = False,
               force: bool = False, heading: str | None = None) -> list[Path]:
    """A network of typed layers' report, with its derivations, written as `export` writes
    a layered one."""
    pdf_path = _targets(tex, fragment=fragment, pdf=pdf, force=force, heading=heading)
    report, derivations = typed_report(net), net_derivations(net)
    source = (typed_body(report, derivations, heading=heading or "section",
                         titled=heading is not None) if fragment
              else typed_document(report, derivations, heading=heading or "section"))
    return _written(tex, source, pdf_path, force=force)


def time_theorems(net: TypedNetwork, source: str, *, progress=None) -> list[TimeTheorem]:
    """Backpropagation through time for every T, for each of the file's rnn layers;
    `progress(done, total, what)` is told before each."""
    layers = [layer for layer in flat(net.layers) if isinstance(layer, Recurrent)]
    if not layers:
        raise UsageError(f"--depth any with --net proves backpropagation through time for "
                         f"every number of steps: {source!r} has no rnn layer")
    step = progress or (lambda done, total, what: None)
    theorems = []
    for n, layer in enumerate(layers):
        step(n, len(layers), f"layer {layer.at} (rnn)")
        theorems.append(prove_every_step(layer))
    return theorems


def export_time(net: TypedNetwork, *, source: str, tex: str, fragment: bool = False,
                pdf: bool = False, force: bool = False, heading: str | None = None) -> list[Path]:
    """Backpropagation through time for every T, for each rnn layer of the file, written
    as `export` writes a report."""
    pdf_path = _targets(tex, fragment=fragment, pdf=pdf, force=force, heading=heading)
    theorems = time_theorems(net, source)
    source_tex = (time_body(net.title, theorems, heading=heading or "section",
                            titled=heading is not None) if fragment
                  else time_document(net.title, theorems, heading=heading or "section"))
    return _written(tex, source_tex, pdf_path, force=force)


def _targets(tex: str, *, fragment: bool, pdf: bool, force: bool,
             heading: str | None) -> str | None:
    """The options checked, and both targets, before anything is computed or written; the
    PDF's path where one is asked for."""
    if heading is not None and heading not in HEADINGS:
        raise unknown("--heading level", heading, HEADINGS)
    if not tex.endswith(".tex"):
        raise UsageError(f"-o {tex!r}: the file name must end in .tex")
    if pdf and fragment:
        raise UsageError("--pdf needs a whole document; leave out --fragment")
    check_target(tex, force=force)
    if not pdf:
        return None
    pdf_path = tex[:-len(".tex")] + ".pdf"
    check_target(pdf_path, force=force)
    return pdf_path


def _written(tex: str, source: str, pdf_path: str | None, *, force: bool) -> list[Path]:
    written = [publish(tex, source, force=force)]
    if pdf_path:
        written.append(publish(pdf_path, compile_pdf(source), force=force))
    return written


def book_numbers(report: Report) -> dict[tuple[str, str], str]:
    """(notation name, LaTeX) -> "Bishop 5.56" for each exported equation whose claim on
    the report's network is a claim of a numbered equation of the book the notation is
    from: every reading of the exported equation is a reading of the book's. Where several
    numbers state it, those the catalogue states on a network like this one; where that
    leaves more than one, all of them; where it leaves none, no tag."""
    entries = load_catalogue()
    out = {}
    for r in report.notations:
        n = r.notation
        book = [e for e in entries if e.source == e.notation == n.name
                and NUMBER.fullmatch(e.number)]
        if not book or n != load_notation(n.name):  # a user's file that took a book's name
            continue
        known = [(e, _readings(e.latex, n, report.net, e.index)) for e in book]
        for equation in _equations(r):
            mine = _readings(equation, n, report.net)
            found = _on_this_network([e for e, theirs in known if mine and mine <= theirs],
                                     report.net)
            if found:
                numbers = dict.fromkeys(NUMBER.fullmatch(e.number)[1] for e in found)
                out[(n.name, equation)] = f"{n.name.capitalize()} {', '.join(numbers)}"
    return out


def _equations(r: NotationReport) -> list[str]:
    """The LaTeX of every equation the export writes in a notation's section."""
    return list(dict.fromkeys([f.latex for f in r.forward]
                              + [s.equation.latex for _, steps in r.derivation for s in steps]
                              + [c.claim.latex for c in r.checks]))


def _readings(latex: str, n: Notation, net: Network, index=None) -> frozenset:
    """Every reading of an equation on the network, each as its claims in the model's
    symbols; empty where it does not read (a quantity the network has not)."""
    try:
        _, bound = read(latex, notation=n, net=net, index=index)
    except BpcheckError:
        return frozenset()
    return frozenset(tuple((c.equation, c.batch) for c in b.claims)
                     for b in bound if b.claims and not b.missing)


def _on_this_network(found: list[Entry], net: Network) -> list[Entry]:
    """Of several numbers for one claim, those with a proof expected on a network that
    agrees with this one in every option the catalogue names (Nielsen's (66) is for
    sigmoid and cross-entropy, (84) for softmax); one number is kept as it is."""
    if len({e.number for e in found}) <= 1:
        return found
    options = {k: ",".join(map(str, v)) if k == "layers" else v for k, v in net.options.items()}
    agrees = lambda x: x.verdict == "proved" and all(
        str(options.get(k)).lower() == str(v).lower() for k, v in x.network.items())
    return [e for e in found if any(agrees(x) for x in e.expect)]
