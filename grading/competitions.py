"""One grader per MLE-bench Lite competition: `GRADERS[competition_id](submission, answers) -> score`.

A grader raises `InvalidSubmission` (or any other exception, which MLE-bench also counts as
invalid) when the submission cannot be scored. The behaviour of each is in GRADING-FACTS
section 4; the comments below note only what is surprising.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from grading import metrics
from grading.errors import InvalidSubmission
from grading.families import (
    accuracy,
    accuracy_inputs,
    auc,
    auc_inputs,
    one_hot_log_loss,
    require_probability_rows,
)
from grading.align import paired_rows
from grading.table import column_values, require_columns, require_rows, sorted_by

Grader = Callable[[pd.DataFrame, pd.DataFrame], float]


def aptos(sub: pd.DataFrame, answers: pd.DataFrame) -> np.float64:
    # Only the id *set* is checked; a duplicated row keeps the set and fails on the count.
    require_columns(sub, "diagnosis")
    if sub.empty:
        raise InvalidSubmission("submission is empty")
    require_columns(sub, "id_code")
    if set(sub["id_code"]) != set(answers["id_code"]):
        raise InvalidSubmission("submission's id_code values differ from the answers'")
    sub, answers = sorted_by(sub, "id_code"), sorted_by(answers, "id_code")
    return metrics.quadratic_kappa(column_values(sub, "diagnosis"), column_values(answers, "diagnosis"))


def denoising(sub: pd.DataFrame, answers: pd.DataFrame) -> np.float64:
    require_columns(sub, "id", "value")
    metrics.as_float_array(np.where(pd.isna(sub["value"]), 0.0, column_values(sub, "value")), "column 'value'")
    require_rows(sub, answers)
    sub_rows, answer_rows = paired_rows(sub, answers, "id")
    return metrics.rmse(column_values(sub, "value")[sub_rows], column_values(answers, "value")[answer_rows])


def dog_breed(sub: pd.DataFrame, answers: pd.DataFrame) -> float:
    breeds = [c for c in answers.columns if c != "id"]
    missing = [b for b in breeds if b not in sub.columns]
    if missing:
        raise InvalidSubmission(f"submission lacks {len(missing)} breed column(s), e.g. {missing[:3]}")
    require_columns(sub, "id")
    require_rows(sub, answers)
    require_probability_rows(sub, breeds)
    return one_hot_log_loss(sub, answers)


def dogs_vs_cats(sub: pd.DataFrame, answers: pd.DataFrame) -> float:
    require_columns(sub, "id", "label")
    if set(sub["id"]) != set(answers["id"]):
        raise InvalidSubmission("submission's id values differ from the answers'")
    require_rows(sub, answers)
    labels = sub["label"].to_numpy()
    if labels.dtype == object or labels.dtype.kind not in "biuf":
        raise InvalidSubmission("column 'label' is not numeric")
    if not ((labels >= 0) & (labels <= 1)).all():
        raise InvalidSubmission("column 'label' must hold probabilities in [0, 1] (no missing values)")
    sub, answers = sorted_by(sub, "id"), sorted_by(answers, "id")
    return metrics.log_loss(column_values(answers, "label"), column_values(sub, "label"))


JIGSAW_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def jigsaw(sub: pd.DataFrame, answers: pd.DataFrame) -> np.float64:
    # Every non-id column, in file order, is paired by position with the six answer columns.
    require_columns(sub, "id", *JIGSAW_CLASSES)
    require_rows(sub, answers)
    sub, answers = sorted_by(sub, "id"), sorted_by(answers, "id")
    scored = answers[JIGSAW_CLASSES].sum(axis=1).to_numpy() >= 0  # unscored rows are all -1
    sub_ids, answer_ids = column_values(sub, "id"), column_values(answers, "id")
    if not set(sub_ids) <= set(answer_ids):
        raise InvalidSubmission("submission has id values that are not in the answers")
    keep = _mask_by_id(answer_ids, scored, sub_ids)
    y_score = sub.drop(columns=["id"])[keep].to_numpy()
    y_true = answers.drop(columns=["id"])[scored].to_numpy()
    return metrics.mean_column_auc(y_true, metrics.as_float_array(y_score, "predictions"))


def _mask_by_id(ids: np.ndarray, mask: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    # pandas aligns a boolean Series on the index: each submission row takes its id's flag.
    flag = dict(zip(ids.tolist(), mask.tolist()))
    return np.array([flag[i] for i in wanted.tolist()], dtype=bool)


def leaf(sub: pd.DataFrame, answers: pd.DataFrame) -> float:
    species = [c for c in answers.columns if c != "id"]
    if set(sub.columns) != {"id", *species}:
        raise InvalidSubmission("submission's columns must be exactly id and the species")
    require_rows(sub, answers)
    require_probability_rows(sub, species)
    return one_hot_log_loss(sub, answers)


def taxi(sub: pd.DataFrame, answers: pd.DataFrame) -> np.float64:
    # No id check: rows are paired by position after sorting both sides by key.
    require_columns(sub, "fare_amount", "key")
    sub, answers = sorted_by(sub, "key"), sorted_by(answers, "key")
    return metrics.rmse(column_values(answers, "fare_amount"), column_values(sub, "fare_amount"))


NOMAD_TARGETS = ["formation_energy_ev_natom", "bandgap_energy_ev"]


def nomad(sub: pd.DataFrame, answers: pd.DataFrame) -> np.float64:
    # Rows are paired in file order: ids are never read.
    require_columns(sub, *NOMAD_TARGETS)
    require_rows(sub, answers)
    first, second = (metrics.rmsle(column_values(answers, c), column_values(sub, c)) for c in NOMAD_TARGETS)
    return (first + second) / 2


PLANT_COLUMNS = ["image_id", "healthy", "multiple_diseases", "rust", "scab"]


def plant(sub: pd.DataFrame, answers: pd.DataFrame) -> np.float64:
    require_rows(sub, answers)
    if set(sub.columns) != set(PLANT_COLUMNS):
        raise InvalidSubmission(f"submission's columns must be exactly {PLANT_COLUMNS}")
    sub_rows, answer_rows = paired_rows(sub, answers, "image_id", ordered=False)
    scores = [
        metrics.roc_auc(column_values(answers, c)[answer_rows], column_values(sub, c)[sub_rows])
        for c in PLANT_COLUMNS[1:]
    ]
    return np.mean(scores)


RANZCR_SCORED = [
    "ETT - Abnormal", "ETT - Borderline", "ETT - Normal",
    "NGT - Abnormal", "NGT - Borderline", "NGT - Incompletely Imaged", "NGT - Normal",
    "CVC - Abnormal", "CVC - Borderline",
]  # fmt: skip


def ranzcr(sub: pd.DataFrame, answers: pd.DataFrame) -> np.float64:
    require_columns(sub, *RANZCR_SCORED)
    require_rows(sub, answers)
    scores = [metrics.roc_auc(*auc_inputs(sub, answers, "StudyInstanceUID", c)) for c in RANZCR_SCORED]
    return np.average(scores)


def spooky(sub: pd.DataFrame, answers: pd.DataFrame) -> float:
    # The shape is checked first and "every column after the first" must be probabilities,
    # so the id has to come first; the classes are then matched by name.
    if sub.shape != (len(answers), 4):
        raise InvalidSubmission(f"submission's shape is {sub.shape}, expected ({len(answers)}, 4)")
    require_probability_rows(sub, list(sub.columns[1:]))
    return one_hot_log_loss(sub, answers)


def text_normalization(sub: pd.DataFrame, answers: pd.DataFrame) -> float:
    y_true, y_pred = accuracy_inputs(sub, answers, "id", "after")
    return metrics.accuracy(_as_text(y_true), _as_text(y_pred))


def _as_text(values: np.ndarray) -> np.ndarray:
    """pandas 2.2's `astype(str)`: every value through str(), so a missing value is "nan"."""
    return np.array([str(v) for v in values.astype(object)], dtype=object)


GRADERS: dict[str, Grader] = {
    "aerial-cactus-identification": auc("id", "has_cactus"),
    "aptos2019-blindness-detection": aptos,
    "denoising-dirty-documents": denoising,
    "detecting-insults-in-social-commentary": auc("Comment", "Insult"),
    "dog-breed-identification": dog_breed,
    "dogs-vs-cats-redux-kernels-edition": dogs_vs_cats,
    "histopathologic-cancer-detection": auc("id", "label"),
    "jigsaw-toxic-comment-classification-challenge": jigsaw,
    "leaf-classification": leaf,
    "mlsp-2013-birds": auc("Id", "Probability"),
    "new-york-city-taxi-fare-prediction": taxi,
    "nomad2018-predict-transparent-conductors": nomad,
    "plant-pathology-2020-fgvc7": plant,
    "random-acts-of-pizza": auc("request_id", "requester_received_pizza"),
    "ranzcr-clip-catheter-line-classification": ranzcr,
    "siim-isic-melanoma-classification": auc("image_name", "target"),
    "spooky-author-identification": spooky,
    "tabular-playground-series-dec-2021": accuracy("Id", "Cover_Type"),
    "tabular-playground-series-may-2022": auc("id", "target"),
    "text-normalization-challenge-english-language": text_normalization,
    "text-normalization-challenge-russian-language": text_normalization,
    "the-icml-2013-whale-challenge-right-whale-redux": auc("clip", "probability"),
}
