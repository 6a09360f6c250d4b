"""The three validation families MLE-bench shares between competitions (GRADING-FACTS section 3).

Each step raises `InvalidSubmission` with the reason; the order of the checks is MLE-bench's,
so the first failing check names the problem it would have hit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grading import metrics
from grading.align import paired_rows, per_answers
from grading.errors import InvalidSubmission
from grading.table import column_values, require_columns, require_rows


def probability_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The AUC family's checks of one prediction column: numeric, minimum >= 0, maximum <= 1.

    Missing values pass this check (pandas' min/max skip them) and fail later in the metric.
    """
    values = column_values(frame, column)
    if values.dtype == object or values.dtype.kind not in "biuf":
        raise InvalidSubmission(f"column {column!r} is not numeric")
    present = values[~pd.isna(values)]
    if len(present) and (present.min() < 0 or present.max() > 1):
        raise InvalidSubmission(f"column {column!r} holds values outside [0, 1]; it must hold probabilities")
    return values


def auc_inputs(sub: pd.DataFrame, answers: pd.DataFrame, id_col: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    """MLE-bench's AUC preparation: columns, row count, probabilities, same ids after sorting."""
    require_columns(sub, id_col, target)
    require_rows(sub, answers)
    probability_column(sub, target)
    sub_rows, answer_rows = paired_rows(sub, answers, id_col, ordered=False)  # ROC AUC ignores row order
    labels = per_answers(answers, ("binary", target), lambda: metrics.binary_indicator(column_values(answers, target)))
    return labels[answer_rows], column_values(sub, target)[sub_rows]


def auc(id_col: str, target: str):
    """A grader: ROC AUC of one probability column."""

    def grade(sub: pd.DataFrame, answers: pd.DataFrame) -> np.float64:
        return metrics.roc_auc(*auc_inputs(sub, answers, id_col, target))

    return grade


def accuracy_inputs(
    sub: pd.DataFrame, answers: pd.DataFrame, id_col: str, target: str
) -> tuple[np.ndarray, np.ndarray]:
    """MLE-bench's accuracy preparation: row count first, then columns, then ids after sorting."""
    require_rows(sub, answers)
    require_columns(sub, target, id_col)
    sub_rows, answer_rows = paired_rows(sub, answers, id_col, ordered=False)  # a count of matches
    labels = per_answers(answers, ("labels", target), lambda: metrics.compact_integers(column_values(answers, target)))
    return labels[answer_rows], column_values(sub, target)[sub_rows]


def accuracy(id_col: str, target: str):
    def grade(sub: pd.DataFrame, answers: pd.DataFrame) -> float:
        return metrics.accuracy(*accuracy_inputs(sub, answers, id_col, target))

    return grade


# --------------------------------------------------------------------------- one-hot log loss

ROW_SUM_ATOL = 1e-6  # numpy.isclose(sum, 1, atol=1e-6) with its default rtol 1e-5


def row_sums(frame: pd.DataFrame, columns: list) -> np.ndarray:
    """pandas 2.2's `frame[columns].sum(axis=1)`: missing values skipped, columns added left to right.

    The order of the additions decides rows at the edge of the tolerance, so it is kept.
    """
    total = np.zeros(len(frame))
    for column in columns:
        values = frame[column].to_numpy()
        if values.dtype == object or values.dtype.kind not in "biuf":
            raise InvalidSubmission(f"column {column!r} is not numeric")
        values = values.astype(np.float64, copy=False)
        total = total + np.where(np.isnan(values), 0.0, values)
    return total


def require_probability_rows(frame: pd.DataFrame, columns: list) -> None:
    """Each row sums to 1 within numpy's isclose tolerance, and every value is within [0, 1]."""
    sums = row_sums(frame, columns)
    if not np.isclose(sums, 1, atol=ROW_SUM_ATOL).all():
        raise InvalidSubmission("each row's probabilities must sum to one")
    for column in columns:
        values = frame[column].to_numpy(dtype=np.float64)
        if not ((values >= 0) & (values <= 1)).all():
            raise InvalidSubmission(f"column {column!r} holds values outside [0, 1] (or missing values)")


def one_hot_log_loss(sub: pd.DataFrame, answers: pd.DataFrame, id_col: str = "id") -> float:
    """Every answers column present, same ids after sorting, classes taken by name in answers order."""
    missing = [c for c in answers.columns if c not in sub.columns]
    if missing:
        raise InvalidSubmission(f"submission lacks {len(missing)} answer column(s), e.g. {missing[:3]}")
    require_columns(sub, id_col)
    sub_rows, answer_rows = paired_rows(sub, answers, id_col)
    classes = [c for c in answers.columns if c != id_col]
    truth, true_class = per_answers(answers, ("one-hot", id_col), lambda: _one_hot_truth(answers[classes].to_numpy()))
    # The answers are brought to the submission's rows rather than the other way round (theirs
    # are small: int8 rows or one class number); each row's loss is the same, and the losses
    # are averaged in MLE-bench's pair order.
    answer_of_sub_row = np.empty_like(answer_rows)
    answer_of_sub_row[sub_rows] = answer_rows
    predictions = sub[classes].to_numpy()
    if true_class is not None:
        return metrics.log_loss_of_classes(true_class[answer_of_sub_row], predictions, average_order=sub_rows)
    truth_of_sub_rows = np.take(truth, answer_of_sub_row, axis=0)  # take copies whole rows: faster than indexing
    return metrics.log_loss(truth_of_sub_rows, predictions, average_order=sub_rows)


def _one_hot_truth(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    return metrics.compact_integers(matrix), metrics.one_hot_classes(matrix)
