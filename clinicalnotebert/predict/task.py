"""task=predict: clinical prediction from notes, hourly signals, or both (docs/predict.md).

Builds (or loads) the cohort, encodes the window's notes with ``encoder.path`` and/or prepares the
hourly signals, trains one model per seed with early stopping on the validation score, and
reports the test scores of the best checkpoint as mean / std over seeds (plus each seed's value).
Metrics: ``cohort.*`` sizes and prevalence, ``val.score.*`` (AUROC, or accuracy for drg: the
tuning target), ``test.<score>.{mean,std,seed_<s>}``. The run dir holds ``cohort/`` (the stays
and splits), ``predictions/seed-<s>.csv`` and ``checkpoints/seed-<s>/``.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from clinicalnotebert import sweeps
from clinicalnotebert.config import Config, PredictConfig, load_run_config, typed
from clinicalnotebert.demo import ensure_demo_data
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import write_text_atomic
from clinicalnotebert.predict import cohorts, hourly, notes
from clinicalnotebert.predict.dataset import StayInputs, loader
from clinicalnotebert.predict.metrics import BINARY_TASKS, mean_and_std, task_scores

log = logging.getLogger(__name__)

SELECT_METRIC = "val.score.mean"  # what the tuning configs optimise


def prediction_cohort(predict: PredictConfig) -> pd.DataFrame:
    if predict.cohort.path:
        cohort = cohorts.load_cohort(predict.cohort.path, predict.task, predict.allow_pickle)
    else:
        cohort = cohorts.build_cohort(
            predict.mimic3_dir, predict.task, predict.cohort, predict.window_hours
        )
    cohorts.check_cohort(cohort, predict.task)
    return cohort.reset_index(drop=True)


def text_inputs(cfg: Config, cohort: pd.DataFrame, key: str) -> tuple[list[np.ndarray], dict]:
    predict = cfg.predict
    vectors = notes.note_vectors(predict, cfg.encoder.path, cfg.paths.cache_dir, cohort, key)
    if len(vectors.hadm_ids) == 0:
        raise UserError(
            f"NOTEEVENTS in '{predict.mimic3_dir}' has no note of the cohort's admissions "
            f"within {predict.window_hours} h of INTIME (predict.modality=struct needs none)"
        )
    if predict.notes.standardize:
        train_hadms = cohort.loc[cohort["SPLIT"] == "train", "HADM_ID"]
        vectors = vectors.standardized(np.isin(vectors.hadm_ids, train_hadms))
    per_stay = vectors.per_admission(cohort["HADM_ID"].tolist())
    stats = {
        "count": len(vectors.hadm_ids),
        "dim": int(vectors.vectors.shape[1]),
        "stays_without_notes": sum(len(v) == 0 for v in per_stay),
    }
    return per_stay, stats


def struct_inputs(
    predict: PredictConfig, cache_dir, cohort: pd.DataFrame, key: str
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Features (stays, hours, 3V) and GRU-D's X_mean, standardised with the training stays."""
    if not predict.hourly.h5_path:  # events are placed between INTIME and OUTTIME
        cohort = cohorts.add_outtimes(cohort, predict.mimic3_dir)
    grid = hourly.grid_for_cohort(predict, cache_dir, cohort, key)
    train = (cohort["SPLIT"] == "train").to_numpy()
    features = hourly.impute(
        hourly.standardize(grid, train), grid.count, predict.hourly.unmeasured_hours
    )
    stats = {"variables": len(grid.variables), "measured_fraction": float((grid.count > 0).mean())}
    return features, hourly.empirical_mean(features, train), stats


def train_one_seed(
    cfg: Config, seed: int, splits: dict[str, StayInputs], n_classes: int, note_dim, x_mean
):
    """Fit with early stopping; return the best val score, the best checkpoint's test
    probabilities and the number of epochs run."""
    import torch
    from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint

    from clinicalnotebert.predict.models import PredictionModule, build_classifier
    from clinicalnotebert.utils.runtime import seed_everything
    from clinicalnotebert.utils.training import TrainingSetup, build_logger, build_trainer

    predict = cfg.predict
    seed_everything(seed)
    model = build_classifier(predict, n_classes, note_dim, x_mean)
    module = PredictionModule(model, predict.task, predict.lr, predict.weight_decay)
    checkpoints = Path(cfg.paths.output_dir) / "checkpoints" / f"seed-{seed}"
    shutil.rmtree(checkpoints, ignore_errors=True)  # a reused run dir: "best" must be this fit's
    checkpoint = ModelCheckpoint(
        dirpath=checkpoints,
        monitor="val/score",
        mode="max",
        save_top_k=1,
        save_weights_only=True,
    )
    stopping = EarlyStopping(monitor="val/score", mode="max", patience=predict.patience)
    setup = TrainingSetup.from_config(cfg)
    trainer = build_trainer(
        setup,
        [checkpoint, stopping],
        logger=build_logger(setup, name="predict", version=f"seed-{seed}"),
        max_epochs=predict.max_epochs,
        num_sanity_val_steps=0,
    )
    trainer.fit(
        module,
        loader(splits["train"], predict.batch_size, shuffle=True, seed=seed),
        loader(splits["val"], predict.eval_batch_size, shuffle=False),
    )
    test_batches = trainer.predict(
        module,
        loader(splits["test"], predict.eval_batch_size, shuffle=False),
        ckpt_path="best",
        weights_only=True,
    )
    probabilities = torch.cat(test_batches).double().numpy()
    return float(checkpoint.best_model_score), probabilities, trainer.current_epoch


def write_predictions(
    path: Path, rows: pd.DataFrame, labels: np.ndarray, probabilities: np.ndarray, task: str
) -> None:
    out = rows[list(cohorts.ID_COLUMNS)].copy()
    out["label"] = labels
    if task in BINARY_TASKS:
        out["p_positive"] = probabilities[:, 1]
    else:
        out["predicted"] = probabilities.argmax(axis=1)
        out["p_predicted"] = probabilities.max(axis=1)
    write_text_atomic(path, out.to_csv(index=False))


def model_inputs(cfg: Config, cohort: pd.DataFrame) -> tuple[StayInputs, dict, dict]:
    """Every stay's labels, note vectors and/or hourly features; the models' input sizes
    (``note_dim``, ``x_mean``); and statistics for the metrics."""
    predict = cfg.predict
    key = f"{cohorts.fingerprint(cohort)}-w{predict.window_hours}"
    inputs = StayInputs(cohort[cohorts.LABEL_COLUMNS[predict.task]].to_numpy(dtype=np.int64))
    sizes, stats = {"note_dim": None, "x_mean": None}, {}
    if predict.modality in ("text", "both"):
        inputs.notes, stats["notes"] = text_inputs(cfg, cohort, key)
        sizes["note_dim"] = stats["notes"]["dim"]
    if predict.modality in ("struct", "both"):
        inputs.signals, sizes["x_mean"], stats["hourly"] = struct_inputs(
            predict, cfg.paths.cache_dir, cohort, key
        )
    return inputs, sizes, stats


def run(cfg: Config) -> dict:
    if cfg.predict.select_from:
        return select_and_rerun(cfg)
    return train_and_test(cfg)


def select_and_rerun(cfg: Config) -> dict:
    """The best job of a tuning sweep (by ``val.score.mean``), rerun here with this run's
    ``predict.seeds`` for its test scores; ``selection.csv`` lists every job."""
    source = cfg.predict.select_from
    jobs = sweeps.read_jobs(source, "predict.select_from")
    best = sweeps.best_job(jobs, SELECT_METRIC, f"predict.select_from '{source}'")
    sweeps.write_trials(Path(cfg.paths.output_dir), sweeps.trial_rows(jobs, [SELECT_METRIC], best))
    chosen = load_run_config(best.config_file)
    chosen.paths = cfg.paths
    chosen.predict.seeds = cfg.predict.seeds
    chosen.predict.select_from = None
    log.info("predict selection: best job %s of %d", best.name, len(jobs))
    return {"selection": sweeps.summary(jobs, best, SELECT_METRIC), **train_and_test(typed(chosen))}


def train_and_test(cfg: Config) -> dict:
    predict = cfg.predict
    ensure_demo_data(cfg.data)
    cohort = prediction_cohort(predict)
    out_dir = Path(cfg.paths.output_dir)
    cohorts.write_cohort(cohort, out_dir / "cohort")
    inputs, sizes, stats = model_inputs(cfg, cohort)
    rows = {name: np.flatnonzero((cohort["SPLIT"] == name).to_numpy()) for name in cohorts.SPLITS}
    splits = {name: inputs.subset(index) for name, index in rows.items()}
    n_classes = 2 if predict.task in BINARY_TASKS else int(inputs.labels.max()) + 1
    val_scores, test_scores, epochs = {}, {}, {}
    for seed in predict.seeds:
        val_score, probabilities, epochs[seed] = train_one_seed(
            cfg, seed, splits, n_classes, sizes["note_dim"], sizes["x_mean"]
        )
        val_scores[seed] = {"score": val_score}
        test_scores[seed] = task_scores(predict.task, splits["test"].labels, probabilities)
        if predict.save_predictions:
            write_predictions(
                out_dir / "predictions" / f"seed-{seed}.csv",
                cohort.iloc[rows["test"]],
                splits["test"].labels,
                probabilities,
                predict.task,
            )
        main = "accuracy" if predict.task not in BINARY_TASKS else "auroc"
        log.info(
            "predict seed %s: val %.3f, test %s %.3f",
            seed, val_score, main, test_scores[seed][main],
        )  # fmt: skip
    return {
        "task": predict.task,
        "modality": predict.modality,
        "cohort": cohorts.summary(cohort, predict.task),
        **stats,
        "val": mean_and_std(val_scores),
        "test": mean_and_std(test_scores),
        "epochs": {f"seed_{seed}": epoch for seed, epoch in epochs.items()},
    }
