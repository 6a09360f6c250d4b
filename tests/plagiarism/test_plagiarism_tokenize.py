"""Tokenizer: what the two channels keep and what they normalise away."""

from monitors.plagiarism.tokenize import Bindings, import_bindings, tokenize

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
    assert "pd" not in t.api and "as" not in t.api  # an import's alias is the copier's to change


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


ALIASED = """import pandas
import sklearn.ensemble
frame = pandas.read_csv('elsewhere.csv')
clf = sklearn.ensemble.RandomForestClassifier(n_estimators=5)
clf.fit(frame, frame.target)
"""
FROM_ALIAS = """import pandas as pds
from sklearn.ensemble import RandomForestClassifier as RF
frame = pds.read_csv('elsewhere.csv')
clf = RF(n_estimators=5)
clf.fit(frame, frame.target)
"""


def _body(t):
    """The tokens after the import statements."""
    return t.api[t.lines.index(3):], t.structure[t.lines.index(3):]


def test_library_aliases_and_module_paths_do_not_change_either_channel_outside_imports():
    a = _body(tokenize(ORIGINAL))
    for other in (ALIASED, FROM_ALIAS):
        assert _body(tokenize(other)) == a, other


def test_long_module_paths_collapse_to_their_last_part_but_object_attributes_do_not():
    t = tokenize("x = np.random.RandomState(0).permutation(df.values.T)\ny = pd.read_csv(p)\n")
    assert t.api == ["N", "=", "RandomState", "(", "0", ")", ".", "permutation", "(", "N", ".", "values", ".", "T", ")", ";",
                     "N", "=", "N", ".", "read_csv", "(", "N", ")", ";"]
    assert len(t.api) == len(t.structure) == len(t.lines)


def test_self_attributes_read_as_the_plain_names_of_the_unwrapped_code():
    flat = tokenize("train = pd.read_csv(path)\nmodel = fit(train)\nmodel.predict(train)\n")
    wrapped = tokenize("    self.train = pd.read_csv(self.path)\n    self.model = self.fit(self.train)\n    self.model.predict(self.train)\n")
    assert wrapped.api == flat.api and wrapped.structure == flat.structure


def test_imports_in_another_cell_are_known_through_bindings():
    cell1 = "import sklearn.metrics as skm\nfrom lightgbm import LGBMRegressor as Reg\n"
    cell2 = "m = Reg(n_estimators=10)\nprint(skm.mean_squared_error(y, m.predict(X)))\n"
    bound = import_bindings(cell1)
    assert "skm" in bound.modules and bound.objects["Reg"] == "LGBMRegressor"
    assert "LGBMRegressor" not in tokenize(cell2).api
    t = tokenize(cell2, bound)
    assert "LGBMRegressor" in t.api and "mean_squared_error" in t.api and "skm" not in t.api
    assert tokenize(cell2, Bindings()).api != t.api  # conventional aliases alone do not know `skm`
