"""Text for LaTeX: the one escaping every piece of prose goes through on its way into a
document (a notation's title, a file name, a note), so that no text can run a command.

>>> escape(r"50% of \\input{x} & $y_1$")
'50\\\\% of \\\\textbackslash{}input\\\\{x\\\\} \\\\& \\\\$y\\\\_1\\\\$'
"""
from __future__ import annotations

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
            "#": r"\#", "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%",
            "~": r"\textasciitilde{}", "<": r"$<$", ">": r"$>$", "|": r"$|$"}
# the few Unicode symbols bpcheck's own prose uses, written as math
_UNICODE = {"δ": r"$\delta$", "σ": r"$\sigma$", "η": r"$\eta$", "Σ": r"$\Sigma$",
            "∂": r"$\partial$", "≈": r"$\approx$", "≠": r"$\neq$", "←": r"$\leftarrow$",
            "−": "-", "—": "---", "–": "--"}


def escape(text: str) -> str:
    """Prose for LaTeX: special characters escaped, bpcheck's own Unicode symbols as
    math, anything else outside printable ASCII dropped to '?'."""
    return "".join(_SPECIAL.get(ch) or _UNICODE.get(ch) or (ch if " " <= ch <= "~" or ch == "\n" else "?")
                   for ch in text)
