"""Fragments and pair metrics on real code."""

from monitors.plagiarism.fingerprint import W
from monitors.plagiarism.pairs import analyse, compare

NOTEBOOK = "\n".join(
    f"feature_{i} = train['col_{i}'].rolling({i + 2}).mean().fillna(method='bfill')\nprint(feature_{i}.describe())"
    for i in range(30)
)
OWN = """import numpy as np
from sklearn.linear_model import Ridge
weights = np.linspace(0, 1, 10)
for alpha in [0.1, 1.0, 10.0]:
    model = Ridge(alpha=alpha).fit(X, y)
    print(alpha, model.score(X_val, y_val))
"""


def test_verbatim_copy_is_one_fragment_covering_everything():
    a = analyse(NOTEBOOK)
    r = compare(a, a)
    assert r.score > 0.99
    assert r.metrics.agent_coverage > 0.95 and r.metrics.notebook_coverage > 0.95
    assert r.metrics.longest >= len(a) - 2 * W  # winnowing may skip the first and last few k-grams


def test_independent_code_shares_nothing():
    r = compare(analyse(OWN), analyse(NOTEBOOK))
    assert r.score == 0.0 and r.metrics.fragments == []


def test_part_of_a_notebook_inside_own_code_is_contained():
    lines = NOTEBOOK.split("\n")
    agent = OWN + "\n" + "\n".join(lines[10:40]) + "\n" + OWN.replace("alpha", "a")
    r = compare(analyse(agent), analyse(NOTEBOOK))
    assert r.score > 0.6
    assert 0.2 < r.metrics.notebook_coverage < 0.7
    frag = r.metrics.fragments[0]
    doc = analyse(agent)
    first_line = doc.tokens.lines[frag.agent_start]
    # the copy starts on line 9; the shared k-gram may begin in the tail of line 6-8
    # (`print(...)` ends like the notebook's print lines do)
    assert 6 <= first_line <= 9


def test_repetitive_code_copied_verbatim_still_scores_high():
    text = "def clean(s):\n    return s" + "".join(f".replace('{c}', '{c.upper()}')" for c in "abcdefghijklmnopqrstuvwxyz") + "\n"
    text += "out = [clean(x) for x in data]\nprint(len(out))\n"
    r = compare(analyse(text), analyse(text))
    assert r.score > 0.95
