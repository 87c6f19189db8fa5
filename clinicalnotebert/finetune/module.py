"""The fine-tuning LightningModule: any Hugging Face head (``AutoModelFor*``) on its own loss.

The trainer comes from the ``trainer`` group (docs/finetune.md, "Training"): devices, strategy
(DDP, FSDP), precision, logging, gradient clipping (``finetune.max_grad_norm``) and checkpoints.
"""

from __future__ import annotations

import numpy as np
import pytorch_lightning as pl
import torch

from clinicalnotebert.config import FinetuneConfig
from clinicalnotebert.errors import UserError
from clinicalnotebert.finetune.batching import BOOKKEEPING
from clinicalnotebert.utils.optim import adamw, warmup_steps

OUTPUTS = ("logits", "start_logits", "end_logits")  # what prediction returns, where present
DROPOUT_STREAM = 11  # keeps the per-process dropout seeds apart from other uses of the seed


def model_inputs(batch: dict) -> dict:
    return {key: value for key, value in batch.items() if key not in BOOKKEEPING}


def lr_schedule(optimizer, ft: FinetuneConfig, total_steps: int):
    """``finetune.scheduler``: ``linear`` (warmup over ``warmup_ratio`` of the steps, then linear
    decay) or the reference's ``constant`` [QUIRK]: in Hugging Face ``constant`` ignores
    ``warmup_ratio``. Stepped once per optimizer step."""
    from transformers import get_scheduler

    try:
        return get_scheduler(
            ft.scheduler,
            optimizer,
            num_warmup_steps=warmup_steps(ft.warmup_ratio, total_steps),
            num_training_steps=total_steps,
        )
    except ValueError as exc:
        raise UserError(f"finetune.scheduler '{ft.scheduler}': {exc}") from None


class FinetuneModule(pl.LightningModule):
    """Wraps a head model (``self.model``): trains on ``model(**batch).loss``, predicts its logits.

    Batches carry a ``loss_weight`` (1 in one process, see ``batching.shares`` under DDP) and,
    for prediction, the ``index`` of each row; neither goes to the model.
    """

    def __init__(self, model, ft: FinetuneConfig, lr: float, seed: int):
        super().__init__()
        # from_pretrained gives eval mode, and Lightning keeps the modes it finds: dropout on
        self.model = model.train()
        self.ft, self.lr, self.seed = ft, lr, seed
        self.loss_total: torch.Tensor | None = None
        self.steps = 0
        self.mean_loss = float("nan")  # over all training steps and processes, after fit

    # ---- training ------------------------------------------------------------------------

    def on_train_start(self) -> None:
        if (
            self.trainer.world_size > 1
        ):  # one process keeps the generator as the head's seeding left it
            sequence = np.random.SeedSequence([self.seed, DROPOUT_STREAM, self.global_rank])
            torch.manual_seed(int(sequence.generate_state(1, dtype=np.uint64)[0] >> 1))
        self.loss_total = torch.zeros((), dtype=torch.float64, device=self.device)
        self.steps = 0

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss = self.model(**model_inputs(batch)).loss * batch["loss_weight"]
        rows = len(batch["input_ids"])
        # the mean over processes of the weighted losses is the whole batch's loss
        self.log("train/loss", loss.detach(), prog_bar=True, sync_dist=True, batch_size=rows)
        lr = self.trainer.optimizers[0].param_groups[0]["lr"]
        self.log("train/lr", lr, batch_size=rows)
        self.loss_total += loss.detach().double()
        self.steps += 1
        return loss

    def on_train_end(self) -> None:
        total = self.trainer.strategy.reduce(self.loss_total, reduce_op="sum")
        if self.steps:
            self.mean_loss = float(total) / self.trainer.world_size / self.steps

    def configure_optimizers(self):
        # From the strategy-wrapped model: under FSDP these are the sharded parameters.
        optimizer = adamw(
            self.trainer.model.parameters(),
            lr=self.lr,
            weight_decay=self.ft.weight_decay,
            eps=self.ft.adam_epsilon,
            device_type=self.device.type,
        )
        scheduler = lr_schedule(optimizer, self.ft, int(self.trainer.estimated_stepping_batches))
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def configure_gradient_clipping(
        self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None
    ) -> None:
        """The trainer's ``gradient_clip_val``; under FSDP through the root module, which computes
        the norm over every shard (Lightning's FSDP precision plugin refuses to clip by norm)."""
        from pytorch_lightning.strategies import FSDPStrategy

        if gradient_clip_val and isinstance(self.trainer.strategy, FSDPStrategy):
            self.trainer.model.clip_grad_norm_(gradient_clip_val)
            return
        self.clip_gradients(optimizer, gradient_clip_val, gradient_clip_algorithm)

    # ---- prediction ----------------------------------------------------------------------

    def predict_step(self, batch: dict, batch_idx: int) -> dict[str, torch.Tensor]:
        """The rows' ``index`` and the head's outputs (float32)."""
        result = self.model(**model_inputs(batch))
        outputs = {name: result[name].float() for name in OUTPUTS if name in result}
        return {"index": batch["index"], **outputs}
