"""Each Lite competition scored on cases worked out by hand, and its ways of being invalid.

Scores are compared after MLE-bench's rounding to 5 decimals; the hand computation is in the
comment beside each case.
"""

from __future__ import annotations

import math

import pytest
from tests.grading.conftest import csv

from grading import grade_submission

AUC_COMPETITIONS = {
    "aerial-cactus-identification": ("id", "has_cactus"),
    "detecting-insults-in-social-commentary": ("Comment", "Insult"),
    "histopathologic-cancer-detection": ("id", "label"),
    "mlsp-2013-birds": ("Id", "Probability"),
    "random-acts-of-pizza": ("request_id", "requester_received_pizza"),
    "siim-isic-melanoma-classification": ("image_name", "target"),
    "tabular-playground-series-may-2022": ("id", "target"),
    "the-icml-2013-whale-challenge-right-whale-redux": ("clip", "probability"),
}


def score_of(layout, competition_id, answers, submission, name="sub.csv"):
    layout.answers(competition_id, answers)
    path = layout.submission(name, submission)
    return grade_submission(competition_id, path, None, layout.data)


def assert_score(report, expected):
    assert report.error is None or "leaderboard" in report.error or "competitions directory" in report.error
    assert report.valid_submission, report.error
    assert report.score == expected


def assert_invalid(report, reason_part):
    assert report.score is None and not report.valid_submission
    assert reason_part.lower() in (report.error or "").lower(), report.error


@pytest.mark.parametrize("competition_id", sorted(AUC_COMPETITIONS))
def test_auc_family_scores_pairs_of_positives_and_negatives(layout, competition_id):
    id_col, target = AUC_COMPETITIONS[competition_id]
    ids = ["101", "202", "303", "404"] if id_col == "Id" else ["a b", "c,d", "e", "f"]
    quoted = [f'"{i}"' for i in ids]
    answers = csv(f"{id_col},{target}", *(f"{i},{y}" for i, y in zip(quoted, [0, 0, 1, 1])))
    # positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered -> 0.75
    rows = [f"{i},{p}" for i, p in zip(quoted, [0.1, 0.4, 0.35, 0.8])]
    submission = csv(f"{id_col},{target}", *rows[::-1])
    assert_score(score_of(layout, competition_id, answers, submission), 0.75)


@pytest.mark.parametrize(
    "rows, reason",
    [
        (["a,0.1", "b,0.4", "c,0.35"], "rows"),  # one row short
        (["a,0.1", "b,1.4", "c,0.35", "d,0.8"], "outside [0, 1]"),
        (["a,0.1", "b,x", "c,0.35", "d,0.8"], "not numeric"),
        (["a,0.1", "b,", "c,0.35", "d,0.8"], "missing"),
        (["a,0.1", "b,0.4", "c,0.35", "D,0.8"], "differ"),  # ids compare exactly
        (["a,0.1", "a,0.4", "c,0.35", "d,0.8"], "differ"),  # duplicated id in place of another
    ],
)
def test_auc_family_invalid_submissions(layout, rows, reason):
    answers = csv("id,has_cactus", "a,0", "b,0", "c,1", "d,1")
    report = score_of(layout, "aerial-cactus-identification", answers, csv("id,has_cactus", *rows))
    assert_invalid(report, reason)


def test_auc_integer_ids_written_as_floats_are_accepted(layout):
    answers = csv("Id,Probability", "100,0", "101,1", "102,1")
    report = score_of(layout, "mlsp-2013-birds", answers, csv("Id,Probability", "100.0,0.2", "101.0,0.9", "102.0,0.1"))
    assert_score(report, 0.5)  # positives 0.9 (beats 0.2) and 0.1 (loses): 1 of 2


def test_single_class_answers_make_auc_invalid_as_in_scikit_learn_1_5(layout):
    answers = csv("id,label", "a,1", "b,1", "c,1")
    report = score_of(layout, "histopathologic-cancer-detection", answers, csv("id,label", "a,0.1", "b,0.2", "c,0.3"))
    assert_invalid(report, "one class")


def test_aptos_quadratic_kappa(layout):
    answers = csv("id_code,diagnosis", "a,0", "b,1", "c,2")
    # pred [0,2,2] vs true [0,1,2]: observed weighted disagreement 1, expected 15/3 = 5 -> 1 - 1/5
    assert_score(score_of(layout, "aptos2019-blindness-detection", answers, csv("diagnosis,id_code", "2,c", "2,b", "0,a")), 0.8)
    report = score_of(layout, "aptos2019-blindness-detection", answers, csv("id_code,diagnosis", "a,0", "b,1.5", "c,2"), "x.csv")
    assert_invalid(report, "target types")
    report = score_of(layout, "aptos2019-blindness-detection", answers, csv("id_code,diagnosis", "a,0", "b,1", "z,2"), "y.csv")
    assert_invalid(report, "id_code")


def test_aptos_weights_follow_label_positions_not_values(layout):
    answers = csv("id_code,diagnosis", "a,4", "b,0", "c,2")
    # labels {0,2,4,7,10} at positions 0..4; pred [7,10,2] vs true [4,0,2]; kappa = -2/15 per scikit-learn
    report = score_of(layout, "aptos2019-blindness-detection", answers, csv("id_code,diagnosis", "a,7", "b,10", "c,2"))
    assert_score(report, -0.13333)


def test_denoising_rmse_and_text_sorted_ids(layout):
    answers = csv("id,value", "1_1_1,0.5", "10_1_1,1.0", "2_1_1,0.25")
    # squared errors 0, 1, 0 -> sqrt(1/3) = 0.57735
    report = score_of(layout, "denoising-dirty-documents", answers, csv("id,value", "2_1_1,0.25", "1_1_1,0.5", "10_1_1,0"))
    assert_score(report, 0.57735)
    assert_invalid(score_of(layout, "denoising-dirty-documents", answers, csv("id,value", "1_1_1,a", "10_1_1,1", "2_1_1,0"), "t.csv"), "numeric")


ONE_HOT = csv("id,beagle,boxer,pug", "x,1,0,0", "y,0,0,1")


def test_dog_breed_log_loss(layout):
    # true-class probabilities 0.5 and 1.0: (ln 2 + 0) / 2 = 0.34657
    sub = csv("id,pug,boxer,beagle,extra", "y,1,0,0,9", "x,0.25,0.25,0.5,9")
    assert_score(score_of(layout, "dog-breed-identification", ONE_HOT, sub), 0.34657)


@pytest.mark.parametrize(
    "rows, reason",
    [
        (["x,0.5,0.25,0.25", "y,0,0,0.9"], "sum to one"),
        (["x,1.5,-0.5,0", "y,0,0,1"], "outside"),
        (["x,1,0,0", "z,0,0,1"], "differ"),
        (["x,1,0,0"], "rows"),
    ],
)
def test_dog_breed_invalid(layout, rows, reason):
    assert_invalid(score_of(layout, "dog-breed-identification", ONE_HOT, csv("id,beagle,boxer,pug", *rows)), reason)


def test_dog_breed_row_sum_tolerance_is_1_1e_minus_5(layout):
    ok = csv("id,beagle,boxer,pug", "x,1,0,0.000010", "y,0,0,1")
    assert score_of(layout, "dog-breed-identification", ONE_HOT, ok).valid_submission
    off = csv("id,beagle,boxer,pug", "x,1,0,0.0000115", "y,0,0,1")
    assert_invalid(score_of(layout, "dog-breed-identification", ONE_HOT, off, "off.csv"), "sum to one")


def test_leaf_requires_exactly_id_and_species(layout):
    species = csv("id,Acer,Alnus", "1,1,0", "2,0,1")
    # true-class probabilities 0.8 and 0.6: (-ln 0.8 - ln 0.6) / 2 = 0.36698
    assert_score(score_of(layout, "leaf-classification", species, csv("Alnus,id,Acer", "0.2,1,0.8", "0.6,2,0.4")), 0.36698)
    extra = csv("Unnamed: 0,id,Acer,Alnus", "0,1,1,0", "1,2,0,1")
    assert_invalid(score_of(layout, "leaf-classification", species, extra, "e.csv"), "exactly")


def test_dogs_vs_cats_binary_log_loss_with_hard_labels(layout):
    answers = csv("id,label", "1,1", "2,0")
    assert_score(score_of(layout, "dogs-vs-cats-redux-kernels-edition", answers, csv("id,label", "2,0.2", "1,0.8")), 0.22314)
    # a wrong hard 0/1 prediction costs -ln(eps) = 36.04365: (36.04365 + 0) / 2
    report = score_of(layout, "dogs-vs-cats-redux-kernels-edition", answers, csv("id,label", "1,0", "2,0"), "hard.csv")
    assert_score(report, 18.02183)
    assert_invalid(score_of(layout, "dogs-vs-cats-redux-kernels-edition", answers, csv("id,label", "1,1.2", "2,0"), "r.csv"), "[0, 1]")


JIGSAW = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def test_jigsaw_mean_column_auc_skips_unscored_rows(layout):
    answers = csv("id," + ",".join(JIGSAW), "a,1,1,1,1,1,1", "b,0,0,0,0,0,0", "c,-1,-1,-1,-1,-1,-1", "d,1,0,1,0,1,0")
    # five columns ranked perfectly, identity_hate constant (AUC 0.5): (5 + 0.5) / 6 = 0.91667
    sub = csv("id," + ",".join(JIGSAW), "a,.9,.9,.9,.9,.9,.5", "b,.1,.1,.1,.1,.1,.5", "c,,,,,,", "d,.8,.2,.8,.2,.8,.5")
    assert_score(score_of(layout, "jigsaw-toxic-comment-classification-challenge", answers, sub), 0.91667)
    extra = sub.replace("identity_hate", "identity_hate,more").replace("\n", ",0\n").replace("more,0", "more", 1)
    assert_invalid(score_of(layout, "jigsaw-toxic-comment-classification-challenge", answers, extra, "x.csv"), "matrix")


def test_taxi_rmse_pairs_rows_by_sorted_key_only(layout):
    answers = csv("key,fare_amount,passenger_count", "k1,10,1", "k2,20,1")
    assert_score(score_of(layout, "new-york-city-taxi-fare-prediction", answers, csv("key,fare_amount", "k2,20", "k1,12")), 1.41421)
    foreign = csv("key,fare_amount", "z1,12", "z2,20")  # no id check: still scored, sqrt(4/2)
    assert_score(score_of(layout, "new-york-city-taxi-fare-prediction", answers, foreign, "f.csv"), 1.41421)


NOMAD = csv("id,formation_energy_ev_natom,bandgap_energy_ev", "1,0,1", f"2,{math.e - 1!r},2")


def test_nomad_mean_rmsle_in_file_order(layout):
    # formation: log errors 0 and 1 -> sqrt(1/2); bandgap exact -> 0; mean = 0.35355
    sub = csv("id,formation_energy_ev_natom,bandgap_energy_ev", "9,0,1", "8,0,2")
    assert_score(score_of(layout, "nomad2018-predict-transparent-conductors", NOMAD, sub), 0.35355)


def test_nomad_negative_prediction_is_invalid_as_in_scikit_learn_1_5(layout):
    sub = csv("id,formation_energy_ev_natom,bandgap_energy_ev", "1,-0.01,1", "2,1.7,2")
    assert_invalid(score_of(layout, "nomad2018-predict-transparent-conductors", NOMAD, sub), "negative")


def test_plant_pathology_mean_of_four_aucs(layout):
    answers = csv("image_id,healthy,multiple_diseases,rust,scab", "t1,1,0,0,0", "t2,0,1,0,1", "t3,0,0,1,1")
    # healthy, multiple_diseases, rust perfect; scab ranked backwards (AUC 0): 3/4
    sub = csv("image_id,healthy,multiple_diseases,rust,scab", "t1,.9,.1,.1,.9", "t2,.1,.9,.1,.1", "t3,.1,.1,.9,.2")
    assert_score(score_of(layout, "plant-pathology-2020-fgvc7", answers, sub), 0.75)
    assert_invalid(score_of(layout, "plant-pathology-2020-fgvc7", answers, sub.replace("scab", "x"), "c.csv"), "exactly")


RANZCR = [
    "ETT - Abnormal", "ETT - Borderline", "ETT - Normal", "NGT - Abnormal", "NGT - Borderline",
    "NGT - Incompletely Imaged", "NGT - Normal", "CVC - Abnormal", "CVC - Borderline",
]  # fmt: skip


def test_ranzcr_averages_nine_labels_and_ignores_the_other_two(layout):
    header = "StudyInstanceUID," + ",".join(RANZCR)
    answers = csv(header + ",CVC - Normal,Swan Ganz Catheter Present,PatientID", "u1," + "1," * 9 + "1,1,p", "u2," + "0," * 9 + "0,0,p")
    # eight labels ranked right, the last tied (0.5): (8 + 0.5) / 9 = 0.94444
    sub = csv(header, "u1," + ".9," * 8 + ".5", "u2," + ".1," * 8 + ".5")
    assert_score(score_of(layout, "ranzcr-clip-catheter-line-classification", answers, sub), 0.94444)


def test_spooky_uniform_prediction_costs_ln_3(layout):
    answers = csv("id,EAP,HPL,MWS", "id1,1,0,0", "id2,0,0,1")
    third = 1 / 3
    assert_score(score_of(layout, "spooky-author-identification", answers, csv("id,MWS,EAP,HPL", *(f"{i},{third!r},{third!r},{third!r}" for i in ("id2", "id1")))), 1.09861)
    id_last = csv("EAP,HPL,MWS,id", "1,0,0,id1", "0,0,1,id2")  # id must be first (shape and sums checks)
    assert_invalid(score_of(layout, "spooky-author-identification", answers, id_last, "l.csv"), "not numeric")


def test_tabular_dec_accuracy_and_text_labels_score_zero(layout):
    answers = csv("Id,Elevation,Cover_Type", "1,10,1", "2,10,2", "3,10,3", "4,10,2")
    assert_score(score_of(layout, "tabular-playground-series-dec-2021", answers, csv("Id,Cover_Type", "4,2", "3,3.0", "2,2", "1,7")), 0.75)
    text = csv("Id,Cover_Type", "1,cover_1", "2,cover_2", "3,cover_3", "4,cover_2")
    assert_score(score_of(layout, "tabular-playground-series-dec-2021", answers, text, "t.csv"), 0.0)


@pytest.mark.parametrize("competition_id", ["text-normalization-challenge-english-language", "text-normalization-challenge-russian-language"])
def test_text_normalization_missing_values_compare_as_nan(layout, competition_id):
    answers = csv("id,after", '"0_0","a"', '"0_1","None"', '"0_2","b"', '"0_3",""')
    # a = a; None ~ NaN (both "nan"); b != B; "" ~ null (both "nan") -> 3/4
    sub = csv("id,after", "0_3,null", "0_2,B", "0_1,NaN", "0_0,a")
    assert_score(score_of(layout, competition_id, answers, sub), 0.75)
