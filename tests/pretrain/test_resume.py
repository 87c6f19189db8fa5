"""Resuming a run dir cannot crash: a checkpoint of other settings, a cut-off last.ckpt or a file
that is no checkpoint is one error line (or, with step checkpoints kept, a fallback)."""

from __future__ import annotations

import logging

import pytest

from clinicalnotebert.errors import UserError
from tests.helpers import assert_user_error, run_main
from tests.pretrain.corpora import pretrain_args

QUICK = ("pretrain.max_steps=2", "pretrain.val_every_steps=2", "pretrain.val_max_sequences=16")


@pytest.fixture
def finished(demo_corpus, run_in_process, tmp_path):
    """A finished 2-step run: checkpoints/last.ckpt (and step-0000002.ckpt) beside its model."""
    run_dir = tmp_path / "run"
    args = pretrain_args(
        demo_corpus,
        *QUICK,
        "pretrain.checkpoint_every_steps=1",
        "pretrain.keep_step_checkpoints=true",
    )
    run_in_process(*args, output_dir=run_dir)
    return run_dir, args


def test_a_rerun_with_another_objective_or_size_names_what_differs(finished, tmp_path):
    run_dir, args = finished
    result = run_main([*args, "objective=mlm_ntp"], run_dir)
    line = assert_user_error(
        result, f"{run_dir}: checkpoint last.ckpt", "objective: mlm there, mlm_ntp now"
    )
    assert "pretrain.ckpt_path=null" in line and "new run dir" in line
    result = run_main([*args, "model=nano"], run_dir)
    assert_user_error(result, "architecture.hidden_size: 128 there, 64 now")


def test_a_cut_off_last_checkpoint_falls_back_to_the_newest_step(finished, run_in_process, caplog):
    run_dir, args = finished
    last = run_dir / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 3])
    with caplog.at_level(logging.WARNING, logger="clinicalnotebert.pretrain.resume"):
        metrics = run_in_process(*args, "pretrain.max_steps=3", output_dir=run_dir)
    assert metrics["steps"] == 3  # continued from step 2
    assert "instead of the damaged last.ckpt" in caplog.text


def test_a_cut_off_last_checkpoint_without_steps_is_one_error_line(finished):
    run_dir, args = finished
    for step in (run_dir / "checkpoints").glob("step-*.ckpt"):
        step.unlink()
    last = run_dir / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:1000])
    assert_user_error(run_main(args, run_dir), "last.ckpt is damaged", "pretrain.ckpt_path=null")


def test_a_file_that_is_no_checkpoint(demo_corpus, tmp_path, run_in_process):
    not_a_checkpoint = tmp_path / "notes.txt"
    not_a_checkpoint.write_text("not a checkpoint")
    args = pretrain_args(demo_corpus, *QUICK, f"pretrain.ckpt_path={not_a_checkpoint}")
    with pytest.raises(UserError, match=r"notes.txt' is not a readable checkpoint"):
        run_in_process(*args, output_dir=tmp_path / "run")
    with pytest.raises(UserError, match="pretrain.ckpt_path .*missing.ckpt' does not exist"):
        run_in_process(
            *args, f"pretrain.ckpt_path={tmp_path / 'missing.ckpt'}", output_dir=tmp_path / "r2"
        )
