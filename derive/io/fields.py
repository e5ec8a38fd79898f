"""One reader for the values of the small TOML files users give (notations, graphs, worked
example specs): each value read by the type it must have, and every problem one line that
names the file, the key, the value as given and what is accepted.

>>> t = Fields({"loss": 3}, source="net.toml")
>>> t.choice("loss", ("sse", "bce"))
Traceback (most recent call last):
bpcheck.derive.errors.UsageError: net.toml: loss = 3 is not one of sse, bce
"""
from __future__ import annotations

import re
from typing import Any

from ..errors import UsageError, did_you_mean

_MISSING = object()


def quoted(value: Any) -> str:
    """A value as given, cut to 60 characters."""
    s = repr(value)
    return s if len(s) <= 60 else s[:57] + "..."


class Fields:
    """A TOML table and where it is (`source`, and `where` within it, e.g. "[symbols]")."""

    def __init__(self, data: Any, *, source: str, where: str = ""):
        if not isinstance(data, dict):
            raise UsageError(f"{source}{' ' + where if where else ''} must be a table, got "
                             f"{quoted(data)}")
        self.data, self.source, self.where = data, source, where

    def fail(self, message: str) -> UsageError:
        return UsageError(f"{self.source}{' ' + self.where if self.where else ''}: {message}")

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def only(self, accepted: tuple[str, ...]) -> None:
        """No key but the accepted ones."""
        for k in self.data:
            if k not in accepted:
                raise self.fail(f"unknown key {k!r}; accepted keys: {', '.join(accepted)}")

    def table(self, key: str, *, required: bool = True) -> "Fields":
        value = self.data.get(key, _MISSING if required else {})
        if not isinstance(value, dict):
            where = f"{self.where[:-1]}.{key}]" if self.where else f"[{key}]"
            raise self.fail(f"missing table {where}" if value is _MISSING
                            else f"{where} must be a table, got {quoted(value)}")
        where = f"{self.where[:-1]}.{key}]" if self.where else f"[{key}]"
        return Fields(value, source=self.source, where=where)

    def string(self, key: str, *, longest: int = 40, shape: re.Pattern | None = None,
               what: str = "", default: Any = _MISSING) -> str:
        """A non-empty string of at most `longest` characters, of `shape` if given."""
        value = self.data.get(key, default)
        if value is _MISSING or not isinstance(value, str) or not value.strip() \
                or len(value) > longest:
            raise self.fail(f"{key} must be a non-empty string of at most {longest} "
                            f"characters, got {quoted(self.data.get(key))}")
        if shape is not None and not shape.fullmatch(value):
            raise self.fail(f"{key} = {quoted(value)} is not {what}")
        return value

    def choice(self, key: str, accepted: tuple, default: Any = _MISSING) -> Any:
        """One of the accepted values (compared by type too: true is not 1)."""
        value = self.data.get(key, default)
        toml = lambda a: str(a).lower() if isinstance(a, bool) else str(a)  # true, not True
        if value is _MISSING:
            raise self.fail(f"missing key {key}: one of {', '.join(map(toml, accepted))}")
        if not any(value == a and type(value) is type(a) for a in accepted):
            raise self.fail(f"{key} = {quoted(value)} is not one of "
                            f"{', '.join(map(toml, accepted))}{did_you_mean(value, accepted)}")
        return value

    def integer(self, key: str, lo: int, hi: int, default: Any = _MISSING) -> int:
        value = self.data.get(key, default)
        if value is _MISSING:
            raise self.fail(f"missing key {key}: give an integer from {lo} to {hi}")
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise self.fail(f"{key} = {quoted(value)} is not an integer from {lo} to {hi}")
        return value

    # values inside lists and nested tables, named by where they stand ----------------
    def keys(self, table: dict, accepted: tuple[str, ...], where: str = "") -> None:
        """No key in `table` but the accepted ones."""
        for k in table:
            if k not in accepted:
                raise self.fail(f"{where}unknown key {k!r}; accepted keys: {', '.join(accepted)}")

    def text(self, value: Any, where: str, what: str) -> str:
        """A string, whatever TOML gave."""
        if not isinstance(value, str):
            raise self.fail(f"{where} must be {what}, got {quoted(value)}")
        return value

    def name(self, value: Any, where: str, pattern: re.Pattern, what: str) -> str:
        """A string of the shape `pattern` matches in full."""
        self.text(value, where, what)
        if not pattern.fullmatch(value):
            raise self.fail(f"{where} = {quoted(value)} is not {what}")
        return value
