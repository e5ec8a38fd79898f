"""The catalogue checked now: every entry on every network it names, against the verdict
it should have. The data is in the equations package; this module only runs it."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from functools import partial

from ...equations import Entry, Expectation, load_catalogue

from ..errors import BpcheckError, UsageError
from ..model.network import make_network, parse_widths
from ..io.notation_file import load_notation, parse_notation
from ..engine.checking import CheckResult
from ..engine.slice_check import SliceResult
from .check import check_text
from .layer_check import check_layer_text
from .pool import Progress, ordered


@dataclass(frozen=True)
class CatalogueRow:
    entry: Entry
    expectation: Expectation
    result: CheckResult | SliceResult | BpcheckError

    @property
    def verdict(self) -> str:
        return "error" if isinstance(self.result, BpcheckError) else str(self.result.verdict)

    @property
    def mistake(self) -> str | None:
        return None if isinstance(self.result, BpcheckError) else self.result.diagnosis.id

    @property
    def error(self) -> str | None:
        """What stopped the check, where something did."""
        return str(self.result) if isinstance(self.result, BpcheckError) else None

    @property
    def agrees(self) -> bool:
        """The expected verdict, and for a wrong entry the named mistake it is."""
        return self.verdict == self.expectation.verdict and self.mistake == self.expectation.mistake

    def to_json(self) -> dict:
        e = self.entry
        out = {"id": e.id, "source": e.source, "number": e.number, "latex": e.latex,
               "notation": e.notation, "layer": e.layer or None,
               "network": dict(self.expectation.network),
               "expected": self.expectation.verdict, "verdict": self.verdict,
               "agrees": self.agrees, "note": e.note,
               "expected_mistake": self.expectation.mistake, "mistake": self.mistake}
        if isinstance(self.result, BpcheckError):
            out["error"] = str(self.result)
        return out


def notation_of(entry: Entry):
    """A notation by name, or a file shipped with the catalogue (notations/NAME.toml)."""
    if entry.notation.endswith(".toml"):
        path = resources.files("bpcheck.equations").joinpath(*entry.notation.split("/"))
        return parse_notation(path.read_text("utf-8"), source=entry.notation)
    return load_notation(entry.notation)


def network_of(expectation: Expectation):
    kw = dict(expectation.network)
    if "layers" in kw:
        kw["layers"] = parse_widths(str(kw["layers"]))
    return make_network(**kw)


def check_catalogue(*, source: str | None = None, id: str | None = None,
                    budget: float | None = 30.0, jobs: int = 1,
                    progress: Progress | None = None) -> list[CatalogueRow]:
    """Every entry (of a source, or one) on each network it names, in the catalogue's
    order; with `jobs`, in as many processes. `progress` is told of each check (an entry
    on one network) as it is taken."""
    entries = load_catalogue()
    if source is not None:
        sources = sorted({e.source for e in entries})
        if source not in sources:
            raise UsageError(f"unknown source {source!r}; accepted: {', '.join(sources)}")
        entries = [e for e in entries if e.source == source]
    if id is not None:
        chosen = [e for e in entries if e.id == id]
        if not chosen:
            raise UsageError(f"no catalogue entry {id!r}; see 'bpcheck catalogue' for the ids")
        entries = chosen
    tasks = [(e, x) for e in entries for x in e.expect]
    results = ordered(partial(_checked, budget=budget), tasks, jobs=jobs, progress=progress,
                      label=lambda task: task[0].id)
    return [CatalogueRow(e, x, r) for (e, x), r in zip(tasks, results)]


def _checked(task: tuple[Entry, Expectation], *,
             budget: float | None) -> CheckResult | SliceResult | BpcheckError:
    """One entry on one network (in a worker, where there are several); a typed layer's
    entry in that layer's slice at the size it names."""
    e, x = task
    try:
        if e.layer:
            options = {k: v for k, v in x.network.items() if k != "size"}
            return check_layer_text(e.latex, kind=e.layer, size=int(x.network["size"]),
                                    options=options)
        return check_text(e.latex, notation=notation_of(e), net=network_of(x), index=e.index,
                          budget=budget, residual=False)  # a row shows no residual
    except BpcheckError as err:
        return err
