"""Scores of clinical prediction: hand-computed cases and scikit-learn on fixed predictions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from clinicalnotebert.predict.metrics import (
    binary_scores,
    mean_and_std,
    multiclass_scores,
    task_scores,
    validation_score,
)


def test_binary_scores_by_hand():
    y = [0, 0, 1, 1]
    p = [0.1, 0.4, 0.35, 0.8]
    scores = binary_scores(y, p)
    assert scores["auroc"] == pytest.approx(0.75)  # 3 of 4 positive-negative pairs in order
    # PR points (recall, precision): (1, .5) (1, 2/3) (.5, .5) (.5, 1) (0, 1); trapezoids: 0.5 + 7/24.
    assert scores["auprc"] == pytest.approx(19 / 24)
    assert scores["average_precision"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert scores["accuracy"] == pytest.approx(0.75)  # predictions 0, 0, 0, 1
    assert scores["f1"] == pytest.approx(2 / 3)  # tp 1, fp 0, fn 1


def test_binary_threshold_is_strictly_above_half():
    # P(y=1) = 0.5 exactly is class 0, as the arg-max of two equal softmax outputs.
    assert binary_scores([0, 1], [0.5, 0.9])["accuracy"] == 1.0


def test_drg_scores_count_only_labels_present_in_y_true():
    y_true, predicted = [0, 0, 1, 2], [0, 1, 1, 3]
    scores = multiclass_scores(y_true, predicted)
    assert scores["accuracy"] == pytest.approx(0.5)
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    # Label 3 is absent from y_true: predicting it is no false positive (labels=unique(y_true)).
    assert scores["micro_f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


def test_scores_match_sklearn_on_fixed_predictions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    logits = rng.normal(size=(300, 2)) + np.stack([np.zeros(300), y * 0.8], axis=1)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    scores = task_scores("mort_hosp", y, probabilities)
    p1 = probabilities[:, 1]
    precision, recall, _ = skm.precision_recall_curve(y, p1)
    assert scores["auroc"] == pytest.approx(skm.roc_auc_score(y, p1))
    assert scores["auprc"] == pytest.approx(skm.auc(recall, precision))
    assert scores["average_precision"] == pytest.approx(skm.average_precision_score(y, p1))
    assert scores["f1"] == pytest.approx(skm.f1_score(y, probabilities.argmax(1)))
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y, probabilities.argmax(1)))
    assert validation_score("los_3", y, probabilities) == pytest.approx(scores["auroc"])

    y_drg = rng.integers(0, 12, 300)
    drg_probabilities = rng.dirichlet(np.ones(15), 300)
    predicted = drg_probabilities.argmax(1)
    present = np.unique(y_drg)
    drg = task_scores("drg", y_drg, drg_probabilities)
    assert drg["accuracy"] == pytest.approx(skm.accuracy_score(y_drg, predicted))
    for average in ("macro", "micro"):
        expected = skm.f1_score(y_drg, predicted, labels=present, average=average)
        assert drg[f"{average}_f1"] == pytest.approx(expected)
    assert validation_score("drg", y_drg, drg_probabilities) == pytest.approx(drg["accuracy"])


def test_mean_and_std_over_seeds():
    summary = mean_and_std({1: {"auroc": 0.6}, 2: {"auroc": 0.8}})
    assert summary["auroc"]["mean"] == pytest.approx(0.7)
    assert summary["auroc"]["std"] == pytest.approx(0.1)  # NumPy's population std, as the reference
    assert summary["auroc"]["seed_1"] == 0.6 and summary["auroc"]["seed_2"] == 0.8
