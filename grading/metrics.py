"""Metrics as scikit-learn 1.5 computes them, on any scikit-learn version.

MLE-bench was built with scikit-learn 1.5; later releases changed what some metrics accept
(single-class ROC AUC returns NaN from 1.6, RMSLE accepts values above -1 from 1.6, 1.9 refuses
text labels against numbers). Each function here first applies scikit-learn 1.5's input checks
itself, then lets the installed scikit-learn compute, so the numbers are its numbers.

Return types matter: MLE-bench rounds with `round(score, 5)`, which rounds a numpy float64 by
numpy's rule (scale, round half to even, unscale) and a Python float by Python's (exact). Each
metric returns the type scikit-learn 1.5 (or numpy) returned, so rounding stays identical.
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy
from sklearn.metrics import auc, cohen_kappa_score, root_mean_squared_error

from grading.errors import InvalidSubmission

EPS = np.finfo(np.float64).eps


def as_float_array(values: np.ndarray, what: str) -> np.ndarray:
    """scikit-learn's check_array for a numeric input: float64, finite, no missing values."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidSubmission(f"{what} is not numeric") from exc
    if not np.isfinite(array).all():
        kind = "missing" if np.isnan(array).any() else "infinite"
        raise InvalidSubmission(f"{what} has {kind} values")
    return array


# --------------------------------------------------------------------------- target types


def target_type(values: np.ndarray) -> str:
    """scikit-learn 1.5's `type_of_target` for a 1-d array: binary, multiclass, continuous, unknown."""
    values = np.asarray(values)
    if len(values) == 0:
        return "binary"
    if values.dtype == object and not isinstance(values[0], str):
        return "unknown"
    if values.dtype.kind == "f" and bool(np.any(values != values.astype(int))):
        if not np.isfinite(values).all():
            raise InvalidSubmission("labels contain missing or infinite values")
        return "continuous"
    try:
        n_unique = count_unique(values)
    except TypeError as exc:  # text mixed with missing values cannot be sorted
        raise InvalidSubmission("labels mix text and missing values") from exc
    return "multiclass" if n_unique > 2 else "binary"


SMALL_RANGE = 1 << 20  # integer labels spanning fewer values than this are counted in a table


def count_unique(values: np.ndarray) -> int:
    """`len(np.unique(values))`; integer labels (classes, 0/1) are counted without sorting."""
    if values.dtype.kind in "iu" and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < SMALL_RANGE:
            # subtract in a type that holds every value and the small difference exactly
            shifted = values - values.dtype.type(low) if values.dtype.kind == "u" else values.astype(np.int64, copy=False) - low
            return int(np.count_nonzero(np.bincount(shifted.astype(np.intp, copy=False), minlength=1)))
    return len(np.unique(values))


def classification_type(y_true: np.ndarray, y_pred: np.ndarray) -> str:
    """scikit-learn 1.5's `_check_targets` for 1-d labels (accuracy, kappa)."""
    kinds = {target_type(y_true), target_type(y_pred)}
    if kinds == {"binary", "multiclass"}:
        kinds = {"multiclass"}
    if len(kinds) > 1:
        raise InvalidSubmission(f"labels mix target types {sorted(kinds)}")
    kind = kinds.pop()
    if kind not in ("binary", "multiclass"):
        raise InvalidSubmission(f"labels of type {kind!r} are not class labels")
    if kind == "binary":
        try:
            if len(np.union1d(y_true, y_pred)) > 2:
                kind = "multiclass"
        except TypeError as exc:
            raise InvalidSubmission("predicted labels are not of the answers' type") from exc
    return kind


# --------------------------------------------------------------------------- metrics


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> np.float64:
    """Binary ROC AUC; like scikit-learn 1.5, a single class in the answers is an error."""
    y_score = as_float_array(y_score, "predictions")
    if len(y_true) != len(y_score):
        raise InvalidSubmission(f"{len(y_score)} predictions for {len(y_true)} answers")
    if target_type(y_true) != "binary":
        raise InvalidSubmission("answers are not binary labels; ROC AUC is undefined")
    classes = np.unique(y_true)  # binary: two values at most
    if len(classes) < 2:
        raise InvalidSubmission("only one class present in the answers; ROC AUC is undefined")
    return binary_roc_auc((y_true == classes[1]).astype(np.int8), y_score)


def binary_roc_auc(positive: np.ndarray, y_score: np.ndarray) -> np.float64:
    """scikit-learn 1.5's `roc_auc_score` of 0/1 labels (1 = the larger class), step for step.

    The same operations on the same numbers as its `_binary_clf_curve`, `roc_curve` (with
    `drop_intermediate`) and `auc`, so the same float, several times faster: its validation and
    repeated label checks are skipped (done once above), and its stable sort is replaced by
    numpy's default one. Tied scores may then come in another order, which changes nothing:
    the curve only takes the counts of positives and negatives at the end of each run of equal
    scores, and those counts are exact integers in any order.
    """
    hits, run_ends = _by_descending_score(positive, y_score)
    threshold_idxs = np.r_[run_ends, len(hits) - 1]
    tps = np.cumsum(hits, dtype=np.float64)[threshold_idxs]
    fps = 1 + threshold_idxs - tps
    if len(fps) > 2:  # drop points collinear with their neighbours, as roc_curve does by default
        corners = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
        fps, tps = fps[corners], tps[corners]
    tps, fps = np.r_[0, tps], np.r_[0, fps]
    return np.float64(auc(fps / fps[-1], tps / tps[-1]))


def _by_descending_score(positive: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The labels in descending order of score, and the last position of each run of equal scores.

    Scores that are all >= 0 (probabilities) sort as their bit patterns, shifted left to put
    the label in the lowest bit: one numpy sort of integers instead of an argsort. The shift
    drops the sign bit, which among such scores only -0.0 has: it joins 0.0's run, as it must.
    """
    if len(y_score) and y_score.min() >= 0:
        keys = np.sort((y_score.view(np.uint64) << np.uint64(1)) | positive.astype(np.uint64))[::-1]
        return keys & np.uint64(1), np.flatnonzero(np.diff(keys >> np.uint64(1)))
    descending = np.argsort(y_score)[::-1]
    return positive[descending], np.flatnonzero(np.diff(y_score[descending]))


def binary_indicator(labels: np.ndarray) -> np.ndarray:
    """Two-class labels as int8 0/1, 1 for the larger class, as scikit-learn binarizes them.

    Anything else (one class, several, continuous values, text mixed with missing values) is
    returned unchanged, for the metric's own checks to refuse. Used to convert the answers
    once; `roc_auc` gives the same number for the labels and for their indicator.
    """
    try:
        kind = target_type(labels)
        classes = np.unique(labels)
    except (InvalidSubmission, TypeError):
        return labels
    if kind != "binary" or len(classes) != 2:
        return labels
    return (labels == classes[1]).astype(np.int8)


def mean_column_auc(y_true: np.ndarray, y_score: np.ndarray) -> np.float64:
    """Macro ROC AUC of a label matrix (scikit-learn's average="macro": np.average of the columns)."""
    if y_true.shape != y_score.shape:
        raise InvalidSubmission(f"prediction matrix is {y_score.shape}, answers are {y_true.shape}")
    scores = [roc_auc(y_true[:, j], y_score[:, j]) for j in range(y_true.shape[1])]
    return np.average(scores)


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> np.float64:
    y_true, y_pred = _paired_floats(y_true, y_pred)
    return np.float64(root_mean_squared_error(y_true, y_pred))


def rmsle(y_true: np.ndarray, y_pred: np.ndarray) -> np.float64:
    """scikit-learn 1.5 refuses any negative value (later versions only values <= -1)."""
    y_true, y_pred = _paired_floats(y_true, y_pred)
    if (y_true < 0).any() or (y_pred < 0).any():
        raise InvalidSubmission("RMSLE is undefined for negative values")
    return np.float64(root_mean_squared_error(np.log1p(y_true), np.log1p(y_pred)))


def _paired_floats(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_pred = as_float_array(y_pred, "predictions")
    y_true = as_float_array(y_true, "answers")
    if len(y_true) != len(y_pred):
        raise InvalidSubmission(f"{len(y_pred)} predictions for {len(y_true)} answers")
    return y_true, y_pred


def log_loss(y_true: np.ndarray, y_pred: np.ndarray, average_order: np.ndarray | None = None) -> float:
    """scikit-learn 1.5's log loss: clip to [eps, 1 - eps], no renormalisation, mean of -ln p.

    `y_true` is either 1-d binary labels (then `y_pred` is the probability of the larger label)
    or a one-hot matrix with one column per class, as `y_pred`. With `average_order` the rows'
    losses are averaged in that order (the float sum depends on it), whatever order the rows
    come in: callers pair rows without moving the predictions.
    """
    y_pred = as_float_array(y_pred, "predictions")
    if len(y_pred) != len(y_true):
        raise InvalidSubmission(f"{len(y_pred)} predictions for {len(y_true)} answers")
    truth = _binarized(np.asarray(y_true))
    if y_pred.ndim == 1:
        y_pred = y_pred[:, np.newaxis]
    if y_pred.shape[1] == 1:
        y_pred = np.append(1 - y_pred, y_pred, axis=1)
    y_pred = np.clip(y_pred, EPS, 1 - EPS)
    if truth.shape[1] != y_pred.shape[1]:
        raise InvalidSubmission(f"answers have {truth.shape[1]} classes, predictions {y_pred.shape[1]}")
    loss = -xlogy(truth, y_pred).sum(axis=1)
    if average_order is not None:
        loss = loss[average_order]
    return float(np.average(loss))


def one_hot_classes(truth: np.ndarray) -> np.ndarray | None:
    """Each row's class when every answers row is a single 1 among 0s, else None."""
    if truth.ndim != 2 or truth.shape[1] < 2 or not len(truth) or truth.dtype.kind not in "biu":
        return None
    if not ((truth == 0) | (truth == 1)).all() or not (truth.sum(axis=1) == 1).all():
        return None
    return truth.argmax(axis=1)


def log_loss_of_classes(true_class: np.ndarray, y_pred: np.ndarray, average_order: np.ndarray | None = None) -> float:
    """`log_loss` of one-hot answers given as each row's class: the same number, fewer operations.

    A row's loss there is minus the sum of xlogy(answer, prediction) over its columns; every
    term but the true class's is exactly 0.0, and the true class's is ln(clipped p) < 0, never
    a zero, so the sum in any order is that term: here it is the only one computed.
    """
    y_pred = as_float_array(y_pred, "predictions")
    if len(y_pred) != len(true_class):
        raise InvalidSubmission(f"{len(y_pred)} predictions for {len(true_class)} answers")
    chosen = y_pred[np.arange(len(y_pred)), true_class]
    loss = -xlogy(1, np.clip(chosen, EPS, 1 - EPS))
    if average_order is not None:
        loss = loss[average_order]
    return float(np.average(loss))


def compact_integers(values: np.ndarray) -> np.ndarray:
    """Integer labels (one-hot 0/1, classes) as int8 when they fit: the same numbers, an eighth of
    the memory, so gathering them in another row order stays in cache. Comparisons and counts
    see the same values."""
    if values.dtype.kind not in "iu" or not values.size or values.min() < -128 or values.max() > 127:
        return values
    return values.astype(np.int8)


def _binarized(y_true: np.ndarray) -> np.ndarray:
    """LabelBinarizer's view of the answers: a 0/1 matrix with at least two columns."""
    if y_true.ndim == 2:
        if y_true.shape[1] < 2:
            raise InvalidSubmission("answers matrix needs at least two classes")
        # as int64; integers that int64 holds already are left as they are (xlogy sees the same numbers)
        return y_true if np.can_cast(y_true.dtype, np.int64) else y_true.astype(np.int64)
    classes = np.unique(y_true)
    if len(classes) == 1:
        raise InvalidSubmission(f"answers contain only one label ({classes[0]}); log loss is undefined")
    if len(classes) > 2:
        raise InvalidSubmission("answers have more than two labels for a binary log loss")
    positive = (y_true == classes[1]).astype(np.int64)[:, np.newaxis]
    return np.append(1 - positive, positive, axis=1)


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of equal labels after scikit-learn 1.5's label-type checks."""
    if len(y_true) != len(y_pred):
        raise InvalidSubmission(f"{len(y_pred)} predictions for {len(y_true)} answers")
    classification_type(y_true, y_pred)
    return float(np.average(np.asarray(y_true == y_pred)))


def quadratic_kappa(y_pred: np.ndarray, y_true: np.ndarray) -> np.float64:
    """Quadratic-weighted Cohen kappa; weights by position in the sorted union of labels."""
    if len(y_true) != len(y_pred):
        raise InvalidSubmission(f"{len(y_pred)} predictions for {len(y_true)} answers")
    classification_type(y_pred, y_true)
    if _mixes_text_and_numbers(y_pred, y_true):
        raise InvalidSubmission("labels mix text and numbers")
    return np.float64(cohen_kappa_score(y_pred, y_true, weights="quadratic"))


def _mixes_text_and_numbers(*arrays: np.ndarray) -> bool:
    has_text = [any(isinstance(v, str) for v in a) if a.dtype == object else a.dtype.kind in "US" for a in arrays]
    return any(has_text) and not all(has_text)
