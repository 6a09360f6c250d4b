"""A small OpenAI-compatible server on loopback, with scripted answers, for the LLM
monitor's tests; and helpers that build episodes from real files.

The server implements POST /v1/chat/completions with the JSON the openai client
expects (choices, usage). Each request is answered by a responder: a function of
the request body and its number that returns a step (an answer, an HTTP error, a
delay, a hang). It records every body and the most requests it had in flight.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from auditor.models import Action, ActionKind, Actor, Episode, Location, SourceEncoding

# --------------------------------------------------------------------------- steps


@dataclass
class Reply:
    content: str
    prompt_tokens: int | None = None  # default: the request's characters / 4
    completion_tokens: int | None = None
    delay: float = 0.0


@dataclass
class Fail:
    status: int
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hang:
    seconds: float  # longer than the client's timeout: the client gives up


Step = Reply | Fail | Hang
Responder = Callable[[dict, int], Step]


class FakeOpenAI:
    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.bodies: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def count(self) -> int:
        return len(self.bodies)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                with fake._lock:
                    n = len(fake.bodies)
                    fake.bodies.append(body)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    self._answer(fake.responder(body, n), body)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _answer(self, step: Step, body: dict) -> None:
                if isinstance(step, Hang):
                    time.sleep(step.seconds)
                    return  # the client has given up; nothing to send
                if isinstance(step, Fail):
                    return self._send(step.status, {"error": {"message": step.message}}, step.headers)
                time.sleep(step.delay)
                prompt_chars = sum(len(m["content"]) for m in body["messages"])
                p = step.prompt_tokens if step.prompt_tokens is not None else prompt_chars // 4
                c = step.completion_tokens if step.completion_tokens is not None else len(step.content) // 4
                self._send(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "fake"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": step.content}}],
                    "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
                })

            def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler


# --------------------------------------------------------------------------- reading requests

_LABELLED = re.compile(r"^\[L(\d+)\] (.*)$")


def asked_rules(body: dict) -> list[str]:
    fmt = body.get("response_format", {})
    if fmt.get("type") == "json_schema":
        return fmt["json_schema"]["schema"]["$defs"]["RuleAnswer"]["properties"]["rule"]["enum"]
    return re.findall(r"^- ([a-z0-9-]+): ", body["messages"][0]["content"], re.MULTILINE)


def sent_lines(body: dict) -> dict[int, str]:
    """Label -> text of every log line in the request."""
    out = {}
    for line in body["messages"][1]["content"].split("\n"):
        m = _LABELLED.match(line)
        if m:
            out[int(m.group(1))] = m.group(2)
    return out


def label_of(body: dict, needle: str) -> str | None:
    for n, text in sent_lines(body).items():
        if needle in text:
            return f"L{n}"
    return None


def answer(body: dict, violations: dict[str, list[tuple[str, str]]] | None = None,
           confidence: float = 0.9, reason: str = "scripted") -> str:
    """An answer for every asked rule; `violations` maps a rule to (line label, quote) pairs."""
    violations = violations or {}
    return json.dumps({"answers": [
        {"rule": r, "violated": r in violations, "confidence": confidence if r in violations else 0.05,
         "quotes": [{"line": lab, "text": q} for lab, q in violations.get(r, [])],
         "reason": reason if r in violations else "nothing in the excerpts"}
        for r in asked_rules(body)
    ]})


def quoting(rule: str, *needles: str, confidence: float = 0.9) -> Responder:
    """A responder that finds each needle in the request and quotes it verbatim for `rule`."""
    def respond(body: dict, n: int) -> Step:
        quotes = [(label_of(body, nd) or "L0", nd) for nd in needles if label_of(body, nd)]
        return Reply(answer(body, {rule: quotes} if quotes else {}, confidence))
    return respond


def scripted(*steps: Step, then: Responder | None = None) -> Responder:
    """The given steps for the first requests, then `then` (default: no violations)."""
    def respond(body: dict, n: int) -> Step:
        if n < len(steps):
            return steps[n]
        return then(body, n) if then else Reply(answer(body))
    return respond


# --------------------------------------------------------------------------- episodes


def write_episode(tmp_path: Path, files: dict[str, str], actor: Actor = Actor.agent,
                  name: str = "spaceship-titanic_00000000-0000-4000-8000-000000000001") -> Episode:
    """An episode directory with these files, each read as one plain-text action."""
    root = tmp_path / name
    actions = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        actions.append(Action(kind=ActionKind.text, text=text.rstrip("\n"), source=Location(file=rel, line=1), actor=actor))
    return Episode(episode_id=name, path=name, root=str(root), competition_id=name.split("_")[0],
                   agent="test-agent", actions=actions, files=list(files))


def add_json_action(episode: Episode, rel: str, key: str, value: str) -> Action:
    """A one-line JSON file whose `key` holds `value`; the action is the decoded string."""
    path = Path(episode.root) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({key: value}) + "\n", encoding="utf-8")
    action = Action(kind=ActionKind.python, text=value, actor=Actor.agent,
                    source=Location(file=rel, line=1, encoding=SourceEncoding.json, json_path=key))
    episode.actions.append(action)
    episode.files.append(rel)
    return action


# --------------------------------------------------------------------------- the monitor


FAST = {"llm_backoff": 0.01, "llm_max_backoff": 0.05, "llm_timeout": 5.0}


def ready_monitor(base_url: str, tmp_path: Path, episodes: list[Episode], **options):
    """A prepared LLM monitor against `base_url`, with its own cache under tmp_path."""
    from monitors.base import AuditContext
    from monitors.llm import LLMMonitor
    from rules.load import load_rulebook

    opts = {"llm_base_url": base_url, "llm_cache_dir": str(tmp_path / "llm-cache"), **FAST, **options}
    ctx = AuditContext(rulebook=load_rulebook(), episodes=episodes, options=opts)
    monitor = LLMMonitor()
    assert monitor.unavailable(ctx) is None
    monitor.prepare(ctx)
    return monitor, ctx
