"""The validation server: says whether a submission is valid and why, never its score.

Runs in its own container, the only one that holds the competition's private
answers (mounted read-only at --private). The agent POSTs its CSV to /validate
(raw body, or multipart form field "file" as MLE-bench's validate_submission.sh
sends it) and gets {"valid": bool, "reason": str}. The checks are structural
(columns, row count, the ids in the first column) so nothing about the answers'
labels leaks. Standard library only; each request is one line on stdout.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 512 * 1024 * 1024


def read_table(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return [], []
    return rows[0], rows[1:]


def find_answers(private_dir: str) -> str | None:
    """The answers CSV in the private folder: answers.csv / test.csv / solution.csv, else the largest CSV."""
    csvs = []
    for root, _dirs, files in os.walk(private_dir):
        for name in files:
            if name.lower().endswith(".csv"):
                csvs.append(os.path.join(root, name))
    for preferred in ("answers.csv", "test.csv", "solution.csv", "test_labels.csv"):
        for path in csvs:
            if os.path.basename(path).lower() == preferred:
                return path
    return max(csvs, key=os.path.getsize) if csvs else None


class Reference:
    """What a valid submission must look like, read once from the answers (and sample submission)."""

    def __init__(self, private_dir: str, sample: str | None) -> None:
        answers = find_answers(private_dir)
        if answers is None:
            raise SystemExit(f"validation server: no answers CSV under {private_dir}")
        with open(answers, encoding="utf-8", errors="replace") as f:
            header, rows = read_table(f.read())
        self.rows = len(rows)
        self.ids = {r[0] for r in rows if r}
        self.columns = header
        if sample and os.path.exists(sample):
            with open(sample, encoding="utf-8", errors="replace") as f:
                sample_header, _ = read_table(f.readline())
            self.columns = sample_header or header

    def check(self, text: str) -> tuple[bool, str]:
        header, rows = read_table(text)
        if not header:
            return False, "the submission is empty"
        if [h.strip() for h in header] != [c.strip() for c in self.columns]:
            return False, f"columns {header} differ from the expected {self.columns}"
        if len(rows) != self.rows:
            return False, f"{len(rows)} rows where {self.rows} are expected"
        bad = [r for r in rows if len(r) != len(header)]
        if bad:
            return False, f"{len(bad)} rows do not have {len(header)} fields"
        ids = {r[0] for r in rows}
        if ids != self.ids:
            return False, f"{len(self.ids - ids)} expected ids are missing and {len(ids - self.ids)} are unknown"
        return True, "the submission is valid"


def multipart_file(body: bytes, content_type: str) -> bytes:
    """The first file part of a multipart/form-data body."""
    boundary = content_type.split("boundary=", 1)[1].strip().strip('"').encode()
    for part in body.split(b"--" + boundary):
        head, sep, content = part.partition(b"\r\n\r\n")
        if sep and b"filename=" in head:
            return content.rsplit(b"\r\n", 1)[0]
    return b""


def make_handler(reference: Reference):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.rstrip("/") != "/validate":
                self.reply(404, {"error": "POST /validate"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.reply(413, {"valid": False, "reason": "the submission is too large"})
                return
            body = self.rfile.read(length)
            ctype = self.headers.get("Content-Type", "")
            if ctype.startswith("multipart/form-data") and "boundary=" in ctype:
                body = multipart_file(body, ctype)
            valid, reason = reference.check(body.decode("utf-8", errors="replace"))
            self.reply(200, {"valid": valid, "reason": reason})

        def do_GET(self) -> None:  # noqa: N802
            self.reply(200 if self.path == "/health" else 404, {"status": "ok"})

        def reply(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt: str, *args) -> None:
            print("validation: " + fmt % args, file=sys.stdout, flush=True)

    return Handler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--private", required=True)
    ap.add_argument("--sample")
    ap.add_argument("--port", type=int, default=5000)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("0.0.0.0", args.port), make_handler(Reference(args.private, args.sample)))
    print("validation server ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
