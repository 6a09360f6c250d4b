"""Pairing submission rows with answer rows by id, as MLE-bench's sort-then-compare does, but fast.

MLE-bench sorts both tables by the id column (pandas' unstable quicksort), requires the two id
sequences to be equal element by element, then pairs rows by position. Sorting a million text
ids that way takes seconds. When the answers' ids are unique and present, the same outcome
follows from a hash lookup: the sorted sequences are equal exactly when every submission id is
found once, and the pairs are then the same pairs. Otherwise (duplicated or missing answer ids,
booleans, mixed types) we sort exactly as pandas 2.2 did.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grading.errors import InvalidSubmission
from grading.table import column_values, sort_order


class AnswerIds:
    """One answers id column, with what pairing needs computed once (answers are cached)."""

    def __init__(self, values: np.ndarray):
        self.values = values
        self.hashable = _plain_ids(values) and not pd.isna(values).any()
        self.index = pd.Index(values, dtype=object if values.dtype == object else None) if self.hashable else None
        self.hashable = self.hashable and self.index.is_unique
        self._sorted: np.ndarray | None = None

    @property
    def sorted_rows(self) -> np.ndarray:
        if self._sorted is None:
            self._sorted = _unique_sort(self.values) if self.hashable else sort_order(self.values)
        return self._sorted


def _plain_ids(values: np.ndarray) -> bool:
    if values.dtype.kind in "iuf":
        return True
    return values.dtype == object and all(type(v) is str for v in values)


def _unique_sort(values: np.ndarray) -> np.ndarray:
    # With unique keys every correct sort gives the one permutation; Python's sort is the fastest here.
    if values.dtype == object:
        return np.fromiter(sorted(range(len(values)), key=values.__getitem__), dtype=np.intp, count=len(values))
    return np.argsort(values, kind="stable")


_CACHE: dict[tuple[int, str], tuple[pd.DataFrame, AnswerIds]] = {}


def answer_ids(answers: pd.DataFrame, column: str) -> AnswerIds:
    key = (id(answers), column)
    cached = _CACHE.get(key)
    if cached is None or cached[0] is not answers:
        if len(_CACHE) >= 8:
            _CACHE.pop(next(iter(_CACHE)))
        cached = _CACHE[key] = (answers, AnswerIds(column_values(answers, column)))
    return cached[1]


def paired_rows(
    sub: pd.DataFrame, answers: pd.DataFrame, column: str, *, ordered: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (submission, answers) of the pairs MLE-bench scores; invalid when the ids differ.

    With `ordered` the pairs come in the answers' sorted-id order, as MLE-bench's; metrics whose
    floating-point sums do not depend on row order (ROC AUC, accuracy) may pass False.
    """
    ids = answer_ids(answers, column)
    sub_ids = column_values(sub, column)
    if len(sub_ids) != len(ids.values):
        raise InvalidSubmission(f"submission's {column!r} values differ from the answers'")
    if ids.hashable and (sub_ids.dtype.kind in "iuf" or sub_ids.dtype == object):
        return _paired_by_hash(ids, sub_ids, column, ordered)
    sub_rows, answer_rows = sort_order(sub_ids), ids.sorted_rows
    if bool(np.asarray(sub_ids[sub_rows] != ids.values[answer_rows]).any()):
        raise InvalidSubmission(f"submission's {column!r} values differ from the answers'")
    return sub_rows, answer_rows


def _paired_by_hash(ids: AnswerIds, sub_ids: np.ndarray, column: str, ordered: bool) -> tuple[np.ndarray, np.ndarray]:
    if _same_sequence(sub_ids, ids.values):  # the usual case: rows in the sample submission's order
        positions = np.arange(len(sub_ids))
    else:
        positions = ids.index.get_indexer(sub_ids)
    if (positions < 0).any() or (np.bincount(positions, minlength=len(positions)) != 1).any():
        raise InvalidSubmission(f"submission's {column!r} values differ from the answers'")
    if not ordered:
        return np.arange(len(positions)), positions
    sub_row_of_answer = np.empty_like(positions)
    sub_row_of_answer[positions] = np.arange(len(positions))
    answer_rows = ids.sorted_rows
    return sub_row_of_answer[answer_rows], answer_rows


def _same_sequence(sub_ids: np.ndarray, answer_ids: np.ndarray) -> bool:
    return sub_ids.dtype == answer_ids.dtype and bool(np.asarray(sub_ids == answer_ids).all())
