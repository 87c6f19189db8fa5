"""What every fine-tuning task shares: loading a head, fitting it with the configured trainer,
predicting with it and exporting it (docs/finetune.md, "Training").

A task's ``fit`` trains a new head with :func:`train_head` (a Lightning trainer from the
``trainer`` and ``logger`` groups), predicts dev and test with :meth:`Head.predict`
(``trainer.predict``) and exports it with :meth:`Head.save`. Under DDP or FSDP every process
predicts every row, so all processes hold the same scores and take the same decisions; only
rank zero writes files.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from clinicalnotebert.config import FinetuneConfig
from clinicalnotebert.errors import UserError
from clinicalnotebert.finetune.batching import TrainingData, prediction_loader
from clinicalnotebert.finetune.module import FinetuneModule
from clinicalnotebert.hub import from_pretrained_quietly
from clinicalnotebert.io import flatten_metrics
from clinicalnotebert.utils.runtime import finish_trackers, seed_everything
from clinicalnotebert.utils.training import TrainingSetup, build_logger, build_trainer

log = logging.getLogger(__name__)

LOG_NAME = "finetune"  # the logger's name: <run>/finetune/<stage>/ for csv and tensorboard
CHECKPOINTS = "checkpoints"  # <run>/checkpoints/<stage>/last.ckpt


@dataclass(frozen=True)
class Settings:
    """One point of the grid."""

    lr: float
    epochs: int
    batch_size: int

    @property
    def tag(self) -> str:
        return f"lr{self.lr:g}_ep{self.epochs}_bs{self.batch_size}"

    def echo(self) -> dict[str, Any]:
        return {"lr": self.lr, "epochs": self.epochs, "batch_size": self.batch_size}

    def overrides(self) -> dict[str, str]:
        """As the command-line overrides of a sweep job (for the trial table)."""
        return {f"finetune.{key}": f"{value:g}" for key, value in self.echo().items()}


@dataclass
class Trainers:
    """The trainers a run built. ``utils.distributed.one_ddp_job`` asks for ``strategy`` to learn
    whether this process started DDP workers: only the first trainer's launcher can have."""

    built: list = field(default_factory=list)

    @property
    def strategy(self):
        return self.built[0].strategy if self.built else SimpleNamespace(launcher=None)


@dataclass(frozen=True)
class Context:
    """What every task needs besides its data: the ``finetune`` section, the encoder, the seed,
    the trainer and logger groups, and the grid point being trained (names its logs and
    checkpoints in an in-process grid)."""

    ft: FinetuneConfig
    encoder: str
    seed: int
    setup: TrainingSetup
    point: str = ""
    trainers: Trainers = field(default_factory=Trainers)

    def stage(self, what: str) -> str:
        """``what`` (nli, ner, qa, entities, relations), under the grid point's tag if any."""
        return f"{self.point}/{what}" if self.point else what


@dataclass
class Head:
    """A trained head: its module, the trainer that fitted it (and predicts with it), its
    tokenizer, and its weights as the strategy gives them (FSDP gathers the full model; rank
    zero holds it)."""

    module: FinetuneModule
    trainer: Any
    tokenizer: Any
    eval_batch_size: int
    weights: dict | None = None

    @property
    def train_loss(self) -> float:
        return self.module.mean_loss

    @property
    def pad_id(self) -> int:
        return self.tokenizer.pad_token_id

    def predict(
        self, features: Sequence[dict], outputs: tuple[str, ...], per_token: bool
    ) -> list[tuple[np.ndarray, ...]]:
        """Per feature (input order), the named model outputs as float32 arrays; ``per_token``
        outputs (one row per position) are cut to the feature's own length."""
        if not features:
            return []
        loader = prediction_loader(features, self.pad_id, self.eval_batch_size)
        results: list = [None] * len(features)
        for batch in self.trainer.predict(self.module, dataloaders=loader):
            arrays = [batch[name].cpu().numpy() for name in outputs]
            for row, i in enumerate(batch["index"].tolist()):
                length = len(features[i]["input_ids"])
                results[i] = tuple(a[row, :length] if per_token else a[row] for a in arrays)
        return results

    def save(self, directory: Path) -> None:
        """Hugging Face layout (safetensors + tokenizer files), loadable by the Auto classes."""
        state = {k.removeprefix("model."): v for k, v in (self.weights or {}).items()}
        self.module.model.save_pretrained(directory, state_dict=state or None)
        self.tokenizer.save_pretrained(directory)

    def shared(self, metrics: dict) -> dict:
        """Rank zero's ``metrics`` in every process (one process: ``metrics`` itself)."""
        return self.trainer.strategy.broadcast(metrics, src=0)

    def close(self, scores: dict | None = None) -> None:
        """The dev and test ``scores`` (numbers only, ``test/f1``) to this stage's logger, which
        is then closed (a wandb run ends, so the next stage's steps start a run of their own)."""
        logger = self.trainer.logger
        if logger and scores:
            flat = flatten_metrics({split: scores[split] for split in ("dev", "test")})
            numbers = {
                key.replace(".", "/"): value
                for key, value in flat.items()
                if isinstance(value, int | float) and not isinstance(value, bool)
            }
            logger.log_metrics(numbers, step=self.trainer.global_step)
        if logger:
            logger.finalize("success")
        finish_trackers()


@dataclass
class Outcome:
    """A trained configuration: its metrics, how to export its heads, its test predictions and
    its last head (whose logger gets the scores)."""

    metrics: dict[str, Any]
    export: Callable[[Path], None]
    predictions: list[dict]
    head: Head


def label_names(labels: Sequence[str]) -> dict:
    """The head config's label fields, so the exported model names its classes."""
    return {
        "num_labels": len(labels),
        "id2label": dict(enumerate(labels)),
        "label2id": {label: i for i, label in enumerate(labels)},
    }


def load_head(auto_class, ctx: Context, **config):
    """A task head on the encoder (new head weights seeded), never with remote code."""
    seed_everything(ctx.seed)
    try:
        model, info = from_pretrained_quietly(
            auto_class, ctx.encoder, ignore_mismatched_sizes=True, **config
        )
    except (OSError, ValueError) as exc:
        raise UserError(
            f"encoder.path: cannot load '{ctx.encoder}' for fine-tuning: {exc}"
        ) from None
    log.info("new %s weights: %s", type(model).__name__, ", ".join(info["missing_keys"]) or "none")
    return model


def checkpoint_callbacks(ctx: Context, stage: str) -> list:
    """``<run>/checkpoints/<stage>/last.ckpt`` (weights, optimizer, schedule) at each epoch's end,
    when ``finetune.checkpoints``."""
    if not ctx.ft.checkpoints:
        return []
    from pytorch_lightning.callbacks import ModelCheckpoint

    return [
        ModelCheckpoint(
            dirpath=ctx.setup.output_dir / CHECKPOINTS / stage,
            save_last=True,
            save_top_k=0,
            enable_version_counter=False,
        )
    ]


def train_head(
    auto_class,
    features: Sequence[dict],
    settings: Settings,
    ctx: Context,
    tokenizer,
    what: str,
    labels: Sequence[str] | None = None,
    callbacks: Sequence = (),
) -> Head:
    """A new ``auto_class`` head on the encoder (its classes named ``labels``; its embeddings
    grown to ``tokenizer`` when that has more tokens, as with RE's entity markers) fine-tuned on
    ``features`` by a trainer from the ``trainer`` group. ``what`` names the stage's logs
    (``<run>/finetune/<stage>/``) and checkpoints (``<run>/checkpoints/<stage>/``)."""
    model = load_head(auto_class, ctx, **(label_names(labels) if labels is not None else {}))
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    ft, setup, stage = ctx.ft, ctx.setup, ctx.stage(what)
    trainer = build_trainer(
        setup,
        [*checkpoint_callbacks(ctx, stage), *callbacks],
        logger=build_logger(setup, name=LOG_NAME, version=stage),
        max_epochs=settings.epochs,
        gradient_clip_val=ft.max_grad_norm,
        enable_checkpointing=ft.checkpoints,
        use_distributed_sampler=False,  # TrainingData shares out the length-grouped batches
    )
    ctx.trainers.built.append(trainer)
    module = FinetuneModule(model, ft, settings.lr, ctx.seed)
    pad_id = tokenizer.pad_token_id
    data = TrainingData(features, pad_id, settings.batch_size, ft.length_group_factor, ctx.seed)
    trainer.fit(module, datamodule=data)
    weights = trainer.strategy.lightning_module_state_dict()  # every rank: FSDP gathers here
    return Head(module, trainer, tokenizer, ft.eval_batch_size, weights)
