"""Build Lightning trainers and loggers from the ``trainer`` and ``logger`` config groups."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from pytorch_lightning.plugins.io import TorchCheckpointIO

from clinicalnotebert.config import Config
from clinicalnotebert.errors import UserError
from clinicalnotebert.io import remove_debris, temp_sibling


@dataclass(frozen=True)
class TrainingSetup:
    """What every training stage takes from the config to build its trainer: the ``trainer`` and
    ``logger`` groups and the run dir (so that library code never needs the whole config)."""

    trainer: dict[str, Any]
    logger: dict[str, Any] | None
    output_dir: Path

    @classmethod
    def from_config(cls, cfg: Config) -> TrainingSetup:
        return cls(dict(cfg.trainer), dict(cfg.logger or {}) or None, Path(cfg.paths.output_dir))

    @property
    def log_dir_name(self) -> str:
        return str((self.logger or {}).get("name", "logs"))


def instantiated(group: str, spec: dict[str, Any], **kwargs):
    """``instantiate(spec)``; any error is a bad value in the ``group`` config (a user error)."""
    try:
        return instantiate(spec, **kwargs, _convert_="all")
    except Exception as exc:  # Lightning, torch and Hydra raise many kinds for a bad value
        cause = exc.__cause__ or exc
        raise UserError(f"{group}: {' '.join(str(cause).split())}") from None


def build_logger(setup: TrainingSetup, name: str | None = None, version: str | None = None):
    """The configured tracker (csv by default), writing inside the run dir. Never given note text.

    ``version`` (for loggers that have one: csv, tensorboard) picks a subfolder, e.g. so that a
    resumed run does not overwrite the logs of the run it continues.
    """
    if not setup.logger:
        return False
    spec = {**setup.logger, "save_dir": str(setup.output_dir)}
    if name is not None and "name" in spec:
        spec["name"] = name
    if version is not None and "version" in spec:
        spec["version"] = version
    return instantiated("logger", spec)


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` into a sibling temporary file, then one rename: a kill during a save leaves
    the previous checkpoint whole. (Lightning's own write goes through a temporary file in the
    system's temp dir, and where that is another file system the final move is a copy.)"""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_debris(path)
        tmp = temp_sibling(path)
        torch.save(checkpoint, tmp)
        os.replace(tmp, path)


def build_trainer(setup: TrainingSetup, callbacks: Sequence = (), logger=None, **overrides):
    """``pytorch_lightning.Trainer`` from the ``trainer`` group; ``overrides`` are the stage's own
    settings (max_steps, accumulate_grad_batches, ...), which win over the group's values."""
    return instantiated(
        "trainer",
        {**setup.trainer, **overrides},
        callbacks=list(callbacks),
        logger=build_logger(setup) if logger is None else logger,
        default_root_dir=str(setup.output_dir),
        plugins=[AtomicCheckpointIO()],
    )


class TokenThroughput(pl.Callback):
    """Logs ``train/tokens_per_second`` (real tokens of all processes) at each logging step.

    ``batch[token_key]`` / ``batch[padded_key]`` are the real (non-padding) and padded token
    counts of a micro-batch, host integers so that no device sync is needed. Validation time is
    not counted as training time.
    """

    def __init__(self, token_key: str = "real_tokens", padded_key: str = "padded_tokens"):
        self.token_key, self.padded_key = token_key, padded_key
        self.tokens = 0  # this process, this fit
        self.padded = 0
        self.totals = (0.0, 0.0)  # real and padded tokens of all processes, set at the end
        self.seconds = 0.0
        self.window = (0, 0.0)  # tokens and seconds when the rate was last measured
        self.window_step = -1
        self.rate: float | None = None
        self.resumed_at: float | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        self.resumed_at = time.perf_counter()

    def pause(self) -> None:
        if self.resumed_at is not None:
            self.seconds += time.perf_counter() - self.resumed_at
            self.resumed_at = None

    def on_validation_start(self, trainer, pl_module) -> None:
        self.pause()

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.training:
            self.resumed_at = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.tokens += batch[self.token_key]
        self.padded += batch[self.padded_key]
        step = trainer.global_step
        if step != self.window_step and step % trainer.log_every_n_steps == 0:
            seconds = self.elapsed()
            tokens, spent = self.tokens - self.window[0], seconds - self.window[1]
            self.window, self.window_step = (self.tokens, seconds), step
            self.rate = tokens * trainer.world_size / spent if spent > 0 else None
        if self.rate is not None:
            pl_module.log("train/tokens_per_second", self.rate, batch_size=1)

    def elapsed(self) -> float:
        running = time.perf_counter() - self.resumed_at if self.resumed_at is not None else 0.0
        return self.seconds + running

    def on_train_end(self, trainer, pl_module) -> None:
        self.pause()
        counts = torch.tensor(
            [self.tokens, self.padded], dtype=torch.float64, device=pl_module.device
        )
        self.totals = tuple(trainer.strategy.reduce(counts, reduce_op="sum").tolist())

    def tokens_per_second(self) -> float:
        """Real tokens of all processes per second of training, for the last fit (0 if none)."""
        return self.totals[0] / self.seconds if self.seconds > 0 else 0.0

    def padding_fraction(self) -> float:
        """Share of the computed positions that were padding, for the last fit."""
        return 1.0 - self.totals[0] / self.totals[1] if self.totals[1] else 0.0
