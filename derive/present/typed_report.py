"""The report of a network of typed layers (`report --net FILE`): the layers and their
forward equations, every backward check with its verdict, each wrong version refuted
with its point, and each layer's Jacobian by block, which vanish and why. A view of the
engine's TypedReport: `__rich_console__` for the terminal, `to_json()` for machines.
"""
from __future__ import annotations

from typing import Any, Iterator

import sympy as sp
from rich.console import Console, ConsoleOptions
from rich.table import Table
from rich.text import Text

from ..engine.layer_claims import WRONG
from ..engine.proof import Verdict
from ..engine.typed import Block, TypedCheck
from ..engine.typed_net import TypedReport, worst_with
from ..model.layers import Layer, flat
from .console import _box, verdict_text

# each kind's forward map, with r a row (pattern or token) and j, k features
FORWARD = {
    "dense": "y_rk = sum_j W_kj x_rj + b_k",
    "activation": "y_rj = f(x_rj)",
    "softmax": "y_rj = e^(x_rj) / sum_k e^(x_rk)",
    "layernorm": "mu_r = mean_j x_rj, var_r = mean_j (x_rj - mu_r)^2, "
                 "xhat_rj = (x_rj - mu_r) / sqrt(var_r + eps), y_rj = gamma_j xhat_rj + beta_j",
    "batchnorm": "mu_j = mean_r x_rj, var_j = mean_r (x_rj - mu_j)^2, "
                 "xhat_rj = (x_rj - mu_j) / sqrt(var_j + eps), y_rj = gamma_j xhat_rj + beta_j",
    "residual": "y = x + F(x), F the block's layers",
    "attention": "Q = X W_Q, K = X W_K, V = X W_V, A_r = softmax(Q_r K^T / sqrt(d_k)), Y = A V",
    "conv1d": "y_r[o, p] = sum_c sum_m W[o, c, m] x_r[c, p s + m - padding] + b[o]",
    "conv2d": "y_r[o, p, q] = sum_c sum_(a, b) W[o, c, a, b] x_r[c, p s + a - pad, "
              "q s + b - pad] + b[o]",
    "maxpool": "y_r[c, p] = max_m x_r[c, p s + m], or over a square of an image (on each "
               "side of every tie)",
    "avgpool": "y_r[c, p] = mean_m x_r[c, p s + m]",
    "flatten": "y_r = x_r (channels by positions, read as one row)",
    "rnn": "a_t = W h_(t-1) + U x_t + b, h_t = f(a_t), h_0 = 0 (the rows are the time steps)",
}
# why a block of the Jacobian vanishes or not: what each output entry depends on
WHY = {
    "dense": "a row's outputs are sums over that row's inputs alone",
    "activation": "each output is a function of its own input alone (diagonal)",
    "softmax": "a row's outputs share its normaliser (every feature); rows are apart",
    "layernorm": "a row's mean and variance are over its own features: features of a row "
                 "couple, rows do not",
    "batchnorm": "a feature's mean and variance are over the mini-batch's patterns: patterns "
                 "of a feature couple, features do not",
    "residual": "the identity plus the block's Jacobian",
    "attention": "every token's output is a mixture of every token's value, weighted by a "
                 "softmax over every token's key",
    "conv1d": "an output sees the kernel's window of positions of every channel of its row",
    "conv2d": "an output sees the kernel's square of every channel of its image",
    "maxpool": "an output is its window's maximum: one entry of the window, the others 0",
    "avgpool": "an output is its window's mean",
    "flatten": "the identity",
    "rnn": "h_t depends on every earlier step through h_(t-1): steps couple forward in time",
}
MISTAKE_WORDS = {m: words for m, words, _, _ in WRONG}


class TypedReportView:
    """The rich view of a TypedReport."""

    def __init__(self, report: TypedReport, derivations=()):
        self.report, self.derivations = report, list(derivations)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator:
        r, net = self.report, self.report.net
        yield Text(net.title, style="bold")
        yield Text(f"{_count(net.rows, net.row_word)} of {_count(net.width, 'feature')}; "
                   f"loss {net.loss}, summed over the rows")
        yield Text("\nforward", style="bold")
        for layer in flat(net.layers):
            yield Text(f"  layer {layer.at} ({layer.kind}): {forward(layer)}")
        yield Text("\nbackward checks (g = dE/dy at the layer's output; each proved for "
                   "every g, so for whatever follows the layer)", style="bold")
        if r.checks:
            yield _checks_table(r.checks, console)
        if r.ran_out:
            yield Text(f"undecided: {r.ran_out}; not checked: {_listed(r.unchecked)}" +
                       ("; the checks above were finished" if r.checks else ""), style="bold")
        if any(layer.kind == "rnn" for layer in flat(net.layers)):
            yield Text(f"(the recurrence is checked here through these {net.rows} steps; "
                       "with --depth any, for every number of steps, by induction on T - t)")
        for d in self.derivations:
            yield Text(f"\nderivation, layer {d.at} ({d.kind}), in its papers' letters, read in "
                       f"a slice over {d.size}: each line proved (d(u)/d(v): u's formula "
                       "differentiated by v, its other arguments held)" + d.note, style="bold")
            yield _steps_table(d, console)
        if r.jacobians:
            yield Text("\nJacobians dY_sk/dX_rj by block", style="bold")
            yield _jacobian_table(r, console)
        steps = [st.result.verdict for d in self.derivations for st in d.steps]
        yield Text(f"\nworst: {worst_with(r, steps)}", style="bold")


def _listed(parts) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def forward(layer: Layer, table: dict = FORWARD) -> str:
    """The layer's forward map; a normalisation without gamma and beta ends at x-hat."""
    text = table[layer.kind]
    if getattr(layer, "affine", True):
        return text
    return text.replace("gamma_j xhat_rj + beta_j", "xhat_rj").replace(
        r"\gamma_j \hat{x}_{rj} + \beta_j", r"\hat{x}_{rj}")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"




def _checks_table(checks: list[TypedCheck], console: Console) -> Table:
    t = Table(box=_box(console))
    for col in ("check", "verdict", "what"):
        t.add_column(col, overflow="fold")
    for c in checks:
        what = (f"the mistake: {MISTAKE_WORDS[c.mistake]}" + (
                    "; no different from the right one at these sizes (too small to show "
                    "it)" if c.verdict is Verdict.PROVED else "") if c.mistake else
                "dE/dy by the loss's slope" if c.kind == "loss" else
                f"dE/d{c.gradient} by the layer's backward equation")
        t.add_row(c.id, verdict_text(c.verdict), what + outcome(c, f"entry {c.entry}"))
    return t


def outcome(c, entry: str) -> str:
    """What a decided check adds to its words: its conditions, its note, and where it is
    refuted, the entry (as `entry` names it), both values and the point."""
    out = "; under " + ", ".join(c.conditions) if c.conditions else ""
    out += "; " + c.note if c.note else ""
    if c.entry:
        claimed, true = c.values
        out += (f"; at {entry}: claimed {sp.Float(claimed, 8)}, true {sp.Float(true, 8)}; "
                "point " + _point(c.point))
    return out


def _steps_table(d, console: Console) -> Table:
    t = Table(box=_box(console))
    for col in ("step", "verdict", "from"):
        t.add_column(col, overflow="fold")
    for step in d.steps:
        verdict = verdict_text(step.result.verdict)
        if step.result.every:
            verdict.append(f"\nfor every {step.result.every}")
        t.add_row(step.latex, verdict, step.why)
    return t


def _point(point: tuple) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in point[:8])
    return shown + (f", ... ({len(point)} values)" if len(point) > 8 else "")


def _vanish(b: Block) -> str:
    return {True: "all vanish", False: "do not vanish", None: "some vanish"}[b.vanish]


def _jacobian_table(r: TypedReport, console: Console) -> Table:
    t = Table(box=_box(console))
    for col in ("layer", "rows", "features", "entries", "why"):
        t.add_column(col, overflow="fold")
    for J in r.jacobians:
        for n, b in enumerate(J.blocks):
            rows = "same row (s = r)" if b.rows == "same" else "other rows (s != r)"
            feats = {"same": "same (k = j)", "other": "other (k != j)", "any": "any"}[b.features]
            t.add_row(f"{J.layer} {J.kind}" if n == 0 else "", rows, feats,
                      f"{b.count}: {_vanish(b)}" + (f" (e.g. {b.example})" if b.example else ""),
                      WHY[J.kind] if n == 0 else "")
    return t


def typed_json(r: TypedReport, derivations=()) -> dict[str, Any]:
    """The report as JSON: each check by id, each derivation's steps, each Jacobian block."""
    return {
        "title": r.net.title, "rows": r.net.rows, "inputs": r.net.width, "loss": r.net.loss,
        "layers": [{"at": l.at, "kind": l.kind, "forward": forward(l)}
                   for l in flat(r.net.layers)],
        "checks": [{"id": c.id, "layer": c.layer, "kind": c.kind, "gradient": c.gradient,
                    "verdict": str(c.verdict), "mistake": c.mistake or None,
                    "conditions": list(c.conditions), "note": c.note or None,
                    **({"entry": list(c.entry), "claimed": str(c.values[0]),
                        "true": str(c.values[1]),
                        "point": {str(k): str(v) for k, v in c.point}} if c.entry else {})}
                   for c in r.checks],
        "derivations": [{"layer": d.at, "kind": d.kind, "size": d.size,
                         "note": d.note.strip()[1:-1] or None,  # said in parentheses
                         "steps": [{"latex": st.latex, "from": st.why,
                                    "verdict": str(st.result.verdict),
                                    "every_size": st.result.every or None} for st in d.steps]}
                        for d in derivations],
        "jacobians": [{"layer": J.layer, "kind": J.kind, "why": WHY[J.kind],
                       "blocks": [{"rows": b.rows, "features": b.features, "count": b.count,
                                   "vanish": b.vanish, "example": b.example or None}
                                  for b in J.blocks]} for J in r.jacobians],
        "ran_out": {"why": r.ran_out, "unchecked": list(r.unchecked)} if r.ran_out else None,
        "worst": str(worst_with(r, [st.result.verdict for d in derivations for st in d.steps])),
    }
