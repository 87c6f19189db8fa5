"""task=pretrain as users run it: config errors as one line, and two DDP processes on CPU."""

from __future__ import annotations

import json

import pytest

from tests.helpers import assert_user_error, last_json_line
from tests.pretrain.corpora import pretrain_args


def test_unknown_model_size(cli, demo_corpus):
    result = cli(*pretrain_args(demo_corpus, "model=huge"))
    assert_user_error(result, "model", "huge")


def test_missing_corpus_path(cli):
    assert_user_error(cli("task=pretrain"), "corpus.path")


def test_mlm_ntp_without_note_type_labels(cli, unlabelled_corpus):
    result = cli(*pretrain_args(unlabelled_corpus, "objective=mlm_ntp"))
    assert_user_error(result, "objective=mlm_ntp", "note_category")


@pytest.mark.slow
def test_ddp_sim_runs_two_processes_into_one_run_dir(cli_process, demo_corpus, tmp_path):
    run_dir = tmp_path / "run"
    result = cli_process(
        *pretrain_args(demo_corpus, "trainer=ddp_sim", "pretrain.max_steps=4",
                       "pretrain.val_every_steps=2", "pretrain.checkpoint_every_steps=2"),
        "--json",
        run_dir=run_dir,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    # Lightning's lines go to the log files, one per process, not to the terminal
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in (run_dir / "train_ddp_process_1.log").read_text()
    assert "GLOBAL_RANK" not in result.stdout + result.stderr
    metrics = last_json_line(result.stdout)
    assert metrics["steps"] == 4
    assert json.loads((run_dir / "metrics.json").read_text()) == metrics
    # one run dir: rank 1 logged its job there and wrote nothing else anywhere
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert (run_dir / "train_ddp_process_1.log").is_file()
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["last.ckpt"]
    assert [p.name for p in (run_dir / "logs").iterdir()] == ["metrics.csv"]
    assert (run_dir / "model" / "model.safetensors").is_file()
    # the metrics are printed once, by rank zero (--json: as one line instead of the table)
    assert sum(line.startswith('{"steps"') for line in result.stdout.splitlines()) == 1


@pytest.mark.slow
def test_ddp_sim_inside_a_multirun_keeps_each_job_in_its_dir(demo_corpus, tmp_path):
    """Lightning restarts the workers from the command line: each job must restart itself only,
    and the next job must start its own workers."""
    from tests.helpers import run_cli

    sweep = tmp_path / "sweep"
    args = pretrain_args(demo_corpus, "trainer=ddp_sim", "pretrain.max_steps=2", "seed=1,2")
    result = run_cli(["-m", *args, f"hydra.sweep.dir={sweep}"], tmp_path / "unused", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for job in ("0", "1"):
        assert json.loads((sweep / job / "metrics.json").read_text())["steps"] == 2
        assert (sweep / job / "train_ddp_process_1.log").is_file()
        assert (sweep / job / "model" / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep"]
