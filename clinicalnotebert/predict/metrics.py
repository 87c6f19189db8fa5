"""Scores of the clinical prediction tasks (docs/reference.md §6.7), computed with scikit-learn as the reference.

Binary tasks score P(y=1): AUROC, AUPRC as the reference's trapezoid ``auc(recall, precision)``
and as average precision (the step-wise estimate most papers report), F1 and accuracy of the
prediction ``P(y=1) > 0.5`` (the arg-max of two classes). DRG: accuracy, and macro-/micro-F1 over
the labels present in ``y_true`` (``labels=np.unique(y_true)``), as the reference.
"""

from __future__ import annotations

import numpy as np

BINARY_TASKS = ("mort_hosp", "los_3")


def binary_scores(y_true, p_positive) -> dict[str, float]:
    from sklearn.metrics import (
        accuracy_score,
        auc,
        average_precision_score,
        f1_score,
        precision_recall_curve,
        roc_auc_score,
    )

    y_true, p_positive = np.asarray(y_true), np.asarray(p_positive, dtype=np.float64)
    predicted = (p_positive > 0.5).astype(int)
    precision, recall, _ = precision_recall_curve(y_true, p_positive)
    return {
        "auroc": float(roc_auc_score(y_true, p_positive)),
        "auprc": float(auc(recall, precision)),
        "average_precision": float(average_precision_score(y_true, p_positive)),
        "f1": float(f1_score(y_true, predicted, zero_division=0)),
        "accuracy": float(accuracy_score(y_true, predicted)),
    }


def multiclass_scores(y_true, predicted) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    y_true, predicted = np.asarray(y_true), np.asarray(predicted)
    present = np.unique(y_true)
    return {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "macro_f1": float(
            f1_score(y_true, predicted, labels=present, average="macro", zero_division=0)
        ),
        "micro_f1": float(
            f1_score(y_true, predicted, labels=present, average="micro", zero_division=0)
        ),
    }


def task_scores(task: str, y_true, probabilities: np.ndarray) -> dict[str, float]:
    """All scores of ``task`` from class probabilities (rows sum to 1)."""
    if task in BINARY_TASKS:
        return binary_scores(y_true, probabilities[:, 1])
    return multiclass_scores(y_true, probabilities.argmax(axis=1))


def validation_score(task: str, y_true, probabilities: np.ndarray) -> float:
    """The early-stopping and tuning score: AUROC for binary tasks, accuracy for DRG."""
    scores = task_scores(task, y_true, probabilities)
    return scores["auroc"] if task in BINARY_TASKS else scores["accuracy"]


def mean_and_std(values_by_seed: dict[int, dict[str, float]]) -> dict[str, dict[str, float]]:
    """``{metric: {mean, std, seed_<s>...}}`` over seeds; ``std`` is NumPy's (ddof 0), as the
    reference's ``np.std``."""
    metrics = next(iter(values_by_seed.values())).keys()
    summary = {}
    for metric in metrics:
        values = np.array([scores[metric] for scores in values_by_seed.values()])
        summary[metric] = {
            "mean": float(values.mean()),
            "std": float(values.std()),
            **{f"seed_{seed}": scores[metric] for seed, scores in values_by_seed.items()},
        }
    return summary
