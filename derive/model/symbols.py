"""The Greek letters of LaTeX, by name and by character: what the reader accepts and the
terminal prints (\\delta is δ).

>>> GREEK_CHARS["δ"], GREEK_NAMES[:3]
('\\\\delta', ['alpha', 'beta', 'gamma'])
"""
from __future__ import annotations

GREEK_NAMES = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa "
               "lambda mu nu xi pi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta "
               "Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega ell").split()
GREEK_CHARS = dict(zip("αβγδεζηθικλμνξπρστυφχψωϵϑϕΓΔΘΛΞΠΥΦΨΩ",
                       r"\alpha \beta \gamma \delta \varepsilon \zeta \eta \theta \iota \kappa "
                       r"\lambda \mu \nu \xi \pi \rho \sigma \tau \upsilon \varphi \chi \psi "
                       r"\omega \epsilon \vartheta \phi \Gamma \Delta \Theta \Lambda \Xi \Pi "
                       r"\Upsilon \Phi \Psi \Omega".split()))
GREEK_CHARS["ℓ"] = r"\ell"  # not Greek, but typed as one character like them
