"""Selection over a real SimCSE sweep: the grid and Optuna sweeps, then select and retrain."""

from __future__ import annotations

import csv
import json

import pytest
import yaml


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
