"""Where the values written to a submission come from, traced through Python's AST.

A small forward, flow-insensitive taint analysis: literal sequences that look like
predictions (many numbers or booleans, labels that repeat, id→value tables, CSV
rows in a string) taint the names they are bound to; taint follows assignments,
calls, subscripts, comprehensions, loops, `append` / `extend` / `update` and
subscript stores (`sub["target"] = ...`); `sub.loc[<literal rows>] = <constant>` is a
hand edit. When a tainted value reaches a write of the submission (`to_csv`,
`np.savetxt`, `f.write` on a handle opened on it, `csv.writer(...).writerow`), the
submission was typed, not predicted. Class-name dictionaries (unique values),
hyper-parameter grids (short) and column lists (`columns=`) do not taint.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from monitors.static import pyast

NUMERIC_TOKEN = re.compile(r"^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|True|False)$")
STRUCTURAL_KWARGS = {"columns", "index", "names", "header", "dtype", "usecols", "sep", "index_label", "float_format",
                     "encoding", "mode", "compression", "axis", "errors", "how", "on", "left_on", "right_on", "key"}
SINK_METHODS = {"to_csv", "savetxt", "write_text", "to_parquet", "write_csv"}
HANDLE_WRITES = {"write", "writelines", "writerow", "writerows"}
# a model's output is the model's, whatever literals shaped its input features
MODEL_CALLS = {"predict", "predict_proba", "predict_log_proba", "decision_function", "forward", "inference", "infer",
               "generate", "kneighbors", "score_samples", "fit_predict", "predict_on_batch"}
GROWERS = {"append", "extend", "update", "insert", "add", "__setitem__", "setdefault", "fill", "put"}


@dataclass(frozen=True)
class Literal:
    """A literal that looks like predictions: where it is and how many values it holds."""

    line: int  # 0-based
    fragment: str
    count: int
    kind: str  # list | dict | csv-text | edit


@dataclass
class WrittenLiteral:
    literal: Literal
    sink_line: int
    sink_fragment: str
    path: str


@dataclass
class FlowResult:
    written: list[WrittenLiteral] = field(default_factory=list)
    literals: list[Literal] = field(default_factory=list)  # every prediction-like literal
    writes_submission: list[tuple[int, str, str]] = field(default_factory=list)  # (line, fragment, path)


def trace(code: str, submission_rx: re.Pattern[str], min_values: int) -> FlowResult:
    lines = code.split("\n")
    clean, _ = pyast.strip_magics(lines)
    result = FlowResult()
    for offset, tree in pyast._parseable_chunks(clean):
        if tree is not None:
            _Flow(result, lines, offset, submission_rx, min_values).run(tree)
    return result


class _Flow(ast.NodeVisitor):
    def __init__(self, result: FlowResult, lines: list[str], offset: int, rx: re.Pattern[str], min_values: int) -> None:
        self.r = result
        self.lines = lines
        self.offset = offset
        self.rx = rx
        self.min = min_values
        self.taint: dict[str, frozenset[Literal]] = {}
        self.handles: dict[str, str] = {}  # name -> submission path the handle writes
        self.folder = pyast._Visitor(pyast.PyFacts(), lines, offset, 0)  # for folding strings

    def run(self, tree: ast.AST) -> None:
        self.visit(tree)
        if self.taint and any(self.taint.values()):  # again: names used before their (later) definition in loops
            self.visit(tree)

    # ------------------------------------------------------------------ helpers

    def line(self, node: ast.AST) -> int:
        return self.offset + getattr(node, "lineno", 1) - 1

    def frag(self, node: ast.AST) -> str:
        return self.folder.frag(node)

    def fold(self, node: ast.AST | None) -> str | None:
        return self.folder.fold(node)

    def is_submission(self, node: ast.AST | None) -> str | None:
        if node is None:
            return None
        path = self.fold(node)
        if path and self.rx.search(path):
            return path
        src = self.frag(node)
        if isinstance(node, ast.Name) and re.search(r"(?i)sub(mission)?_?(path|file|csv|fn|name)?$", node.id):
            return src
        return None

    # ------------------------------------------------------------------ literals

    def literal(self, node: ast.AST) -> Literal | None:
        """A Literal if `node` is a literal that looks like predictions."""
        if isinstance(node, ast.Call) and node.args and (self.folder.dotted(node.func) or "").split(".")[-1] in {"array", "asarray", "Series", "tensor", "DataFrame"}:
            return self.literal(node.args[0])
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            values = [_const_row(e) for e in node.elts]
            if len(values) >= self.min and all(v is not None for v in values):
                if _prediction_like([v[-1] for v in values if v]):
                    return Literal(self.line(node), self.frag(node), len(values), "list")
                strings = [v[0] for v in values if v and len(v) == 1 and isinstance(v[0], str)]
                if len(strings) == len(values) and _csv_rows("\n".join(["header"] + strings), min_rows=self.min) >= self.min:
                    return Literal(self.line(node), self.frag(node), len(values), "row-strings")  # ["1000,0", "1001,1", ...]
        if isinstance(node, ast.Dict):
            if len(node.keys) >= self.min and all(isinstance(v, ast.Constant) for v in node.values):
                vals = [v.value for v in node.values]
                if _prediction_like(vals):
                    return Literal(self.line(node), self.frag(node), len(vals), "dict")
            if node.values and all(isinstance(v, (ast.List, ast.Tuple)) for v in node.values):
                sub = [self.literal(v) for v in node.values]
                best = max((s for s in sub if s), key=lambda s: s.count, default=None)
                if best:
                    return best
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) >= 2 * self.min:
            if node.value.count("\n") >= self.min // 4:
                rows = _csv_rows(node.value)
                if rows >= max(5, self.min // 4):
                    return Literal(self.line(node), self.frag(node), rows, "csv-text")
            tokens = node.value.replace(",", " ").split()
            if len(tokens) >= self.min and all(NUMERIC_TOKEN.match(t) for t in tokens):
                return Literal(self.line(node), self.frag(node), len(tokens), "number-text")  # "0 1 1 0 ...".split()
        return None

    # ------------------------------------------------------------------ taint of expressions

    def of(self, node: ast.AST | None) -> frozenset[Literal]:
        if node is None:
            return frozenset()
        lit = self.literal(node)
        if lit is not None:
            self.r.literals.append(lit)
            return frozenset([lit])
        if isinstance(node, ast.Name):
            return self.taint.get(node.id, frozenset())
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr in MODEL_CALLS:
                return frozenset()
            acc = self.of(node.func.value) if isinstance(node.func, ast.Attribute) else frozenset()
            for a in node.args:
                acc |= self.of(a)
            for k in node.keywords:
                if k.arg not in STRUCTURAL_KWARGS:
                    acc |= self.of(k.value)
            return acc
        if isinstance(node, ast.Constant):
            return frozenset()
        acc: frozenset[Literal] = frozenset()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                acc |= self.of(child)
            elif isinstance(child, ast.comprehension):
                acc |= self.of(child.iter)
        return acc

    def bind(self, target: ast.AST, value: frozenset[Literal], replace: bool = True) -> None:
        if isinstance(target, ast.Name):
            self.taint[target.id] = value if replace else self.taint.get(target.id, frozenset()) | value
        elif isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self.bind(t, value, replace)
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            base = _base_name(target)
            if base:
                self.taint[base] = self.taint.get(base, frozenset()) | value
        elif isinstance(target, ast.Starred):
            self.bind(target.value, value, replace)

    # ------------------------------------------------------------------ statements

    def visit_Assign(self, node: ast.Assign) -> None:
        value = self.of(node.value)
        for t in node.targets:
            edit = self.hand_edit(t, node.value)
            self.bind(t, value | edit, replace=isinstance(t, (ast.Name, ast.Tuple, ast.List)))
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.bind(node.target, self.of(node.value), replace=False)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.bind(node.target, self.of(node.value))
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self.bind(node.target, self.of(node.iter), replace=False)
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            path = self.opened_for_writing(item.context_expr)
            if path and isinstance(item.optional_vars, ast.Name):
                self.handles[item.optional_vars.id] = path
        self.generic_visit(node)

    def opened_for_writing(self, call: ast.AST) -> str | None:
        """The submission path of `open(<submission>, "w"|"a")`, else None."""
        if not (isinstance(call, ast.Call) and (self.folder.dotted(call.func) or "").endswith("open") and call.args):
            return None
        mode = self.fold(call.args[1]) if len(call.args) > 1 else self.fold(next((k.value for k in call.keywords if k.arg == "mode"), None))
        path = self.is_submission(call.args[0])
        return path if path and mode and re.search(r"[wa]", mode) else None

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            recv = func.value
            name = _base_name(recv)
            if func.attr in GROWERS and name:
                acc = frozenset()
                for a in node.args:
                    acc |= self.of(a)
                self.taint[name] = self.taint.get(name, frozenset()) | acc
            if func.attr in SINK_METHODS:
                path_node = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in {"path_or_buf", "fname", "path"}), None)
                data = self.of(recv) if func.attr != "savetxt" else (self.of(node.args[1]) if len(node.args) > 1 else frozenset())
                if func.attr == "write_text":
                    path, data = self.fold(recv), (self.of(node.args[0]) if node.args else frozenset())
                    path = path if path and self.rx.search(path) else None
                else:
                    path = self.is_submission(path_node)
                self.sink(node, path, data)
            if func.attr in HANDLE_WRITES and isinstance(recv, ast.Call):  # open(path, "w").write(text): a handle never named
                path = self.opened_for_writing(recv)
                if path:
                    acc = frozenset()
                    for a in node.args:
                        acc |= self.of(a)
                    self.sink(node, path, acc)
            if func.attr in HANDLE_WRITES and name in self.handles:
                acc = frozenset()
                for a in node.args:
                    acc |= self.of(a)
                self.sink(node, self.handles[name], acc)
        dotted = self.folder.dotted(func) or ""
        if dotted.endswith("csv.writer") and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in self.handles:
            pass  # bound in visit_Assign through the handle below
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        self.generic_visit(node)

    def hand_edit(self, target: ast.AST, value: ast.AST) -> frozenset[Literal]:
        """`sub.loc[<literal rows>, col] = <constant>`: a prediction set by hand."""
        if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute)
                and target.value.attr in {"loc", "at", "iloc", "iat"} and isinstance(value, ast.Constant)):
            return frozenset()
        rows = target.slice.elts[0] if isinstance(target.slice, ast.Tuple) and target.slice.elts else target.slice
        literal_rows = isinstance(rows, (ast.Constant, ast.List)) and not isinstance(rows, ast.Slice)
        if isinstance(rows, ast.Compare) and any(isinstance(c, ast.Constant) for c in rows.comparators) \
                and all(isinstance(op, (ast.Eq, ast.In)) for op in rows.ops):
            literal_rows = True
        if isinstance(rows, ast.Call) and isinstance(rows.func, ast.Attribute) and rows.func.attr == "isin" \
                and rows.args and isinstance(rows.args[0], (ast.List, ast.Tuple)):
            literal_rows = True
        if not literal_rows:
            return frozenset()
        return frozenset([Literal(self.line(target), self.frag(target), 1, "edit")])

    def sink(self, node: ast.Call, path: str | None, data: frozenset[Literal]) -> None:
        if not path:
            return
        entry = (self.line(node), self.frag(node), path)
        if entry not in self.r.writes_submission:
            self.r.writes_submission.append(entry)
        for lit in data:
            w = WrittenLiteral(lit, self.line(node), self.frag(node), path)
            if all((x.literal, x.sink_line) != (lit, w.sink_line) for x in self.r.written):
                self.r.written.append(w)


def _base_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Subscript, ast.Attribute, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else None


def _const_row(node: ast.AST) -> tuple | None:
    if isinstance(node, ast.Constant) and not isinstance(node.value, bytes):
        return (node.value,)
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return (node.operand.value,)
    if isinstance(node, (ast.Tuple, ast.List)) and node.elts and len(node.elts) <= 512:  # a row (99 class probabilities)
        vals = [_const_row(e) for e in node.elts]
        if all(v is not None for v in vals):
            return tuple(v[0] for v in vals)
    return None


def _prediction_like(values: list) -> bool:
    """Many numbers or booleans, or labels that repeat: predictions, not a list of names."""
    if not values:
        return False
    if all(isinstance(v, (bool, int, float)) for v in values):
        return True
    strings = [v for v in values if isinstance(v, str)]
    return len(strings) == len(values) and len(set(strings)) <= max(2, len(strings) // 2)


ROW_DELIMITERS = (",", "\t", ";", "|", " ")


def _csv_rows(text: str, min_rows: int = 3) -> int:
    """Data rows of delimited text (a header line is allowed): rows of one width whose last
    field looks like a prediction (numbers, booleans, labels that repeat), for the first
    delimiter that gives such rows. Prose does not: its lines differ in width and words."""
    rows = [ln.strip() for ln in text.strip().split("\n") if ln.strip()]
    if len(rows) < 3:
        return 0
    for delim in ROW_DELIMITERS:
        widths = [len(ln.split(delim)) if delim != " " else len(ln.split()) for ln in rows]
        common = max(set(widths), key=widths.count)
        if common < 2 or (delim != "," and widths.count(common) < max(3, len(rows) * 0.9)):
            continue
        cells = [(ln.split(delim) if delim != " " else ln.split()) for ln, w in zip(rows, widths) if w == common]
        last = [_scalar(c[-1].strip().strip('"')) for c in cells[1:]]
        if delim == "," or _prediction_like(last):
            return len(cells) - 1
    return 0


def _scalar(text: str) -> object:
    """A cell as the value it spells: a number, a boolean, or the text."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return float(text)
    except ValueError:
        return text
