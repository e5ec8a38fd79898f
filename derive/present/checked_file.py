"""A checked file in the forms other tools read: JSON, a LaTeX article with each verdict
and diagnosis, JUnit XML for CI, and a Gradescope-style results.json for autograders.
Each takes the file's path and its rows, (equation, result, error or None where skipped).
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..engine.checking import CheckResult
from ..errors import BpcheckError
from .check import check_json, diagnosis_json, diagnosis_lines
from .tex import escape


def file_json(rows) -> dict[str, Any]:
    """Every equation of the file with its place, verdict and diagnosis."""
    out = []
    for eq, r in rows:
        place = {"line": eq.line, "label": eq.label or None, "step": eq.step or None,
                 "expected": dict(eq.expect) or None, "as_expected": eq.holds(r)}
        if r is None:
            out.append({"input": eq.text, "verdict": "skipped", **place})
        elif isinstance(r, BpcheckError):
            out.append({"input": eq.text, "error": str(r), **place})
        else:
            out.append({**check_json(r), **place})
    return {"results": out}


def passed(eq, r) -> bool | None:
    """Whether an equation passes: what the file expects of it, else proved; None where
    it is skipped."""
    if r is None:
        return None
    holds = eq.holds(r)
    if holds is not None:
        return holds
    return isinstance(r, CheckResult) and str(r.verdict) == "proved"


def _verdict(r) -> str:
    return "skipped" if r is None else "error" if isinstance(r, BpcheckError) else str(r.verdict)


def _report(eq, r) -> str:
    """The words a failed equation shows: its verdict, where it fails, its diagnosis."""
    if r is None:
        return "skipped"
    if isinstance(r, BpcheckError):
        return f"error: {r}"
    lines = [f"{r.verdict}: {eq.text}"]
    if r.deciding.outcome.note:
        lines.append(r.deciding.outcome.note)
    if eq.holds(r) is False:
        lines.append("expected " + " ".join(f"{k}={v}" for k, v in eq.expect))
    return "\n".join(lines + diagnosis_lines(r))


def _passing(eq, r) -> str:
    """What a passing equation shows: its verdict, and that the file expected it (a wrong
    equation shown on purpose passes by being refuted)."""
    return f"{r.verdict}{' as expected' if eq.expect else ''}: {eq.text}"


def _name(path: str, eq) -> str:
    """An equation's test name: its place, which names its file where several were given."""
    return eq.where if eq.source else f"{Path(path).name} {eq.where or 'equation'}"


def junit_xml(path: str, rows) -> str:
    """JUnit XML: a test case per equation, named by its file and place; a failure for each
    that does not pass, skipped for each the file skips."""
    name = Path(path).name
    suite = ET.Element("testsuite", name=f"bpcheck {name}", tests=str(len(rows)),
                       failures=str(sum(passed(eq, r) is False for eq, r in rows)),
                       errors="0", skipped=str(sum(r is None for _, r in rows)))
    for eq, r in rows:
        case = ET.SubElement(suite, "testcase", classname=eq.source or name,
                             name=f"{eq.where or 'equation'}: {eq.text[:120]}")
        verdict = passed(eq, r)
        if verdict is None:
            ET.SubElement(case, "skipped", message="skipped by the file")
        elif not verdict:
            failure = ET.SubElement(case, "failure", message=_verdict(r), type=_verdict(r))
            failure.text = _report(eq, r)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def results_json(path: str, rows) -> str:
    """Gradescope's results.json: a score of one per equation that passes, each test with
    its output and visibility."""
    tests = []
    for eq, r in rows:
        verdict = passed(eq, r)
        if verdict is None:
            continue
        tests.append({"name": _name(path, eq),
                      "score": 1 if verdict else 0, "max_score": 1,
                      "status": "passed" if verdict else "failed",
                      "output": _report(eq, r) if not verdict else _passing(eq, r),
                      "visibility": "visible"})
    return gradescope(tests)


def gradescope(tests: list[dict]) -> str:
    """Gradescope's results.json of tests (each with its score, max_score, status, output
    and visibility): the total is theirs, and Gradescope reads no max_score beside it."""
    return json.dumps({"score": sum(t["score"] for t in tests), "tests": tests}, indent=2,
                      ensure_ascii=False) + "\n"


def checked_document(path: str, rows) -> str:
    """A checked file as a LaTeX article: each equation as understood, its verdict, and a
    refuted one's diagnosis, the right equation displayed. Prose is escaped; mathematics
    is bpcheck's own rendering of what it read, never the user's text."""
    out = [r"\section*{Equations of " + escape(Path(path).name) + " checked by bpcheck}",
           r"\begin{enumerate}"]
    for eq, r in rows:
        where = escape(eq.where) + ": " if eq.where else ""
        if r is None:
            out.append(r"\item " + where + "skipped")
            continue
        if isinstance(r, BpcheckError):
            out.append(r"\item " + where + r"\textbf{error}: " + escape(str(r)))
            continue
        out.append(rf"\item {where}\[ {r.understood} \] \textbf{{{r.verdict}}}"
                   + (f" in {escape(r.notation.title)}" if r.notation.title else ""))
        found = diagnosis_json(r)
        if found is None:
            continue
        if found["id"]:
            out.append(rf"\\ mistake \texttt{{{escape(found['id'])}}}: {escape(found['message'])}")
        if found["correct_latex"]:
            cond = (r" \quad \text{if } " + ", ".join(found["conditions"])) if found["conditions"] else ""
            out.append(rf"\\ it should read (proved): \[ {found['correct_latex']}{cond} \]")
        if found["convention"]:
            out.append(r"\\ " + escape(found["convention"]))
    out.append(r"\end{enumerate}")
    return ("\\documentclass[11pt]{article}\n\\usepackage{amsmath}\n"
            "\\setlength{\\parindent}{0pt}\n\\begin{document}\n" + "\n".join(out)
            + "\n\\end{document}\n")
