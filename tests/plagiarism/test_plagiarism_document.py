"""The agent document, the code an action holds, the partial-copy rule and the exact
fingerprint candidates: the pieces that find a notebook spread over many actions."""

import numpy as np
import pytest

from auditor.models import Action, ActionKind, Episode, SourceEncoding
from monitors.base import AuditContext
from monitors.evidence import clear_cache, verify
from monitors.plagiarism.index import IndexFormatError, NotebookIndex, sampled_fingerprints
from monitors.plagiarism.monitor import CopyRule, PlagiarismMonitor, Query, Unit, action_code, agent_units
from monitors.plagiarism.notebooks import CodeText, read_notebooks
from monitors.plagiarism.pairs import analyse, analyse_parts, compare
from plag_helpers import notebook_text, renamed, write_notebooks
from rules.load import load_rulebook

# --------------------------------------------------------------------------- the document


def test_a_statement_seen_in_an_earlier_part_is_left_out_but_repeats_within_a_part_stay():
    parts = ["a = load(1)\nb = a.fit()\n", "a = load(1)\nc = b.predict(a)\nc = b.predict(a)\n"]
    doc, offsets = analyse_parts(parts)
    assert offsets == [0, 4]
    text = " ".join(doc.tokens.api)
    assert text.count("N = N ( 0 )") == 1 and text.count("fit") == 1 and text.count("predict") == 2
    # document lines map back to the part and its own line
    lines = sorted(set(doc.tokens.lines))
    assert lines == [1, 2, 6, 7]  # part 1 lines 1-2, part 2 lines 2-3 (its line 1 repeated part 1)


def test_a_part_that_ends_inside_a_bracket_does_not_swallow_the_next():
    doc, _ = analyse_parts(["x = f(1,\n", "y = g(2)\n"])
    assert doc.tokens.structure.count(";") == 2


def test_query_locates_document_lines_in_their_pieces_and_labels_the_spread():
    units = [Unit(CodeText("a = 1\nb = 2"), "logs/x.log"), Unit(CodeText("c = 3"), "code/y.py")]
    doc, offsets = analyse_parts([u.code.text for u in units])
    q = Query(units, offsets, doc)
    assert q.locate(2) == (0, 2) and q.locate(offsets[1] + 1) == (1, 1)
    assert q.text_line(offsets[1] + 1) == "c = 3"
    assert q.unit_end(1) == 2


# --------------------------------------------------------------------------- code in actions


def _action(kind, text, **meta):
    return Action.of(kind, text, "logs/agent.log", 10, SourceEncoding.plain, meta=meta)


def test_an_edit_diff_is_read_by_its_new_side_line_for_line():
    diff = "The edited file is saved to train.py. Here is the diff:\n\n--- \n+++ \n@@ -1,2 +1,3 @@\n-x = 0\n+x = load()\n y = 2\n+z = x + y"
    (code,) = action_code(_action(ActionKind.file_write, diff, path="train.py", diff=True))
    lines = code.split("\n")
    assert len(lines) == len(diff.split("\n"))
    assert [ln for ln in lines if ln] == ["x = load()", "y = 2", "z = x + y"]
    assert lines[6] == "x = load()"  # the diff's line 7


def test_python_in_a_shell_heredoc_keeps_its_lines_and_other_commands_give_none():
    cmd = "cd /home\ncat > train.py << 'EOF'\nimport pandas as pd\ndf = pd.read_csv('a.csv')\nEOF\npython train.py"
    (code,) = action_code(_action(ActionKind.shell, cmd))
    assert code.split("\n")[3] == "df = pd.read_csv('a.csv')"
    assert action_code(_action(ActionKind.shell, "ls -la /home/data")) == []
    assert action_code(_action(ActionKind.file_write, "a,b\n1,2", path="out.csv")) == []


def test_agent_units_skip_actions_of_the_scaffold_and_identical_code(tmp_path):
    ep = Episode(episode_id="e", path="e", root=str(tmp_path), competition_id="c")
    code = "x = f(1)\ny = g(x)\n"
    ep.actions = [_action(ActionKind.python, code), _action(ActionKind.python, code),
                  Action.of(ActionKind.llm, code, "logs/agent.log", 1, actor="scaffold")]
    assert len(agent_units(ep)) == 1


# --------------------------------------------------------------------------- the partial rule


def test_a_large_part_of_a_notebook_in_long_own_code_is_a_partial_copy():
    nb = analyse(notebook_text(3, steps=30))
    lines = notebook_text(3, steps=30).split("\n")
    part = "\n".join(lines[4:20])  # about 40 % of the statements
    own = notebook_text(900, steps=160)
    result = compare(analyse(own + "\n" + renamed(part)), nb)
    rule = CopyRule()
    assert rule.partial(result) and not rule.whole(result)
    assert not rule.is_copy(compare(analyse(own), nb))
    assert not CopyRule(partial_min_tokens=10_000).is_copy(result)


# --------------------------------------------------------------------------- exact candidates


@pytest.fixture
def notebooks(tmp_path):
    root = tmp_path / "nbs"
    write_notebooks(root, "comp-a", 40)
    return root


def test_a_small_copied_piece_is_a_candidate_through_the_fingerprint_table(notebooks, tmp_path):
    index = NotebookIndex.build(read_notebooks(notebooks))
    piece = "\n".join(notebook_text(21).split("\n")[10:22])
    query = analyse(piece)
    cid = index.meta.competitions.index("comp-a")
    exact = index.fingerprint_candidates(cid, query, 10)
    assert exact and index.source(exact[0].doc) == "comp-a/user21_notebook-21.py"
    assert any(index.source(c.doc) == "comp-a/user21_notebook-21.py" for c in index.candidates("comp-a", query))
    unrelated = "import json\nwith open('cfg.json') as fh:\n    config = json.load(fh)\nfor key, value in sorted(config.items()):\n    print(f'{key:>20}: {value!r}')\n"
    assert index.fingerprint_candidates(cid, analyse(unrelated), 10) == []
    # the table survives a save and load, and an index without it is refused
    index.save(tmp_path / "i.npz")
    loaded = NotebookIndex.load(tmp_path / "i.npz")
    assert np.array_equal(loaded.fp_hashes, index.fp_hashes) and np.array_equal(loaded.fp_docs, index.fp_docs)
    with np.load(tmp_path / "i.npz") as z:
        arrays = {k: z[k] for k in z.files if k != "fp_docs"}
    np.savez(tmp_path / "old.npz", **arrays)
    with pytest.raises(IndexFormatError, match="fp_docs"):
        NotebookIndex.load(tmp_path / "old.npz")


def test_sampled_fingerprints_are_a_stable_fraction():
    doc = analyse(notebook_text(5, steps=200))
    s = sampled_fingerprints(doc)
    assert 0.1 < len(s) / len(set(doc.api.hashes.tolist())) < 0.45
    assert np.array_equal(s, sampled_fingerprints(analyse(notebook_text(5, steps=200))))


# --------------------------------------------------------------------------- the monitor


def test_a_notebook_pasted_over_many_small_cells_is_flagged_across_them(notebooks, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    src = renamed(notebook_text(12)).split("\n")
    cells = ["\n".join(src[i : i + 3]) for i in range(0, len(src), 3)]
    log = tmp_path / "ep" / "logs" / "agent.log"
    log.parent.mkdir(parents=True)
    lines, actions = [], []
    for k, cell in enumerate(cells):
        lines.append(f"CODE (cell {k}):")
        actions.append(Action.of(ActionKind.python, cell, "logs/agent.log", len(lines) + 1, step=k))
        lines.extend(cell.split("\n"))
    log.write_text("\n".join(lines) + "\n")
    ep = Episode(episode_id="ep", path="ep", root=str(tmp_path / "ep"), competition_id="comp-a", actions=actions)
    ctx = AuditContext(rulebook=load_rulebook(), notebooks=str(notebooks))
    m = PlagiarismMonitor()
    m.prepare(ctx)
    clear_cache()
    # no single cell holds enough copied tokens to be a copy on its own
    assert all(len(analyse(c)) < 80 for c in cells)
    (flag,) = m.check(ep, ctx)
    assert "read as one document" in flag.summary and "comp-a/user12_notebook-12.py" in flag.summary
    assert len(flag.evidence) >= 2 and all(verify(ep, ev) for ev in flag.evidence)
    assert {ev.match.source for ev in flag.evidence} == {"comp-a/user12_notebook-12.py"}
