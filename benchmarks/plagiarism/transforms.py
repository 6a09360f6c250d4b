"""Disguises a copier applies to a notebook (issue 4, point 4), for the labelled pair set.

Each transform takes source lines and a random generator and returns new lines. They
work on text with regular expressions, as a hurried copier would, so they also work
on Python 2 notebooks that no parser accepts.
"""

from __future__ import annotations

import keyword
import random
import re

_ASSIGNED = re.compile(r"^\s*([A-Za-z_]\w*)\s*=[^=]")
_DEF = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(([^)]*)\)")
_FOR = re.compile(r"^\s*for\s+([A-Za-z_]\w*)(?:\s*,\s*([A-Za-z_]\w*))?\s+in\b")
_WORDS = ["data", "frame", "model", "feat", "value", "result", "tmp", "item", "arr", "table", "score", "col"]
_KEEP = set(keyword.kwlist) | {"self", "print", "len", "range", "np", "pd", "plt", "sns", "os", "re"}


def bound_names(lines: list[str]) -> list[str]:
    """Local names a copier would rename: assigned names, functions, parameters, loop variables."""
    names: dict[str, None] = {}
    for ln in lines:
        for rx in (_ASSIGNED, _FOR):
            m = rx.match(ln)
            if m:
                names.update(dict.fromkeys(g for g in m.groups() if g))
        m = _DEF.match(ln)
        if m:
            names[m.group(1)] = None
            for p in m.group(2).split(","):
                p = p.split("=")[0].strip().lstrip("*")
                if p:
                    names[p] = None
    return [n for n in names if n not in _KEEP and len(n) > 1]


def rename(lines: list[str], rng: random.Random) -> list[str]:
    mapping = {n: f"{rng.choice(_WORDS)}_{rng.randrange(1000)}" for n in bound_names(lines)}
    if not mapping:
        return list(lines)
    rx = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, sorted(mapping, key=len, reverse=True))) + r")(?!\w)")
    return [rx.sub(lambda m: mapping[m.group(1)], ln) for ln in lines]


def strip_comment(line: str) -> str:
    if "#" not in line:
        return line
    before = line.split("#", 1)[0]
    if before.count("'") % 2 or before.count('"') % 2:
        return line  # the # is inside a string
    return before.rstrip()


def recomment(lines: list[str], rng: random.Random) -> list[str]:
    out = []
    for ln in lines:
        ln = strip_comment(ln)
        if ln.strip() and rng.random() < 0.15:
            indent = ln[: len(ln) - len(ln.lstrip())]
            out.append(f"{indent}# step {rng.randrange(100)}: {rng.choice(_WORDS)}")
        out.append(ln)
    return out


def _simple_top_level(ln: str) -> bool:
    s = ln.rstrip()
    return bool(s) and not ln[0].isspace() and not s.endswith((":", "\\", ",", "(", "[", "{")) and not s.startswith(("#", "@", '"""', "'''"))


def _names(ln: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]\w*", ln))


def reorder(lines: list[str], rng: random.Random) -> list[str]:
    """Swap adjacent top-level one-line statements that share no name."""
    out = list(lines)
    i = 0
    while i + 1 < len(out):
        a, b = out[i], out[i + 1]
        if (_simple_top_level(a) and _simple_top_level(b) and not (_names(a) & _names(b))
                and _balanced(a) and _balanced(b) and rng.random() < 0.7):  # fmt: skip
            out[i], out[i + 1] = b, a
            i += 2
        else:
            i += 1
    return out


def _balanced(ln: str) -> bool:
    return ln.count("(") == ln.count(")") and ln.count("[") == ln.count("]") and ln.count("{") == ln.count("}")


def dead_code(lines: list[str], rng: random.Random) -> list[str]:
    snippets = [
        ["_unused_{n} = [i * 2 for i in range(3)]"],
        ["if False:", "    print('debug {n}')"],
        ["def _helper_{n}(x):", "    return x + {n}"],
        ["_flag_{n} = len(str({n})) > 100"],
    ]
    out = []
    for i, ln in enumerate(lines):
        out.append(ln)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _simple_top_level(ln) and _balanced(ln) and (not nxt or not nxt[:1].isspace()) and rng.random() < 0.2:
            n = rng.randrange(1000)
            out.extend(s.format(n=n) for s in rng.choice(snippets))
    return out


def wrap_functions(lines: list[str], rng: random.Random, block: int = 10) -> list[str]:
    """Wrap runs of about `block` top-level lines into functions that are then called."""
    out: list[str] = []
    current: list[str] = []
    k = 0

    def flush() -> None:
        nonlocal k, current
        if any(c.strip() for c in current):
            out.append(f"def stage_{k}():")
            out.extend(("    " + c) if c.strip() else "" for c in current)
            out.append(f"stage_{k}()")
            k += 1
        current = []

    for i, ln in enumerate(lines):
        starts_statement = ln[:1] not in (" ", "\t", ")", "]", "}") and ln.strip() != ""
        if len(current) >= block and starts_statement and _balanced("".join(current)) and not _in_string("\n".join(current)):
            flush()
        current.append(ln)
    flush()
    return out


def _in_string(text: str) -> bool:
    return (text.count('"""') % 2) or (text.count("'''") % 2)


def part(lines: list[str], rng: random.Random, share: float = 0.4) -> list[str]:
    """A contiguous part of the notebook, cut at top-level statements."""
    starts = [i for i, ln in enumerate(lines) if ln.strip() and not ln[:1].isspace()]
    if len(starts) < 4:
        return list(lines)
    want = max(1, int(len(lines) * share))
    begin = rng.choice(starts[: max(1, len(starts) // 2)])
    end_candidates = [s for s in starts if s >= begin + want] or [len(lines)]
    return lines[begin : end_candidates[0]]


def embed(own: list[str], copied: list[str], rng: random.Random) -> list[str]:
    """The copied lines inside the agent's own code, at a top-level boundary."""
    cuts = [i for i, ln in enumerate(own) if ln.strip() and not ln[:1].isspace()] or [len(own)]
    at = rng.choice(cuts[len(cuts) // 3 :] or cuts)
    return own[:at] + [""] + copied + [""] + own[at:]


TRANSFORMS = {
    "verbatim": lambda lines, rng: list(lines),
    "rename": rename,
    "comments": recomment,
    "reorder": reorder,
    "dead-code": dead_code,
    "wrap": wrap_functions,
    "combined": lambda lines, rng: dead_code(reorder(recomment(rename(lines, rng), rng), rng), rng),
}
