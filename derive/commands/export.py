"""bpcheck export: the report as LaTeX for lecture notes, a standalone article or a
fragment, and its PDF on request; every file published whole (io/publish.py)."""
from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..io.publish import check_target, compile_pdf, publish
from ..model.network import Network
from ..model.notation import Notation
from ..present.article import body, document
from .report import build_report


def export(net: Network, notations: list[Notation], *, tex: str, fragment: bool = False,
           pdf: bool = False, force: bool = False, budget: float | None = 30.0) -> list[Path]:
    """Write the report to `tex` (and its PDF beside it); the files written, in order."""
    if not tex.endswith(".tex"):
        raise UsageError(f"-o {tex!r}: the file name must end in .tex")
    if pdf and fragment:
        raise UsageError("--pdf needs a whole document; leave out --fragment")
    pdf_path = tex[:-len(".tex")] + ".pdf"
    # both targets are checked before anything is computed or written
    check_target(tex, force=force)
    if pdf:
        check_target(pdf_path, force=force)
    report = build_report(net, notations, budget=budget)
    source = body(report) if fragment else document(report)
    written = [publish(tex, source, force=force)]
    if pdf:
        written.append(publish(pdf_path, compile_pdf(source), force=force))
    return written
