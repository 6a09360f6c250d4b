"""Pairing submission rows with answer rows by id, as MLE-bench's sort-then-compare does, but fast.

MLE-bench sorts both tables by the id column (pandas' unstable quicksort), requires the two id
sequences to be equal element by element, then pairs rows by position. Sorting a million text
ids that way takes seconds. When the answers' ids are unique and present, the same outcome
follows from a lookup: the sorted sequences are equal exactly when every submission id is
found once, and the pairs are then the same pairs. Otherwise (duplicated or missing answer ids,
booleans, mixed types) we sort exactly as pandas 2.2 did (`paired_rows_by_sorting`).

Text ids are looked up by their Python hash in an integer table, which is several times faster
than pandas' table of Python strings; every pair found that way is then compared as text, so a
hash collision can never pair two different ids. Integer ids close together are found in a
direct table.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TypeVar

import numpy as np
import pandas as pd

from grading.errors import InvalidSubmission
from grading.table import _ANSWERS_CACHE, column_values, sort_order

T = TypeVar("T")
LOOKUP_CHUNK = 1 << 16  # text ids hashed, looked up and compared at a time


class AnswerIds:
    """One answers id column, with what pairing needs computed once (answers are cached)."""

    def __init__(self, values: np.ndarray):
        self.values = values
        self.kind = _id_kind(values)

    @cached_property
    def id_range(self) -> IdRange | None:
        """For integer ids close together (1..N, 4000000..4999999): a direct table, no hashing."""
        return IdRange.of(self.values) if self.kind == "number" else None

    @cached_property
    def lookup(self) -> pd.Index | None:
        """Unique keys to find submission ids in (hashes for text), or None: pair by sorting.

        None also when text ids are unique but two of them share a hash (sorting stays exact).
        """
        if self.kind is None:
            return None
        index = pd.Index(text_hashes(self.values) if self.kind == "text" else self.values)
        return index if index.is_unique else None

    @cached_property
    def sorted_rows(self) -> np.ndarray:
        unique = self.id_range is not None or self.lookup is not None
        return _unique_sort(self.values) if unique else sort_order(self.values)


class IdRange:
    """The answer row of each integer id, in a table indexed by id - smallest id."""

    def __init__(self, low: int, rows: np.ndarray):
        self.low, self.rows = low, rows  # rows[-1] is -1: where every id outside the range lands

    @classmethod
    def of(cls, ids: np.ndarray) -> IdRange | None:
        """None unless the ids are unique int64 within a range of a few times their number."""
        if ids.dtype != np.int64 or not len(ids):
            return None
        low, high = int(ids.min()), int(ids.max())
        if high - low >= 4 * len(ids) + 1024:
            return None
        rows = np.full(high - low + 2, -1, dtype=np.intp)
        rows[ids - low] = np.arange(len(ids))
        if np.count_nonzero(rows >= 0) != len(ids):
            return None  # duplicated ids
        return cls(low, rows)

    def get_indexer(self, sub_ids: np.ndarray) -> np.ndarray:
        # As unsigned numbers, ids below the range become huge; the int64 subtraction may wrap
        # around for extreme ids, but never into the range (that would need an id above 2**63).
        offsets = (sub_ids - np.int64(self.low)).view(np.uint64)
        return self.rows[np.minimum(offsets, len(self.rows) - 1)]


def _id_kind(values: np.ndarray) -> str | None:
    """'text' (every id a str), 'number' (numeric, none missing), or None (pair by sorting)."""
    if values.dtype.kind in "iu":
        return "number"
    if values.dtype.kind == "f":
        return None if np.isnan(values).any() else "number"
    if values.dtype == object and all(type(v) is str for v in values):
        return "text"
    return None


def text_hashes(values: np.ndarray) -> np.ndarray:
    """Python's hash of each id: equal text has equal hashes (the converse is checked later)."""
    return np.fromiter(map(hash, values), dtype=np.int64, count=len(values))


def _unique_sort(values: np.ndarray) -> np.ndarray:
    # With unique keys every correct sort gives the one permutation; Python's sort is the fastest here.
    if values.dtype == object:
        return np.fromiter(sorted(range(len(values)), key=values.__getitem__), dtype=np.intp, count=len(values))
    return np.argsort(values, kind="stable")


_CACHE: dict[tuple[int, object], tuple[pd.DataFrame, object]] = {}


def per_answers(answers: pd.DataFrame, key: object, compute: Callable[[], T]) -> T:
    """`compute()`, kept as long as this answers table is cached (graders never modify it)."""
    cache_key = (id(answers), key)
    cached = _CACHE.get(cache_key)
    if cached is None or cached[0] is not answers:
        if len(_CACHE) >= 32:
            _CACHE.pop(next(iter(_CACHE)))
        cached = _CACHE[cache_key] = (answers, compute())
    return cached[1]


def forget_answers() -> None:
    """Drop every cached answers table and what was derived from it (benchmarks time a first grade)."""
    _ANSWERS_CACHE.clear()
    _CACHE.clear()


def answer_ids(answers: pd.DataFrame, column: str) -> AnswerIds:
    return per_answers(answers, ("ids", column), lambda: AnswerIds(column_values(answers, column)))


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
        raise _ids_differ(column)
    if ids.kind is None:
        return paired_rows_by_sorting(sub_ids, ids, column)
    if _same_sequence(sub_ids, ids.values):  # the usual case: rows in the sample submission's order
        positions = np.arange(len(sub_ids))
    else:
        positions = _looked_up(ids, sub_ids)
        if positions is None:
            return paired_rows_by_sorting(sub_ids, ids, column)
        if not _each_answer_once(positions):
            raise _ids_differ(column)
    if not ordered:
        return np.arange(len(positions)), positions
    sub_row_of_answer = np.empty_like(positions)
    sub_row_of_answer[positions] = np.arange(len(positions))
    answer_rows = ids.sorted_rows
    return sub_row_of_answer[answer_rows], answer_rows


def paired_rows_by_sorting(sub_ids: np.ndarray, ids: AnswerIds, column: str) -> tuple[np.ndarray, np.ndarray]:
    """MLE-bench's own procedure: sort both id columns, require equal sequences, pair by position."""
    sub_rows, answer_rows = sort_order(sub_ids), ids.sorted_rows
    if bool(np.asarray(sub_ids[sub_rows] != ids.values[answer_rows]).any()):
        raise _ids_differ(column)
    return sub_rows, answer_rows


def _looked_up(ids: AnswerIds, sub_ids: np.ndarray) -> np.ndarray | None:
    """The answer row holding each submission id (-1: none); None when only sorting can tell."""
    if sub_ids.dtype != object and sub_ids.dtype.kind not in "iuf":
        return None  # booleans equal 0 and 1 when sorted and compared: leave them to sorting
    if ids.kind == "number" and sub_ids.dtype == np.int64 and ids.id_range is not None:
        return ids.id_range.get_indexer(sub_ids)
    lookup = ids.lookup
    if lookup is None:
        return None
    if ids.kind == "number":
        return lookup.get_indexer(sub_ids)
    if sub_ids.dtype != object:  # numbers never equal text
        return np.full(len(sub_ids), -1, dtype=np.intp)
    return _text_rows(lookup, ids.values, sub_ids)


def _text_rows(lookup: pd.Index, answer_ids: np.ndarray, sub_ids: np.ndarray) -> np.ndarray:
    """Rows found by hash, kept only where the texts are equal (a hash collision finds nothing).

    Chunk by chunk: this thread hashes ids and compares texts (Python work, under the GIL)
    while a helper thread looks up the previous chunk's hashes (pandas' integer table runs
    without the GIL), so the two overlap on a second core.
    """
    rows = np.empty(len(sub_ids), dtype=np.intp)
    chunks = [slice(start, start + LOOKUP_CHUNK) for start in range(0, len(sub_ids), LOOKUP_CHUNK)]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="grading-lookup") as helper:
        pending = None
        for chunk in [*chunks, None]:
            ahead = helper.submit(lookup.get_indexer, text_hashes(sub_ids[chunk])) if chunk else None
            if pending is not None:
                done, found = pending[0], pending[1].result()
                same = (found >= 0) & np.asarray(answer_ids[found] == sub_ids[done], dtype=bool)
                rows[done] = np.where(same, found, -1)
            pending = (chunk, ahead)
    return rows


def _each_answer_once(positions: np.ndarray) -> bool:
    return not (positions < 0).any() and not (np.bincount(positions, minlength=len(positions)) != 1).any()


def _same_sequence(sub_ids: np.ndarray, answer_ids: np.ndarray) -> bool:
    if sub_ids.dtype != answer_ids.dtype:
        return False
    head = slice(0, 64)  # rows in another order usually differ at once: skip the full comparison
    if not np.asarray(sub_ids[head] == answer_ids[head]).all():
        return False
    return bool(np.asarray(sub_ids == answer_ids).all())


def _ids_differ(column: str) -> InvalidSubmission:
    return InvalidSubmission(f"submission's {column!r} values differ from the answers'")
