"""What a piece of Python does, read with the `ast` module (never executed).

The analyser collects facts the rules are written against:

- imports, static and dynamic (`importlib.import_module`, `__import__`), with aliases;
- calls with their callee resolved through aliases and simple instances
  (`client = OpenAI(); client.chat.completions.create` → `openai.OpenAI().chat.completions.create`),
  `getattr(obj, "name")` included;
- string values after folding: concatenation, f-strings, `%`, `.format`, `join`, `os.path.join`,
  `Path / "x"`, base64 / hex / rot13 decoding, reversal, `chr` sequences, environment lookups
  (`${NAME}` or their default) and names bound to strings earlier;
- each string's role: used, only printed or logged (`mention`), or dropped
  (`df.drop(columns=[...])`, `c != "x"`, a list named `LEAKY_COLUMNS`);
- command strings passed to subprocess / os.system / IPython `!` lines, and code passed to exec.

Notebook cells with IPython syntax are accepted: `!cmd` and `%magic` lines become shell
commands and are blanked for the parser, so line numbers stay true.
"""

from __future__ import annotations

import ast
import base64
import binascii
import codecs
import re
import shlex
import textwrap
from functools import lru_cache
from dataclasses import dataclass, field

UNKNOWN = "{?}"
MENTION_FUNCS = {"print", "pprint", "display", "debug", "info", "warning", "warn", "error", "critical",
                 "exception", "log", "echo", "markdown", "Markdown", "write_text_note", "set_description"}
DROP_FUNCS = {"drop", "remove", "discard", "pop", "difference", "exclude", "drop_duplicates_except",
              "setdiff1d", "delete", "__delitem__"}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
VALUE_DROPS = {"pop"}  # removers that hand back what they remove
DROP_NAME = re.compile(r"(?i)(drop|exclude|leak|ignore|remove|ban|skip|black|forbid|unused|avoid|deny|bad_col)")
COMMAND_FUNCS = {"os.system", "os.popen", "subprocess.run", "subprocess.call", "subprocess.Popen",
                 "subprocess.check_output", "subprocess.check_call", "subprocess.getoutput",
                 "subprocess.getstatusoutput", "commands.getoutput", "pty.spawn",
                 "asyncio.create_subprocess_shell", "asyncio.create_subprocess_exec",
                 "os.execv", "os.execvp", "os.execl", "os.execlp", "os.spawnl", "os.spawnlp", "os.posix_spawn"}
ENV_GETTERS = {"os.getenv", "os.environ.get", "os.environ.__getitem__", "environ.get", "getenv", "os.environ.setdefault"}
MAGIC_SHELL = re.compile(r"^(\s*)(?:[A-Za-z_][A-Za-z0-9_]*\s*=\s*)?!(.*)$")
MAGIC_LINE = re.compile(r"^(\s*)%(?!%)(\w+)\s*(.*)$")
CELL_SHELL = re.compile(r"^\s*%%(bash|sh|script\s+(?:bash|sh)|system)\b")
MAX_FOLD = 20000
MAX_EXEC_DEPTH = 4


@dataclass
class Ref:
    value: str
    line: int  # 0-based line in the analysed text
    fragment: str  # source text on that line to quote


@dataclass
class StrFact(Ref):
    role: str = "use"  # use | mention | drop
    call: str = ""  # the callee the string is an argument of, if any
    var: str = ""  # the name the string was assigned to (directly or inside a container)
    dropped: bool = False  # inside something that removes or excludes (df.drop(columns=df.filter(like=...)), `not in`)


@dataclass
class CallFact(Ref):
    args: list[str | None] = field(default_factory=list)  # folded positional arguments
    kwargs: dict[str, str | None] = field(default_factory=dict)
    kwarg_names: list[str] = field(default_factory=list)
    recv: str | None = None  # the folded receiver of a method call (Path("/x").write_text → "/x")


@dataclass
class PyFacts:
    imports: list[Ref] = field(default_factory=list)
    calls: list[CallFact] = field(default_factory=list)
    strings: list[StrFact] = field(default_factory=list)
    env_lookups: list[Ref] = field(default_factory=list)
    commands: list[Ref] = field(default_factory=list)  # shell command strings (subprocess, !lines)
    dict_keys: list[tuple[frozenset[str], Ref]] = field(default_factory=list)
    chains: list[Ref] = field(default_factory=list)  # attribute / subscript chains, dotted
    attr_writes: list[Ref] = field(default_factory=list)  # attributes assigned to (module.func = ...), dotted
    blocks: list[tuple[int, int, str]] = field(default_factory=list)  # top-level statements: (first line, last line, def name)
    parsed: bool = True
    error: str | None = None


def analyse(code: str, depth: int = 0) -> PyFacts:
    facts = PyFacts()
    code = textwrap.dedent(code) if code[:1] in " \t" else code
    lines = code.split("\n")
    clean, shell_lines = strip_magics(lines)
    for line_no, cmd in shell_lines:
        facts.commands.append(Ref(cmd, line_no, cmd.strip()))
    dropped: set[str] = set()
    for offset, chunk in _parseable_chunks(clean):
        if chunk is None:
            facts.parsed = False
            continue
        visitor = _Visitor(facts, lines, offset, depth)
        visitor.visit(chunk)
        for stmt in getattr(chunk, "body", []):
            name = stmt.name if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else ""
            facts.blocks.append((offset + stmt.lineno - 1, offset + (stmt.end_lineno or stmt.lineno) - 1, name))
        dropped |= visitor.dropped_vars
    for sf in facts.strings:  # a list of names later handed to drop(): its names are dropped
        if sf.var and sf.var in dropped and sf.role == "use":
            sf.role = "drop"
    if not facts.parsed:
        _fallback_scan(clean, lines, facts)
    return facts


def strip_magics(lines: list[str]) -> tuple[list[str], list[tuple[int, str]]]:
    """Blank IPython `!`/`%` lines (and here-document bodies after them); return them as shell."""
    clean = list(lines)
    shell: list[tuple[int, str]] = []
    if lines and CELL_SHELL.match(lines[0]):
        return [""] * len(lines), [(i, ln) for i, ln in enumerate(lines[1:], start=1) if ln.strip()]
    i = 0
    while i < len(lines):
        m = MAGIC_SHELL.match(lines[i])
        magic = MAGIC_LINE.match(lines[i]) if not m else None
        if m and not lines[i].lstrip().startswith("!="):
            cmd = m.group(2)
            clean[i] = m.group(1) + "pass"
            hd = re.search(r"<<-?\s*['\"]?([A-Za-z_][\w.-]*)", cmd)
            start = i
            if hd:
                j = i + 1
                while j < len(lines) and lines[j].strip() != hd.group(1):
                    clean[j] = ""
                    j += 1
                if j < len(lines):
                    clean[j] = ""
                cmd = "\n".join([cmd] + lines[i + 1 : j + 1])
                i = j
            shell.append((start, cmd))
        elif magic:
            clean[i] = magic.group(1) + "pass"
            name, rest = magic.group(2), magic.group(3)
            if name in {"pip", "conda", "sx", "system", "cd", "ls", "cat", "mkdir", "rm", "cp", "mv", "env"}:
                shell.append((i, f"{name} {rest}".strip()))
            elif name in {"run", "load"}:
                shell.append((i, f"python {rest}".strip()))
        i += 1
    return clean, shell


def _parseable_chunks(lines: list[str]) -> list[tuple[int, ast.AST | None]]:
    """The whole text parsed, or else its top-level blocks one by one (truncated or broken code)."""
    whole = _try_parse("\n".join(lines))
    if whole is not None:
        return [(0, whole)]
    chunks: list[tuple[int, ast.AST | None]] = []
    start = 0
    for i in range(1, len(lines) + 1):
        if i == len(lines) or (lines[i][:1].strip() and not lines[i].startswith(("#", ")", "]", "}", "else", "elif", "except", "finally"))):
            block = "\n".join(lines[start:i])
            chunks.append((start, _try_parse(block) or _try_parse(textwrap.dedent(block))))
            start = i
    return chunks


CACHED_PARSE_MAX = 256 << 10  # larger texts are parsed each time: their trees are too big to keep


def _try_parse(text: str) -> ast.AST | None:
    try:
        return _parse_cached(text) if len(text) <= CACHED_PARSE_MAX else ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


@lru_cache(maxsize=256)
def _parse_cached(text: str) -> ast.AST:
    """Trees are shared by the analysers (they only read them): the static and submission
    monitors parse the same agent code, and AIDE logs repeat it node after node."""
    return ast.parse(text)


_STRING_LIT = re.compile(r"""(?P<q>['"])(?P<s>(?:\\.|(?!(?P=q)).)*)(?P=q)""")
_IMPORT_LINE = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w., ]+)|import\s+([\w., ]+?)(?:\s+as\s+\w+)?\s*$)")


def _fallback_scan(clean: list[str], lines: list[str], facts: PyFacts) -> None:
    """Lines of unparseable blocks: imports and string literals by pattern, so nothing is lost."""
    covered = {r.line for r in facts.imports} | {s.line for s in facts.strings}
    for i, line in enumerate(clean):
        if i in covered or not line.strip():
            continue
        m = _IMPORT_LINE.match(line)
        if m:
            mods = [m.group(1)] if m.group(1) else [p.strip().split(" ")[0] for p in (m.group(3) or "").split(",")]
            for mod in mods:
                if mod:
                    facts.imports.append(Ref(mod, i, line.strip()))
        for sm in _STRING_LIT.finditer(line):
            role = "mention" if re.match(r"\s*(print|logging\.|logger\.)", line) else "use"
            facts.strings.append(StrFact(sm.group("s"), i, sm.group(0), role=role))


class _Visitor(ast.NodeVisitor):
    def __init__(self, facts: PyFacts, lines: list[str], offset: int, depth: int) -> None:
        self.f = facts
        self.lines = lines
        self.offset = offset
        self.depth = depth
        self.aliases: dict[str, str] = {}  # local name -> dotted origin (modules, classes, instances)
        self.strvars: dict[str, str] = {}  # local name -> folded string value
        self.role = "use"
        self.callee = ""
        self.var = ""
        self.dropped_vars: set[str] = set()
        self.statement_call: ast.AST | None = None
        self.drop_depth = 0  # how many removing contexts enclose the node being visited

    # ------------------------------------------------------------------ positions

    def line(self, node: ast.AST) -> int:
        return self.offset + getattr(node, "lineno", 1) - 1

    def frag(self, node: ast.AST) -> str:
        i = self.line(node)
        if not 0 <= i < len(self.lines):
            return ""
        if getattr(node, "end_lineno", None) != getattr(node, "lineno", None):
            return self.lines[i].strip()  # a node over several lines: its first line reads best
        raw = self.lines[i].encode("utf-8")
        start = getattr(node, "col_offset", 0) or 0
        piece = raw[start:getattr(node, "end_col_offset", None)].decode("utf-8", errors="ignore").strip()
        return piece or self.lines[i].strip()

    # ------------------------------------------------------------------ names

    def dotted(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            name = self.dotted(node.func)
            if name in {"getattr", "builtins.getattr"} and len(node.args) >= 2:
                base, attr = self.dotted(node.args[0]), self.fold(node.args[1])
                return f"{base}.{attr}" if base and attr else None
            if name in {"importlib.import_module", "__import__", "builtins.__import__", "importlib.__import__"} and node.args:
                return self.fold(node.args[0])
            if isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args and name:
                key = self.fold(node.args[0])  # mapping.get("key") reads the key as a subscript would
                if key and IDENTIFIER.fullmatch(key):
                    return f"{name[:-4]}.{key}"
            return f"{name}()" if name else None
        if isinstance(node, ast.Subscript):
            base = self.dotted(node.value)
            key = self.fold(node.slice)
            if base and key and key != UNKNOWN:
                return f"{base}.{key}"
            return f"{base}[]" if base else None
        return None

    # ------------------------------------------------------------------ folding

    def fold(self, node: ast.AST | None, depth: int = 0) -> str | None:
        """The string an expression evaluates to, with unknown parts as {?} ({NAME} for env vars)."""
        if node is None or depth > 40:
            return None
        value = self._fold(node, depth)
        if value is not None and len(value) > MAX_FOLD:
            value = value[:MAX_FOLD]
        return value

    def _fold(self, node: ast.AST, depth: int) -> str | None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return node.value
            if isinstance(node.value, bytes):
                return node.value.decode("latin-1")
            if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                return str(node.value)
            return None
        if isinstance(node, ast.Name):
            return self.strvars.get(node.id)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                if isinstance(v, ast.FormattedValue):
                    parts.append(_or_unknown(self.fold(v.value, depth + 1)))
                else:
                    parts.append(self.fold(v, depth + 1) or "")
            return "".join(parts)
        if isinstance(node, ast.BinOp):
            left, right = self.fold(node.left, depth + 1), self.fold(node.right, depth + 1)
            if isinstance(node.op, ast.Add) and (left is not None or right is not None):
                return _or_unknown(left) + _or_unknown(right)
            if isinstance(node.op, ast.Div) and left is not None:  # pathlib: Path("/a") / "b"
                return left.rstrip("/") + "/" + _or_unknown(right)
            if isinstance(node.op, ast.Mod) and left is not None:
                return re.sub(r"%[-#0 +]*\d*(?:\.\d+)?[sdifrx]", lambda _: _or_unknown(right), left)
            if isinstance(node.op, ast.Mult) and left is not None and isinstance(node.right, ast.Constant):
                return left
            return None
        if isinstance(node, ast.Subscript):
            base = self.fold(node.value, depth + 1)
            if base is not None and isinstance(node.slice, ast.Slice) and _is_reverse(node.slice):
                return base[::-1]
            if self.dotted(node.value) in {"os.environ", "environ"}:
                name = self.fold(node.slice, depth + 1)
                return f"{{{name}}}" if name else UNKNOWN
            return None
        if isinstance(node, ast.Call):
            return self._fold_call(node, depth)
        if isinstance(node, (ast.List, ast.Tuple)):
            return None
        return None

    def _fold_call(self, node: ast.Call, depth: int) -> str | None:
        func = node.func
        name = self.dotted(func) or ""
        args = node.args
        first = self.fold(args[0], depth + 1) if args else None
        if isinstance(func, ast.Attribute):
            recv = func.value
            attr = func.attr
            if attr == "join":
                sep = self.fold(recv, depth + 1)
                items = _elements(args[0]) if args else None
                if sep is not None and items is not None:
                    return sep.join(_or_unknown(self.fold(e, depth + 1)) for e in items)
                chars = _mapped_chr(args[0]) if args else None
                if sep is not None and chars is not None:  # "".join(map(chr, [47, 112, ...]))
                    return sep.join(chars)
                if name.endswith("path.join") or name.startswith("posixpath"):
                    return "/".join(_or_unknown(self.fold(a, depth + 1)) for a in args)
            if attr == "format":
                template = self.fold(recv, depth + 1)
                if template is not None:
                    vals = [_or_unknown(self.fold(a, depth + 1)) for a in args]
                    kw = {k.arg: _or_unknown(self.fold(k.value, depth + 1)) for k in node.keywords if k.arg}
                    return _format(template, vals, kw)
            if attr in {"decode", "strip", "lstrip", "rstrip", "lower", "upper", "encode", "casefold", "title"}:
                base = self.fold(recv, depth + 1)
                if base is not None:  # else a module function of that name (codecs.decode): below
                    if attr in {"strip", "lstrip", "rstrip"} and args:
                        return getattr(base, attr)(first or None)
                    return getattr(base, attr)() if attr in {"strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title"} else base
            if attr == "replace" and len(args) >= 2:
                base, a, b = self.fold(recv, depth + 1), first, self.fold(args[1], depth + 1)
                if base is not None and a is not None and b is not None:
                    return base.replace(a, b)
            if attr == "fromhex" and first is not None:
                return _decode(binascii.unhexlify, first)
            if attr in {"joinpath"}:
                base = self.fold(recv, depth + 1)
                if base is not None:
                    return "/".join([base] + [_or_unknown(self.fold(a, depth + 1)) for a in args])
        if name in {"base64.b64decode", "base64.urlsafe_b64decode", "base64.standard_b64decode", "b64decode",
                    "base64.decodebytes", "base64.b32decode", "base64.b16decode", "base64.a85decode", "base64.b85decode"} and first is not None:
            fn = getattr(base64, name.rsplit(".", 1)[-1], base64.b64decode)
            return _decode(fn, first)
        if name in {"binascii.unhexlify", "binascii.a2b_hex", "bytes.fromhex", "unhexlify"} and first is not None:
            return _decode(binascii.unhexlify, first)
        if name == "codecs.decode" and first is not None and len(args) > 1:
            enc = self.fold(args[1], depth + 1)
            try:
                return codecs.decode(first, enc) if enc and "rot" in enc else first
            except (LookupError, ValueError, TypeError):
                return None
        if name in {"str", "os.fspath", "pathlib.Path", "Path", "PurePath", "pathlib.PurePath", "urllib.parse.unquote", "unquote", "textwrap.dedent"} and args:
            parts = [self.fold(a, depth + 1) for a in args]
            if all(p is None for p in parts):
                return None
            return "/".join(_or_unknown(p) for p in parts) if len(parts) > 1 else parts[0]
        if name in {"os.path.join", "posixpath.join", "os.path.abspath", "os.path.expanduser", "os.path.normpath", "os.path.realpath"} and args:
            parts = [self.fold(a, depth + 1) for a in args]
            if all(p is None for p in parts):
                return None
            return "/".join(_or_unknown(p) for p in parts)
        if name == "chr" and args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, int):
            try:
                return chr(args[0].value)
            except (ValueError, OverflowError):
                return None
        if name in {"bytes", "bytearray"} and args and isinstance(args[0], (ast.List, ast.Tuple)):
            vals = [e.value for e in args[0].elts if isinstance(e, ast.Constant) and isinstance(e.value, int)]
            if len(vals) == len(args[0].elts):
                return bytes(v % 256 for v in vals).decode("latin-1")
        if name in ENV_GETTERS or name.endswith("environ.get"):
            key = first
            if len(args) > 1:
                default = self.fold(args[1], depth + 1)
                if default:
                    return default
            return f"{{{key}}}" if key else UNKNOWN
        if name in {"".join, "str.join"}:
            return None
        return None

    # ------------------------------------------------------------------ recording

    def record_string(self, node: ast.AST, value: str | None) -> None:
        if value is None or len(value) < 2:
            return
        self.f.strings.append(StrFact(value, self.line(node), self.frag(node), role=self.role, call=self.callee, var=self.var,
                                      dropped=self.role == "drop" or self.drop_depth > 0))

    def with_role(self, role: str, nodes: list[ast.AST], callee: str | None = None) -> None:
        saved, saved_callee = self.role, self.callee
        if not (saved == "mention" and role == "use"):
            self.role = role
        if callee is not None:
            self.callee = callee
        self.drop_depth += role == "drop"
        for n in nodes:
            self.visit(n)
        self.drop_depth -= role == "drop"
        self.role, self.callee = saved, saved_callee

    # ------------------------------------------------------------------ visitors

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self.f.imports.append(Ref(a.name, self.line(node), self.frag(node)))
            if a.asname:
                self.aliases[a.asname] = a.name
            else:
                self.aliases.setdefault(a.name.split(".")[0], a.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = node.module or ""
        for a in node.names:
            full = f"{mod}.{a.name}" if mod else a.name
            self.f.imports.append(Ref(full if a.name != "*" else mod, self.line(node), self.frag(node)))
            self.aliases[a.asname or a.name] = full

    def visit_Assign(self, node: ast.Assign) -> None:
        self._bind(node.targets, node.value)
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        # `LEAKY = ["col", ...]` names columns to remove; `leak = df["col"]` is still a use, whatever its name
        role = "drop" if _names_literal(node.value) and any(DROP_NAME.search(n) for n in names) else "use"
        saved_var, self.var = self.var, names[0] if names else ""
        self.with_role(role, [node.value])
        self.var = saved_var
        for t in node.targets:
            if isinstance(t, ast.Attribute) and (chain := self.dotted(t)):
                self.f.attr_writes.append(Ref(chain, self.line(t), self.frag(node)))
            self.visit(t)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._bind([node.target], node.value)
            self.visit(node.value)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._bind([node.target], node.value)
        self.visit(node.value)

    def _bind(self, targets: list[ast.AST], value: ast.AST) -> None:
        folded = self.fold(value)
        origin = self.dotted(value) if isinstance(value, (ast.Call, ast.Attribute, ast.Name)) else None
        for t in targets:
            if not isinstance(t, ast.Name):
                continue
            if folded is not None and folded != UNKNOWN:
                self.strvars[t.id] = folded
            else:
                self.strvars.pop(t.id, None)
            if origin and (isinstance(value, ast.Call) or origin != getattr(value, "id", None)):
                self.aliases[t.id] = origin  # an instance, a resolved attribute or a dynamic import
            else:
                self.aliases.pop(t.id, None)

    def visit_Delete(self, node: ast.Delete) -> None:
        self.with_role("drop", node.targets)

    def visit_Expr(self, node: ast.Expr) -> None:
        self.statement_call = node.value  # a call whose value is thrown away (`df.pop("col")` alone drops it)
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            self.with_role("mention", [node.value])  # a docstring or bare string: text, not use
            return
        self.visit(node.value)

    def visit_Compare(self, node: ast.Compare) -> None:
        excluding = any(isinstance(op, (ast.NotEq, ast.NotIn, ast.IsNot)) for op in node.ops)
        if not (excluding and isinstance(node.left, ast.Constant)):  # "col" not in c: the constant is visited as dropped below
            self.visit(node.left)
        for op, comp in zip(node.ops, node.comparators):
            if isinstance(op, (ast.NotEq, ast.NotIn, ast.IsNot)):
                direct = [comp] if isinstance(comp, ast.Constant) else list(getattr(comp, "elts", []))
                if isinstance(node.left, ast.Constant):
                    direct.append(node.left)
                self.with_role("drop", [d for d in direct if isinstance(d, ast.Constant)])
                rest = [] if isinstance(comp, ast.Constant) or hasattr(comp, "elts") else [comp]
                for r in rest:
                    self.visit(r)
            else:
                self.visit(comp)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):  # `not c.startswith("x")` filters x out
            self.drop_depth += 1
            self.generic_visit(node)
            self.drop_depth -= 1
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            self.record_string(node, node.value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self.record_string(node, self.fold(node))
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        folded = self.fold(node)
        if folded is not None and UNKNOWN not in folded[:2]:
            self.record_string(node, folded)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.slice, ast.Slice):
            self.record_string(node, self.fold(node))  # "atad/etavirp/"[::-1]
        chain = self.dotted(node)
        if chain and "." in chain:
            self.f.chains.append(Ref(chain, self.line(node), self.frag(node)))
        folded = self.fold(node)
        if folded and folded.startswith("{") and self.dotted(node.value) in {"os.environ", "environ"}:
            self.f.env_lookups.append(Ref(folded.strip("{}"), self.line(node), self.frag(node)))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = self.dotted(node)
        if chain:
            self.f.chains.append(Ref(chain, self.line(node), self.frag(node)))
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        keys = frozenset(k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
        if keys:
            self.f.dict_keys.append((keys, Ref(",".join(sorted(keys))[:200], self.line(node), self.frag(node))))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = self.dotted(node.func) or ""
        short = name.rsplit(".", 1)[-1].rstrip("()")
        args = [self.fold(a) for a in node.args]
        kwargs = {k.arg: self.fold(k.value) for k in node.keywords if k.arg}
        fact = CallFact(name, self.line(node), self.frag(node), args=args, kwargs=kwargs,
                        kwarg_names=[k.arg for k in node.keywords if k.arg],
                        recv=self.fold(node.func.value) if isinstance(node.func, ast.Attribute) else None)
        self.f.calls.append(fact)
        if name in {"importlib.import_module", "__import__", "builtins.__import__", "importlib.__import__"} and args and args[0]:
            self.f.imports.append(Ref(args[0], self.line(node), self.frag(node)))
        if name in ENV_GETTERS or name.endswith("environ.get") or name.endswith("environ.setdefault"):
            if args and args[0]:
                self.f.env_lookups.append(Ref(args[0], self.line(node), self.frag(node)))
        self._commands(node, name, args)
        if name in {"exec", "eval", "compile", "builtins.exec", "builtins.eval"} and args and args[0] and self.depth < MAX_EXEC_DEPTH:
            self._exec(node, args[0])
        role = "mention" if short in MENTION_FUNCS and not name.startswith(("np.", "numpy.")) else ("drop" if short in DROP_FUNCS else "use")
        if short in VALUE_DROPS and node is not self.statement_call:
            role = "use"  # `g = df.pop("col")` keeps the column's values: that is using it
        if short == "dict" and node.keywords:  # dict(model=..., messages=...) is a dict literal by another name
            keys = frozenset(k.arg for k in node.keywords if k.arg)
            self.f.dict_keys.append((keys, Ref(",".join(sorted(keys))[:200], self.line(node), self.frag(node))))
        if short == "get" and isinstance(node.func, ast.Attribute) and node.args:  # mapping.get("Video").get("Labels")
            chain = self.dotted(node)
            if chain and not chain.endswith("()"):
                self.f.chains.append(Ref(chain, self.line(node), self.frag(node)))
        if role == "drop":
            for a in list(node.args) + [k.value for k in node.keywords]:
                self.dropped_vars.update(n.id for n in ast.walk(a) if isinstance(n, ast.Name))
        folded = self.fold(node)
        if folded is not None:
            self.record_string(node, folded)
        self.visit(node.func)
        self.with_role(role, list(node.args) + [k.value for k in node.keywords], callee=name)

    def _commands(self, node: ast.Call, name: str, args: list[str | None]) -> None:
        is_cmd = name in COMMAND_FUNCS or name.endswith((".system", "get_ipython().system", "get_ipython().getoutput"))
        if not is_cmd or not node.args:
            return
        first = node.args[0]
        if isinstance(first, (ast.List, ast.Tuple)):
            parts = [_or_unknown(self.fold(e)) for e in first.elts]
            cmd = shlex.join(parts)
        else:
            cmd = args[0] or ""
            if not cmd:
                return
        self.f.commands.append(Ref(cmd, self.line(node), self.frag(node)))

    def _exec(self, node: ast.Call, code: str) -> None:
        inner = analyse(code, self.depth + 1)
        line, frag = self.line(node), self.frag(node)
        for ref in inner.imports:
            self.f.imports.append(Ref(ref.value, line, frag))
        for s in inner.strings:
            self.f.strings.append(StrFact(s.value, line, frag, role=s.role, call=s.call))
        for c in inner.calls:
            self.f.calls.append(CallFact(c.value, line, frag, args=c.args, kwargs=c.kwargs, kwarg_names=c.kwarg_names))
        for r in inner.commands:
            self.f.commands.append(Ref(r.value, line, frag))
        for keys, r in inner.dict_keys:
            self.f.dict_keys.append((keys, Ref(r.value, line, frag)))
        for r in inner.env_lookups:
            self.f.env_lookups.append(Ref(r.value, line, frag))

    def visit_For(self, node: ast.For) -> None:
        self.generic_visit(node)

    def generic_visit(self, node: ast.AST) -> None:
        try:
            super().generic_visit(node)
        except RecursionError:
            self.f.parsed = False


def _names_literal(node: ast.AST) -> bool:
    """A literal list of names, possibly joined with others (["a", "b"] + EXTRA): not a read of data."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Constant)):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.BitOr)):
        sides = (node.left, node.right)
        return any(_names_literal(x) for x in sides) and all(_names_literal(x) or isinstance(x, ast.Name) for x in sides)
    return False


def _mapped_chr(node: ast.AST) -> list[str] | None:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "map" and len(node.args) == 2
            and isinstance(node.args[0], ast.Name) and node.args[0].id == "chr" and isinstance(node.args[1], (ast.List, ast.Tuple))):
        return None
    codes = [e.value for e in node.args[1].elts if isinstance(e, ast.Constant) and isinstance(e.value, int)]
    if len(codes) != len(node.args[1].elts):
        return None
    try:
        return [chr(c) for c in codes]
    except (ValueError, OverflowError):
        return None


def _or_unknown(value: str | None) -> str:
    return UNKNOWN if value is None else value


def _elements(node: ast.AST) -> list[ast.AST] | None:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return list(node.elts)
    if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
        return None
    return None


def _is_reverse(s: ast.Slice) -> bool:
    return (s.lower is None and s.upper is None and isinstance(s.step, ast.UnaryOp)
            and isinstance(s.step.op, ast.USub) and isinstance(s.step.operand, ast.Constant) and s.step.operand.value == 1)


def _decode(fn, text: str) -> str | None:
    try:
        data = fn(text.encode("latin-1") if isinstance(text, str) else text)
        return data.decode("utf-8", errors="replace")
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        return None


def _format(template: str, vals: list[str], kw: dict[str, str]) -> str:
    idx = iter(range(len(vals)))

    def repl(m: re.Match[str]) -> str:
        key = m.group(1).split("!")[0].split(":")[0]
        if key == "":
            i = next(idx, None)
            return vals[i] if i is not None else UNKNOWN
        if key.isdigit():
            return vals[int(key)] if int(key) < len(vals) else UNKNOWN
        return kw.get(key, UNKNOWN)

    return re.sub(r"\{([^{}]*)\}", repl, template)
