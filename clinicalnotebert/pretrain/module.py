"""The pretraining LightningModule: BERT + sparse MLM head (+ note-type head) (docs/reference.md §2).

Sparse MLM prediction: the head's transform and decoder run only at the masked positions
(about 15% of the tokens) instead of every position; the loss is the same. The note-type head
is a linear layer on the pooled output ([CLS] -> dense -> tanh), 5 classes (docs/reference.md §2.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from clinicalnotebert.config import ObjectiveConfig, PretrainConfig
from clinicalnotebert.models import IGNORE_INDEX
from clinicalnotebert.pretrain.resume import RECORD_KEY
from clinicalnotebert.utils.optim import adamw, warmup_steps

NTP_HEAD_FILE = "note_type_head.safetensors"  # beside model.safetensors in an exported model/
DROPOUT_STREAM = 7  # keeps the dropout seeds apart from the data streams of the same seed


@dataclass
class StepOutput:
    mlm_sum: torch.Tensor  # summed cross-entropy over the masked positions
    masked: int
    ntp_sum: torch.Tensor | None = None
    ntp_correct: torch.Tensor | None = None
    sequences: int = 0


def build_optimizer(named_parameters, pretrain: PretrainConfig, device_type: str):
    """AdamW (fused on CUDA unless configured) without decay on biases and LayerNorm weights, and
    the linear warmup / linear decay schedule over ``max_steps``, stepped per optimizer step."""
    from transformers import get_linear_schedule_with_warmup

    settings = pretrain.optimizer
    optimizer = adamw(
        (p for _, p in named_parameters),
        lr=settings.lr,
        weight_decay=settings.weight_decay,
        eps=settings.eps,
        betas=settings.betas,
        fused=settings.fused,
        device_type=device_type,
    )
    warmup = warmup_steps(pretrain.schedule.warmup_ratio, pretrain.max_steps)
    return optimizer, get_linear_schedule_with_warmup(optimizer, warmup, pretrain.max_steps)


class PretrainingModule(pl.LightningModule):
    """Wraps ``BertWithPoolerForMaskedLM`` (``self.model``) and the optional ``self.ntp_head``."""

    def __init__(
        self,
        model,
        objective: ObjectiveConfig,
        pretrain: PretrainConfig,
        num_note_types: int,
        seed: int,
        checkpoint_record: dict | None = None,
    ):
        """``checkpoint_record``: the settings every checkpoint records (``pretrain.resume``)."""
        super().__init__()
        self.model = model
        self.checkpoint_record = checkpoint_record
        self.objective, self.pretrain = objective, pretrain
        self.num_note_types, self.seed = num_note_types, seed
        self.with_ntp = objective.name == "mlm_ntp"
        self.ntp_head = self.new_ntp_head() if self.with_ntp else None
        # The pooler only feeds the NTP head; frozen otherwise (DDP rejects unused trainables).
        model.bert.pooler.requires_grad_(self.with_ntp)
        self.val_totals: torch.Tensor | None = None

    def new_ntp_head(self) -> nn.Linear:
        config = self.model.config
        head = nn.Linear(config.hidden_size, self.num_note_types)
        nn.init.normal_(head.weight, std=config.initializer_range)
        nn.init.zeros_(head.bias)
        return head

    def load_ntp_head(self, model_dir: str | Path) -> bool:
        """Continue with the NTP head saved beside a previous run's ``model/`` if there is one."""
        from safetensors.torch import load_file

        path = Path(model_dir) / NTP_HEAD_FILE
        if self.ntp_head is None or not path.is_file():
            return False
        state = load_file(str(path))
        if state["weight"].shape != self.ntp_head.weight.shape:
            return False
        self.ntp_head.load_state_dict(state)
        return True

    def configure_model(self) -> None:
        if self.pretrain.compile and not getattr(self.model.bert, "_compiled_call_impl", None):
            self.model.bert.compile(dynamic=True)

    # ---- forward -------------------------------------------------------------------------

    def mlm_logits(self, hidden: torch.Tensor, batch: dict, sparse: bool):
        """``(logits, targets)``: at the masked positions only (sparse) or at every position."""
        labels = batch["labels"].flatten()
        if sparse:
            positions = batch["masked_positions"]
            selected = hidden.flatten(0, 1).index_select(0, positions)
            return self.model.cls(selected), labels.index_select(0, positions)
        return self.model.cls(hidden).flatten(0, 1), labels

    def step(self, batch: dict, sparse: bool | None = None) -> StepOutput:
        sparse = self.pretrain.sparse_mlm if sparse is None else sparse
        out = self.model.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        logits, targets = self.mlm_logits(out.last_hidden_state, batch, sparse)
        mlm_sum = F.cross_entropy(
            logits.float(), targets, ignore_index=IGNORE_INDEX, reduction="sum"
        )
        result = StepOutput(mlm_sum, int(batch["masked_positions"].numel()))
        if self.with_ntp:
            ntp_logits = self.ntp_head(out.pooler_output).float()
            target = batch["note_category"]
            result.ntp_sum = F.cross_entropy(ntp_logits, target, reduction="sum")
            result.ntp_correct = (ntp_logits.argmax(-1) == target).sum()
            result.sequences = int(target.numel())
        return result

    def losses(self, out: StepOutput) -> dict[str, torch.Tensor]:
        mlm = out.mlm_sum / max(out.masked, 1)
        if not self.with_ntp:
            return {"loss": mlm, "mlm_loss": mlm}
        ntp = out.ntp_sum / out.sequences
        return {"loss": mlm + self.objective.ntp_weight * ntp, "mlm_loss": mlm, "ntp_loss": ntp}

    # ---- training ------------------------------------------------------------------------

    def seed_dropout(self, stream_index: int) -> None:
        """Dropout draws depend on (seed, rank, micro-batch) only, so a resumed run repeats them."""
        sequence = np.random.SeedSequence(
            [self.seed, DROPOUT_STREAM, self.global_rank, stream_index]
        )
        torch.manual_seed(int(sequence.generate_state(1, dtype=np.uint64)[0] >> 1))

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        self.seed_dropout(batch["stream_index"])
        losses = self.losses(self.step(batch))
        logged = {f"train/{name}": value.detach() for name, value in losses.items()}
        logged["train/padding_fraction"] = 1.0 - batch["real_tokens"] / batch["padded_tokens"]
        logged["train/lr"] = self.trainer.optimizers[0].param_groups[0]["lr"]
        self.log_dict(logged, prog_bar=False, batch_size=len(batch["input_ids"]))
        self.log(
            "loss",
            logged["train/loss"],
            prog_bar=True,
            logger=False,
            batch_size=len(batch["input_ids"]),
        )
        return losses["loss"]

    # ---- validation: exact token-weighted means over all ranks ----------------------------

    def on_validation_epoch_start(self) -> None:
        # masked-token loss sum, masked tokens, NTP loss sum, NTP correct, sequences
        self.val_totals = torch.zeros(5, dtype=torch.float64, device=self.device)

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        out = self.step(batch)
        self.val_totals[0] += out.mlm_sum.detach().double()
        self.val_totals[1] += out.masked
        if self.with_ntp:
            self.val_totals[2] += out.ntp_sum.detach().double()
            self.val_totals[3] += out.ntp_correct.double()
            self.val_totals[4] += out.sequences

    def on_validation_epoch_end(self) -> None:
        totals = self.trainer.strategy.reduce(self.val_totals, reduce_op="sum")
        if totals[1] == 0:
            return
        mlm = totals[0] / totals[1]
        metrics = {"val/mlm_loss": mlm, "val/mlm_perplexity": torch.exp(mlm), "val/loss": mlm}
        if self.with_ntp:
            ntp = totals[2] / totals[4]
            metrics["val/ntp_loss"] = ntp
            metrics["val/ntp_accuracy"] = totals[3] / totals[4]
            metrics["val/loss"] = mlm + self.objective.ntp_weight * ntp
        # equal on every rank already; sync_dist only keeps Lightning from warning about it
        self.log_dict({k: v.float() for k, v in metrics.items()}, sync_dist=True)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        if self.checkpoint_record is not None:
            checkpoint[RECORD_KEY] = self.checkpoint_record

    # ---- optimisation ------------------------------------------------------------------------

    def configure_optimizers(self):
        # From the strategy-wrapped model: under FSDP these are the sharded parameters.
        optimizer, scheduler = build_optimizer(
            self.trainer.model.named_parameters(), self.pretrain, self.device.type
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    # ---- export ----------------------------------------------------------------------------

    @staticmethod
    def split_state(state: dict[str, torch.Tensor]):
        """``(hf_state, ntp_state)`` from the module's (possibly gathered) state dict."""
        hf = {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}
        ntp = {
            k.removeprefix("ntp_head."): v for k, v in state.items() if k.startswith("ntp_head.")
        }
        return hf, ntp
