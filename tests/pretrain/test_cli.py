"""task=pretrain as users run it: config errors as one line, and two DDP processes on CPU."""

from __future__ import annotations

import json

import pytest

from tests.helpers import assert_user_error
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
def test_ddp_sim_jobs_of_a_multirun_each_run_two_processes_into_their_own_dir(
    demo_corpus, tmp_path
):
    """Lightning restarts the workers from the command line: each job must restart itself only,
    and the next job must start its own workers; rank 1 writes nothing outside its job's dir."""
    from tests.helpers import run_cli

    sweep = tmp_path / "sweep"
    args = pretrain_args(demo_corpus, "trainer=ddp_sim", "pretrain.max_steps=4", "seed=1,2",
                         "pretrain.val_every_steps=2", "pretrain.checkpoint_every_steps=2")  # fmt: skip
    result = run_cli(["-m", *args, "--json", f"hydra.sweep.dir={sweep}"], tmp_path / "unused")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep"]
    # Lightning's lines go to the log files, one per process, not to the terminal
    assert "GLOBAL_RANK" not in result.stdout + result.stderr
    # each job's metrics are printed once, by rank zero (--json: one line instead of the table)
    printed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    for job, metrics in zip(("0", "1"), printed, strict=True):
        run_dir = sweep / job
        assert metrics["steps"] == 4
        assert json.loads((run_dir / "metrics.json").read_text()) == metrics
        assert "GLOBAL_RANK: 1, MEMBER: 2/2" in (run_dir / "train_ddp_process_1.log").read_text()
        assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["last.ckpt"]
        assert [p.name for p in (run_dir / "logs").iterdir()] == ["metrics.csv"]
        assert (run_dir / "model" / "model.safetensors").is_file()
