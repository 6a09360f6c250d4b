"""A JSON parser that remembers where each string value starts, bounded and lenient.

Evidence must cite `file:line`; for a JSON log that is the line where the string
value starts. The standard library parser keeps no positions, so this small
recursive-descent parser does the structure in Python and leaves strings and
numbers to the standard library's C scanner (`json.decoder.scanstring`), which
keeps it fast on logs made of long strings (AIDE journals, trajectories).

Agent logs are untrusted and often broken, so it also

- bounds nesting depth (a deeply nested file is an error, not a stack overflow);
- in lenient mode, returns what was read before a truncation (closing open
  containers and keeping a cut-off string), with the error beside it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.decoder import scanstring

MAX_DEPTH = 256
_LONGEST_TOKEN_CUT = 24  # a number or literal cut off by truncation is shorter than this
_TOKEN_PREFIX = re.compile(r"[\s0-9a-zA-Z.+-]*")

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None, "NaN": float("nan"),
             "Infinity": float("inf"), "-Infinity": float("-inf")}


class JStr(str):
    """A JSON string value that knows the 1-based line where it starts in its file."""

    __slots__ = ("line",)
    line: int


@dataclass
class Parsed:
    value: object
    error: str | None = None  # what was wrong; `value` is what could still be read


class JSONPosError(ValueError):
    def __init__(self, msg: str, pos: int = -1) -> None:
        super().__init__(msg)
        self.pos = pos


class _Parser:
    def __init__(self, text: str, lenient: bool, max_depth: int) -> None:
        self.s = text
        self.n = len(text)
        self.lenient = lenient
        self.max_depth = max_depth
        self._line_pos = 0
        self._line_no = 1
        self.error: str | None = None

    def line_at(self, pos: int) -> int:
        # positions come in increasing order, so counting forward from the last one is linear overall
        if pos >= self._line_pos:
            self._line_no += self.s.count("\n", self._line_pos, pos)
        else:
            self._line_no = self.s.count("\n", 0, pos) + 1
        self._line_pos = pos
        return self._line_no

    def ws(self, i: int) -> int:
        return _WS.match(self.s, i).end()

    def fail(self, msg: str, i: int) -> None:
        raise JSONPosError(f"{msg} at line {self.line_at(min(i, self.n))}, char {i}", i)

    def value(self, i: int, depth: int) -> tuple[object, int]:
        i = self.ws(i)
        if i >= self.n:
            self.fail("unexpected end of data", i)
        c = self.s[i]
        if c == '"':
            return self.string(i)
        if c == "{":
            return self.obj(i, depth + 1)
        if c == "[":
            return self.arr(i, depth + 1)
        m = _NUMBER.match(self.s, i)
        if m and m.end() > i:
            txt = m.group(0)
            return (float(txt) if any(ch in txt for ch in ".eE") else int(txt)), m.end()
        for word, val in _LITERALS.items():
            if self.s.startswith(word, i):
                return val, i + len(word)
        self.fail(f"unexpected character {c!r}", i)
        raise AssertionError  # unreachable

    def string(self, i: int) -> tuple[JStr, int]:
        line = self.line_at(i)
        try:
            text, end = scanstring(self.s, i + 1, True)
        except json.JSONDecodeError as exc:
            if not self.lenient:
                self.fail(f"bad string ({exc.msg})", i)
            # keep what a truncated string still holds, without the broken escape at its end
            text = _salvage_string(self.s[i + 1 :])
            self.error = f"string cut off or malformed ({exc.msg}) at line {line}"
            end = self.n
        out = JStr(text)
        out.line = line
        return out, end

    def obj(self, i: int, depth: int) -> tuple[dict, int]:
        if depth > self.max_depth:
            self.fail(f"nesting deeper than {self.max_depth}", i)
        out: dict = {}
        i = self.ws(i + 1)
        if i < self.n and self.s[i] == "}":
            return out, i + 1
        while True:
            i = self.ws(i)
            if i >= self.n:
                return self._cut(out, i)
            if self.s[i] != '"':
                self.fail("expected a property name", i)
            key, i = self.string(i)
            if self.error:
                return out, i
            i = self.ws(i)
            if i >= self.n:
                return self._cut(out, i)
            if self.s[i] != ":":
                self.fail("expected ':'", i)
            try:
                val, i = self.value(i + 1, depth)
            except JSONPosError as exc:
                if not self._truncation(exc):
                    raise
                return self._cut(out, self.n)
            out[str(key)] = val
            if self.error:
                return out, i
            i = self.ws(i)
            if i >= self.n:
                return self._cut(out, i)
            if self.s[i] == ",":
                i += 1
                continue
            if self.s[i] == "}":
                return out, i + 1
            self.fail("expected ',' or '}'", i)

    def arr(self, i: int, depth: int) -> tuple[list, int]:
        if depth > self.max_depth:
            self.fail(f"nesting deeper than {self.max_depth}", i)
        out: list = []
        i = self.ws(i + 1)
        if i < self.n and self.s[i] == "]":
            return out, i + 1
        while True:
            try:
                val, i = self.value(i, depth)
            except JSONPosError as exc:
                if not self._truncation(exc):
                    raise
                return self._cut(out, self.n)
            out.append(val)
            if self.error:
                return out, i
            i = self.ws(i)
            if i >= self.n:
                return self._cut(out, i)
            if self.s[i] == ",":
                i += 1
                continue
            if self.s[i] == "]":
                return out, i + 1
            self.fail("expected ',' or ']'", i)

    def _truncation(self, exc: JSONPosError) -> bool:
        """In lenient mode: was this error caused by the data ending (a value cut off)?"""
        if not self.lenient or exc.pos < 0:
            return False
        rest = self.s[exc.pos :]
        return len(rest) < _LONGEST_TOKEN_CUT and _TOKEN_PREFIX.fullmatch(rest) is not None

    def _cut(self, container, i: int):
        if not self.lenient:
            self.fail("unexpected end of data", i)
        if self.error is None:
            self.error = f"data ends inside an open object or array at line {self.line_at(self.n)}"
        return container, self.n


def _salvage_string(rest: str) -> str:
    # the decodable prefix of an unterminated JSON string: drop a trailing partial escape
    for cut in range(len(rest), max(len(rest) - 8, -1), -1):
        try:
            return json.loads('"' + rest[:cut] + '"')
        except json.JSONDecodeError:
            continue
    return rest.replace("\\n", "\n")


def loads(text: str, lenient: bool = False, max_depth: int = MAX_DEPTH) -> Parsed:
    """Parse `text`; strings in the result are `JStr` with a `.line`.

    Strict mode raises JSONPosError on any defect. Lenient mode returns a `Parsed`
    whose `value` holds what could be read and whose `error` says what was wrong.
    """
    p = _Parser(text, lenient, max_depth)
    try:
        value, end = p.value(0, 0)
    except RecursionError:
        err = f"nesting deeper than Python can follow (limit {max_depth})"
        if lenient:
            return Parsed(None, err)
        raise JSONPosError(err) from None
    except JSONPosError as exc:
        if lenient:
            return Parsed(None, str(exc))
        raise
    if p.error is None:
        tail = p.ws(end)
        if tail < p.n:
            p.error = f"extra data after the JSON value at line {p.line_at(tail)}"
            if not lenient:
                raise JSONPosError(p.error)
    return Parsed(value, p.error)


def line_of(value: object, default: int = 1) -> int:
    """The line where a parsed string starts, or `default` for other values."""
    return getattr(value, "line", default)
