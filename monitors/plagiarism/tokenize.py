"""Step 1 of the pipeline: Python source → two normalised token streams.

A tolerant lexer (one regular expression, no parser) because Kaggle notebooks are
often Python 2, half-edited, or carry IPython syntax: the standard `tokenize` module
and `ast` give up on those, and a copy must still be found in them.

Two channels, as the copy detector needs both robustness and discrimination:

- `structure`: every identifier becomes `N`, every string `S`, every number `0`;
  keywords and operators stay. Renaming anything cannot change it.
- `api`: like `structure`, but names that a copier keeps because they are not
  theirs to rename stay as they are: attribute names (`read_csv`), keyword-argument
  names (`n_estimators=`), names in import statements, builtins (`print`, `len`).
  Independent solutions of one competition share the shape read_csv → fit →
  predict → to_csv; the API names they pick and the order they call them in differ.

Comments vanish and indentation is ignored, so wrapping code in a function only adds
the tokens of the `def` line. Logical line ends (outside brackets) become `;`.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass

_STRING_PREFIX = r"(?:[rRuUbBfF]{0,2})"
_LEXER = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>"""
    + _STRING_PREFIX
    + r"""(?:'''[\s\S]*?(?:'''|\Z)|\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?))
  | (?P<number>(?:0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?)[jJlL]?)
  | (?P<name>[^\W\d]\w*)
  | (?P<newline>\\?\n)
  | (?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%&|^@=!<>]=|<>|[-+*/%&|^~@<>=.,:;()\[\]{}])
  | (?P<space>[ \t\f\r]+|\\\r?\n)
  | (?P<other>.)
    """,
    re.VERBOSE,
)

KEYWORDS = frozenset(keyword.kwlist) | {"print", "exec"}  # Python 2 statements are keywords there
BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))
_OPEN, _CLOSE = set("([{"), set(")]}")


@dataclass(frozen=True, slots=True)
class Tokens:
    """Both channels of one source text, token for token, with the 1-based line of each token."""

    structure: list[str]
    api: list[str]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.structure)


def tokenize(source: str) -> Tokens:
    """The normalised token streams of `source` (never raises on bad syntax)."""
    structure: list[str] = []
    api: list[str] = []
    lines: list[int] = []
    line, depth = 1, 0
    in_import = False
    prev_text = ""

    def emit(struct: str, api_tok: str, at_line: int) -> None:
        structure.append(struct)
        api.append(api_tok)
        lines.append(at_line)

    matches = list(_LEXER.finditer(source))
    for i, m in enumerate(matches):
        kind, text = m.lastgroup, m.group()
        start_line = line
        line += text.count("\n")
        if kind in ("comment", "space", "other"):
            continue
        if kind == "newline":
            if text.startswith("\\"):
                continue  # explicit line continuation
            if depth == 0 and structure and structure[-1] != ";":
                emit(";", ";", start_line)
            in_import = False
            prev_text = ""
            continue
        if kind == "string":
            emit("S", "S", start_line)
        elif kind == "number":
            emit("0", "0", start_line)
        elif kind == "name":
            if text in KEYWORDS:
                emit(text, text, start_line)
                if text in ("import", "from") and (not structure[:-1] or structure[-2] == ";"):
                    in_import = True
            else:
                keep = in_import or text in BUILTINS or prev_text == "." or (depth > 0 and _next_is_assign(matches, i))
                emit("N", text if keep else "N", start_line)
        else:  # op
            if text in _OPEN:
                depth += 1
            elif text in _CLOSE:
                depth = max(depth - 1, 0)
            elif text == ";":
                if structure and structure[-1] != ";":
                    emit(";", ";", start_line)
                prev_text = text
                continue
            emit(text, text, start_line)
        prev_text = text
    if structure and structure[-1] != ";":
        emit(";", ";", line)
    return Tokens(structure, api, lines)


def _next_is_assign(matches: list[re.Match[str]], i: int) -> bool:
    """True when the name at `i` is followed by a lone `=` (a keyword argument)."""
    for m in matches[i + 1 : i + 4]:
        if m.lastgroup == "space":
            continue
        return m.group() == "="
    return False
