"""The small TOML files users give (worked-example specs, graphs): read with a bound on
their size, as UTF-8, parsed by tomllib only; every problem a UsageError that names it."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ..errors import UsageError

MAX_BYTES = 64 * 1024


def read_text(path: str, *, what: str, most: int = MAX_BYTES) -> str:
    """A regular file of at most `most` bytes of UTF-8 text; `what` names it in errors."""
    p = Path(path)
    try:
        if not p.is_file():
            reason = "no such file" if not p.exists() else "not a regular file"
            raise UsageError(f"cannot read {what} file {path!r}: {reason}")
        with p.open("rb") as f:
            data = f.read(most + 1)
    except OSError as e:
        raise UsageError(f"cannot read {what} file {path!r}: {e.strerror}") from None
    if len(data) > most:
        raise UsageError(f"{path}: a {what} file is at most {most} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{what} file {path!r} is not UTF-8 text") from None


def parse_toml(text: str, *, source: str, what: str) -> dict[str, Any]:
    """The text's TOML table; `source` and `what` name the file in errors."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise UsageError(f"{source}: a {what} file is at most {MAX_BYTES} bytes")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{source}: not valid TOML: {e}") from None
