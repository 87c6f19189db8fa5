"""task=pretrain end to end on the test corpus: learning, determinism, NTP, resume, chains."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from clinicalnotebert.corpus.store import load_variant
from clinicalnotebert.pretrain.data import split_rows
from clinicalnotebert.utils.training import TokenThroughput
from tests.pretrain.corpora import pretrain_args


def train_losses(log_file: Path) -> dict[int, float]:
    """``step -> train/loss`` from a CSV log (Lightning logs step N's loss with step N - 1)."""
    with log_file.open() as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("train/loss")]
    return {int(r["step"]) + 1: float(r["train/loss"]) for r in rows}


@pytest.fixture(scope="module")
def thirty_steps(demo_corpus, tmp_path_factory):
    """Two runs of 30 steps with the same seed."""
    from tests.helpers import run_task

    runs = []
    for name in ("first", "second"):
        out = tmp_path_factory.mktemp(name) / "run"
        args = pretrain_args(demo_corpus, "pretrain.max_steps=30", "pretrain.val_every_steps=15")
        runs.append((run_task(args, out), out))
    return runs


def test_loss_drops_over_30_steps(thirty_steps):
    metrics, out = thirty_steps[0]
    losses = train_losses(out / "logs" / "metrics.csv")
    assert sorted(losses) == list(range(1, 31))
    first, last = [losses[s] for s in range(1, 6)], [losses[s] for s in range(26, 31)]
    assert sum(last) / 5 < sum(first) / 5 - 0.4
    assert metrics["steps"] == 30
    assert metrics["val.mlm_loss"] < math.log(8192) - 1  # much better than uniform guessing
    assert metrics["val.mlm_perplexity"] == pytest.approx(
        math.exp(metrics["val.mlm_loss"]), rel=1e-5
    )
    assert "val.ntp_accuracy" not in metrics
    assert metrics["tokens_per_second"] > 0 and 0 <= metrics["padding_fraction"] < 0.3


def test_same_seed_same_run(thirty_steps):
    (first, first_out), (second, second_out) = thirty_steps
    losses = train_losses(first_out / "logs" / "metrics.csv")
    assert losses == train_losses(second_out / "logs" / "metrics.csv")
    assert len(set(losses.values())) > 20
    assert first["val.mlm_loss"] == second["val.mlm_loss"]


def test_run_dir_holds_checkpoint_export_and_no_note_text(thirty_steps, demo_corpus):
    metrics, out = thirty_steps[0]
    assert (out / "checkpoints" / "last.ckpt").is_file()
    sentences = load_variant(demo_corpus, "sentence")
    card = (out / "model" / "README.md").read_text()
    assert "| steps | 30 |" in card and "| objective | mlm |" in card
    assert f"| sequences | {len(sentences):,} |" in card
    texts = sentences["text"][::500]
    logged = [out / "logs" / "metrics.csv", out / "metrics.json", out / "model" / "README.md"]
    for path in logged:
        content = path.read_text()
        assert not any(text in content for text in texts), path
    header = (out / "logs" / "metrics.csv").read_text().splitlines()[0].split(",")
    assert set(header) <= {
        "epoch", "step", "train/loss", "train/mlm_loss", "train/lr", "train/padding_fraction",
        "train/tokens_per_second", "val/loss", "val/mlm_loss", "val/mlm_perplexity",
    }  # fmt: skip


def test_note_type_accuracy_rises_above_the_majority_class(demo_corpus, micro_pretrain_run):
    """The shared 300-step MLM + note-type run (tests/conftest.py, MICRO_PRETRAIN)."""
    metrics, _ = micro_pretrain_run
    # the demo's note types are unbalanced: chance is always guessing the commonest one
    sentences = load_variant(demo_corpus, "sentence")
    _, val_rows = split_rows(len(sentences), 0.05, 1024, seed=42)
    categories = np.asarray(sentences.select(val_rows)["note_category"])
    majority = np.bincount(categories).max() / len(categories)
    assert metrics["val.ntp_accuracy"] > majority + 0.08, (metrics["val.ntp_accuracy"], majority)
    # perplexity from the MLM loss alone; the total adds the NTP loss (weight 1 here; the
    # weighting itself: tests/pretrain/test_model.py)
    assert metrics["val.mlm_perplexity"] == pytest.approx(
        math.exp(metrics["val.mlm_loss"]), rel=1e-5
    )
    assert metrics["val.loss"] == pytest.approx(
        metrics["val.mlm_loss"] + metrics["val.ntp_loss"], rel=1e-5
    )
    assert metrics["train.loss"] == pytest.approx(
        metrics["train.mlm_loss"] + metrics["train.ntp_loss"], rel=1e-5
    )


class SimulatedKill(RuntimeError):
    pass


def test_killed_run_resumes_at_the_right_step_with_the_same_data(
    demo_corpus, run_in_process, tmp_path, monkeypatch
):
    args = pretrain_args(
        demo_corpus, "pretrain.max_steps=20", "pretrain.checkpoint_every_steps=10",
        "pretrain.val_every_steps=10", "pretrain.num_workers=1",
    )  # fmt: skip
    whole = tmp_path / "whole"
    run_in_process(*args, output_dir=whole)

    class KilledAfterStep13(TokenThroughput):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if trainer.global_step == 13:
                raise SimulatedKill("killed")

    killed = tmp_path / "killed"
    with monkeypatch.context() as patch:
        patch.setattr("clinicalnotebert.pretrain.task.TokenThroughput", KilledAfterStep13)
        with pytest.raises(SimulatedKill):
            run_in_process(*args, output_dir=killed)
    assert not (killed / "model").exists() and not (killed / "metrics.json").exists()
    metrics = run_in_process(*args, output_dir=killed)  # the rerun in the same run dir
    resumed = train_losses(killed / "logs" / "resume-1" / "metrics.csv")
    assert sorted(resumed) == list(range(11, 21))  # continues after the step-10 checkpoint
    expected = train_losses(whole / "logs" / "metrics.csv")
    for step, loss in resumed.items():
        assert loss == pytest.approx(expected[step], abs=1e-6), step
    assert metrics["steps"] == 20


def test_curriculum_chain_with_token_budget(demo_corpus, run_in_process, tmp_path):
    sentence = tmp_path / "sentence"
    run_in_process(*pretrain_args(demo_corpus, "pretrain.max_steps=4"), output_dir=sentence)
    metrics = run_in_process(
        *pretrain_args(demo_corpus, "seq=segment", f"model.init_from={sentence / 'model'}",
                       "pretrain.batch.tokens=512", "pretrain.max_steps=3")
    )  # fmt: skip
    assert metrics["steps"] == 3
    card = (tmp_path / "run" / "model" / "README.md").read_text()
    assert "| new weights at start | 0 |" in card and "| variant | segment |" in card


def test_continued_pretraining_from_minilm(minilm_corpus, minilm_dir, run_in_process, tmp_path):
    metrics = run_in_process(
        *pretrain_args(minilm_corpus, f"model.init_from={minilm_dir}", "pretrain.max_steps=2",
                       "pretrain.batch.sequences=4")
    )  # fmt: skip
    assert metrics["steps"] == 2
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(tmp_path / "run" / "model"))
    assert (config.num_hidden_layers, config.hidden_size, config.vocab_size) == (6, 384, 30522)


def test_tensorboard_logger(demo_corpus, run_in_process, tmp_path):
    run_in_process(*pretrain_args(demo_corpus, "logger=tensorboard", "pretrain.max_steps=3"))
    assert list((tmp_path / "run" / "tensorboard").rglob("events.out.tfevents.*"))
