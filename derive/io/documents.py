"""The equations of a file: one a line, or the display math of a .tex file.

A .tex file gives each \\[ \\], $$ $$, equation and align environment; an aligned chain
(x &= y \\\\ &= z) is one equation, whose steps are checked one by one.
"""
from __future__ import annotations

import re

from .files import read_text

MAX_BYTES = 640 * 1024
_DISPLAY = re.compile(r"\\\[(.*?)\\\]|\$\$(.*?)\$\$|\\begin\{(equation|align)\*?\}(.*?)\\end\{\3\*?\}",
                      re.S)


def equations_of(path: str) -> list[str]:
    """Every equation of a file, in order."""
    text = read_text(path, what="equations", most=MAX_BYTES)
    if not path.endswith(".tex"):
        return [line.strip() for line in text.splitlines()
                if line.strip() and not line.lstrip().startswith(("#", "%"))]
    eqs = []
    for a, b, _, c in _DISPLAY.findall(text):
        lines = [part.strip() for part in re.split(r"\\\\", a or b or c) if part.strip()]
        # an aligned chain (x &= y \\ &= z) is one equation: each step is checked
        if len(lines) > 1 and all(l.lstrip("& ").startswith(("=", r"\equiv")) for l in lines[1:]):
            lines = [" ".join(lines)]
        eqs += lines
    return eqs
