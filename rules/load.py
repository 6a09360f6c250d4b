"""Loading a rulebook from TOML, with errors that name the file, the line and what is wrong."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from rules.schema import Rulebook

DEFAULT_RULEBOOK = "mle-bench.toml"


class RulebookError(ValueError):
    """A rulebook that cannot be used; the message says where and why."""


def load_rulebook(path: str | Path | None = None) -> Rulebook:
    """The rulebook at `path`, or the shipped MLE-bench rulebook."""
    if path is None:
        text = resources.files("rules").joinpath(DEFAULT_RULEBOOK).read_text(encoding="utf-8")
        return parse_rulebook(text, DEFAULT_RULEBOOK)
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulebookError(f"{p}: cannot read rulebook: {exc}") from exc
    return parse_rulebook(text, str(p))


def parse_rulebook(text: str, name: str) -> Rulebook:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message carries "(at line L, column C)"
        raise RulebookError(f"{name}: not valid TOML: {exc}") from exc
    try:
        return Rulebook.model_validate(data)
    except ValidationError as exc:
        raise RulebookError(_describe(exc, text, name, data)) from exc


def _describe(exc: ValidationError, text: str, name: str, data: dict) -> str:
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        line = _line_of(loc, text, data)
        where = f"{name}:{line}" if line else name
        dotted = ".".join(str(p) for p in loc)
        problems.append(f"{where}: {dotted}: {err['msg']}")
    return "invalid rulebook:\n  " + "\n  ".join(problems)


def _line_of(loc: tuple, text: str, data: dict) -> int | None:
    """Best-effort line of a validation error: the n-th [[rules]] table, then the key in it."""
    lines = text.splitlines()
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        headers = [i for i, ln in enumerate(lines) if ln.strip() == "[[rules]]"]
        if loc[1] < len(headers):
            start = headers[loc[1]]
            end = headers[loc[1] + 1] if loc[1] + 1 < len(headers) else len(lines)
            key = str(loc[2]) if len(loc) > 2 else None
            if key:
                for i in range(start, end):
                    if lines[i].split("=")[0].strip() == key:
                        return i + 1
            return start + 1
    key = str(loc[0]) if loc else None
    for i, ln in enumerate(lines):
        if key and ln.split("=")[0].strip() == key:
            return i + 1
    return None
