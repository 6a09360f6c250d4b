"""Tokenizer: what the two channels keep and what they normalise away."""

from monitors.plagiarism.tokenize import tokenize

ORIGINAL = """import pandas as pd
from sklearn.ensemble import RandomForestClassifier
train = pd.read_csv('../input/train.csv')  # load
model = RandomForestClassifier(n_estimators=100)
model.fit(train, train.target)
"""
RENAMED = """import pandas as pd
from sklearn.ensemble import RandomForestClassifier
# a different comment
frame = pd.read_csv('elsewhere.csv')
clf = RandomForestClassifier(n_estimators=5)
clf.fit(frame, frame.target)
"""


def test_renaming_locals_and_changing_literals_and_comments_changes_neither_channel():
    a, b = tokenize(ORIGINAL), tokenize(RENAMED)
    assert a.structure == b.structure
    assert a.api == b.api


def test_api_channel_keeps_api_names_and_structure_channel_does_not():
    t = tokenize(ORIGINAL)
    for name in ("read_csv", "RandomForestClassifier", "n_estimators", "fit", "pandas", "sklearn"):
        assert name in t.api
        assert name not in t.structure
    assert "train" not in t.api and "model" not in t.api  # local names are normalised
    assert "N" in t.api


def test_comments_are_dropped_and_statements_end_with_semicolon_tokens():
    t = tokenize("x = 1  # note\ny = (2 +\n     3)\n")
    assert t.structure == ["N", "=", "0", ";", "N", "=", "(", "0", "+", "0", ")", ";"]
    # the bracketed continuation keeps its own line numbers
    assert t.lines[t.structure.index("+") + 1] == 3


def test_indentation_is_ignored_so_wrapping_in_a_function_only_adds_the_def_line():
    flat = tokenize("a = f(1)\nb = g(a)\n")
    wrapped = tokenize("def step():\n    a = f(1)\n    b = g(a)\nstep()\n")
    assert wrapped.structure[:6] == ["def", "N", "(", ")", ":", ";"]
    body = wrapped.structure[6:]
    assert flat.structure == body[: len(flat.structure)]


def test_python2_and_broken_code_still_tokenizes():
    t = tokenize("print 'hello'\nx = [1, 2\ns = '''unterminated\n")
    assert t.structure[:2] == ["print", "S"]
    assert len(t.structure) == len(t.api) == len(t.lines)


def test_string_prefixes_triple_quotes_and_numbers():
    t = tokenize('x = f"a{b}" + r"""multi\nline""" + 1.5e3 + 0x1F\n')
    assert t.structure == ["N", "=", "S", "+", "S", "+", "0", "+", "0", ";"]
