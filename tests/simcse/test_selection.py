"""Selection over a sweep: the trial table, the best job, and the grid / Optuna sweeps themselves."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from clinicalnotebert.errors import UserError
from clinicalnotebert.simcse.selection import (
    best_trial,
    read_trials,
    rows_csv,
    rows_markdown,
    swept_keys,
    trial_rows,
)


def fake_job(sweep, job: str, overrides: list[str], metrics: dict | None):
    hydra_dir = sweep / job / ".hydra"
    hydra_dir.mkdir(parents=True)
    (hydra_dir / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if metrics is not None:
        (sweep / job / "metrics.json").write_text(json.dumps(metrics))


@pytest.fixture
def sweep(tmp_path):
    common = ["task=simcse", "encoder.path=/m"]
    fake_job(
        tmp_path, "0", [*common, "simcse.max_steps=100", "simcse.lr=2e-05"], {"sts.pearson": 50.0}
    )
    fake_job(
        tmp_path, "1", [*common, "simcse.max_steps=500", "simcse.lr=2e-05"], {"sts.pearson": 61.5}
    )
    fake_job(tmp_path, "2", [*common, "simcse.max_steps=100", "simcse.lr=5e-05"], None)
    fake_job(
        tmp_path, "10", [*common, "simcse.max_steps=500", "simcse.lr=5e-05"], {"sts.pearson": 58.0}
    )
    (tmp_path / "multirun.yaml").write_text("not a job\n")
    return tmp_path


def test_trials_are_read_in_job_order_and_the_best_finished_one_wins(sweep):
    trials = read_trials(sweep)
    assert [t.job for t in trials] == ["0", "1", "2", "10"]
    assert trials[2].metrics is None
    assert swept_keys(trials) == ["simcse.max_steps", "simcse.lr"]
    assert best_trial(trials, "sts.pearson").job == "1"


def test_a_nan_score_never_wins(sweep):
    fake_job(sweep, "11", ["simcse.max_steps=1000", "simcse.lr=5e-05"], None)
    (sweep / "11" / "metrics.json").write_text('{"sts.pearson": NaN}')
    assert best_trial(read_trials(sweep), "sts.pearson").job == "1"
    collapsed = sweep / "collapsed"
    fake_job(collapsed, "0", ["simcse.lr=1"], None)
    (collapsed / "0" / "metrics.json").write_text('{"sts.pearson": NaN}')
    with pytest.raises(UserError, match="scored NaN"):
        best_trial(read_trials(collapsed), "sts.pearson")


def test_trial_table_lists_every_trial(sweep):
    trials = read_trials(sweep)
    rows = trial_rows(trials, ["sts.pearson"], best_trial(trials, "sts.pearson"))
    table = list(csv.DictReader(rows_csv(rows).splitlines()))
    assert [(r["job"], r["simcse.max_steps"], r["simcse.lr"], r["status"]) for r in table] == [
        ("0", "100", "2e-05", "done"),
        ("1", "500", "2e-05", "best"),
        ("2", "100", "5e-05", "failed"),
        ("10", "500", "5e-05", "done"),
    ]
    assert table[1]["sts.pearson"] == "61.5" and table[2]["sts.pearson"] == ""
    markdown = rows_markdown(rows).splitlines()
    assert markdown[0] == "| job | simcse.max_steps | simcse.lr | sts.pearson | status |"
    assert markdown[3] == "| 1 | 500 | 2e-05 | 61.50 | best |"


def test_selection_errors(tmp_path, sweep):
    with pytest.raises(UserError, match="does not exist"):
        read_trials(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no sweep jobs"):
        read_trials(tmp_path / "empty")
    with pytest.raises(UserError, match="has no 'sts.spearman' in metrics.json"):
        best_trial(read_trials(sweep), "sts.spearman")
    unfinished = tmp_path / "unfinished"
    fake_job(unfinished, "0", ["simcse.lr=1"], None)
    with pytest.raises(UserError, match="no job of the sweep finished"):
        best_trial(read_trials(unfinished), "sts.pearson")


def job_metrics(sweep_dir) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sweep_dir.glob("*/metrics.json")}


@pytest.mark.slow
def test_grid_sweep_then_select_and_retrain(cli, run_in_process, simcse_args, tmp_path):
    sweep_dir = tmp_path / "sweep"
    result = cli(
        "-m",
        *simcse_args,
        "hparams_search=simcse_grid",
        "simcse.max_steps=1,2",  # a 2-job stand-in for the reference 3 x 3 grid
        "simcse.lr=1e-4",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = job_metrics(sweep_dir)
    assert sorted(jobs) == ["0", "1"]
    assert sorted(metrics["steps"] for metrics in jobs.values()) == [1, 2]
    for metrics in jobs.values():
        assert metrics["sts.split"] == "train_sample" and metrics["sts.pairs"] == 200
    best_job = max(jobs, key=lambda job: jobs[job]["sts.pearson"])

    selected = run_in_process(
        "task=simcse", f"simcse.select_from={sweep_dir}", output_dir=tmp_path / "select"
    )
    assert selected["selection.trials"] == 2 and selected["selection.best_job"] == best_job
    assert selected["selection.best.simcse.max_steps"] == str(jobs[best_job]["steps"])
    assert selected["steps"] == jobs[best_job]["steps"]  # the best config, retrained
    assert selected["sts.split"] == "dev" and selected["sts.pairs"] == 200
    table = list(csv.DictReader((tmp_path / "select" / "selection.csv").read_text().splitlines()))
    assert [row["job"] for row in table] == ["0", "1"]
    assert [row["status"] for row in table].count("best") == 1
    report = (tmp_path / "select" / "selection.md").read_text()
    assert f"Best job {best_job}" in report and f"{selected['sts.spearman']:.2f}" in report
    assert (tmp_path / "select" / "encoder" / "modules.json").is_file()


@pytest.mark.slow
def test_optuna_sweeper_runs_the_search(cli, simcse_args, tmp_path):
    sweep_dir = tmp_path / "optuna"
    result = cli(
        "-m",
        *simcse_args,
        "hparams_search=simcse_optuna",
        "simcse.max_steps=choice(1, 2)",
        "simcse.lr=choice(1e-4)",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = job_metrics(sweep_dir)
    assert len(jobs) == 2  # the grid sampler visits each point once
    assert sorted(metrics["steps"] for metrics in jobs.values()) == [1, 2]
    optimum = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert optimum["best_value"] == pytest.approx(max(m["sts.pearson"] for m in jobs.values()))
