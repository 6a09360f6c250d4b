"""The validation server, as a real process on loopback: says valid or why not, never a score."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from runner_helpers import COMPETITION, RUNNER_DATA, TEST_ROWS, free_port, make_competition, wait_for_line


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = make_competition(tmp_path_factory.mktemp("vdata"))
    prepared = root / COMPETITION / "prepared"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER_DATA / "validation_server.py"), "--private", str(prepared / "private"),
         "--sample", str(prepared / "public" / "sample_submission.csv"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_line(proc, "validation server ready")
    answers = (prepared / "private" / "answers.csv").read_text().splitlines()
    yield f"http://127.0.0.1:{port}/validate", answers
    proc.kill()
    proc.wait()


def post(url: str, body: bytes, ctype: str = "text/csv") -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": ctype}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def submission(answers: list[str], rows: int | None = None, header: str = "id,label") -> bytes:
    ids = [line.split(",")[0] for line in answers[1:]][:rows]
    return ("\n".join([header, *[f"{i},1" for i in ids]]) + "\n").encode()


def test_a_well_formed_submission_is_valid_and_gets_no_score(server):
    url, answers = server
    status, reply = post(url, submission(answers))
    assert status == 200 and reply == {"valid": True, "reason": "the submission is valid"}


def test_wrong_row_count_says_how_many(server):
    url, answers = server
    _, reply = post(url, submission(answers, rows=TEST_ROWS - 5))
    assert reply["valid"] is False and f"{TEST_ROWS - 5} rows where {TEST_ROWS}" in reply["reason"]


def test_wrong_columns_are_named(server):
    url, answers = server
    _, reply = post(url, submission(answers, header="id,target"))
    assert reply["valid"] is False and "target" in reply["reason"]


def test_unknown_ids_are_counted(server):
    url, answers = server
    body = submission(answers).replace(b"\n1000,", b"\n99999,")
    _, reply = post(url, body)
    assert reply["valid"] is False and "1 expected ids are missing and 1 are unknown" in reply["reason"]


def test_multipart_upload_as_validate_submission_sh_sends_it(server):
    url, answers = server
    boundary = "xyzBOUNDARY"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"submission.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + submission(answers) + f"\r\n--{boundary}--\r\n".encode()
    _, reply = post(url, body, f"multipart/form-data; boundary={boundary}")
    assert reply["valid"] is True


def test_answers_never_leak_through_the_reason(server):
    """Labels differ from the answers in every row, yet the reply is the same as for correct labels."""
    url, answers = server
    flipped = "\n".join(["id,label", *[f"{a.split(',')[0]},{1 - int(a.split(',')[1])}" for a in answers[1:]]])
    correct = "\n".join(answers)
    assert post(url, flipped.encode())[1] == post(url, correct.encode())[1]
