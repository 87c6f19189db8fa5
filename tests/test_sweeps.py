"""The shared sweep reader: jobs in order, the best finished one (NaN never wins), the trials."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from clinicalnotebert.errors import UserError
from clinicalnotebert.sweeps import (
    best_job,
    read_jobs,
    rows_csv,
    rows_markdown,
    swept_keys,
    trial_rows,
)


def fake_job(sweep, job: str, overrides: list[str], metrics: dict | None):
    hydra_dir = sweep / job / ".hydra"
    hydra_dir.mkdir(parents=True)
    (hydra_dir / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (hydra_dir / "config.yaml").write_text("task: {name: simcse}\n")
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
    jobs = read_jobs(sweep, "simcse.select_from")
    assert [job.name for job in jobs] == ["0", "1", "2", "10"]
    assert jobs[2].metrics is None
    assert swept_keys(jobs) == ["simcse.max_steps", "simcse.lr"]
    assert best_job(jobs, "sts.pearson", "here").name == "1"


def test_a_nan_score_never_wins(sweep):
    fake_job(sweep, "11", ["simcse.max_steps=1000", "simcse.lr=5e-05"], None)
    (sweep / "11" / "metrics.json").write_text('{"sts.pearson": NaN}')
    assert best_job(read_jobs(sweep, "key"), "sts.pearson", "here").name == "1"
    collapsed = sweep.parent / "collapsed"
    fake_job(collapsed, "0", ["simcse.lr=1"], None)
    (collapsed / "0" / "metrics.json").write_text('{"sts.pearson": NaN}')
    with pytest.raises(UserError, match="no finished job reports a number for 'sts.pearson'"):
        best_job(read_jobs(collapsed, "key"), "sts.pearson", "here")


def test_trial_table_lists_every_trial(sweep):
    jobs = read_jobs(sweep, "key")
    rows = trial_rows(jobs, ["sts.pearson"], best_job(jobs, "sts.pearson", "here"))
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
    assert markdown[3] == "| 1 | 500 | 2e-05 | 61.5 | best |"


def test_selection_errors(tmp_path, sweep):
    with pytest.raises(UserError, match="simcse.select_from '.*missing' is not a directory"):
        read_jobs(tmp_path / "missing", "simcse.select_from")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no runs"):
        read_jobs(tmp_path / "empty", "key")
    with pytest.raises(UserError, match="no finished job reports a number for 'sts.spearman'"):
        best_job(read_jobs(sweep, "key"), "sts.spearman", "here")
    unfinished = tmp_path / "unfinished"
    fake_job(unfinished, "0", ["simcse.lr=1"], None)
    with pytest.raises(UserError, match="here: no job finished"):
        best_job(read_jobs(unfinished, "key"), "sts.pearson", "here")


def test_a_cut_off_metrics_file_is_an_unfinished_job(sweep):
    (sweep / "10" / "metrics.json").write_text('{"sts.pearson": 9')
    jobs = read_jobs(sweep, "key")
    assert jobs[3].metrics is None and best_job(jobs, "sts.pearson", "here").name == "1"
