"""Reading and cleaning public notebooks (and the agent's code, the same way).

Cleaning never removes a line: it blanks it, so line numbers of a `.py` stay those of
the file, and an `.ipynb`'s code lines keep a map to the raw JSON line they came
from. What is blanked is what every notebook shares and no copier has to keep: the
stock first cell Kaggle puts in every new notebook, `%` magics, `!` shell lines,
`get_ipython()` calls of exported notebooks. Data paths are rewritten to one form
(`DATA/`, `OUT/`) so that lines that differ only by where the data lives still align.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

NOTEBOOK_SUFFIXES = (".py", ".ipynb")
MAX_NOTEBOOK_BYTES = 8 << 20

_STOCK_MARKER = "This Python 3 environment comes with many helpful analytics libraries installed"
_STOCK_LINES = re.compile(
    r"""^\s*(
        \#.*
      | import\ (numpy|pandas|os)(\ as\ (np|pd))?
      | from\ subprocess\ import\ check_output
      | print\s*\(?\s*check_output\(\[\s*["']ls["'],\s*["'][^"']*["']\s*\]\)\.decode\(["']utf-?8["']\)\)?
      | print\s*\(?\s*os\.listdir\(\s*["'][^"']*["']\s*\)\)?
      | for\ dirname,\ _,\ filenames\ in\ os\.walk\(["'][^"']*["']\):
      | for\ filename\ in\ filenames:
      | print\(os\.path\.join\(dirname,\ filename\)\)
    )?\s*(\#.*)?$""",
    re.VERBOSE,
)
# single boilerplate lines that also occur outside the stock cell
_KAGGLE_LINES = re.compile(
    r"""^\s*(
        from\ subprocess\ import\ check_output
      | print\s*\(?\s*check_output\(\[\s*["']ls["'],\s*["'][^"']*["']\s*\]\)\.decode\(["']utf-?8["']\)\)?
      | print\s*\(?\s*os\.listdir\(\s*["'][^"']*["']\s*\)\)?
    )\s*$""",
    re.VERBOSE,
)
_SHELL_OR_MAGIC = re.compile(r"^\s*(%|!|get_ipython\(\))")
_DATA_PATHS = re.compile(
    r"(/kaggle/input/[\w.-]+/|/kaggle/input/|\.\./input/[\w.-]+/|\.\./input/|\./input/|/home/data/|(?<![\w/.])input/)"
)
_OUT_PATHS = re.compile(r"(/kaggle/working/|/home/submission/|\./submission/|\./working/)")


@dataclass
class CodeText:
    """Code as written (cleaning happens when it is analysed) and, line by line, the
    line of the file it came from (1-based; empty for a `.py`, whose lines are its own)."""

    text: str
    file_lines: list[int] = field(default_factory=list)

    def file_line(self, code_line: int) -> int:
        """The file line of 1-based `code_line`."""
        if not self.file_lines:
            return code_line
        idx = min(max(code_line, 1), len(self.file_lines)) - 1
        return self.file_lines[idx]


@dataclass
class NotebookFile:
    competition: str
    source: str  # relative to the notebooks directory, with "/" separators
    code: CodeText


def clean_code(text: str) -> str:
    """`text` with boilerplate, magics and shell lines blanked and data paths canonicalised."""
    lines = text.replace("\r\n", "\n").split("\n")
    _blank_stock_cell(lines)
    out = []
    for ln in lines:
        if _SHELL_OR_MAGIC.match(ln) or _KAGGLE_LINES.match(ln):
            out.append("")
            continue
        ln = _DATA_PATHS.sub("DATA/", ln)
        out.append(_OUT_PATHS.sub("OUT/", ln))
    return "\n".join(out)


def _blank_stock_cell(lines: list[str]) -> None:
    """Blank Kaggle's stock first cell, from its marker to its last boilerplate line."""
    start = next((i for i, ln in enumerate(lines[:40]) if _STOCK_MARKER in ln), None)
    if start is None:
        return
    i = start
    while i < len(lines) and _STOCK_LINES.match(lines[i]):
        lines[i] = ""
        i += 1


def code_of_python(text: str) -> CodeText:
    return CodeText(text)


def code_of_ipynb(raw: str) -> CodeText:
    """The code cells of notebook JSON `raw`, joined, each line mapped to its raw JSON line."""
    cells = _code_cells(raw)
    raw_lines = raw.split("\n")
    out_lines: list[str] = []
    file_lines: list[int] = []
    cursor = 0
    for cell in cells:
        for src_line in cell.split("\n"):
            cursor, found = _find_raw_line(raw_lines, src_line, cursor)
            out_lines.append(src_line)
            file_lines.append(found)
        out_lines.append("")  # a cell boundary ends any open statement
        file_lines.append(file_lines[-1] if file_lines else 1)
    return CodeText("\n".join(out_lines), file_lines)


def _code_cells(raw: str) -> list[str]:
    """Source of each code cell. A `source` list is read as one line per item: valid
    notebooks end every item but the last with a newline, and notebooks written by
    tools that omit it (as some agents do) still mean one line per item."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    if not isinstance(data, dict):
        return []
    if "cells" not in data and "worksheets" in data:
        data = _upgrade_v3(raw) or data
    cells = data.get("cells") or []
    out = []
    for c in cells:
        if isinstance(c, dict) and c.get("cell_type") == "code":
            src = c.get("source", "")
            if isinstance(src, list):
                out.append("\n".join(str(s).rstrip("\n") for s in src))
            else:
                out.append(str(src))
    return out


def _upgrade_v3(raw: str) -> dict | None:
    """nbformat 3 (worksheets[].cells[].input) upgraded to 4 by nbformat itself."""
    try:
        import nbformat

        return json.loads(nbformat.writes(nbformat.reads(raw, as_version=4)))
    except Exception:  # nbformat raises many kinds on bad input
        return None


def _find_raw_line(raw_lines: list[str], src_line: str, cursor: int) -> tuple[int, int]:
    """(new cursor, 1-based raw line) of the JSON string holding `src_line`, searching forward."""
    if not src_line.strip():
        return cursor, min(cursor + 1, max(len(raw_lines), 1))
    needle = json.dumps(src_line)[:-1]  # opening quote and content; the line may end in \n"
    needle_ascii_off = json.dumps(src_line, ensure_ascii=False)[:-1]
    for i in range(cursor, len(raw_lines)):
        if needle in raw_lines[i] or needle_ascii_off in raw_lines[i]:
            return i, i + 1
    return cursor, min(cursor + 1, max(len(raw_lines), 1))


def code_of_file(name: str, text: str) -> CodeText:
    return code_of_ipynb(text) if name.endswith(".ipynb") else code_of_python(text)


def iter_notebook_files(root: str | Path) -> Iterator[tuple[str, Path]]:
    """(competition id, path) of every notebook under `root`, in a stable order.

    Accepts MLE-bench's `competitions/<id>/kernels/...` layout and plain `<id>/...`.
    """
    root = Path(root)
    comps = root / "competitions"
    if comps.is_dir():
        for comp_dir in sorted(p for p in comps.iterdir() if p.is_dir()):
            kernels = comp_dir / "kernels"
            if kernels.is_dir():
                yield from _files_under(comp_dir.name, kernels)
        return
    for comp_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        yield from _files_under(comp_dir.name, comp_dir)


def _files_under(competition: str, folder: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        if path.suffix in NOTEBOOK_SUFFIXES and path.is_file() and not path.is_symlink():
            yield competition, path


def read_notebooks(root: str | Path) -> Iterator[NotebookFile]:
    """Every readable notebook under `root`, cleaned; unreadable files are skipped."""
    root = Path(root)
    for competition, path in iter_notebook_files(root):
        try:
            if path.stat().st_size > MAX_NOTEBOOK_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        yield NotebookFile(competition, path.relative_to(root).as_posix(), code_of_file(path.name, text))
