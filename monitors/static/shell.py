"""Parsing shell commands into simple commands, without running anything.

A command string is split like a shell would split it (shlex: quotes, escapes,
comments) into simple commands at `;`, `&&`, `||`, `|`, `&` and parentheses, with
their redirections, here-documents and line numbers. Wrappers (sudo, env, timeout,
nohup, xargs, ...) are unwrapped, `bash -c STR` / `eval` and `$(...)` are parsed
recursively, and code handed to an interpreter (`python -c`, `python - <<EOF`,
`cat > x.py <<EOF`) is returned for the Python analyser.
"""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from dataclasses import dataclass, field

SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", ";;", "|&", "{", "}", "\n"}
REDIRECTS = {">", ">>", "<", ">|", "&>", "&>>", ">&", "<>", "<<<"}
WRAPPERS = {"sudo", "env", "nohup", "time", "nice", "ionice", "stdbuf", "exec", "command", "builtin",
            "timeout", "xargs", "watch", "strace", "doas", "unbuffer", "then", "do", "else", "!"}
SHELLS = {"bash", "sh", "zsh", "dash", "ksh", "fish", "ash", "busybox"}
PYTHONS = re.compile(r"^(python[0-9.]*|ipython[0-9]*|pypy[0-9]*)$")
HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
MAX_JOIN = 400  # physical lines a quoted string may span
MAX_DEPTH = 6
MAX_COMMAND = 20_000  # characters of one logical line tokenised (longer ones are data, not commands)


@dataclass
class Command:
    """One simple command: argv after unwrapping, where it starts, what it reads and writes."""

    argv: list[str]
    line: int  # 0-based line of the text where it starts
    redirects: list[tuple[str, str]] = field(default_factory=list)  # (operator, target)
    heredoc: str | None = None
    heredoc_line: int | None = None  # 0-based line where the here-document body starts
    env: dict[str, str] = field(default_factory=dict)
    piped_from: str | None = None  # the previous command's name in a pipeline
    piped_args: tuple[str, ...] = ()  # and its arguments
    cwd: str | None = None  # the directory a `cd` earlier in the same text moved to, when known

    @property
    def name(self) -> str:
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""

    def writes(self) -> list[str]:
        return [t for op, t in self.redirects if op in {">", ">>", ">|", "&>", "&>>", "<>"}]

    def reads(self) -> list[str]:
        return [t for op, t in self.redirects if op == "<"]


@dataclass
class EmbeddedCode:
    """Code handed to an interpreter inside a command; `line` maps its line 0 to the text."""

    language: str  # "python"
    code: str
    line: int
    written_to: str | None = None  # a file the code was written into (cat > x.py <<EOF)


@dataclass
class ShellParse:
    commands: list[Command] = field(default_factory=list)
    code: list[EmbeddedCode] = field(default_factory=list)
    decoded: list[tuple[int, str]] = field(default_factory=list)  # (line, text) decoded from base64 in the command


def parse(text: str, base_line: int = 0, depth: int = 0) -> ShellParse:
    out = ShellParse()
    if depth > MAX_DEPTH or not text:
        return out
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start = i
        logical, i = _logical_line(lines, i)
        bodies: list[tuple[str, int]] = []
        blanked = _unquoted(logical)
        for m in HEREDOC.finditer(logical):
            if blanked[m.start()] != "<" or logical[m.start():m.start() + 3] == "<<<":
                continue  # inside a quoted string, or a here-string
            body_start = i
            body, i = _heredoc_body(lines, i, m.group(3), strip_tabs=bool(m.group(1)))
            bodies.append((body, base_line + body_start))
        _parse_logical(logical, base_line + start, bodies, out, depth)
    return out


def _logical_line(lines: list[str], i: int) -> tuple[str, int]:
    """A physical line joined with its continuations and with lines a quote runs into."""
    text = lines[i]
    j = i + 1
    while j < len(lines) and j - i < MAX_JOIN:
        if text.endswith("\\") and not text.endswith("\\\\"):
            text = text[:-1] + "\n" + lines[j]
        elif _unbalanced(text):
            text = text + "\n" + lines[j]
        else:
            break
        j += 1
    return text, j


def _unbalanced(text: str) -> bool:
    if ("'" not in text and '"' not in text) or len(text) > MAX_COMMAND:
        return False
    try:
        shlex.split(text, comments=True)
        return False
    except ValueError:
        return True


def _unquoted(text: str) -> str:
    """The text with quoted spans blanked, so '<<' inside a quoted string is not a heredoc."""
    return re.sub(r"'[^']*'|\"(?:\\.|[^\"\\])*\"", lambda m: " " * len(m.group(0)), text)


def _heredoc_body(lines: list[str], i: int, word: str, strip_tabs: bool) -> tuple[str, int]:
    body: list[str] = []
    while i < len(lines):
        candidate = lines[i].lstrip("\t") if strip_tabs else lines[i]
        if candidate.strip() == word:
            return "\n".join(body), i + 1
        body.append(lines[i])
        i += 1
    return "\n".join(body), i


BRACED_VAR = re.compile(r"\$\{[^{}\s;|&]*\}")


def _tokens(text: str) -> list[str]:
    text = text[:MAX_COMMAND]
    braced: list[str] = []

    def hide(m: re.Match[str]) -> str:  # `${X:-default}` is one word, not a `{ }` group
        braced.append(m.group(0))
        return f"\x00{len(braced) - 1}\x00"

    text = BRACED_VAR.sub(hide, text) if "${" in text else text
    lex = shlex.shlex(text, posix=True, punctuation_chars=";&|<>(){}")
    lex.whitespace_split = True
    lex.commenters = "#"
    lex.whitespace = " \t\r"
    try:
        toks = list(lex)
    except ValueError:
        toks = text.replace("\n", " \n ").split()
    if braced:
        toks = [re.sub(r"\x00(\d+)\x00", lambda m: braced[int(m.group(1))], t) for t in toks]
    return _merge_operators(toks)


def _merge_operators(toks: list[str]) -> list[str]:
    """shlex splits `2>` into `2`, `>`; fold the fd into the operator and split glued runs."""
    out: list[str] = []
    for tok in toks:
        if tok and set(tok) <= set(";&|<>(){}") and tok not in SEPARATORS | REDIRECTS | {"<<", "<<-"}:
            out.extend(_split_punct(tok))
        elif tok in {">", ">>", ">&", "<"} and out and out[-1] in {"1", "2", "0"}:
            out[-1] = tok
        else:
            out.append(tok)
    return out


def _split_punct(tok: str) -> list[str]:
    ops = sorted(SEPARATORS | REDIRECTS | {"<<"}, key=len, reverse=True)
    res, i = [], 0
    while i < len(tok):
        for op in ops:
            if tok.startswith(op, i):
                res.append(op)
                i += len(op)
                break
        else:
            res.append(tok[i])
            i += 1
    return res


def _parse_logical(text: str, line: int, bodies: list[tuple[str, int]], out: ShellParse, depth: int) -> None:
    for sub in _substitutions(text):
        nested = parse(sub, line, depth + 1)
        out.commands.extend(nested.commands)
        out.code.extend(nested.code)
        out.decoded.extend(nested.decoded)
        decoded = decode_base64_pipe(sub)
        # `$(echo aHR0... | base64 -d)` stands for the text it decodes to: the command uses that value
        value = shlex.quote(decoded) if decoded is not None and "\n" not in decoded else " __SUBST__ "
        text = text.replace(f"$({sub})", value, 1).replace(f"`{sub}`", value, 1)
    decoded = decode_base64_pipe(text)
    if decoded is not None:
        out.decoded.append((line, decoded))
        if re.search(r"\|\s*(ba|z|da)?sh\s*$", text.strip()):  # `echo ... | base64 -d | bash`: the decoded text is run
            nested = parse(decoded, line, depth + 1)
            out.commands.extend(nested.commands)
            out.code.extend(nested.code)
    toks = _tokens(text)
    segment: list[str] = []
    seg_line = line
    offset = 0  # newlines passed inside this logical line
    previous: Command | None = None
    for tok in toks + [";"]:
        if tok == "\n":
            offset += 1
            if not segment:
                seg_line = line + offset
            continue
        if tok in SEPARATORS:
            if segment:
                cmd = _command(segment, seg_line, bodies)
                if cmd is not None:
                    if previous is not None:
                        cmd.piped_from, cmd.piped_args = previous.name, tuple(previous.argv[1:])
                    _add(cmd, out, depth)
                    previous = cmd if tok in {"|", "|&"} else None
            segment = []
            seg_line = line + offset
            continue
        segment.append(tok)


def _command(tokens: list[str], line: int, bodies: list[tuple[str, int]]) -> Command | None:
    cmd = Command(argv=[], line=line)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in {"<<", "<<-"}:
            i += 3 if i + 1 < len(tokens) and tokens[i + 1] == "-" else 2
            if bodies:
                cmd.heredoc, cmd.heredoc_line = bodies.pop(0)
            continue
        if tok in REDIRECTS:
            if i + 1 < len(tokens):
                cmd.redirects.append((tok, tokens[i + 1]))
            i += 2
            continue
        if not cmd.argv and ASSIGNMENT.match(tok):
            name, _, value = tok.partition("=")
            cmd.env[name] = value
        elif tok != "$":
            cmd.argv.append(tok)
        i += 1
    _unwrap(cmd)
    return cmd if cmd.argv or cmd.redirects or cmd.env else None  # a bare `NAME=value` is kept: later commands use it


def _unwrap(cmd: Command) -> None:
    """Drop wrappers (sudo, env X=1, timeout 5, xargs -0, ...) so argv[0] is the real program."""
    for _ in range(8):
        if not cmd.argv or cmd.name not in WRAPPERS:
            return
        args = cmd.argv[1:]
        while args and (args[0].startswith("-") or ASSIGNMENT.match(args[0]) or (cmd.name in {"timeout", "nice", "watch"} and args[0][:1].isdigit())):
            if ASSIGNMENT.match(args[0]):
                k, _, v = args[0].partition("=")
                cmd.env[k] = v
            args = args[1:]
        cmd.argv = args


def _add(cmd: Command, out: ShellParse, depth: int) -> None:
    out.commands.append(cmd)
    name = cmd.name
    argv = cmd.argv
    if name in SHELLS and "-c" in argv[1:]:
        idx = argv.index("-c")
        if idx + 1 < len(argv):
            nested = parse(argv[idx + 1], cmd.line, depth + 1)
            out.commands.extend(nested.commands)
            out.code.extend(nested.code)
    elif name in SHELLS and cmd.heredoc:
        nested = parse(cmd.heredoc, cmd.heredoc_line or cmd.line, depth + 1)
        out.commands.extend(nested.commands)
        out.code.extend(nested.code)
    elif name == "eval" and len(argv) > 1:
        nested = parse(" ".join(argv[1:]), cmd.line, depth + 1)
        out.commands.extend(nested.commands)
        out.code.extend(nested.code)
    elif PYTHONS.match(name):
        if "-c" in argv[1:]:
            idx = argv.index("-c")
            if idx + 1 < len(argv):
                out.code.append(EmbeddedCode("python", argv[idx + 1], cmd.line))
        elif cmd.heredoc is not None and (len(argv) == 1 or argv[1] == "-"):
            out.code.append(EmbeddedCode("python", cmd.heredoc, cmd.heredoc_line or cmd.line))
    if cmd.heredoc is not None and name in {"cat", "tee"}:
        targets = cmd.writes() + ([a for a in argv[1:] if not a.startswith("-")] if name == "tee" else [])
        for target in targets:
            if target.endswith(".py"):
                out.code.append(EmbeddedCode("python", cmd.heredoc, cmd.heredoc_line or cmd.line, written_to=target))


BASE64_PIPE = re.compile(
    r"(?:^|[;&|(]\s*)(?:echo|printf)\s+(?:-[ne]+\s+)*(['\"]?)(?P<data>[A-Za-z0-9+/_-]{12,}={0,2})\1\s*\|\s*base64\s+(?:-d|--decode|-D)\b"
)


def decode_base64_pipe(text: str) -> str | None:
    """The text that `echo <base64> | base64 -d` in `text` prints, when it is printable text."""
    m = BASE64_PIPE.search(text)
    if not m:
        return None
    data = m.group("data").replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(data + "=" * (-len(data) % 4))
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return decoded if decoded.isprintable() or "\n" in decoded else None


ASSIGNERS = {"export", "declare", "local", "readonly", "typeset"}
VAR_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=]([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def expand(commands: list[Command]) -> list[Command]:
    """The commands with the shell variables set earlier in the same text substituted.

    `D=/private/data; ls $D` reads /private/data, `export API=https://...; curl "$API"`
    calls that URL: variables are followed in order (assignments, export/declare, `${X:-default}`),
    and the directory of a `cd` to an absolute path is kept as the commands' `cwd`.
    """
    variables: dict[str, str] = {}
    cwd: str | None = None
    out = []
    for cmd in commands:
        cmd = Command(argv=[_substitute(a, variables) for a in cmd.argv], line=cmd.line,
                      redirects=[(op, _substitute(t, variables)) for op, t in cmd.redirects], heredoc=cmd.heredoc,
                      heredoc_line=cmd.heredoc_line, env={k: _substitute(v, variables) for k, v in cmd.env.items()},
                      piped_from=cmd.piped_from, piped_args=cmd.piped_args, cwd=cwd)
        if not cmd.argv:
            variables.update(cmd.env)
        elif cmd.name in ASSIGNERS:
            variables.update(a.split("=", 1) for a in cmd.argv[1:] if ASSIGNMENT.match(a))
        elif cmd.name == "cd" and len(cmd.argv) > 1 and cmd.argv[1].startswith("/"):
            cwd = cmd.argv[1]
        out.append(cmd)
    return out


def _substitute(token: str, variables: dict[str, str]) -> str:
    if "$" not in token:
        return token

    def value(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        if name in variables:
            return variables[name]
        return m.group(2) if m.group(2) is not None else m.group(0)

    return VAR_REF.sub(value, token)


def _substitutions(text: str) -> list[str]:
    """The commands inside `$(...)` and backticks, innermost handled by recursion."""
    subs: list[str] = []
    i = 0
    while True:
        i = text.find("$(", i)
        if i < 0 or text.startswith("$((", i):
            break
        depth, j = 1, i + 2
        while j < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
        subs.append(text[i + 2 : j - 1])
        i = j
    subs.extend(re.findall(r"`([^`]+)`", text))
    return subs


def split_argv(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()
