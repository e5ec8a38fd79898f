"""The catalogue: textbook equations as data, one TOML file per source.

Each entry has a key, the LaTeX as printed, its source and number, the notation it is
written in, and the verdict expected on each network it is checked on.

>>> entries = load_catalogue()
>>> next(e for e in entries if e.id == "bishop-5.56").number
'(5.56)'
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Mapping

NETWORK_KEYS = ("layers", "hidden", "output", "loss", "bias")
# an entry of one typed layer (`layer = "batchnorm"`) is checked in that layer's slice at
# a size (the patterns of a mini-batch, the features, the entries, the tokens, the positions
# or the time steps), with the layer's options as model/stages.py's slice_of takes them
SLICE_KEYS = ("size", "kernel", "stride", "padding", "columns", "window", "function", "units",
              "inputs", "outputs")
VERDICTS = ("proved", "refuted", "undecided", "ambiguous")


class CatalogueError(ValueError):
    """A catalogue file that does not follow the schema (a bug in the shipped data)."""


@dataclass(frozen=True)
class Expectation:
    network: Mapping[str, object]
    verdict: str
    mistake: str | None = None  # the named mistake a refuted entry is (engine/mistakes.py)

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.network.items()) or "default network"


@dataclass(frozen=True)
class Entry:
    id: str
    source: str
    title: str
    number: str
    latex: str
    notation: str
    note: str = ""
    index: Mapping[str, str] = field(default_factory=dict)
    expect: tuple[Expectation, ...] = ()
    layer: str = ""  # a typed layer's kind, for an entry read in its slice


def _entry(raw: dict, file: str, defaults: dict) -> Entry:
    where = f"{file}: {raw.get('id', '?')}"
    for key in ("id", "number", "latex"):
        if not isinstance(raw.get(key), str):
            raise CatalogueError(f"{where}: {key} must be a string")
    expectations = []
    keys = SLICE_KEYS if raw.get("layer", defaults.get("layer")) else NETWORK_KEYS
    for e in raw.get("expect", []):
        e = dict(e)
        verdict, mistake = e.pop("verdict", None), e.pop("mistake", None)
        if verdict not in VERDICTS or set(e) - set(keys) \
                or not isinstance(mistake, (str, type(None))):
            raise CatalogueError(f"{where}: bad expectation {e!r} / {verdict!r}")
        expectations.append(Expectation(MappingProxyType(e), verdict, mistake))
    if not expectations:
        raise CatalogueError(f"{where}: no expected verdict")
    return Entry(id=raw["id"], source=defaults["source"], title=defaults["title"],
                 number=raw["number"], latex=raw["latex"],
                 notation=raw.get("notation", defaults["notation"]) or "", note=raw.get("note", ""),
                 layer=raw.get("layer", defaults.get("layer") or ""),
                 index=MappingProxyType(dict(raw.get("index", {}))), expect=tuple(expectations))


def load_catalogue() -> list[Entry]:
    """Every entry of every shipped catalogue file, in file order."""
    entries: list[Entry] = []
    files = sorted(p for p in resources.files(__name__).iterdir() if p.name.endswith(".toml"))
    for path in files:
        data = tomllib.loads(path.read_text("utf-8"))
        defaults = {k: data.get(k) for k in ("source", "title", "notation", "layer")}
        entries += [_entry(raw, path.name, defaults) for raw in data.get("equation", [])]
    ids = [e.id for e in entries]
    if len(ids) != len(set(ids)):
        raise CatalogueError("duplicate ids in the catalogue")
    return entries
