"""task=predict end to end on the demo data, its outputs, errors and tuning configs."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from clinicalnotebert.io import read_json
from tests.helpers import assert_user_error

# 800 demo patients (~600 stays): with the default 400 the fused model has too few training
# stays to gain on the signals alone; no logger or progress bar (a third of the time here).
MORTALITY_RUN = ["data.n_patients=800", "~logger", "+trainer.enable_progress_bar=false"]


@pytest.mark.slow
def test_demo_mortality_text_struct_and_fusion(demo_overrides, run_in_process, tmp_path):
    auroc = {}
    for modality in ("text", "struct", "both"):
        run_dir = tmp_path / modality
        overrides = [*demo_overrides, *MORTALITY_RUN, f"predict.modality={modality}"]
        metrics = run_in_process(*overrides, output_dir=run_dir)
        auroc[modality] = metrics["test.auroc.mean"]
        assert metrics["test.auroc.std"] >= 0 and {
            "test.auroc.seed_3407",
            "test.auroc.seed_340",
        } <= set(metrics)
        assert read_json(run_dir / "metrics.json") == metrics
    assert auroc["text"] > 0.7 and auroc["struct"] > 0.7
    assert auroc["both"] >= max(auroc["text"], auroc["struct"])
    assert metrics["hourly.variables"] == 14  # the demo map's variables: features are 3 x 14
    assert metrics["notes.stays_without_notes"] == 0

    # The run's cohort: no patient in two splits; predictions for every test stay.
    splits = {
        name: pd.read_csv(run_dir / "cohort" / f"{name}.csv") for name in ("train", "val", "test")
    }
    subjects = [set(frame["SUBJECT_ID"]) for frame in splits.values()]
    assert not (subjects[0] & subjects[1] or subjects[0] & subjects[2] or subjects[1] & subjects[2])
    assert [metrics[f"cohort.{name}"] for name in splits] == [len(f) for f in splits.values()]
    predictions = pd.read_csv(run_dir / "predictions" / "seed-3407.csv")
    assert predictions["ICUSTAY_ID"].tolist() == splits["test"]["ICUSTAY_ID"].tolist()
    assert predictions["label"].tolist() == splits["test"]["MORT_HOSP"].tolist()


def test_demo_drg_and_los_report_their_scores(demo_overrides, run_in_process, tmp_path):
    # short notes: the scores' keys and the cohort are checked here, not what the text adds
    quick = [*demo_overrides, "predict.seeds=[3407]", "predict.max_epochs=3"]
    quick += ["predict.notes.max_length=64"]
    drg = run_in_process(*quick, "predict.task=drg", output_dir=tmp_path / "drg")
    assert {
        "test.accuracy.mean",
        "test.macro_f1.mean",
        "test.micro_f1.mean",
        "val.score.mean",
    } <= set(drg)
    assert drg["cohort.classes"] >= 10
    assert drg["epochs.seed_3407"] <= 3
    los = run_in_process(
        *quick, "predict.task=los_3", "predict.modality=struct", output_dir=tmp_path / "los"
    )
    assert {
        "test.auroc.mean",
        "test.auprc.mean",
        "test.average_precision.mean",
        "test.f1.mean",
    } <= set(los)
    assert 0.3 < los["cohort.prevalence.train"] < 0.7


def test_real_mimic3_demo_drg_needs_drgcodes(cli, shared_data, tmp_path):
    result = cli(
        "task=predict",
        "data=mimic",
        f"data.mimic3_dir={shared_data / 'mimic3_demo'}",
        "predict.task=drg",
    )
    assert_user_error(result, "DRGCODES")


def test_missing_column_is_one_error_line(cli, shared_data, tmp_path):
    tables = tmp_path / "mimic"
    shutil.copytree(shared_data / "mimic3_demo", tables)
    stays = pd.read_csv(tables / "ICUSTAYS.csv").drop(columns="intime")
    stays.to_csv(tables / "ICUSTAYS.csv", index=False)
    result = cli(
        "task=predict", "data=mimic", f"data.mimic3_dir={tables}", "predict.modality=struct"
    )
    assert_user_error(result, "ICUSTAYS.csv", "'intime'")


def test_real_mimic3_demo_has_no_notes_for_the_text_model(
    run_in_process, shared_data, random_encoder
):
    from clinicalnotebert.errors import UserError

    with pytest.raises(UserError, match="NOTEEVENTS .* has no note of the cohort's admissions"):
        run_in_process(
            "task=predict",
            "data=mimic",
            f"data.mimic3_dir={shared_data / 'mimic3_demo'}",
            f"encoder.path={random_encoder}",
        )


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("predict.task=mortality", "predict.task 'mortality'"),
        ("predict.modality=image", "predict.modality 'image'"),
        ("predict.seeds=[]", "predict.seeds is empty"),
    ],
)
def test_bad_settings(run_in_process, override, fragment):
    from clinicalnotebert.errors import UserError

    with pytest.raises(UserError, match=fragment):
        run_in_process("task=predict", override)


def test_grid_search_config(make_cfg):
    from hydra import compose, initialize_config_dir

    from clinicalnotebert.config import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        grid = compose(
            "config", ["task=predict", "hparams_search=predict_grid"], return_hydra_config=True
        )
        optuna = compose(
            "config", ["task=predict", "hparams_search=predict_optuna"], return_hydra_config=True
        )
    params = grid.hydra.sweeper.params
    values = [
        str(params[k]).split(",")
        for k in ("predict.dropout", "predict.weight_decay", "predict.hidden_size")
    ]
    assert [len(v) for v in values] == [4, 3, 3]  # 36 jobs, as the reference grid
    assert grid.optimized_metric == optuna.optimized_metric == "val.score.mean"
    assert list(grid.predict.seeds) == [3407]
    assert optuna.hydra.sweeper.direction == "maximize"
    assert set(optuna.hydra.sweeper.params) == set(params)


@pytest.mark.slow
def test_optuna_sweep_runs_then_its_best_job_is_rerun(
    cli, demo_overrides, run_in_process, tmp_path
):
    sweep = tmp_path / "sweep"
    # short notes: the search and the rerun are checked here, not the scores
    args = [a for a in demo_overrides if not a.startswith("predict.seeds")]
    args += ["predict.notes.max_length=64"]
    result = cli(
        "-m",
        *args,
        "hparams_search=predict_optuna",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.sampler.n_startup_trials=1",
        "predict.max_epochs=2",
        f"hydra.sweep.dir={sweep}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    best = (sweep / "optimization_results.yaml").read_text()
    assert "best_value" in best and "predict.hidden_size" in best
    jobs = [read_json(sweep / str(n) / "metrics.json") for n in range(2)]
    assert all(job["val.score.mean"] > 0 for job in jobs)
    assert max(job["val.score.mean"] for job in jobs) == pytest.approx(
        float(best.split("best_value:")[1].split()[0])
    )

    # then the best job, rerun with this run's seeds for its test scores
    selected = run_in_process(
        "task=predict",
        f"predict.select_from={sweep}",
        "predict.seeds=[5,6]",
        output_dir=tmp_path / "selected",
    )
    best_job = max(range(2), key=lambda n: jobs[n]["val.score.mean"])
    assert selected["selection.best_job"] == str(best_job) and selected["selection.trials"] == 2
    assert {"test.auroc.seed_5", "test.auroc.seed_6"} <= set(selected)
    rows = (tmp_path / "selected" / "selection.csv").read_text().splitlines()
    assert len(rows) == 3 and sum(row.endswith(",best") for row in rows) == 1
