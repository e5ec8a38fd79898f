"""The equations of a file: one a line, or the display math of a .tex file.

A .tex file gives each \\[ \\], $$ $$, equation and align environment; an aligned chain
(x &= y \\\\ &= z) is one equation, whose steps are checked one by one.
"""
from __future__ import annotations

from .files import read_text

MAX_BYTES = 640 * 1024
# display math and the closer of each; found with str.find, so a file is read in linear
# time whatever it holds (a regular expression with .*? backtracks on a file of \[)
_DISPLAYS = ((r"\[", r"\]"), ("$$", "$$")) + tuple(
    (rf"\begin{{{env}}}", rf"\end{{{env}}}")
    for env in ("equation", "equation*", "align", "align*"))


def displays(text: str) -> list[str]:
    r"""The insides of the display math of a LaTeX text, in order.

    >>> displays(r"a \[ x = 1 \] b $$y = 2$$ \begin{align*} z &= 3 \end{align*}")
    [' x = 1 ', 'y = 2', ' z &= 3 ']
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
        out.append(text[start:end])
        i = end + len(closer)
        for o, _ in _DISPLAYS:
            if 0 <= nxt[o] < i:
                nxt[o] = text.find(o, i)


def equations_of(path: str) -> list[str]:
    """Every equation of a file, in order."""
    text = read_text(path, what="equations", most=MAX_BYTES)
    if not path.endswith(".tex"):
        return [line.strip() for line in text.splitlines()
                if line.strip() and not line.lstrip().startswith(("#", "%"))]
    eqs = []
    for inside in displays(text):
        lines = [part.strip() for part in inside.split("\\\\") if part.strip()]
        # an aligned chain (x &= y \\ &= z) is one equation: each step is checked
        if len(lines) > 1 and all(l.lstrip("& ").startswith(("=", r"\equiv")) for l in lines[1:]):
            lines = [" ".join(lines)]
        eqs += lines
    return eqs
