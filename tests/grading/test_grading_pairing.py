"""Pairing rows by id: the fast lookups agree with MLE-bench's sort-then-compare, case by case.

MLE-bench sorts both tables by id with pandas, requires equal id sequences and pairs rows by
position. `paired_rows` finds the same pairs by lookup (integer ids: a direct table or pandas'
index; text ids: Python hashes, then each pair compared as text) and falls back to sorting
(`paired_rows_by_sorting`) where a lookup cannot tell. Each case runs through both paths and
is checked against pandas' own sort, and the faster ROC AUC against scikit-learn's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from grading import align, metrics
from grading.align import AnswerIds, IdRange, paired_rows, paired_rows_by_sorting
from grading.competitions import GRADERS
from grading.errors import InvalidSubmission


def mlebench_pairs(sub_ids: np.ndarray, answer_ids: np.ndarray) -> list[tuple[int, int]] | None:
    """The reference: pandas sorts each id column; equal sequences pair rows by position."""
    if len(sub_ids) != len(answer_ids):
        return None
    sub_order = pd.Series(sub_ids, dtype=sub_ids.dtype).sort_values().index.to_numpy()
    answer_order = pd.Series(answer_ids, dtype=answer_ids.dtype).sort_values().index.to_numpy()
    if not (sub_ids[sub_order] == answer_ids[answer_order]).all():
        return None
    return list(zip(sub_order.tolist(), answer_order.tolist()))


def frames(answer_ids, sub_ids) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame({"id": sub_ids}), pd.DataFrame({"id": answer_ids})


def fast_pairs(sub_ids, answer_ids, ordered=True) -> list[tuple[int, int]] | None:
    sub, answers = frames(answer_ids, sub_ids)
    try:
        sub_rows, answer_rows = paired_rows(sub, answers, "id", ordered=ordered)
    except InvalidSubmission:
        return None
    return list(zip(sub_rows.tolist(), answer_rows.tolist()))


def sorted_pairs(sub_ids, answer_ids) -> list[tuple[int, int]] | None:
    if len(sub_ids) != len(answer_ids):
        return None
    try:
        sub_rows, answer_rows = paired_rows_by_sorting(sub_ids, AnswerIds(answer_ids), "id")
    except InvalidSubmission:
        return None
    return list(zip(sub_rows.tolist(), answer_rows.tolist()))


@pytest.fixture
def sorting_calls(monkeypatch):
    """How often `paired_rows` fell back to sorting."""
    calls = []

    def spy(*args):
        calls.append(args)
        return paired_rows_by_sorting(*args)

    monkeypatch.setattr(align, "paired_rows_by_sorting", spy)
    return calls


def text(*values) -> np.ndarray:
    return np.array(values, dtype=object)


HEX = text(*(f"{i:08x}" for i in np.random.default_rng(1).permutation(200)))
SHUFFLE = np.random.default_rng(2).permutation(200)


def with_row(ids: np.ndarray, row: int, value) -> np.ndarray:
    changed = ids.copy()  # same dtype: int64 ids stay int64, text stays object
    changed[row] = value
    return changed


# (case, answer ids, submission ids, valid) -- unique answer ids: the fast path decides
FAST_CASES = [
    ("text in order", HEX, HEX.copy(), True),
    ("text shuffled", HEX, HEX[SHUFFLE], True),
    ("text: one id twice, another missing", HEX, with_row(HEX[SHUFFLE], 5, HEX[SHUFFLE][6]), False),
    ("text: an id not in the answers", HEX, with_row(HEX[SHUFFLE], 7, "zzzzzzzz"), False),
    ("text: case differs", HEX, with_row(HEX, 3, HEX[3].upper() + "X"), False),
    ("text: trailing space", HEX, with_row(HEX[SHUFFLE], 9, HEX[SHUFFLE][9] + " "), False),
    ("text: missing id", HEX, with_row(HEX[SHUFFLE], 4, np.nan), False),
    ("text: one row short", HEX, HEX[SHUFFLE][1:], False),
    ("text: one row extra", HEX, np.concatenate([HEX[SHUFFLE], HEX[:1]]), False),
    ("text answers, integer submission", text("1", "2", "3"), np.array([3, 1, 2]), False),
    ("zero-padded text stays text", text("007", "010", "abc"), text("abc", "007", "010"), True),
    ("zero-padded text against its number", text("007", "010", "abc"), text("abc", "7", "010"), False),
    ("dense integers shuffled", np.arange(500, 700), np.arange(500, 700)[SHUFFLE], True),
    ("dense integers written as floats", np.arange(500, 700), np.arange(500, 700)[SHUFFLE] + 0.0, True),
    ("dense integers, one half-way", np.arange(500, 700), with_row(np.arange(500, 700) + 0.0, 3, 503.5), False),
    ("dense integers, one twice", np.arange(500, 700), with_row(np.arange(500, 700)[SHUFFLE], 0, 600), False),
    ("dense integers, one below the range", np.arange(500, 700), with_row(np.arange(500, 700), 0, 499), False),
    ("dense integers, one above the range", np.arange(500, 700), with_row(np.arange(500, 700), 0, 700), False),
    ("dense integers, extremes", np.arange(500, 700), with_row(np.arange(500, 700), 0, -(2**63)), False),
    ("dense integers, top extreme", np.arange(500, 700), with_row(np.arange(500, 700), 0, 2**63 - 1), False),
    ("sparse integers shuffled", np.arange(200) * 10**9, (np.arange(200) * 10**9)[SHUFFLE], True),
    ("sparse integers as floats", np.arange(200) * 10**9, (np.arange(200) * 10**9)[SHUFFLE] + 0.0, True),
    ("sparse integers, one missing", np.arange(200) * 10**9, with_row(np.arange(200) * 10**9, 8, 7), False),
    ("integers against text", np.arange(3), text("2", "0", "abc"), False),
    ("float ids", np.array([0.5, 1.5, 2.5]), np.array([2.5, 0.5, 1.5]), True),
    ("float ids, integer submission", np.array([0.0, 1.0, 2.0]), np.array([2, 0, 1]), True),
]

# duplicated or missing answer ids, booleans: only sorting can tell
SORTED_CASES = [
    ("duplicated text answers in order", text("a", "b", "a", "c"), text("a", "b", "a", "c"), True),
    ("duplicated text answers shuffled", text("a", "b", "a", "c"), text("c", "a", "b", "a"), True),
    ("duplicated answers, other multiplicity", text("a", "b", "a", "c"), text("c", "a", "b", "b"), False),
    ("duplicated integer answers", np.array([5, 5, 6]), np.array([6, 5, 5]), True),
    ("missing answer id", text("a", np.nan, "c"), text("c", "a", np.nan), False),
    ("boolean submission ids equal 0 and 1", np.array([0, 1]), np.array([True, False]), True),
]


@pytest.mark.parametrize("case, answer_ids, sub_ids, valid", FAST_CASES, ids=[c[0] for c in FAST_CASES])
def test_fast_path_pairs_as_mlebench_sorts(case, answer_ids, sub_ids, valid, sorting_calls):
    expected = mlebench_pairs(sub_ids, answer_ids)
    assert (expected is not None) is valid
    assert fast_pairs(sub_ids, answer_ids) == expected  # ordered: the same pairs in the same order
    unordered = fast_pairs(sub_ids, answer_ids, ordered=False)
    assert (unordered is None) is (expected is None)
    if expected is not None:
        assert sorted(unordered) == sorted(expected)
    assert not sorting_calls, f"{case}: fell back to sorting"


@pytest.mark.parametrize("case, answer_ids, sub_ids, valid", FAST_CASES + SORTED_CASES, ids=lambda c: str(c)[:40])
def test_sorting_path_pairs_as_mlebench_sorts(case, answer_ids, sub_ids, valid):
    expected = mlebench_pairs(sub_ids, answer_ids)
    assert (expected is not None) is valid
    assert sorted_pairs(sub_ids, answer_ids) == expected


@pytest.mark.parametrize("case, answer_ids, sub_ids, valid", SORTED_CASES, ids=[c[0] for c in SORTED_CASES])
def test_ambiguous_ids_fall_back_to_sorting(case, answer_ids, sub_ids, valid, sorting_calls):
    expected = mlebench_pairs(sub_ids, answer_ids)
    pairs = fast_pairs(sub_ids, answer_ids)
    if sub_ids.tolist() == answer_ids.tolist() and expected is not None:
        assert sorted(pairs) == sorted(expected)  # equal sequences: every sort pairs a row with itself
    else:
        assert pairs == expected
        assert sorting_calls, f"{case}: expected the sorting path"


def test_a_hash_collision_never_pairs_different_text(monkeypatch):
    # Every id of the same length gets the same "hash": lookups find the wrong row, the text
    # comparison must refuse it, and colliding answers must send pairing to sorting.
    monkeypatch.setattr(align, "text_hashes", lambda values: np.array([len(v) for v in values], dtype=np.int64))
    answers = text("a", "bb", "ccc")
    assert fast_pairs(text("ccc", "a", "bb"), answers, ordered=False) == [(0, 2), (1, 0), (2, 1)]
    assert fast_pairs(text("ccc", "z", "bb"), answers) is None  # "z" hashes like "a" but is not "a"
    colliding = text("a", "b", "cc")
    assert AnswerIds(colliding).lookup is None
    assert fast_pairs(text("cc", "b", "a"), colliding) == mlebench_pairs(text("cc", "b", "a"), colliding)


def test_integer_range_table_is_used_only_for_unique_close_ids():
    assert IdRange.of(np.arange(1, 1001)) is not None
    assert IdRange.of(np.array([3, 3, 4])) is None  # duplicated
    assert IdRange.of(np.arange(10) * 10**6) is None  # too spread out: a hash table is smaller
    assert IdRange.of(np.arange(10) + 0.0) is None  # floats are looked up by pandas
    table = IdRange.of(np.array([12, 10, 11]))
    found = table.get_indexer(np.array([11, 12, 9, 13, -(2**63), 2**63 - 1, 10]))
    assert found.tolist() == [2, 0, -1, -1, -1, -1, 1]


# --------------------------------------------------------------------------- whole graders


def graded(competition_id: str, sub: pd.DataFrame, answers: pd.DataFrame):
    try:
        return repr(GRADERS[competition_id](sub, answers))
    except InvalidSubmission as exc:
        return f"invalid: {exc}"


def competition_cases(rows: int = 3000) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    rng = np.random.default_rng(5)
    hex_ids = np.array([f"{i:012x}" for i in rng.permutation(rows)], dtype=object)
    pixel_ids = np.array([f"{1 + i // 100}_{1 + i // 10 % 10}_{1 + i % 10}" for i in range(rows)], dtype=object)
    author = rng.integers(0, 3, rows)
    probabilities = rng.random((rows, 3))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return [
        (
            "histopathologic-cancer-detection",
            pd.DataFrame({"id": hex_ids, "label": rng.integers(0, 2, rows)}),
            pd.DataFrame({"id": hex_ids, "label": rng.integers(0, 5, rows) / 4}),  # many ties
        ),
        (
            "denoising-dirty-documents",
            pd.DataFrame({"id": pixel_ids, "value": rng.random(rows)}),
            pd.DataFrame({"id": pixel_ids, "value": rng.random(rows)}),
        ),
        (
            "tabular-playground-series-dec-2021",
            pd.DataFrame({"Id": 4_000_000 + np.arange(rows), "Cover_Type": rng.integers(1, 8, rows)}),
            pd.DataFrame({"Id": 4_000_000 + np.arange(rows), "Cover_Type": rng.integers(1, 8, rows)}),
        ),
        (
            "spooky-author-identification",
            pd.DataFrame({"id": hex_ids, **{a: (author == k).astype(int) for k, a in enumerate(["EAP", "HPL", "MWS"])}}),
            pd.DataFrame({"id": hex_ids, **{a: probabilities[:, k] for k, a in enumerate(["EAP", "HPL", "MWS"])}}),
        ),
    ]


@pytest.mark.parametrize("competition_id, answers, sub", competition_cases(), ids=lambda c: str(c)[:30])
def test_graders_score_the_same_on_both_paths_in_any_row_order(competition_id, answers, sub, monkeypatch):
    id_col = answers.columns[0]
    shuffled = sub.sample(frac=1, random_state=3).reset_index(drop=True)
    foreign = shuffled.copy()
    foreign.loc[0, id_col] = foreign.loc[1, id_col]  # a duplicated id in place of another
    fast = [graded(competition_id, s, answers) for s in (sub, shuffled, foreign)]
    monkeypatch.setattr(align, "_looked_up", lambda ids, sub_ids: None)  # force sorting
    monkeypatch.setattr(align, "_same_sequence", lambda sub_ids, answer_ids: False)
    align.forget_answers()
    slow = [graded(competition_id, s, answers) for s in (sub, shuffled, foreign)]
    assert fast == slow
    assert fast[0] == fast[1] and not fast[0].startswith("invalid")  # row order changes nothing
    assert fast[2].startswith("invalid") and "differ" in fast[2]


# --------------------------------------------------------------------------- ROC AUC


@pytest.mark.parametrize("seed", range(6))
def test_roc_auc_is_scikit_learns_number_to_the_last_bit(seed):
    rng = np.random.default_rng(seed)
    for n in (2, 3, 7, 50, 1000, 20000):
        labels = rng.integers(0, 2, n)
        labels[:2] = [0, 1]
        scores = [
            rng.random(n),
            rng.integers(0, 3, n) / 2,  # heavy ties
            np.full(n, 0.25),  # one threshold
            np.where(rng.random(n) < 0.5, -0.0, 0.0) + rng.integers(0, 2, n),  # -0.0 ties 0.0
            np.where(labels == 1, rng.random(n) + 0.5, rng.random(n)),  # nearly separable
            np.round(rng.normal(size=n), 1),  # negative scores (logits): sorted by argsort, not bits
        ]
        encodings = [labels, labels + 0.0, labels.astype(bool), np.where(labels == 1, 7, 3), np.where(labels == 1, "y", "n")]
        for y_score in scores:
            for y_true in encodings:
                expected = np.float64(roc_auc_score(y_true, y_score))
                assert metrics.roc_auc(y_true, y_score).tobytes() == expected.tobytes()


def test_answers_binary_labels_are_converted_once_and_score_the_same():
    labels = np.array([3, 7, 7, 3, 7])
    indicator = metrics.binary_indicator(labels)
    assert indicator.dtype == np.int8 and indicator.tolist() == [0, 1, 1, 0, 1]
    scores = np.array([0.1, 0.9, 0.4, 0.4, 0.2])
    assert metrics.roc_auc(indicator, scores) == metrics.roc_auc(labels, scores)
    for not_binary in (np.array([1, 1, 1]), np.array([0, 1, 2]), np.array([0.5, 1.0])):
        assert metrics.binary_indicator(not_binary) is not_binary  # the metric refuses it later


def test_count_unique_matches_numpy():
    rng = np.random.default_rng(0)
    for values in (
        rng.integers(1, 8, 10_000),
        np.array([-(2**63), 2**63 - 1]),
        np.array([2**64 - 1, 0], dtype=np.uint64),
        np.array([2**64 - 1, 2**64 - 3, 2**64 - 1], dtype=np.uint64),  # close together near the top
        np.array([-100, 100, 5, 100], dtype=np.int8),  # the difference overflows int8
        np.array([7, 3, 7], dtype=np.uint8),
        np.array([True, False, True]),
        np.array([], dtype=np.int64),
        rng.integers(-(10**12), 10**12, 100),
        np.array([0.5, 0.5, 1.0]),
    ):
        assert metrics.count_unique(values) == len(np.unique(values))


# --------------------------------------------------------------------------- one-hot log loss


@pytest.mark.parametrize("classes", [2, 3, 9, 99, 120])
def test_one_hot_log_loss_by_class_is_the_full_computation_to_the_last_bit(classes):
    rng = np.random.default_rng(classes)
    n = 5000
    true_class = rng.integers(0, classes, n)
    truth = np.eye(classes, dtype=np.int64)[true_class]
    predictions = rng.random((n, classes))
    predictions /= predictions.sum(axis=1, keepdims=True)
    predictions[:50] = np.eye(classes)[rng.integers(0, classes, 50)]  # hard 0/1 predictions: clipped
    predictions[50:60] = 1e-300  # below eps
    order = rng.permutation(n)
    assert metrics.one_hot_classes(truth).tolist() == true_class.tolist()
    full = metrics.log_loss(truth, predictions, average_order=order)
    assert metrics.log_loss_of_classes(true_class, predictions, average_order=order) == full
    assert full == metrics.log_loss(truth[order], predictions[order])  # the order is the averaging order


def test_answers_that_are_not_one_hot_keep_the_full_computation():
    for truth in (
        np.array([[1, 0], [1, 1]]),  # two classes in a row
        np.array([[1, 0], [0, 0]]),  # none
        np.array([[2, 0], [0, 1]]),  # not 0/1
        np.array([[1.0, 0.0], [0.0, 1.0]]),  # floats: left to the full computation
        np.array([[1], [1]]),  # one column
    ):
        assert metrics.one_hot_classes(truth) is None
