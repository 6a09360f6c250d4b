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

What an agent changes without changing the code, both channels normalise away:
- `self.` is dropped, so a notebook wrapped in a class whose globals became attributes
  reads as the notebook;
- a name imported from a module is, in the API channel, its name there under any
  alias (`from lightgbm import LGBMRegressor as Reg` … `Reg(` is `LGBMRegressor`),
  and so is a path of three or more parts rooted at a module
  (`sklearn.ensemble.RandomForestClassifier` is `RandomForestClassifier`, as after
  `from sklearn.ensemble import RandomForestClassifier`); `pd.read_csv` and
  `pandas.read_csv` are one already (`N . read_csv`), and stay so;
- `as alias` in import statements is dropped.
Which names are modules and which were imported from one comes from the code's own
imports, conventional aliases (`pd`, `np`, ...), and `Bindings` passed in: an agent
imports in one cell and uses the names in the next.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, field

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
_INSIGNIFICANT = frozenset({"comment", "space", "other", "newline"})


#: module aliases so conventional that a cell uses them without importing them itself
CONVENTIONAL_MODULES = frozenset({
    "pd", "np", "plt", "sns", "tf", "torch", "nn", "F", "lgb", "xgb", "cb", "sp", "px", "go",
    "pandas", "numpy", "sklearn", "scipy", "keras", "tensorflow", "matplotlib", "seaborn", "lightgbm", "xgboost",
    "os", "sys", "re", "math", "json", "gc", "cv2", "torchvision", "nltk",
})  # fmt: skip
SELF = "self"
_IMPORT_LINE = re.compile(r"^[ \t]*import[ \t]+([^#;\n]+)", re.M)
_FROM_LINE = re.compile(r"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+(\([^)]*\)?|[^#;\n]+)", re.M)
_ALIAS = re.compile(r"^\s*([\w.]+)(?:\s+as\s+(\w+))?\s*$")


@dataclass(frozen=True)
class Bindings:
    """Names that imports bind: modules (and their aliases), and names imported from a
    module, each with the name it has there."""

    modules: frozenset[str] = CONVENTIONAL_MODULES
    objects: dict[str, str] = field(default_factory=dict)

    def merged(self, other: Bindings) -> Bindings:
        return Bindings(self.modules | other.modules, {**self.objects, **other.objects})


def import_bindings(source: str) -> Bindings:
    """The names the import statements of `source` bind (regular expressions: any Python)."""
    modules: set[str] = set(CONVENTIONAL_MODULES)
    objects: dict[str, str] = {}
    for m in _IMPORT_LINE.finditer(source):
        for item in m.group(1).split(","):
            a = _ALIAS.match(item)
            if a:
                modules.add(a.group(2) or a.group(1).split(".")[0])
    for m in _FROM_LINE.finditer(source):
        for item in m.group(1).strip("()\\ \t\n").replace("\n", ",").split(","):
            a = _ALIAS.match(item)
            if a and a.group(1) != "*":
                objects[a.group(2) or a.group(1)] = a.group(1)
    return Bindings(frozenset(modules), objects)


@dataclass(frozen=True, slots=True)
class Tokens:
    """Both channels of one source text, token for token, with the 1-based line of each token."""

    structure: list[str]
    api: list[str]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.structure)


def tokenize(source: str, bindings: Bindings | None = None) -> Tokens:
    """The normalised token streams of `source` (never raises on bad syntax).

    `bindings`: imports seen elsewhere (other cells of the same agent), added to the
    source's own."""
    own = import_bindings(source)
    bound = own if bindings is None else own.merged(bindings)
    out = _Emitter()
    line, depth = 1, 0
    in_import = False
    prev_text = ""
    skip_alias = False  # inside an import statement, after `as`
    dropped_dot = False  # the next "." follows a dropped name
    in_path = False  # inside a module path whose parts before the last are dropped
    fresh = False  # this name followed `self.`: a plain name, not an attribute
    matches = list(_LEXER.finditer(source))
    emit_struct, emit_api, emit_line = out.structure.append, out.api.append, out.lines.append

    def following(i: int) -> int:
        """The next token after `i` that is not a comment, a space or a line end (-1: none)."""
        for j in range(i + 1, len(matches)):
            if matches[j].lastgroup not in _INSIGNIFICANT:
                return j
        return -1

    def next_is_dot(i: int) -> bool:
        j = following(i)
        return j >= 0 and matches[j].group() == "."

    def path_length(i: int) -> int:
        """Names in the dotted path that starts at `i` (`a.b.c` is 3)."""
        n = 1
        while next_is_dot(i):
            j = following(following(i))
            if j < 0 or matches[j].lastgroup != "name":
                break
            i, n = j, n + 1
        return n

    for i, m in enumerate(matches):
        kind, text = m.lastgroup, m.group()
        start_line = line
        line += text.count("\n")
        if kind in ("comment", "space", "other"):
            continue
        if kind == "newline":
            if text.startswith("\\"):
                continue  # explicit line continuation
            if depth == 0:
                out.end_statement(start_line)
                in_import = False
            prev_text, dropped_dot, in_path, fresh = "", False, False, False
            continue
        if in_import:  # names stay API names; `as alias` goes
            if text == "as":
                skip_alias = True
            elif skip_alias and kind == "name":
                skip_alias = False
            elif text == ";" and depth == 0:
                out.end_statement(start_line)
                in_import = False
            else:
                depth = _depth(text, depth)
                out.emit(text if kind == "op" or text in KEYWORDS else "N", text, start_line)
            prev_text = text
            continue
        if dropped_dot and text == ".":
            dropped_dot = False
            continue  # the "." after `self` or inside a module path
        if kind == "string" or kind == "number":
            tok = "S" if kind == "string" else "0"
            emit_struct(tok), emit_api(tok), emit_line(start_line)
        elif kind == "name":
            if text in KEYWORDS:
                if text in ("import", "from") and out.at_statement_start():
                    in_import, skip_alias = True, False
                emit_struct(text), emit_api(text), emit_line(start_line)
            elif prev_text != "." and not in_path and text == SELF and next_is_dot(i):
                dropped_dot, prev_text, fresh = True, "", True
                continue  # `self.x` is `x`
            elif prev_text != "." and not in_path and text in bound.modules and path_length(i) >= 3:
                dropped_dot, in_path, prev_text = True, True, text
                continue  # the root of a module path: `sklearn.ensemble.X` is `X`
            elif in_path and next_is_dot(i):
                dropped_dot, prev_text = True, text
                continue  # inside a module path
            elif in_path:
                out.emit("N", text, start_line)  # the last part of a module path: an API name
                in_path = False
            else:
                attribute = prev_text == "." and not fresh
                keep = attribute or text in BUILTINS or (depth > 0 and _next_is_assign(matches, i))
                emit_struct("N"), emit_api(text if keep else bound.objects.get(text, "N")), emit_line(start_line)
            fresh = False
        else:  # op
            depth = _depth(text, depth)
            if text == ";":
                out.end_statement(start_line)
                prev_text = text
                continue
            emit_struct(text), emit_api(text), emit_line(start_line)
        prev_text = text
    out.end_statement(line)
    return Tokens(out.structure, out.api, out.lines)


class _Emitter:
    """The three parallel lists of `Tokens`."""

    def __init__(self) -> None:
        self.structure: list[str] = []
        self.api: list[str] = []
        self.lines: list[int] = []

    def emit(self, struct: str, api_tok: str, at_line: int) -> None:
        self.structure.append(struct)
        self.api.append(api_tok)
        self.lines.append(at_line)

    def end_statement(self, at_line: int) -> None:
        if self.structure and self.structure[-1] != ";":
            self.emit(";", ";", at_line)

    def at_statement_start(self) -> bool:
        return not self.structure or self.structure[-1] == ";"


def _depth(text: str, depth: int) -> int:
    if text in _OPEN:
        return depth + 1
    if text in _CLOSE:
        return max(depth - 1, 0)
    return depth


def _next_is_assign(matches: list[re.Match[str]], i: int) -> bool:
    """True when the name at `i` is followed by a lone `=` (a keyword argument)."""
    for m in matches[i + 1 : i + 4]:
        if m.lastgroup == "space":
            continue
        return m.group() == "="
    return False
