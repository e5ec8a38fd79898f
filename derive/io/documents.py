"""The equations of a file: one a line, or the display math of a .tex file, each with the
line it starts on and its label.

A .tex file gives each \\[ \\], $$ $$ and equation, align, eqnarray, gather and multline
environment (starred or not). A row of an align, eqnarray or gather is an equation of its
own; a multline is one equation over several lines. An aligned chain (x &= y \\\\ &= z) is
checked step by step: each row against the chain's first side, so a wrong step is named
with its line and the steps after it are still checked against what the chain is about.
A `% bpcheck:` comment line sets the notation and the network for the rest of the file,
and what the next display is expected to be (`expect=refuted mistake=opposite-sign`, for
an equation wrong on purpose) or that it is skipped.
"""
from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, replace

from ..errors import UsageError
from .files import read_text

MAX_BYTES = 640 * 1024
_ENVIRONMENTS = ("equation", "align", "eqnarray", "gather", "multline")
# display math and the closer of each; found with str.find, so a file is read in linear
# time whatever it holds (a regular expression with .*? backtracks on a file of \[)
_DISPLAYS = ((r"\[", r"\]"), ("$$", "$$")) + tuple(
    (rf"\begin{{{env}{star}}}", rf"\end{{{env}{star}}}")
    for env in _ENVIRONMENTS for star in ("", "*"))
_LABEL = re.compile(r"\\label\s*\{([^{}]{0,200})\}")  # no nesting, bounded: linear


# a comment line that sets how the file is checked: `% bpcheck: notation=nielsen hidden=sigmoid`
# for the rest of the file; `expect=refuted mistake=...` and `skip` for the next display
DIRECTIVE = "% bpcheck:"
HTML_DIRECTIVE = "<!-- bpcheck:"  # the same in Markdown and notebooks
SETTINGS = ("notation", "layers", "hidden", "output", "loss", "bias")
ONCE = ("expect", "mistake", "skip")
_EXPECTED = ("proved", "refuted", "undecided", "ambiguous")


@dataclass(frozen=True)
class Equation:
    """One equation of a file to check: its text, the line it starts on, its label, for a
    step of a chain which step it is (1 for the first), the file's settings in force
    there, and what the file expects of it."""

    text: str
    line: int = 0
    label: str = ""
    step: int = 0
    settings: tuple[tuple[str, str], ...] = ()
    expect: tuple[tuple[str, str], ...] = ()
    cell: int = 0  # a notebook's cell, counted from 1
    source: str = ""  # the file's name, where equations of several files are listed

    def holds(self, result) -> bool | None:
        """Whether what the file expects of this equation holds of a check's result (its
        verdict, and the mistake of one wrong on purpose), or None where it expects
        nothing; an error or a skip never holds."""
        want = dict(self.expect)
        if "expect" not in want and "mistake" not in want:
            return None
        verdict = getattr(result, "verdict", None)
        if verdict is None:
            return False
        return str(verdict) == want.get("expect", "refuted") and (
            "mistake" not in want or result.diagnosis.id == want["mistake"])

    @property
    def where(self) -> str:
        """line 12 (eq:bp2), step 3"""
        out = f"line {self.line}" if self.line else ""
        out = f"cell {self.cell}, {out}" if self.cell else out
        out = f"{self.source} {out}" if self.source else out
        out += f" ({self.label})" if self.label else ""
        return out + (f", step {self.step}" if self.step else "")


def displays(text: str, kinds=_DISPLAYS) -> list[tuple[int, str, str]]:
    r"""(offset, opener, inside) of each display of a LaTeX text, in order.

    >>> [(o, inside) for _, o, inside in displays(r"a \[ x = 1 \] b $$y = 2$$")]
    [('\\[', ' x = 1 '), ('$$', 'y = 2')]
    """
    out, i = [], 0
    nxt = {o: text.find(o) for o, _ in kinds}  # each opener's next place, kept current
    while True:
        found = [(at, o, c) for o, c in kinds if (at := nxt[o]) >= 0]
        if not found:
            return out
        at, opener, closer = min(found)
        start = at + len(opener)
        end = text.find(closer, start)
        if end < 0:  # an unclosed display ends the math of the file
            return out
        out.append((start, opener, text[start:end]))
        i = end + len(closer)
        for o, _ in kinds:
            if 0 <= nxt[o] < i:
                nxt[o] = text.find(o, i)


def _past_group(text: str, j: int) -> int:
    """Where the group of balanced braces at text[j] (after any spaces) ends."""
    while j < len(text) and text[j] == " ":
        j += 1
    depth = 0
    while j < len(text):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        j += 1
        if depth == 0:
            break
    return j


def _without(text: str, command: str) -> str:
    """The text with each `command{...}` left out (braces nested inside), by str.find:
    \\intertext{...} between the rows of an align is prose."""
    while (at := text.find(command + "{")) >= 0:
        text = text[:at] + " " + text[_past_group(text, at + len(command)):]
    return text


def _without_parbox(text: str) -> str:
    """The text with each \\parbox[pos]{width}{prose} left out (a column of notes beside an
    align, as bpcheck's own export writes them): layout, not mathematics."""
    while (at := text.find(r"\parbox")) >= 0:
        j = at + len(r"\parbox")
        if text[j:j + 1] == "[":
            close = text.find("]", j)
            j = close + 1 if close >= 0 else len(text)
        j = _past_group(text, _past_group(text, j))  # the width, then the prose
        text = text[:at] + " " + text[j:]
    return text


def _numbered_rows(opener: str) -> bool:
    """Whether each row of the display has a number of its own (not starred, not one
    equation): then a row's \\label names that row alone."""
    return opener in (r"\begin{align}", r"\begin{eqnarray}", r"\begin{gather}")


def _rows(inside: str, opener: str, offset: int, line_of) -> list[Equation]:
    """The equations of one display: its rows, a chain's steps, a multline whole."""
    if "multline" in opener:
        parts = [(len(inside) - len(inside.lstrip()), inside.replace("\\\\", " "))]
    else:
        parts, at = [], 0
        for part in _without_parbox(_without(inside, r"\intertext")).split("\\\\"):
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
        # in align or eqnarray each row is numbered, and a \label names its own row; in an
        # equation with aligned or split inside, one label names the whole chain
        label = "" if _numbered_rows(opener) else next((r.label for r in rows if r.label), "")
        steps = [Equation(f"{first.strip()} = {rest.strip()}", rows[0].line,
                          rows[0].label or label, 1)]
        for n, r in enumerate(rows[1:], start=2):
            rhs = r.text.replace("&", " ").strip()[1:] if r.text.lstrip("& ").startswith("=") \
                else r.text.replace("&", " ").strip()
            steps.append(Equation(f"{first.strip()} = {rhs.strip()}", r.line, r.label or label, n))
        return steps
    return rows


def directives(text: str) -> list[tuple[int, int, dict[str, str]]]:
    """(offset, line, settings) of each `% bpcheck:` comment line, checked: a key it does
    not know, or a value out of its kind, is an error naming the line.

    >>> directives("x\\n% bpcheck: notation=nielsen hidden=sigmoid\\n")
    [(2, 2, {'notation': 'nielsen', 'hidden': 'sigmoid'})]
    """
    out, at = [], 0
    for n, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith(DIRECTIVE):
            out.append((at, n, _settings(stripped[len(DIRECTIVE):], n)))
        elif stripped.startswith(HTML_DIRECTIVE) and stripped.endswith("-->"):  # Markdown
            out.append((at, n, _settings(stripped[len(HTML_DIRECTIVE):-3], n)))
        at += len(line) + 1
    return out


def _settings(words: str, line: int) -> dict[str, str]:
    out = {}
    for word in words.split():
        key, sep, value = word.partition("=")
        if key == "skip" and not sep:
            out["skip"] = "yes"
            continue
        if key not in SETTINGS + ONCE or not sep or not value:
            raise UsageError(f"line {line}: {DIRECTIVE} {word!r}: write KEY=VALUE with a key of "
                             f"{', '.join(SETTINGS + ONCE[:2])}, or skip")
        if key == "expect" and value not in _EXPECTED:
            raise UsageError(f"line {line}: expect={value!r}; accepted: {', '.join(_EXPECTED)}")
        if key == "bias" and value not in ("true", "false"):
            raise UsageError(f"line {line}: bias={value!r}; accepted: true, false")
        out[key] = value
    return out


MARKDOWN = (".md", ".markdown", ".qmd", ".myst")
# Markdown's display math: $$ $$ and \[ \] (Quarto, Jupyter), MyST's {math} directive
_MARKDOWN_DISPLAYS = ((r"\[", r"\]"), ("$$", "$$"), ("```{math}", "```"))


def equations_of(path: str) -> list[Equation]:
    """Every equation of a file, in order, each with the settings in force there: a .tex
    file's display math, a Markdown file's ($$, \\[ \\], MyST's {math}), a notebook's
    Markdown cells', or else one equation a line."""
    text = read_text(path, what="equations", most=MAX_BYTES)
    if path.endswith(".tex"):
        return _document(text)
    if path.endswith(MARKDOWN):
        return _document(text, _MARKDOWN_DISPLAYS)
    if path.endswith(".ipynb"):
        return _notebook(text, path)
    return [Equation(line.strip(), n) for n, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith(("#", "%"))]


def _notebook(text: str, path: str) -> list[Equation]:
    """The equations of a notebook's Markdown cells, each placed by cell and line; the
    settings of one cell hold in the cells after it."""
    try:
        cells = json.loads(text).get("cells", [])
    except (ValueError, AttributeError, RecursionError):
        raise UsageError(f"{path!r} is not a Jupyter notebook (JSON with cells)") from None
    out, settings = [], {}
    for number, cell in enumerate(cells if isinstance(cells, list) else [], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        source = cell.get("source", "")
        source = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) \
            else source if isinstance(source, str) else ""
        found = _document(source, _MARKDOWN_DISPLAYS, settings)
        out += [replace(eq, cell=number) for eq in found]
    return out


def _document(text: str, kinds=_DISPLAYS, settings: dict | None = None) -> list[Equation]:
    """The equations of a document's display math, with the settings of its `bpcheck:`
    lines; `settings` carries over from a notebook's earlier cells and is updated."""
    breaks = [i for i, ch in enumerate(text) if ch == "\n"]
    line_of = lambda at: bisect.bisect_left(breaks, at) + 1  # linear set-up, log per row
    settings = settings if settings is not None else {}
    marks, used, out = directives(text), 0, []
    for offset, opener, inside in displays(text, kinds):
        once: dict[str, str] = {}
        while used < len(marks) and marks[used][0] < offset:
            given = marks[used][2]
            settings.update({k: v for k, v in given.items() if k in SETTINGS})
            once = {k: v for k, v in given.items() if k in ONCE} or once
            used += 1
        if opener == "```{math}":  # MyST: option lines (:label: x) before the maths
            inside, label = _myst(inside)
            rows = [replace(eq, label=eq.label or label) for eq in _rows(inside, opener, offset, line_of)]
        else:
            rows = _rows(inside, opener, offset, line_of)
        for eq in rows:
            out.append(replace(eq, settings=tuple(settings.items()), expect=tuple(once.items())))
    for _, _, given in marks[used:]:  # settings after the last display hold for later cells
        settings.update({k: v for k, v in given.items() if k in SETTINGS})
    return out


def _myst(inside: str) -> tuple[str, str]:
    """A MyST math block's maths without its option lines, and its :label:."""
    label, kept = "", []
    for line in inside.split("\n"):
        if line.strip().startswith(":") and not any(k.strip() for k in kept):
            key, _, value = line.strip()[1:].partition(":")
            label = value.strip() if key == "label" else label
            kept.append(" " * len(line))  # blanked in place: the maths keeps its offsets
            continue
        kept.append(line)
    return "\n".join(kept), label
