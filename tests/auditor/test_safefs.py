import os
from pathlib import Path

import pytest

from auditor.reading import read_run
from auditor.safefs import RunFS, UnsafePath


def make_episode(root: Path, name="spaceship-titanic_11111111-2222-4333-8444-555555555555") -> Path:
    ep = root / name
    (ep / "submission").mkdir(parents=True)
    (ep / "submission" / "submission.csv").write_text("PassengerId,Transported\n0001_01,True\n")
    (ep / "logs").mkdir()
    return ep


def test_symlink_out_of_the_run_is_reported_not_followed(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the private answers: 42\n")
    run = tmp_path / "run"
    ep = make_episode(run)
    os.symlink(secret, ep / "logs" / "agent.log")
    (episode,) = read_run(run)
    assert any("outside the run" in e and "agent.log" in e for e in episode.errors)
    assert all("42" not in a.text for a in episode.actions)
    assert "logs/agent.log" not in episode.files


def test_symlink_loop_is_reported(tmp_path):
    run = tmp_path / "run"
    ep = make_episode(run)
    os.symlink(ep / "logs" / "b", ep / "logs" / "a")
    os.symlink(ep / "logs" / "a", ep / "logs" / "b")
    os.symlink(ep / "logs", ep / "logs" / "dirloop")
    (episode,) = read_run(run)
    assert sum("loops or dangles" in e for e in episode.errors) == 2
    assert any("dirloop" in e for e in episode.errors)


def test_fifo_is_never_opened(tmp_path):
    run = tmp_path / "run"
    ep = make_episode(run)
    os.mkfifo(ep / "logs" / "pipe.log")  # opening it for reading would block forever
    (episode,) = read_run(run)
    assert any("pipe.log" in e and "not a regular file" in e for e in episode.errors)


def test_long_lines_are_streamed_in_pieces(tmp_path):
    f = tmp_path / "one-line.log"
    f.write_bytes(b"x" * (3 * (1 << 20) + 5))
    fs = RunFS(tmp_path)
    pieces = list(fs.iter_lines(f))
    assert [n for n, _ in pieces] == [1, 1, 1, 1]
    assert sum(len(t) for _, t in pieces) == 3 * (1 << 20) + 5


def test_read_bytes_refuses_more_than_the_limit(tmp_path):
    f = tmp_path / "big.json"
    f.write_bytes(b"[" + b"1," * 1000 + b"1]")
    with pytest.raises(UnsafePath):
        RunFS(tmp_path).read_bytes(f, limit=100)
