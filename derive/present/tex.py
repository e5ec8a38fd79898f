"""Text for LaTeX: the one escaping every piece of prose goes through on its way into a
document (a notation's title, a file name, a note), so that no text can run a command.

>>> escape(r"50% of \\input{x} & $y_1$")
'50\\\\% of \\\\textbackslash{}input\\\\{x\\\\} \\\\& \\\\$y\\\\_1\\\\$'
"""
from __future__ import annotations

import re

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


# -- bpcheck's own prose, typeset: option names as code, mathematics as mathematics --------

_GREEK_NAMES = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi "
                "rho sigma tau upsilon phi chi psi omega").split()
_GREEK = dict(zip("αβγδεζηθικλμνξπρστυφχψω", _GREEK_NAMES)) | {
    "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi",
    "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega"}
_CONNECTIVES = {"=": "=", "≈": r"\approx", "≠": r"\neq", "≤": r"\leq", "≥": r"\geq",
                "<": "<", ">": ">", "→": r"\to", "←": r"\leftarrow", "+": "+", "-": "-",
                "−": "-", "×": r"\times", "·": r"\cdot"}
_NAME = "|".join(sorted(_GREEK_NAMES, key=len, reverse=True) + ["[A-Za-z]", f"[{''.join(_GREEK)}]"])
_SYMBOL = rf"(?:{_NAME})(?:_\{{?[A-Za-z0-9]+\}}?)?'*"
_ATOM = re.compile(rf"(?P<sign>[-−])?(?:[d∂](?P<num>{_SYMBOL})/[d∂](?P<den>{_SYMBOL})"
                   rf"|(?P<sym>{_SYMBOL})|(?P<number>\d+(?:\.\d+)?))")
_OPTION = re.compile(r"--[a-z][a-z0-9-]*")
_WORD = re.compile(r"(?P<pre>\(?)(?P<core>.*?)(?P<post>[.,;:)!?]*)", re.S)
_ARTICLES = ("a", "A", "I")  # a single letter that is an English word


def _symbol(s: str) -> str:
    """A symbol matched by _SYMBOL, as math: its name (a Greek one as its command), its
    subscript braced, its primes."""
    m = re.fullmatch(rf"({_NAME})(?:_\{{?([A-Za-z0-9]+)\}}?)?('*)", s)
    name, sub, primes = m[1], m[2], m[3]
    name = "\\" + (_GREEK.get(name) or name) if name in _GREEK or name in _GREEK_NAMES else name
    return name + (f"_{{{sub}}}" if sub else "") + primes


def _math_word(core: str) -> tuple[str, bool] | None:
    """A word as math and whether it is surely math (not an English word or a bare
    number); a connective ('=', '-') is (its math, False); None for a word of prose."""
    if core in _CONNECTIVES:
        return _CONNECTIVES[core], False
    m = _ATOM.fullmatch(core)
    if m is None:
        return None
    sign = "-" if m["sign"] else ""
    if m["num"]:
        return rf"{sign}\partial {_symbol(m['num'])}/\partial {_symbol(m['den'])}", True
    if m["number"]:
        return sign + m["number"], False
    sym = m["sym"]
    sure = bool(sign) or sym[0] in _GREEK or (sym not in _ARTICLES and not sym.isalpha()) \
        or (len(sym) == 1 and sym not in _ARTICLES)
    return sign + _symbol(sym), sure


def _runs(words: list[tuple[str, str, str]]) -> list[tuple[int, int]]:
    """(start, end) of each run of words that is mathematics: symbols joined by
    connectives ('delta = -dE/da', '≈ 0.69'), or one symbol that cannot be an English word
    ('h', 'σ', '-delta'); a bare number or 'a' alone stays prose."""
    runs, i = [], 0
    while i < len(words):
        j, previous, atoms, sure = i, False, 0, False
        while j < len(words) and (m := _math_word(words[j][1])) is not None:
            atom = words[j][1] not in _CONNECTIVES
            if (atom and previous) or (j > i and words[j][0]):  # side by side, or "(x"
                break
            previous, atoms, sure = atom, atoms + atom, sure or m[1] or not atom
            j += 1
            if words[j - 1][2]:  # punctuation after a word ends the mathematics
                break
        if atoms and sure:
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def prose(text: str, code: frozenset[str] | set[str] = frozenset()) -> str:
    r"""bpcheck's own prose for LaTeX: option names (--no-bias) and the names in `code`
    (check ids) in \texttt, mathematics in it ('delta = -dE/da', 'h', 'σ') as one piece of
    math, everything else through `escape`. The math is made only of letters, digits, Greek
    letters and connectives, so no text can run a command through it either.

    >>> print(prose("delta = -dE/da, so --no-bias"))
    $\delta = -\partial E/\partial a$, so \texttt{-{}-no-bias}
    """
    parts = re.split(r"(\s+)", text)
    words = [_WORD.fullmatch(w).group("pre", "core", "post") for w in parts[::2]]
    out: list[str | None] = [None] * len(words)
    inside = set()  # words that went into the run of mathematics before them
    for i, j in _runs(words):
        math = " ".join(_math_word(w[1])[0] for w in words[i:j])
        out[i] = escape(words[i][0]) + f"${math}$" + escape(words[j - 1][2])
        inside.update(range(i + 1, j))
    for k, (pre, core, post) in enumerate(words):
        if out[k] is None and k not in inside:
            word = core if _OPTION.fullmatch(core) or core in code else None
            out[k] = (escape(pre) + r"\texttt{" + escape(word).replace("--", "-{}-") + "}"
                      + escape(post)) if word else escape(pre + core + post)
    return out[0] + "".join("" if k in inside else parts[2 * k - 1] + out[k]
                            for k in range(1, len(words)))
