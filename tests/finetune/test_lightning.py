"""Fine-tuning on the shared Lightning trainer: the ``trainer`` group's strategy (two DDP CPU
processes), precision and gradient clipping, the ``logger`` group and the checkpoints.

The tiny encoder has no dropout, so a run's steps depend only on the weights and the batches:
runs can be compared step for step, and a step's loss recomputed by hand.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from safetensors.torch import load_file

from clinicalnotebert.finetune.batching import length_grouped_batches
from clinicalnotebert.finetune.nli import NliTask
from clinicalnotebert.finetune.training import Context, Settings, train_head
from clinicalnotebert.utils.training import TrainingSetup
from tests.finetune.synthetic import write_nli
from tests.helpers import run_cli, run_task

LABELS = ["entailment", "neutral", "contradiction"]
# 21 training pairs in batches of 8: 8, 8, 5 (two processes share the last one 3 / 2)
SIZES = {"train": 21, "dev": 12, "test": 12}
EPOCHS, STEPS = 8, 8 * 3  # three batches an epoch (the tiny encoder learns in 24 steps)


def nli_args(data, encoder, *extra) -> list[str]:
    return [
        "task=finetune",
        "finetune.task=nli",
        f"finetune.path={data}",
        f"encoder.path={encoder}",
        "finetune.lr=1e-2",
        f"finetune.epochs={EPOCHS}",
        "finetune.batch_size=8",
        "trainer.log_every_n_steps=1",
        *extra,
    ]


@pytest.fixture(scope="module")
def nli_data(tmp_path_factory):
    return write_nli(tmp_path_factory.mktemp("nli"), SIZES)


@pytest.fixture(scope="module")
def single(nli_data, tiny_encoder, tmp_path_factory):
    """One process (trainer=cpu, 32-true): its metrics and run dir."""
    run_dir = tmp_path_factory.mktemp("single")
    return run_task(nli_args(nli_data, tiny_encoder), run_dir), run_dir


def logged(run_dir, column: str, stage: str = "nli") -> list[float]:
    rows = csv.DictReader((run_dir / "finetune" / stage / "metrics.csv").open())
    return [float(row[column]) for row in rows if row.get(column)]


def max_difference(state: dict, reference: dict) -> float:
    """The largest absolute difference between the tensors both states have."""
    common = set(state) & set(reference)
    assert common
    return max(float((state[k] - reference[k]).abs().max()) for k in common)


def first_step_loss(data, encoder, seed: int = 42) -> float:
    """The loss of the first training batch under the freshly seeded head, computed with
    Hugging Face alone: the batch is the first of the seeded length-grouped order."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    rows = [json.loads(line) for line in (data / "mli_train_v1.jsonl").open()]
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    pairs = [(r["sentence1"], r["sentence2"]) for r in rows]
    lengths = [len(tokenizer(a, b)["input_ids"]) for a, b in pairs]
    batch = length_grouped_batches(lengths, 8, np.random.default_rng(seed), 50)[0]
    inputs = tokenizer(
        [pairs[i][0] for i in batch],
        [pairs[i][1] for i in batch],
        padding=True,
        return_tensors="pt",
    )
    labels = torch.tensor([LABELS.index(rows[i]["gold_label"]) for i in batch])
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(encoder, num_labels=3)
    with torch.no_grad():
        return float(model(**inputs, labels=labels).loss)


def test_logger_gets_every_step_loss_and_the_scores(single, nli_data, tiny_encoder):
    metrics, run_dir = single
    losses = logged(run_dir, "train/loss")
    assert len(losses) == STEPS  # trainer.log_every_n_steps=1
    assert losses[0] == pytest.approx(first_step_loss(nli_data, tiny_encoder), rel=1e-5)
    assert np.mean(losses) == pytest.approx(metrics["train.loss"], rel=1e-5)
    # linear: warmup over ceil(0.1 * 24) = 3 steps, then down to 0 over the other 21
    expected = [1e-2 * (s / 3 if s < 3 else (STEPS - s) / 21) for s in range(STEPS)]
    assert logged(run_dir, "train/lr") == pytest.approx(expected)
    assert logged(run_dir, "test/accuracy") == [metrics["test.accuracy"]]


def test_checkpoint_holds_the_exported_weights(single):
    metrics, run_dir = single
    checkpoint = torch.load(
        run_dir / "checkpoints" / "nli" / "last.ckpt", map_location="cpu", weights_only=False
    )
    assert checkpoint["global_step"] == STEPS
    assert len(checkpoint["optimizer_states"]) == 1 and checkpoint["lr_schedulers"]
    exported = load_file(run_dir / "model" / "model.safetensors")
    state = checkpoint["state_dict"]
    assert set(exported) <= {key.removeprefix("model.") for key in state}
    for key, value in exported.items():
        assert torch.equal(state[f"model.{key}"], value), key


@pytest.mark.slow
def test_ddp_two_processes_take_the_single_process_steps(single, nli_data, tiny_encoder, tmp_path):
    """``trainer=ddp_sim``: each process gets part of every batch, the weighted losses make each
    DDP step the single-process step (up to float rounding), so the runs end alike."""
    metrics, single_dir = single
    run_dir = tmp_path / "ddp"
    # its own process: Lightning starts the second one from the command line
    result = run_cli(nli_args(nli_data, tiny_encoder, "trainer=ddp_sim"), run_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    logs = "".join(path.read_text() for path in run_dir.glob("*.log"))
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in logs  # rank 1 ran, in this run dir
    ddp = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test.accuracy"] > 0.5  # learned: the predictions compared mean something
    assert ddp["train.loss"] == pytest.approx(metrics["train.loss"], rel=1e-5)
    assert logged(run_dir, "train/loss") == pytest.approx(logged(single_dir, "train/loss"), 1e-5)
    for key in ("dev.accuracy", "test.accuracy", "test.macro_f1"):
        assert ddp[key] == metrics[key], key
    for name in ("test_predictions.jsonl", "model/config.json", "model/tokenizer.json"):
        assert (run_dir / name).read_text() == (single_dir / name).read_text(), name
    ours, theirs = (load_file(d / "model" / "model.safetensors") for d in (run_dir, single_dir))
    initial = {f"bert.{k}": v for k, v in load_file(tiny_encoder / "model.safetensors").items()}
    moved = max_difference(theirs, initial)  # about 0.1
    # float rounding only; attention key biases have a zero gradient (softmax ignores them),
    # whose rounding noise Adam turns into steps of its own size
    keys = {k for k in theirs if k.endswith("attention.self.key.bias")}
    others = {k: v for k, v in theirs.items() if k not in keys}
    assert max_difference(ours, others) < 1e-4 * moved
    assert max_difference(ours, {k: theirs[k] for k in keys}) < 1e-2 * moved
    assert (run_dir / "checkpoints" / "nli" / "last.ckpt").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp"]  # nothing written elsewhere


def test_bf16_mixed_precision_on_cpu(single, nli_data, tiny_encoder, tmp_path):
    metrics, single_dir = single
    run_dir = tmp_path / "bf16"
    args = nli_args(nli_data, tiny_encoder, "trainer.precision=bf16-mixed")
    bf16 = run_task([*args, "finetune.checkpoints=false"], run_dir)
    # the same first batch on the same weights: bf16 matmuls round differently, a little
    first, reference = logged(run_dir, "train/loss")[0], logged(single_dir, "train/loss")[0]
    assert first != reference and first == pytest.approx(reference, rel=2e-2)
    difference = abs(bf16["train.loss"] - metrics["train.loss"])
    assert 0 < difference < 0.05 * metrics["train.loss"]
    assert 0 <= bf16["test.accuracy"] <= 1
    weights = load_file(run_dir / "model" / "model.safetensors")
    assert all(value.dtype == torch.float32 for value in weights.values())  # fp32 master weights
    assert not (run_dir / "checkpoints").exists()  # finetune.checkpoints=false


class GradientNorms(pl.Callback):
    """The total gradient norm before clipping (``on_before_optimizer_step``) and after the
    optimizer step (``on_train_batch_end``: the gradients it stepped with)."""

    def __init__(self):
        self.before: list[float] = []
        self.after: list[float] = []

    @staticmethod
    def norm(module) -> float:
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        return float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])))

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.before.append(self.norm(pl_module))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.after.append(self.norm(pl_module))


@pytest.mark.parametrize("max_norm", [0.05, None])
def test_max_grad_norm_clips_through_the_trainer(nli_data, tiny_encoder, make_cfg, max_norm):
    from transformers import AutoModelForSequenceClassification

    setting = "null" if max_norm is None else max_norm
    cfg = make_cfg(
        *nli_args(nli_data, tiny_encoder, f"finetune.max_grad_norm={setting}"),
        "finetune.checkpoints=false",
    )
    ctx = Context(cfg.finetune, str(tiny_encoder), 0, TrainingSetup.from_config(cfg))
    task = NliTask(ctx)
    norms = GradientNorms()
    features, settings = task.features["train"], Settings(1e-3, 1, 8)
    auto_class = AutoModelForSequenceClassification
    head = train_head(
        auto_class, features, settings, ctx, task.tokenizer, "nli", LABELS, callbacks=[norms]
    )
    assert head.trainer.gradient_clip_val == max_norm
    assert len(norms.before) == len(norms.after) == 3
    assert min(norms.before) > 0.05  # every step's gradient is over the limit
    expected = [min(n, max_norm) if max_norm else n for n in norms.before]
    assert norms.after == pytest.approx(expected, rel=1e-4)
