"""The equations of a file: one a line, or the display math of a .tex file, each with the
line it starts on and its label.

A .tex file gives each \\[ \\], $$ $$ and equation, align, eqnarray, gather and multline
environment (starred or not). A row of an align, eqnarray or gather is an equation of its
own; a multline is one equation over several lines. An aligned chain (x &= y \\\\ &= z) is
checked step by step: each row against the chain's first side, so a wrong step is named
with its line and the steps after it are still checked against what the chain is about.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .files import read_text

MAX_BYTES = 640 * 1024
_ENVIRONMENTS = ("equation", "align", "eqnarray", "gather", "multline")
# display math and the closer of each; found with str.find, so a file is read in linear
# time whatever it holds (a regular expression with .*? backtracks on a file of \[)
_DISPLAYS = ((r"\[", r"\]"), ("$$", "$$")) + tuple(
    (rf"\begin{{{env}{star}}}", rf"\end{{{env}{star}}}")
    for env in _ENVIRONMENTS for star in ("", "*"))
_LABEL = re.compile(r"\\label\s*\{([^{}]{0,200})\}")  # no nesting, bounded: linear


@dataclass(frozen=True)
class Equation:
    """One equation of a file to check: its text, the line it starts on, its label, and
    for a step of a chain which step it is (1 for the first)."""

    text: str
    line: int = 0
    label: str = ""
    step: int = 0

    @property
    def where(self) -> str:
        """line 12 (eq:bp2), step 3"""
        out = f"line {self.line}" if self.line else ""
        out += f" ({self.label})" if self.label else ""
        return out + (f", step {self.step}" if self.step else "")


def displays(text: str) -> list[tuple[int, str, str]]:
    r"""(offset, opener, inside) of each display of a LaTeX text, in order.

    >>> [(o, inside) for _, o, inside in displays(r"a \[ x = 1 \] b $$y = 2$$")]
    [('\\[', ' x = 1 '), ('$$', 'y = 2')]
    """
    out, i = [], 0
    nxt = {o: text.find(o) for o, _ in _DISPLAYS}  # each opener's next place, kept current
    while True:
        found = [(at, o, c) for o, c in _DISPLAYS if (at := nxt[o]) >= 0]
        if not found:
            return out
        at, opener, closer = min(found)
        start = at + len(opener)
        end = text.find(closer, start)
        if end < 0:  # an unclosed display ends the math of the file
            return out
        out.append((start, opener, text[start:end]))
        i = end + len(closer)
        for o, _ in _DISPLAYS:
            if 0 <= nxt[o] < i:
                nxt[o] = text.find(o, i)


def _without(text: str, command: str) -> str:
    """The text with each `command{...}` left out (one level of braces inside), by
    str.find: \\intertext{...} between the rows of an align is prose."""
    while (at := text.find(command + "{")) >= 0:
        depth, j = 0, at + len(command)
        while j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        text = text[:at] + " " + text[j:]
    return text


def _rows(inside: str, opener: str, offset: int, line_of) -> list[Equation]:
    """The equations of one display: its rows, a chain's steps, a multline whole."""
    if "multline" in opener:
        parts = [(len(inside) - len(inside.lstrip()), inside.replace("\\\\", " "))]
    else:
        parts, at = [], 0
        for part in _without(inside, r"\intertext").split("\\\\"):
            parts.append((inside.find(part.strip()[:20], at) if part.strip() else at, part))
            at += len(part) + 2
    rows = []
    for at, part in parts:
        if not part.strip():
            continue
        label = _LABEL.search(part)
        rows.append(Equation(_LABEL.sub(" ", part).strip(), line_of(offset + max(at, 0)),
                             label[1] if label else ""))
    # an aligned chain (x &= y \\ &= z): each row a step, checked against the first side
    if len(rows) > 1 and all(r.text.lstrip("& ").startswith(("=", r"\equiv")) for r in rows[1:]):
        # the relation is where the row aligns (&=), not an = inside \sum_{k=1}
        head = rows[0].text
        first, _, rest = head.partition("&=") if "&=" in head else head.partition("=")
        first, rest = first.replace("&", " "), rest.replace("&", " ")
        label = next((r.label for r in rows if r.label), "")
        steps = [Equation(f"{first.strip()} = {rest.strip()}", rows[0].line, label, 1)]
        for n, r in enumerate(rows[1:], start=2):
            rhs = r.text.replace("&", " ").strip()[1:] if r.text.lstrip("& ").startswith("=") \
                else r.text.replace("&", " ").strip()
            steps.append(Equation(f"{first.strip()} = {rhs.strip()}", r.line, r.label or label, n))
        return steps
    return rows


def equations_of(path: str) -> list[Equation]:
    """Every equation of a file, in order."""
    text = read_text(path, what="equations", most=MAX_BYTES)
    if not path.endswith(".tex"):
        return [Equation(line.strip(), n) for n, line in enumerate(text.splitlines(), start=1)
                if line.strip() and not line.lstrip().startswith(("#", "%"))]
    breaks = [i for i, ch in enumerate(text) if ch == "\n"]
    line_of = lambda at: bisect.bisect_left(breaks, at) + 1  # linear set-up, log per row
    return [eq for offset, opener, inside in displays(text)
            for eq in _rows(inside, opener, offset, line_of)]
