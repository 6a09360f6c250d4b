"""The registered monitor on real files: synthetic episodes, then the development corpus."""

import json

import pytest

from auditor.models import CodeFile, Episode
from monitors.base import AuditContext, registered
from monitors.evidence import clear_cache, verify
from monitors.plagiarism.index import NotebookIndex
from monitors.plagiarism.monitor import ENV_NOTEBOOKS, PlagiarismMonitor
from monitors.plagiarism.notebooks import read_notebooks
from plag_helpers import notebook_text, renamed, write_notebooks
from rules.load import load_rulebook


def _episode(root, competition, files):
    code = root / "code"
    code.mkdir(parents=True)
    code_files = []
    for name, text in files.items():
        (code / name).write_text(text)
        code_files.append(CodeFile(path=f"code/{name}", text=text, language="notebook" if name.endswith(".ipynb") else "python"))
    return Episode(episode_id=root.name, path=root.name, root=str(root), competition_id=competition, code_files=code_files)


def _monitor(notebooks):
    ctx = AuditContext(rulebook=load_rulebook(), notebooks=str(notebooks))
    m = PlagiarismMonitor()
    assert m.unavailable(ctx) is None
    m.prepare(ctx)
    return m, ctx


def test_registered_under_its_name():
    assert registered()["plagiarism"] is PlagiarismMonitor


def test_unavailable_without_notebooks(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_NOTEBOOKS, raising=False)
    m = PlagiarismMonitor()
    assert "--notebooks" in m.unavailable(AuditContext(rulebook=load_rulebook()))
    assert "not found" in m.unavailable(AuditContext(rulebook=load_rulebook(), notebooks=str(tmp_path / "x")))
    monkeypatch.setenv(ENV_NOTEBOOKS, str(tmp_path))
    assert m.unavailable(AuditContext(rulebook=load_rulebook())) is None


def test_a_disguised_copy_inside_own_code_is_flagged_with_side_by_side_evidence(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    nbs = tmp_path / "notebooks"
    write_notebooks(nbs, "comp-a", 30)
    m, ctx = _monitor(nbs)
    own = "import json\nconfig = json.load(open('cfg.json'))\nprint(config)\n"
    ep = _episode(tmp_path / "comp-a_1", "comp-a", {"solution.py": own + renamed(notebook_text(12)) + own})
    clear_cache()
    flags = m.check(ep, ctx)
    assert len(flags) == 1
    flag = flags[0]
    assert flag.rule == "plagiarism" and flag.severity == "high" and flag.confidence >= 0.8
    assert "comp-a/user12_notebook-12.py" in flag.summary and "95th percentile" in flag.summary
    for ev in flag.evidence:
        assert verify(ep, ev), ev
        assert ev.file == "code/solution.py" and ev.line > 3  # the copy starts after the own code
        assert ev.match.source == "comp-a/user12_notebook-12.py"
        nb_lines = (nbs / ev.match.source).read_text().split("\n")
        assert ev.match.excerpt in nb_lines[ev.match.line - 1]
        assert ev.match.end_line >= ev.match.line
        assert ev.match.similarity >= 0.6


def test_independent_code_and_other_competitions_are_not_flagged(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    nbs = tmp_path / "notebooks"
    write_notebooks(nbs, "comp-a", 30)
    m, ctx = _monitor(nbs)
    own = notebook_text(5000)  # same style and APIs, independent choices
    assert m.check(_episode(tmp_path / "comp-a_2", "comp-a", {"solution.py": own}), ctx) == []
    copy = notebook_text(4)
    assert m.check(_episode(tmp_path / "comp-z_3", "comp-z", {"solution.py": copy}), ctx) == []


def test_copy_in_an_agent_notebook_cites_the_ipynb_json_line(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    nbs = tmp_path / "notebooks"
    write_notebooks(nbs, "comp-a", 20)
    m, ctx = _monitor(nbs)
    src = notebook_text(7).split("\n")
    nb = json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
                                "source": [ln + "\n" for ln in src]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1)
    ep = _episode(tmp_path / "comp-a_4", "comp-a", {"solution.ipynb": nb})
    clear_cache()
    flags = m.check(ep, ctx)
    assert len(flags) == 1 and flags[0].evidence
    assert all(verify(ep, ev) and ev.file == "code/solution.ipynb" for ev in flags[0].evidence)


# --------------------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory):
    from tests.conftest import SHARED, need_shared

    need_shared()
    path = tmp_path_factory.mktemp("plag") / "notebooks.npz"
    NotebookIndex.build(read_notebooks(SHARED / "notebooks")).save(path)
    return path


def test_corpus_plagiarism_episodes_are_flagged_and_clean_ones_are_not(corpus, corpus_index):
    from auditor.reading import read_run

    labels = json.loads((corpus / "labels.json").read_text())
    competitions = {p.name for p in (corpus.parent / "notebooks").iterdir() if p.is_dir()}
    m, ctx = _monitor(corpus_index)
    expected_source = {
        "leaf-classification": "leaf-classification/towhid1_rforest-with-calibration-score-0-07948.py",
        "nomad2018-predict-transparent-conductors": "nomad2018-predict-transparent-conductors/johnfarrell_nomad2018-simple-lgbm-starter.py",
        "jigsaw-toxic-comment-classification-challenge": "jigsaw-toxic-comment-classification-challenge/jhoward_nb-svm-strong-linear-baseline.py",
    }
    flagged, clean_checked = 0, 0
    for base in (corpus / "runs", corpus / "bad-input"):
        for ep in read_run(base):
            if ep.competition_id not in competitions:
                continue
            key = next(k for k in labels if k.endswith("/" + ep.episode_id))
            flags = m.check(ep, ctx)
            if "plagiarism" in labels[key]:
                assert len(flags) >= 1, key
                assert flags[0].evidence[0].match.source == expected_source[ep.competition_id]
                assert all(verify(ep, ev) for ev in flags[0].evidence)
                assert flags[0].confidence >= 0.8
                flagged += 1
            else:
                assert flags == [], (key, [f.summary for f in flags])
                clean_checked += 1
    assert flagged == 3
    assert clean_checked >= 15


def test_corpus_copy_is_found_from_the_agent_log_alone(corpus, corpus_index):
    """Without code/ files the AIDE journal node (a JSON string on one line) is cited."""
    from auditor.reading import read_run

    m, ctx = _monitor(corpus_index)
    group = next((corpus / "runs").glob("*run-group_aide"))
    ep = next(e for e in read_run(group) if e.episode_id.startswith("leaf-classification_b20f9827"))
    ep.code_files = [cf for cf in ep.code_files if not cf.path.endswith("solution.py")]
    flags = m.check(ep, ctx)
    assert flags and flags[0].evidence
    ev = flags[0].evidence[0]
    assert ev.file.startswith("logs/") and verify(ep, ev)
