"""Reading and cleaning notebooks: stock cell, magics, paths, .ipynb line maps, layouts."""

import json

from monitors.plagiarism.notebooks import clean_code, code_of_ipynb, iter_notebook_files, read_notebooks

STOCK = """# This Python 3 environment comes with many helpful analytics libraries installed
# It is defined by the kaggle/python Docker image: https://github.com/kaggle/docker-python
import numpy as np # linear algebra
import pandas as pd # data processing, CSV file I/O (e.g. pd.read_csv)
import os
for dirname, _, filenames in os.walk('/kaggle/input'):
    for filename in filenames:
        print(os.path.join(dirname, filename))
df = pd.read_csv('/kaggle/input/leaf-classification/train.csv')
%matplotlib inline
!pip install lightgbm
df.to_csv('/kaggle/working/submission.csv')
"""


def test_clean_blanks_boilerplate_keeps_line_count_and_canonicalises_paths():
    out = clean_code(STOCK).split("\n")
    assert len(out) == len(STOCK.split("\n"))
    assert all(not ln for ln in out[:8])  # the stock cell
    assert out[8] == "df = pd.read_csv('DATA/train.csv')"
    assert out[9] == "" and out[10] == ""  # magic and shell line
    assert out[11] == "df.to_csv('OUT/submission.csv')"


def test_all_data_path_forms_become_one():
    forms = ["../input/train.csv", "/home/data/train.csv", "./input/train.csv", "/kaggle/input/comp-x/train.csv", "input/train.csv"]
    assert {clean_code(f"pd.read_csv('{f}')") for f in forms} == {"pd.read_csv('DATA/train.csv')"}


def _notebook(cells):
    return json.dumps(
        {"cells": [{"cell_type": t, "metadata": {}, "source": s, **({"outputs": [], "execution_count": None} if t == "code" else {})}
                   for t, s in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5},
        indent=1,
    )


def test_ipynb_code_cells_map_to_their_raw_json_lines():
    raw = _notebook([("markdown", ["# Title\n"]), ("code", ["import pandas as pd\n", "df = pd.read_csv('x.csv')"]),
                     ("code", ["print(df.shape)"])])
    code = code_of_ipynb(raw)
    lines = code.text.split("\n")
    raw_lines = raw.split("\n")
    for i, ln in enumerate(lines, start=1):
        if ln.strip():
            assert json.dumps(ln)[1:-1] in raw_lines[code.file_line(i) - 1]
    assert "# Title" not in code.text


def test_ipynb_source_items_without_newlines_are_still_lines():
    raw = _notebook([("code", ["a = 1", "b = 2"])])
    assert code_of_ipynb(raw).text.split("\n")[:2] == ["a = 1", "b = 2"]


def test_broken_ipynb_gives_no_code_instead_of_an_error():
    assert code_of_ipynb("{not json").text == ""
    assert code_of_ipynb("[1, 2]").text == ""


def test_both_layouts_are_read(tmp_path):
    (tmp_path / "a" / "leaf-classification").mkdir(parents=True)
    (tmp_path / "a" / "leaf-classification" / "x_nb.py").write_text("print(1)\n")
    kernels = tmp_path / "b" / "competitions" / "spaceship-titanic" / "kernels" / "user"
    kernels.mkdir(parents=True)
    (kernels / "y_nb.ipynb").write_text(_notebook([("code", ["print(2)"])]))
    (kernels / "notes.txt").write_text("not a notebook")
    assert [(c, p.name) for c, p in iter_notebook_files(tmp_path / "a")] == [("leaf-classification", "x_nb.py")]
    found = list(read_notebooks(tmp_path / "b"))
    assert [(n.competition, n.source) for n in found] == [
        ("spaceship-titanic", "competitions/spaceship-titanic/kernels/user/y_nb.ipynb")
    ]
    assert "print(2)" in found[0].code.text
